// Routes the files of a streamed NAR into the matcher. Files that are not binary objects are
// skipped when only library signatures are loaded (a C header naming a version is not a copy);
// ad-hoc searches look inside every file. Every file is also offered to the archive walker
// (archive/): a zip, jar, wheel, asar or tar is walked as it streams, and each member is matched
// like a file under the name `archive!/member`, with the same binary-object rule. What the walker
// meets (a bomb, a lying header, a cap) becomes a per-file warning; the scan goes on. tar.xz and
// tar.bz2 are opened with the decoders the caller passes (decompress/archive-layers.ts).
import type { NarVisitor } from '../nix/nar.ts';
import type { FileMatcher, RuleHit } from '../yara/file-matcher.ts';
import { isBinaryObject } from '../signatures/binary-object.ts';
import { ArchiveStream, DEFAULT_ARCHIVE_LIMITS, mayBeArchive, type ArchiveLimits, type WalkOptions } from '../archive/index.ts';
import type { FileLinkage } from '../signatures/file-linkage.ts';

/** Bytes needed to recognise a binary object by its magic. */
const HEAD_BYTES = 8;

export interface FileHits {
  file: string;
  hits: RuleHit[];
  /** Per library found: copy, built-against or unknown, with the reason (see FileInspector). */
  linkage?: FileLinkage;
}

/**
 * Reads more out of a file (or archive member) that has hits, while its bytes are still held: the
 * scan thread passes the linkage check here (signatures/file-linkage.ts). `whole` is null for a
 * file read in windows.
 */
export type FileInspector = (hits: RuleHit[], whole: Uint8Array | null) => FileLinkage | undefined;

/**
 * The archive caps a scan uses: an archive is held whole only up to the scanner's whole-file cap
 * (past it a zip is followed by its local headers, anything else is reported), and one member at
 * most half of it, so a walk holds at most the archive plus a member per nesting level.
 */
export function scanArchiveLimits(maxWholeFileSize: number): Partial<ArchiveLimits> {
  return {
    maxInMemoryBytes: Math.min(DEFAULT_ARCHIVE_LIMITS.maxInMemoryBytes, maxWholeFileSize),
    maxMemberBytes: Math.min(DEFAULT_ARCHIVE_LIMITS.maxMemberBytes, Math.max(1024 * 1024, Math.floor(maxWholeFileSize / 2))),
  };
}

/** Without injected decoders the walker opens no xz or bzip2; every kernel module (`.ko.xz`) would say so. */
const UNSUPPORTED_LAYER = /^[^!]*: (xz|bzip2) compression \(a tar\.(xz|bz2)\?\) is not supported/;

export class NarMatchVisitor implements NarVisitor {
  files = 0;
  /** Archive members matched (every level). */
  members = 0;
  private readonly done: FileHits[] = [];
  private readonly warnings: string[] = [];
  private unopened = new Map<string, number>();
  private path = '';
  private size = 0;
  private state: 'sniffing' | 'matching' | 'skipping' = 'skipping';
  private head = new Uint8Array(HEAD_BYTES);
  private headLength = 0;
  private archive: ArchiveStream | null = null;
  /** The first bytes of the file, to tell whether it is an archive before handing it on. */
  private archiveHead = new Uint8Array(SNIFF_BYTES);
  private archiveHeadLength = 0;
  private archiveState: 'sniffing' | 'streaming' | 'off' = 'off';
  private walked = false;

  private readonly matcher: FileMatcher;
  private readonly binaryOnly: boolean;
  private readonly limits: Partial<ArchiveLimits>;
  private readonly inspect: FileInspector | undefined;
  private readonly skip: ReadonlySet<string>;
  private readonly walkOptions: WalkOptions;
  /** `skip`: files not to match (they timed out before). `walkOptions.layers`: the xz and bzip2 decoders for tar layers. */
  constructor(
    matcher: FileMatcher,
    binaryOnly: boolean,
    inspect?: FileInspector,
    limits: Partial<ArchiveLimits> = scanArchiveLimits(matcher.maxWholeFileSize),
    skip: ReadonlySet<string> = new Set(),
    walkOptions: WalkOptions = {},
  ) {
    this.matcher = matcher;
    this.binaryOnly = binaryOnly;
    this.inspect = inspect;
    this.limits = limits;
    this.skip = skip;
    this.walkOptions = walkOptions;
  }

  fileStart(path: string, size: number): void {
    this.files++;
    this.path = path;
    this.size = size;
    this.headLength = 0;
    this.archive = null;
    this.archiveHeadLength = 0;
    this.archiveState = size >= MIN_ARCHIVE_BYTES ? 'sniffing' : 'off';
    if (size === 0 || this.skip.has(path)) this.state = 'skipping';
    else if (this.binaryOnly) this.state = 'sniffing';
    else this.start();
  }

