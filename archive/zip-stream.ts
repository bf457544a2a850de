// Zip read front to back through its local headers, for archives too large to hold whole (and
// for zips whose end was cut off). Grammar, in stream order:
//   { "PK\3\4" 30 bytes + name + extra, data, [descriptor] } then "PK\1\2"/"PK\5\6"/"PK\6\6": stop.
//   descriptor (flag bit 3) = ["PK\7\8"] crc32 compressedSize size (sizes 8 bytes each in zip64).
// Decision on flag bit 3 (sizes only after the data): the member's end is found by scanning for a
// descriptor whose compressed-size field equals the bytes seen since the data began, then proven
// by inflating exactly that many bytes (zlib must end there) and matching size and CRC-32. This
// handles deflate and stored alike; the member is buffered while searched for, so one over the
// per-member cap ends the walk of this zip with a warning. The central directory is not read:
// entries only it lists, and disagreements between it and the local headers, go unseen.
import { crc32, decodeName, q, u16, u32, u64 } from './bytes.ts';
import type { ReaderContext } from './context.ts';
import { extractZipMember, ZIP_METHODS } from './zip.ts';
import { isBombRatio, ratioCap } from './limits.ts';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const MAX32 = 0xffffffff;
const PK = Buffer.from([0x50, 0x4b]);

interface Pending {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  zip64: boolean;
}

interface Descriptor {
  length: number;
  crc: number;
  size: number;
  /** The inflated member, when the descriptor was proven by inflating. */
  out: Uint8Array | null;
}

type State = 'header' | 'data' | 'skip' | 'descriptor' | 'done';

/**
 * Push chunks in stream order with push(); call end() after the last. Members reach the context
 * as views valid only during the emit call.
 */
export class ZipStreamReader {
  private readonly ctx: ReaderContext;
  private acc = new Uint8Array(0);
  private accLength = 0;
  private state: State = 'header';
  /** Stream offset of the next unconsumed byte. */
  private offset = 0;
  private skipLeft = 0;
  private member: Pending | null = null;
  private scanFrom = 0;
  members = 0;

  constructor(ctx: ReaderContext) {
    this.ctx = ctx;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  push(chunk: Uint8Array): void {
    if (this.state === 'done' || chunk.length === 0) return;
    if (this.accLength === 0) {
      const used = this.run(chunk, false);
      this.keep(chunk.subarray(used));
      return;
    }
    this.keep(chunk);
    const used = this.run(this.acc.subarray(0, this.accLength), false);
    if (used > 0) {
      this.acc.copyWithin(0, used, this.accLength);
      this.accLength -= used;
      this.scanFrom = this.state === 'descriptor' ? this.scanFrom : 0;
    }
  }

  end(): void {
    if (this.state !== 'done') {
      const used = this.run(this.acc.subarray(0, this.accLength), true);
      this.accLength -= Math.min(used, this.accLength);
    }
    if (this.state === 'data' || this.state === 'skip' || this.state === 'descriptor') {
      this.ctx.warn(`${q(this.member?.name ?? '')}: the zip ends inside this member (truncated); skipped`);
    }
    this.state = 'done';
    this.acc = new Uint8Array(0);
    this.accLength = 0;
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.state === 'done') return;
    const need = this.accLength + bytes.length;
    if (need > this.acc.length) {
      const grown = new Uint8Array(Math.max(need, this.acc.length * 2, 64 * 1024));
      grown.set(this.acc.subarray(0, this.accLength));
      this.acc = grown;
    }
    this.acc.set(bytes, this.accLength);
    this.accLength = need;
  }

  private stop(what: string): void {
    if (what) this.ctx.warn(what);
    this.state = 'done';
  }

