// The bounded archive walk: recognises the input (detect.ts), hands it to its reader, gives every
// member to the caller as `outer!/member`, and opens members that are archives themselves, up to
// maxDepth levels (`a.jar!/b.zip!/c.so`, the form java.net.JarURLConnection and syft use). gzip,
// zstd, xz and bzip2 are layers, not levels: `x.tar.gz!/file`. xz and bzip2 are decoded by
// decoders the caller injects (WalkOptions.layers): this layer sits below decompress/, and
// node:zlib has neither. Grammar: none of its own. Everything a
// reader meets becomes a warning `<archive path>: <what>`; only the caller's own exceptions
// (thrown by onMember) leave the walk.
import { decompress, normaliseMemberName, q, u32, zstdAvailable, type Decompressed, type Decompressor } from './bytes.ts';
import type { LayerDecoded, LayerDecoders, ReaderContext, WalkOptions } from './context.ts';
import { isAsarStart, isTar, sniffArchive, startsLikeScript, type ArchiveFormat } from './detect.ts';
import { Budget, isBombRatio, ratioCap, resolveLimits, type ArchiveLimits } from './limits.ts';
import { readAsar } from './asar.ts';
import { readTar } from './tar.ts';
import { locateZip, readZip } from './zip.ts';
import { readZipLocalHeaders, ZipStreamReader } from './zip-stream.ts';

/** A member's bytes are a view valid only during the call: copy them to keep them. */
export type MemberCallback = (path: string, data: Uint8Array) => void;

export interface WalkResult {
  /** What the outer input is, or null when it is no archive we know (then nothing is read). */
  format: ArchiveFormat | null;
  members: number;
  bytes: number;
  warnings: string[];
}

class CallbackError {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

const PEEK_OUTPUT = 1024 * 1024;
/** What an injected (xz, bzip2) decoder is first asked for: enough to see a tar header (an xz peek of a `.ko.xz` costs ~0.1 ms). */
const PEEK_LAYER_OUTPUT = 4 * 1024;

/** One walk: its budget and warnings, shared by every level. */
export class Walk {
  readonly limits: ArchiveLimits;
  readonly budget: Budget;
  readonly warnings: string[] = [];
  private suppressed = 0;
  private readonly onMember: MemberCallback;
  private readonly layers: LayerDecoders;

  constructor(limits: ArchiveLimits, onMember: MemberCallback, options: WalkOptions = {}) {
    this.limits = limits;
    this.budget = new Budget(limits);
    this.onMember = onMember;
    this.layers = options.layers ?? {};
  }

  warn(path: string, what: string): void {
    if (this.warnings.length < this.limits.maxWarnings) this.warnings.push(`${path}: ${what}`);
    else this.suppressed++;
  }

  result(format: ArchiveFormat | null): WalkResult {
    const warnings = [...this.warnings];
    if (this.suppressed > 0) warnings.push(`${this.suppressed} more warnings not kept`);
    return { format, members: this.budget.members, bytes: this.budget.bytes, warnings };
  }