  fileData(chunk: Uint8Array): void {
    if (this.archiveState === 'streaming') this.archive?.push(chunk);
    else if (this.archiveState === 'sniffing') this.sniffArchive(chunk);
    if (this.state === 'matching') {
      this.matcher.data(chunk);
      return;
    }
    if (this.state === 'skipping') return;
    // Sniffing: the first chunk nearly always holds the whole magic; keep a copy otherwise.
    const take = Math.min(HEAD_BYTES - this.headLength, chunk.length);
    this.head.set(chunk.subarray(0, take), this.headLength);
    this.headLength += take;
    if (this.headLength < HEAD_BYTES && this.headLength < this.size) return;
    if (!isBinaryObject(this.head.subarray(0, this.headLength))) {
      this.state = 'skipping';
      return;
    }
    this.start();
    // Replay the sniffed bytes that came before this chunk, then the chunk itself.
    const before = this.headLength - take;
    if (before > 0) this.matcher.data(this.head.subarray(0, before));
    this.matcher.data(chunk);
  }

  fileEnd(): void {
    if (this.state === 'sniffing' && this.headLength > 0 && isBinaryObject(this.head.subarray(0, this.headLength))) {
      this.start();
      this.matcher.data(this.head.subarray(0, this.headLength));
    }
    if (this.state === 'matching') {
      let linkage: FileLinkage | undefined;
      const inspect = this.inspect;
      const hits = this.matcher.end(inspect ? (h, whole) => {
        if (h.length > 0) linkage = inspect(h, whole);
      } : undefined);
      if (hits.length > 0) this.done.push(linkage ? { file: this.path, hits, linkage } : { file: this.path, hits });
    }
    this.state = 'skipping';
    const archive = this.archive;
    this.archive = null;
    if (archive) {
      const walk = archive.end();
      if (walk.format !== null) this.walked = true;
      for (const w of walk.warnings) this.warn(w, walk.format);
    }
  }

  /** Every file's (and archive member's) hits, in NAR order. */
  results(): FileHits[] {
    return this.done;
  }

  /** Per-file warnings: `file: what` or `archive!/member: what`, then counted notes. */
  fileWarnings(): string[] {
    const notes = [...this.unopened].map(([kind, n]) => `${n} ${kind}-compressed file${n === 1 ? ' was' : 's were'} not opened (the archive walker reads no ${kind})`);
    return [...this.warnings, ...notes];
  }

  /** True once after a file that was an archive: the caller lets the event loop turn (see archive/README.md). */
  takeWalked(): boolean {
    const w = this.walked;
    this.walked = false;
    return w;
  }

  private warn(warning: string, format: string | null): void {
    const unsupported = UNSUPPORTED_LAYER.exec(warning);
    if (unsupported && (format === 'xz' || format === 'bzip2')) {
      const kind = unsupported[1] ?? format;
      this.unopened.set(kind, (this.unopened.get(kind) ?? 0) + 1);
      return;
    }
    if (this.warnings.length < MAX_PATH_WARNINGS) this.warnings.push(warning);
    else if (this.warnings.length === MAX_PATH_WARNINGS) this.warnings.push('more archive warnings in this store path were not kept');
  }

  /**
   * Only a file whose first bytes look like an archive (or a "#!" script, which may have a zip
   * after it) is handed to the walker (which copies what it holds): the rest cost a copy of at
   * most SNIFF_BYTES.
   */
  private sniffArchive(chunk: Uint8Array): void {
    const take = Math.min(SNIFF_BYTES - this.archiveHeadLength, chunk.length);
    this.archiveHead.set(chunk.subarray(0, take), this.archiveHeadLength);
    this.archiveHeadLength += take;
    if (this.archiveHeadLength < SNIFF_BYTES && this.archiveHeadLength < this.size) return;
    const head = this.archiveHead.subarray(0, this.archiveHeadLength);
    if (!mayBeArchive(head)) {
      this.archiveState = 'off';
      return;
    }
    this.archiveState = 'streaming';
    this.archive = new ArchiveStream(this.path, this.limits, (member, data) => this.member(member, data), this.walkOptions);
    this.archive.push(head);
    if (take < chunk.length) this.archive.push(chunk.subarray(take));
  }

  /** A member of an archive: matched like a file, under its `archive!/member` name. */
  private member(path: string, data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.binaryOnly && !isBinaryObject(data.subarray(0, HEAD_BYTES))) return;
    this.members++;
    const hits = this.matcher.matchBytes(data);
    if (hits.length === 0) return;
    // A member is held whole: its linkage is read like a file's (a libfoo.so inside a jar).
    const linkage = this.inspect?.(hits, data);
    this.done.push(linkage ? { file: path, hits, linkage } : { file: path, hits });
  }

  private start(): void {
    this.state = 'matching';
    this.matcher.begin(this.path, this.size);
  }
}

/** What the walker needs to recognise every format it reads (tar's magic is at 257). */
const SNIFF_BYTES = 512;
/** The smallest zip (an empty one is a 22-byte end record); nothing shorter is an archive. */
const MIN_ARCHIVE_BYTES = 22;

/** Warnings kept per store path (each archive's walk keeps up to its own cap as well). */
const MAX_PATH_WARNINGS = 200;