  /** Consumes what it can of `d`; returns how many bytes it used. */
  private run(d: Uint8Array, final: boolean): number {
    const cap = this.ctx.limits.maxMemberBytes;
    let pos = 0;
    for (;;) {
      if (this.ctx.budget.exhausted) this.state = 'done';
      const avail = d.length - pos;
      switch (this.state) {
        case 'done':
          return d.length;
        case 'skip': {
          const n = Math.min(this.skipLeft, avail);
          this.skipLeft -= n;
          pos += n;
          this.offset += n;
          if (this.skipLeft > 0) return pos;
          this.state = 'header';
          continue;
        }
        case 'header': {
          if (avail < 4) {
            if (final && avail > 0) this.stop(`${avail} stray bytes at offset ${this.offset}`);
            return pos;
          }
          const sig = u32(d, pos);
          if (sig === SIG_DESCRIPTOR && this.offset === 0) {
            pos += 4; // a split-archive marker
            this.offset += 4;
            continue;
          }
          if (sig === SIG_CENTRAL || sig === SIG_EOCD || sig === SIG_EOCD64) {
            this.stop('');
            return d.length;
          }
          if (sig !== SIG_LOCAL) {
            this.stop(`offset ${this.offset}: no local header where one should start; stopped`);
            return d.length;
          }
          if (avail < 30) {
            if (final) this.stop(`offset ${this.offset}: the zip ends inside a local header`);
            return pos;
          }
          const nameLength = u16(d, pos + 26);
          const extraLength = u16(d, pos + 28);
          const headerLength = 30 + nameLength + extraLength;
          if (avail < headerLength) {
            if (final) this.stop(`offset ${this.offset}: the zip ends inside a local header`);
            return pos;
          }
          this.begin(d.subarray(pos, pos + headerLength));
          pos += headerLength;
          this.offset += headerLength;
          continue;
        }
        case 'data': {
          const m = this.member;
          if (!m) return this.stopAt(d);
          if (avail < m.compressedSize) return pos;
          const data = d.subarray(pos, pos + m.compressedSize);
          pos += m.compressedSize;
          this.offset += m.compressedSize;
          this.state = 'header';
          this.members++;
          if (!extractZipMember(this.ctx, m.name, m.method, data, m.size, m.crc)) this.state = 'done';
          continue;
        }
        case 'descriptor': {
          const m = this.member;
          if (!m) return this.stopAt(d);
          const data = d.subarray(pos);
          const found = this.findDescriptor(m, data, final);
          if (!found) {
            if (data.length > cap + 24) {
              this.stop(
                `${q(m.name)}: no data descriptor within the ${cap}-byte member cap; a streamed zip cannot be followed past it; stopped`,
              );
              return d.length;
            }
            if (final) this.stop(`${q(m.name)}: the zip ends before this member's data descriptor (truncated); skipped`);
            return pos;
          }
          const dataLength = this.scanFrom;
          const compressed = data.subarray(0, dataLength);
          pos += dataLength + found.length;
          this.offset += dataLength + found.length;
          this.scanFrom = 0;
          this.state = 'header';
          this.members++;
          if (!this.finishDescribed(m, compressed, found)) this.state = 'done';
          continue;
        }
      }
    }
  }

  private stopAt(d: Uint8Array): number {
    this.state = 'done';
    return d.length;
  }

  private begin(h: Uint8Array): void {
    const flags = u16(h, 6);
    const method = u16(h, 8);
    const nameLength = u16(h, 26);
    const name = decodeName(h.subarray(30, 30 + nameLength), (flags & 0x800) !== 0);
    let compressedSize = u32(h, 18);
    let size = u32(h, 22);
    let zip64 = false;
    if (compressedSize === MAX32 || size === MAX32) {
      const extra = h.subarray(30 + nameLength);
      for (let at = 0; at + 4 <= extra.length; at += 4 + u16(extra, at + 2)) {
        if (u16(extra, at) !== 0x0001) continue;
        zip64 = true;
        let f = at + 4;
        if (size === MAX32) {
          size = u64(extra, f);
          f += 8;
        }
        if (compressedSize === MAX32) compressedSize = u64(extra, f);
        break;
      }
    }
    this.member = { name, flags, method, crc: u32(h, 14), compressedSize, size, zip64 };
    this.scanFrom = 0;
    const directory = name.endsWith('/') && size === 0 && compressedSize === 0;
    if (flags & 0x8) {
      this.state = 'descriptor';
      return;
    }
    if (directory) {
      this.state = 'header';
      return;
    }
    this.skipLeft = compressedSize;
    this.state = 'skip';
    if (!Number.isFinite(compressedSize) || compressedSize < 0) {
      this.stop(`${q(name)}: compressed size ${compressedSize} cannot be followed; stopped`);
      return;
    }
    if (flags & 0x1) {
      this.ctx.warn(`${q(name)}: encrypted; skipped`);
      return;
    }
    if (compressedSize > this.ctx.limits.maxMemberBytes) {
      this.ctx.warn(`${q(name)}: ${compressedSize} compressed bytes, over the ${this.ctx.limits.maxMemberBytes}-byte member cap; skipped`);
      return;
    }
    if (!this.ctx.admit(name, size)) return;
    this.state = 'data';
  }

