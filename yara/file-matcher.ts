// Matches one file at a time, fed as chunks. Files up to maxWholeFileSize are scanned whole, in
// buffers reused between files (buffer-pool.ts); larger ones in overlapping windows so memory
// stays bounded by windowSize + overlap. Scans run in the calling thread: handing the buffer to
// YARA-X's scanAsync copies it, and on the development VM that fresh copy cost more than it won
// (see README, Measurements). In windowed mode, conditions that depend on whole-file properties
// (filesize, fixed offsets, counts) are evaluated per window.
import type { RuleMatch } from '@litko/yara-x';
import { limitMatchesPerPattern, type CompiledRules } from './rules.ts';
import { BufferPool } from './buffer-pool.ts';

export interface MatchOptions {
  maxWholeFileSize?: number;
  windowSize?: number;
  maxMatchesPerPattern?: number;
  maxMatchDataLength?: number;
  /** Where file buffers come from and go back to (default: one pool per thread). */
  pool?: BufferPool;
  /** Told before each YARA-X scan of a file (its path) and after it (null): a watchdog's heartbeat. */
  onScan?: (file: string | null) => void;
}

export interface StringMatch {
  identifier: string;
  /** Absolute offset in the file. */
  offset: number;
  length: number;
  /** The matched bytes, truncated to maxMatchDataLength. */
  data: Buffer;
}

export interface RuleHit {
  rule: string;
  namespace: string;
  tags: string[];
  meta: Record<string, string | number | boolean>;
  strings: StringMatch[];
}

const MiB = 1024 * 1024;

/** Module state is per thread: every matcher of a scan thread shares its buffers. */
const threadPool = new BufferPool(128 * MiB, 64 * MiB);

export class FileMatcher {
  private readonly maxWhole: number;
  private readonly windowSize: number;
  private readonly overlap: number;
  private readonly maxData: number;
  private readonly pool: BufferPool;
  private readonly onScan: ((file: string | null) => void) | undefined;
  private file = '';
  private buffer: Buffer = Buffer.alloc(0);
  private length = 0;
  /** File offset of buffer[0]. */
  private base = 0;
  /** Bytes at the buffer's start already scanned (the carried-over overlap). */
  private scannedUpTo = 0;
  private windowed = false;
  /** Bytes of the buffer in use for this file (the pooled buffer may be larger). */
  private limit = 0;
  private hits = new Map<string, RuleHit>();
  private seen = new Set<string>();

  private readonly rules: CompiledRules;
  constructor(
    rules: CompiledRules,
    options: MatchOptions = {},
  ) {
    this.rules = rules;
    this.maxWhole = options.maxWholeFileSize ?? 256 * MiB;
    this.overlap = Math.max(rules.longestPatternLength, 1);
    this.windowSize = Math.max(options.windowSize ?? 64 * MiB, this.overlap * 2);
    this.maxData = options.maxMatchDataLength ?? 256;
    this.pool = options.pool ?? threadPool;
    this.onScan = options.onScan;
    limitMatchesPerPattern(rules, options.maxMatchesPerPattern ?? 64);
  }

  /** Files up to this size are scanned whole; archive members are held to it too. */
  get maxWholeFileSize(): number {
    return this.maxWhole;
  }

  begin(path: string, size: number): void {
    this.file = path;
    this.length = 0;
    this.base = 0;
    this.scannedUpTo = 0;
    this.hits = new Map();
    this.seen = new Set();
    this.windowed = size > this.maxWhole;
    const need = this.windowed ? this.windowSize : size;
    if (this.buffer.length < need) {
      this.release();
      this.buffer = this.pool.take(need);
    }
    this.limit = need;
  }

  data(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.length === this.limit) {
        if (!this.windowed) throw new Error('file is longer than its declared size');
        this.scanWindow();
      }
      const take = Math.min(chunk.length - pos, this.limit - this.length);
      this.buffer.set(chunk.subarray(pos, pos + take), this.length);
      this.length += take;
      pos += take;
    }
  }

  /**
   * Scans what is left and returns the file's hits. `inspect`, when given, sees the hits and the
   * whole file's bytes (null for a file read in windows) before the buffer goes back to the pool:
   * the bytes are only valid during the call.
   */
  end(inspect?: (hits: RuleHit[], whole: Uint8Array | null) => void): RuleHit[] {
    if (this.length > this.scannedUpTo) this.scan(this.buffer.subarray(0, this.length));
    const hits = [...this.hits.values()];
    this.hits = new Map();
    this.seen = new Set();
    try {
      inspect?.(hits, this.windowed ? null : this.buffer.subarray(0, this.length));
    } finally {
      this.release();
    }
    return hits;
  }

  /**
   * Matches bytes already in memory (an archive member), without copying them and without
   * touching the state of a file being fed through begin/data/end: members of a zip that is
   * streamed are matched while the zip itself may still be open here. Larger than the whole-file
   * cap, the bytes are scanned in overlapping windows over the same memory.
   */
  matchBytes(data: Uint8Array): RuleHit[] {
    const view = Buffer.from(data.buffer, data.byteOffset, data.length);
    const hits = new Map<string, RuleHit>();
    const seen = new Set<string>();
    if (view.length <= this.maxWhole) {
      if (view.length > 0) this.collect(this.rules.scanner.scan(view), view, 0, hits, seen);
      return [...hits.values()];
    }
    for (let start = 0; start < view.length; start += this.windowSize - this.overlap) {
      const window = view.subarray(start, Math.min(view.length, start + this.windowSize));
      this.collect(this.rules.scanner.scan(window), window, start, hits, seen);
      if (start + window.length >= view.length) break;
    }
    return [...hits.values()];
  }

  /** Gives the buffer back to the pool (the next file takes one again). */
  private release(): void {
    if (this.buffer.length > 0) this.pool.give(this.buffer);
    this.buffer = Buffer.alloc(0);
    this.length = 0;
  }

  /** Scan the full window, then carry its last `overlap` bytes to the front. */
  private scanWindow(): void {
    this.scan(this.buffer.subarray(0, this.length));
    const keep = Math.min(this.overlap, this.length);
    this.buffer.copy(this.buffer, 0, this.length - keep, this.length);
    this.base += this.length - keep;
    this.length = keep;
    this.scannedUpTo = keep;
  }

  private scan(view: Buffer): void {
    if (view.length === 0) return;
    this.onScan?.(this.file);
    const matches = this.rules.scanner.scan(view);
    this.onScan?.(null);
    this.collect(matches, view, this.base, this.hits, this.seen);
  }

  private collect(matches: RuleMatch[], view: Buffer, base: number, hits: Map<string, RuleHit>, seen: Set<string>): void {
    for (const m of matches) {
      let hit = hits.get(m.ruleIdentifier);
      if (!hit) {
        hit = {
          rule: m.ruleIdentifier,
          namespace: this.rules.origins.get(m.ruleIdentifier) ?? m.namespace,
          tags: m.tags,
          meta: m.meta as Record<string, string | number | boolean>,
          strings: [],
        };
        hits.set(m.ruleIdentifier, hit);
      }
      for (const s of m.matches) {
        const offset = base + s.offset;
        const key = `${m.ruleIdentifier}\0${s.identifier}\0${offset}`;
        if (seen.has(key)) continue;
        seen.add(key);
        hit.strings.push({
          identifier: s.identifier,
          offset,
          length: s.length,
          data: Buffer.from(view.subarray(s.offset, s.offset + Math.min(s.length, this.maxData))),
        });
      }
    }
  }
}
