// The caps every archive walk obeys, and the walk-wide budget that enforces them. Not a parser:
// the numbers here are what keeps each reader's grammar (zip, tar, asar, gzip/zstd layers)
// from turning a small hostile input into unbounded memory, time or output.

export interface ArchiveLimits {
  /** Archive nesting levels opened: the outer archive is level 1, `a.jar!/b.zip` level 2. */
  maxDepth: number;
  /** Members handed out over the whole walk (the outer archive and everything nested in it). */
  maxMembers: number;
  /** Bytes the walk may decompress or hand out in all, over every level. */
  maxTotalBytes: number;
  /** The largest single member (or decompressed tar layer) read. */
  maxMemberBytes: number;
  /** Uncompressed:compressed above this is a bomb, for output larger than ratioMinBytes. */
  maxRatio: number;
  ratioMinBytes: number;
  /** An asar JSON header, a pax or GNU long-name record, a zip's central directory. */
  maxHeaderBytes: number;
  /** The largest archive ArchiveStream keeps whole; past it only a zip can still be followed. */
  maxInMemoryBytes: number;
  /**
   * zlib calls that fail on corrupt data, per walk; then the walk stops. Each failed synchronous
   * zlib call keeps its engine (16-47 KiB) alive until the event loop turns, so a walk of
   * thousands of corrupt members would otherwise hold gigabytes.
   */
  maxFailedDecompressions: number;
  /** Warnings kept; the rest are counted in one closing warning. */
  maxWarnings: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxDepth: 3,
  maxMembers: 100_000,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxMemberBytes: 256 * 1024 * 1024,
  maxRatio: 100,
  ratioMinBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024 * 1024,
  maxInMemoryBytes: 512 * 1024 * 1024,
  maxFailedDecompressions: 64,
  maxWarnings: 1000,
});

export function resolveLimits(partial: Partial<ArchiveLimits> | undefined): ArchiveLimits {
  return { ...DEFAULT_ARCHIVE_LIMITS, ...(partial ?? {}) };
}

/** Counters shared by every level of one walk; a reader asks before it allocates or emits. */
export class Budget {
  readonly limits: ArchiveLimits;
  members = 0;
  bytes = 0;
  /** Failed zlib calls so far (see maxFailedDecompressions). */
  failures = 0;
  /** Set once a walk-wide cap is hit: every reader stops at its next member. */
  exhausted: string | null = null;

  constructor(limits: ArchiveLimits) {
    this.limits = limits;
  }

  remainingBytes(): number {
    return Math.max(0, this.limits.maxTotalBytes - this.bytes);
  }

  /** The most output one decompression may produce now. */
  outputCap(): number {
    return Math.min(this.limits.maxMemberBytes, this.remainingBytes());
  }
}

/** Whether `out` bytes from `input` compressed bytes is past the bomb ratio. */
export function isBombRatio(limits: ArchiveLimits, input: number, out: number): boolean {
  return out > limits.ratioMinBytes && out > limits.maxRatio * Math.max(1, input);
}

/** The largest output allowed from `input` compressed bytes before the ratio calls it a bomb. */
export function ratioCap(limits: ArchiveLimits, input: number): number {
  return Math.max(limits.ratioMinBytes, limits.maxRatio * Math.max(1, input));
}