  /**
   * Runs `body`, turning any fault of ours into a warning. The caller's own exceptions travel up
   * wrapped (so no enclosing level swallows them) and are unwrapped by the public entry points.
   */
  guard(path: string, body: () => void): void {
    try {
      body();
    } catch (e) {
      if (e instanceof CallbackError) throw e;
      this.warn(path, `internal error, walk of this archive stopped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Every zlib call of the walk goes through here, so failures are counted and capped. */
  decompress(path: string, kind: Decompressor, input: Uint8Array, maxOut: number, partial = false): Decompressed {
    if (this.budget.exhausted) return { ok: false, reason: 'the walk has stopped', overCap: false };
    if (kind === 'zstd' && !zstdAvailable) return { ok: false, reason: 'zstd needs node:zlib zstd (Node >= 22.15)', overCap: false };
    const r = decompress(kind, input, maxOut, partial);
    if (!r.ok && !r.overCap) this.failed(path);
    return r;
  }

  /** Counts a decompression that failed on corrupt data; past maxFailedDecompressions the walk stops. */
  private failed(path: string): void {
    if (++this.budget.failures >= this.limits.maxFailedDecompressions) {
      this.budget.exhausted = 'failures';
      this.warn(path, `${this.budget.failures} decompressions failed on corrupt data; the walk stops here`);
    }
  }

  /**
   * An injected decoder's call, capped and counted like a zlib call; a decoder that throws is a
   * failure too. A failure is warned here: the layer is then not opened.
   */
  private decodeLayer(path: string, kind: 'xz' | 'bzip2', input: Uint8Array, maxOut: number): LayerDecoded {
    const decode = this.layers[kind];
    if (this.budget.exhausted || !decode) return { ok: false, reason: 'the walk has stopped' };
    let r: LayerDecoded;
    try {
      r = decode(input, Math.max(1, Math.floor(maxOut)));
    } catch (e) {
      r = { ok: false, reason: `${kind} decoder failed (${e instanceof Error ? e.message : String(e)})` };
    }
    if (!r.ok) {
      this.warn(path, `${kind} layer: ${r.reason}; not opened`);
      this.failed(path);
    }
    return r;
  }

  context(path: string, depth: number): ReaderContext {
    const walk = this;
    const budget = this.budget;
    const limits = this.limits;
    return {
      path,
      limits,
      budget,
      warn: (what) => walk.warn(path, what),
      decompress: (kind, input, maxOut, partial) => walk.decompress(path, kind, input, maxOut, partial),
      admit(name, size) {
        if (budget.exhausted) return false;
        if (budget.members >= limits.maxMembers) {
          budget.exhausted = 'members';
          walk.warn(path, `member cap of ${limits.maxMembers} reached; the rest is not read`);
          return false;
        }
        if (!(size <= limits.maxMemberBytes)) {
          walk.warn(path, `${q(name)}: claims ${size} bytes, over the ${limits.maxMemberBytes}-byte member cap; skipped`);
          return false;
        }
        if (size > budget.remainingBytes()) {
          budget.exhausted = 'bytes';
          walk.warn(path, `${q(name)}: ${size} more bytes would pass the ${limits.maxTotalBytes}-byte total cap; the rest is not read`);
          return false;
        }
        return true;
      },
      emit(rawName, data) {
        const n = normaliseMemberName(rawName);
        if (n.problem) walk.warn(path, `${q(rawName)}: member name ${n.problem} (path traversal); read as ${q(n.name)}`);
        walk.member(`${path}!/${n.name}`, data, depth);
        return !budget.exhausted;
      },
    };
  }

  /** A member: counted, handed on, then opened if it is an archive and depth allows. */
  member(path: string, data: Uint8Array, depth: number): void {
    this.budget.members++;
    this.budget.bytes += data.length;
    try {
      this.onMember(path, data);
    } catch (e) {
      throw new CallbackError(e);
    }
    const format = sniffArchive(data);
    if (format === null) return;
    if (depth + 1 > this.limits.maxDepth) {
      this.warn(path, `${format} archive nested deeper than ${this.limits.maxDepth} levels; not opened`);
      return;
    }
    this.open(path, data, depth + 1, format);
  }

  /** Reads the archive `b` at `path`, `depth` levels deep (the outer archive is level 1). */
  open(path: string, b: Uint8Array, depth: number, format: ArchiveFormat): void {
    this.guard(path, () => {
      const ctx = this.context(path, depth);
      switch (format) {
        case 'zip':
          return readZip(b, ctx, readZipLocalHeaders);
        case 'tar':
          return readTar(b, ctx);
        case 'asar':
          return readAsar(b, ctx);
        case 'gzip':
        case 'zstd':
          return this.layer(path, b, depth, format);
        case 'xz':
        case 'bzip2':
          if (this.layers[format]) return this.injectedLayer(path, b, depth, format);
          return this.warn(path, `${format} compression (a tar.${format === 'xz' ? 'xz' : 'bz2'}?) is not supported by the archive walker: unsupported compression, not opened`);
      }
    });
  }

  /**
   * A gzip or zstd layer: opened only when what it holds starts like a tar. The start is peeked
   * at first (gzip: 4 KiB of input; zstd: 256 KiB, enough for whole blocks), so a compressed
   * file that is not a tar costs little. A tar whose peek overflows 1 MiB is a bomb suspect and
   * goes to the full, ratio-capped decompression, which says so.
   */
  private layer(path: string, b: Uint8Array, depth: number, kind: Decompressor): void {
    if (kind === 'zstd' && !zstdAvailable) {
      this.warn(path, 'zstd needs node:zlib zstd (Node >= 22.15): unsupported compression here, not opened');
      return;
    }
    const peekInput = kind === 'gzip' ? 4 * 1024 : 256 * 1024;
    const whole = b.length <= peekInput;
    const peek = this.decompress(path, kind, b.subarray(0, peekInput), PEEK_OUTPUT, !whole);
    let head: Uint8Array | null = peek.ok ? peek.data : null;
    if (!peek.ok && peek.overCap && !whole) {
      // Very compressible at the start: a few hundred bytes of input still show a tar header
      // (deflate gives at most ~1032 bytes per input byte), so no bomb warning for a non-tar.
      const small = this.decompress(path, kind, b.subarray(0, 512), PEEK_OUTPUT, true);
      if (small.ok && small.data.length >= 512 && !isTar(small.data)) return;
    }
    if (head && head.length < 512 && !whole) head = null; // held back in the decoder: look at all of it
    if (head && !isTar(head)) return;
    if (!peek.ok && !peek.overCap && whole) return; // corrupt, and all of it was seen: no archive
    // The decompressed tar is held whole: no larger than a member may be (the memory bound).
    const ratio = ratioCap(this.limits, b.length);
    const cap = Math.min(this.budget.remainingBytes(), ratio, this.limits.maxMemberBytes);
    const r = whole && peek.ok ? peek : this.decompress(path, kind, b, cap);
    if (!r.ok) {
      if (!r.overCap) {
        if (head) this.warn(path, `${kind} layer: ${r.reason}; not opened`);
        return;
      }
      this.overCap(path, kind, cap, ratio);
      return;
    }
    this.readLayerTar(path, kind, b.length, r.data, depth);
  }

  /**
   * An xz or bzip2 layer, through the decoder the caller injected. Peeked at first (its first
   * 4 KiB of output; bzip2 decodes one whole block for that), opened only when that starts like
   * a tar; then decoded whole within the same caps as a gzip layer. The magic of both is long
   * enough that a decoding failure is worth a warning even before a tar was seen.
   */
  private injectedLayer(path: string, b: Uint8Array, depth: number, kind: 'xz' | 'bzip2'): void {
    const peek = this.decodeLayer(path, kind, b, PEEK_LAYER_OUTPUT);
    if (!peek.ok || !isTar(peek.data)) return;
    const ratio = ratioCap(this.limits, b.length);
    const cap = Math.min(this.budget.remainingBytes(), ratio, this.limits.maxMemberBytes);
    const r = peek.overCap ? this.decodeLayer(path, kind, b, cap) : peek;
    if (!r.ok) return;
    if (r.overCap) {
      this.overCap(path, kind, cap, ratio);
      return;
    }
    this.readLayerTar(path, kind, b.length, r.data, depth);
  }

  /** Which cap a layer's decompression ran into, as a warning. */
  private overCap(path: string, kind: string, cap: number, ratio: number): void {
    const why =
      cap === ratio
        ? `decompresses past ${cap} bytes, over ${this.limits.maxRatio}:1 (a bomb)`
        : cap === this.limits.maxMemberBytes
          ? `decompresses past the ${cap}-byte member cap (a tar too big to hold)`
          : `decompresses past the ${cap} bytes left of the ${this.limits.maxTotalBytes}-byte total cap`;
    this.warn(path, `${kind} layer ${why}; not opened`);
  }

  /** A decompressed layer, held whole: walked as a tar when it is one and within the caps. */
  private readLayerTar(path: string, kind: string, inputLength: number, data: Uint8Array, depth: number): void {
    if (!isTar(data)) return;
    if (data.length > this.budget.remainingBytes()) {
      this.budget.exhausted = 'bytes';
      this.warn(path, `${kind} layer of ${data.length} bytes would pass the ${this.limits.maxTotalBytes}-byte total cap; not opened`);
      return;
    }
    if (isBombRatio(this.limits, inputLength, data.length)) {
      this.warn(path, `${kind} layer inflates ${inputLength} bytes to ${data.length} (a bomb); not opened`);
      return;
    }
    this.budget.bytes += data.length;
    readTar(data, this.context(path, depth));
  }
}

function unwrap(body: () => void): void {
  try {
    body();
  } catch (e) {
    throw e instanceof CallbackError ? e.error : e;
  }
}

/**
 * Walks the archive `bytes` (named `name` in member paths) and everything nested in it, within
 * `limits`. Never throws for anything in the input; returns what it read and every warning.
 */
export function walkArchive(
  bytes: Uint8Array,
  limits: Partial<ArchiveLimits> | undefined,
  onMember: MemberCallback,
  name = 'archive',
  options: WalkOptions = {},
): WalkResult {
  const walk = new Walk(resolveLimits(limits), onMember, options);
  const format = sniffArchive(bytes);
  if (format !== null) unwrap(() => walk.open(name, bytes, 1, format));
  return walk.result(format);
}

/**
 * The same walk over a file that arrives in chunks (a NAR entry's contents): push() them in
 * order, then end(). A file is kept whole up to maxInMemoryBytes and walked as walkArchive does;
 * past that only a zip can still be followed, by its local headers (zip-stream.ts). A file
 * whose first bytes are no archive is dropped at once, so feeding every file costs nothing —
 * except one starting with "#!" (a launcher-script jar, a zipapp): it is kept up to
 * maxInMemoryBytes (silently dropped past it) and walked at end() if a zip's end record is there.
 */
export class ArchiveStream {
  private readonly walk: Walk;
  private readonly name: string;
  private mode: 'sniff' | 'buffer' | 'script' | 'zip' | 'ignore' = 'sniff';
  private format: ArchiveFormat | null = null;
  private buf = new Uint8Array(0);
  private length = 0;
  private zip: ZipStreamReader | null = null;

  constructor(name: string, limits: Partial<ArchiveLimits> | undefined, onMember: MemberCallback, options: WalkOptions = {}) {
    this.walk = new Walk(resolveLimits(limits), onMember, options);
    this.name = name;
  }

  push(chunk: Uint8Array): void {
    if (this.mode === 'ignore' || chunk.length === 0) return;
    if (this.mode === 'zip') {
      const zip = this.zip;
      if (zip) unwrap(() => this.walk.guard(this.name, () => zip.push(chunk)));
      return;
    }
    this.append(chunk);
    if (this.mode === 'sniff' && this.length >= 512 && !this.awaitingAsarHeader()) {
      const head = this.buf.subarray(0, this.length);
      this.format = sniffArchive(head, false);
      this.mode = this.format !== null ? 'buffer' : startsLikeScript(head) ? 'script' : 'ignore';
      if (this.mode === 'ignore') this.buf = new Uint8Array(0);
    }
    if (this.mode === 'script' && this.length > this.walk.limits.maxInMemoryBytes) {
      // Not known to be an archive: nothing to say.
      this.buf = new Uint8Array(0);
      this.length = 0;
      this.mode = 'ignore';
    }
    if (this.mode === 'buffer' && this.length > this.walk.limits.maxInMemoryBytes) {
      const held = this.buf.subarray(0, this.length);
      this.buf = new Uint8Array(0);
      this.length = 0;
      if (this.format === 'zip') {
        this.walk.warn(this.name, `over ${this.walk.limits.maxInMemoryBytes} bytes: read as a stream of local headers, without its central directory`);
        const zip = new ZipStreamReader(this.walk.context(this.name, 1));
        this.zip = zip;
        this.mode = 'zip';
        unwrap(() => this.walk.guard(this.name, () => zip.push(held)));
      } else {
        this.walk.warn(this.name, `${this.format} archive over the ${this.walk.limits.maxInMemoryBytes}-byte in-memory cap, and only a zip can be streamed; not read`);
        this.mode = 'ignore';
      }
    }
  }

  end(): WalkResult {
    if (this.mode === 'zip') {
      const zip = this.zip;
      if (zip) unwrap(() => this.walk.guard(this.name, () => zip.end()));
    } else if (this.mode !== 'ignore') {
      const b = this.buf.subarray(0, this.length);
      if (this.mode === 'sniff') this.format = sniffArchive(b);
      if (this.mode === 'script') this.format = locateZip(b) !== null ? 'zip' : null;
      const format = this.format;
      if (format !== null) unwrap(() => this.walk.open(this.name, b, 1, format));
    }
    this.buf = new Uint8Array(0);
    this.length = 0;
    this.mode = 'ignore';
    return this.walk.result(this.format);
  }

  /**
   * An asar's JSON header (thousands of entries: hundreds of KiB) may run past the first chunk;
   * it is recognised only whole, so a file that starts like one is held until its header is in
   * (or the header cap says it cannot be one).
   */
  private awaitingAsarHeader(): boolean {
    const b = this.buf.subarray(0, this.length);
    if (!isAsarStart(b)) return false;
    const headerSize = u32(b, 4);
    return headerSize <= this.walk.limits.maxHeaderBytes && this.length < headerSize + 8;
  }

  private append(chunk: Uint8Array): void {
    const need = this.length + chunk.length;
    if (need > this.buf.length) {
      // Doubling, but never far past the in-memory cap: one chunk over it at most.
      const room = Math.min(Math.max(this.buf.length * 2, 64 * 1024), this.walk.limits.maxInMemoryBytes + 1);
      const grown = new Uint8Array(Math.max(need, room));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(chunk, this.length);
    this.length = need;
  }
}
