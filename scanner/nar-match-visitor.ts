// Routes the files of a streamed NAR into the matcher. Files that are not binary objects are
// skipped when only library signatures are loaded (a C header naming a version is not a copy);
// ad-hoc searches look inside every file.
import type { NarVisitor } from '../nix/nar.ts';
import type { FileMatcher, RuleHit } from '../yara/file-matcher.ts';
import { isBinaryObject } from '../signatures/binary-object.ts';

/** Bytes needed to recognise a binary object by its magic. */
const HEAD_BYTES = 8;

export interface FileHits {
  file: string;
  hits: RuleHit[];
}

export class NarMatchVisitor implements NarVisitor {
  files = 0;
  private readonly done: FileHits[] = [];
  private path = '';
  private size = 0;
  private state: 'sniffing' | 'matching' | 'skipping' = 'skipping';
  private head = new Uint8Array(HEAD_BYTES);
  private headLength = 0;

  private readonly matcher: FileMatcher;
  private readonly binaryOnly: boolean;
  private readonly skip: ReadonlySet<string>;
  /** `skip`: files not to match (they timed out before). */
  constructor(matcher: FileMatcher, binaryOnly: boolean, skip: ReadonlySet<string> = new Set()) {
    this.matcher = matcher;
    this.binaryOnly = binaryOnly;
    this.skip = skip;
  }

  fileStart(path: string, size: number): void {
    this.files++;
    this.path = path;
    this.size = size;
    this.headLength = 0;
    if (size === 0 || this.skip.has(path)) this.state = 'skipping';
    else if (this.binaryOnly) this.state = 'sniffing';
    else this.start();
  }

  fileData(chunk: Uint8Array): void {
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
      const hits = this.matcher.end();
      if (hits.length > 0) this.done.push({ file: this.path, hits });
    }
    this.state = 'skipping';
  }

  /** Every file's hits, in NAR order. */
  results(): FileHits[] {
    return this.done;
  }

  private start(): void {
    this.state = 'matching';
    this.matcher.begin(this.path, this.size);
  }
}