  /**
   * Looks for the descriptor that ends `m` in `data` (bytes since its data began), from
   * scanFrom on. On success scanFrom is the compressed length.
   */
  private findDescriptor(m: Pending, data: Uint8Array, final: boolean): Descriptor | null {
    // A descriptor at p is "PK\7\8" at p (signed), or is followed by "PK\3\4"/"PK\1\2" at p+12
    // (unsigned): either way a "PK" found natively by indexOf, so the scan costs little per byte.
    const view = Buffer.from(data.buffer, data.byteOffset, data.length);
    const last = final ? data.length - 12 : data.length - 24;
    const from = this.scanFrom;
    for (let h = view.indexOf(PK, from); h >= 0 && h <= last + 12; h = view.indexOf(PK, h + 1)) {
      if (h <= last && data[h + 2] === 0x07 && data[h + 3] === 0x08) {
        const d = m.zip64
          ? u64(data, h + 8) === h
            ? { length: 24, crc: u32(data, h + 4), size: u64(data, h + 16), out: null }
            : null
          : u32(data, h + 8) === h
            ? { length: 16, crc: u32(data, h + 4), size: u32(data, h + 12), out: null }
            : null;
        if (d && this.prove(m, data.subarray(0, h), d, true)) return this.found(h, d);
      }
      const p = h - 12;
      const next = u32(data, h);
      if (p >= from && p <= last && (next === SIG_LOCAL || next === SIG_CENTRAL) && u32(data, p + 4) === p) {
        const d = { length: 12, crc: u32(data, p), size: u32(data, p + 8), out: null };
        if (this.prove(m, data.subarray(0, p), d, false)) return this.found(p, d);
      }
    }
    // At the very end of a zip cut short of its central directory, nothing follows the descriptor.
    const p = data.length - 12;
    if (final && p >= from && u32(data, p + 4) === p) {
      const d = { length: 12, crc: u32(data, p), size: u32(data, p + 8), out: null };
      if (this.prove(m, data.subarray(0, p), d, false)) return this.found(p, d);
    }
    this.scanFrom = Math.max(from, last + 1);
    return null;
  }

  private found(p: number, d: Descriptor): Descriptor {
    this.scanFrom = p;
    return d;
  }

  /** Inflates the candidate: it must end exactly there, with the described size and CRC-32. */
  private prove(m: Pending, compressed: Uint8Array, d: Descriptor, signed: boolean): boolean {
    const kind = ZIP_METHODS[m.method];
    const limit = Math.min(this.ctx.budget.outputCap(), ratioCap(this.ctx.limits, compressed.length));
    if (m.flags & 0x1 || kind === undefined || !(d.size <= limit)) return signed; // cannot prove; trust a signed one
    if (kind === 'stored') return compressed.length === d.size && crc32(compressed) === d.crc;
    const r = this.ctx.decompress(kind, compressed, Math.max(1, d.size));
    if (!r.ok || r.consumed !== compressed.length || r.data.length !== d.size || crc32(r.data) !== d.crc) return false;
    d.out = r.data;
    return true;
  }

  private finishDescribed(m: Pending, compressed: Uint8Array, d: Descriptor): boolean {
    if (m.name.endsWith('/') && d.size === 0) return true;
    if (m.flags & 0x1) {
      this.ctx.warn(`${q(m.name)}: encrypted; skipped`);
      return !this.ctx.budget.exhausted;
    }
    if (!this.ctx.admit(m.name, d.size)) return !this.ctx.budget.exhausted;
    if (d.out === null) return extractZipMember(this.ctx, m.name, m.method, compressed, d.size, d.crc);
    if (isBombRatio(this.ctx.limits, compressed.length, d.size)) {
      this.ctx.warn(`${q(m.name)}: zip bomb: ${compressed.length} compressed bytes inflate to ${d.size}; skipped`);
      return !this.ctx.budget.exhausted;
    }
    return this.ctx.emit(m.name, d.out);
  }
}

/** Reads an in-memory zip front to back (no usable central directory). */
export function readZipLocalHeaders(b: Uint8Array, ctx: ReaderContext): void {
  const r = new ZipStreamReader(ctx);
  r.push(b);
  r.end();
}
