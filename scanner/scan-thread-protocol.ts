// Messages between the scan pool (main thread) and its scan threads.
import type { CacheOptions } from '../cache/binary-cache.ts';
import type { NarInfo } from '../nix/narinfo.ts';
import type { DecompressOptions } from '../decompress/decompress.ts';
import type { MatchOptions } from '../yara/file-matcher.ts';
import type { RuleSource } from '../yara/rule-source.ts';
import type { PathResult } from './path-result.ts';

export interface ScanThreadConfig {
  cacheUrl: string;
  cacheOptions: CacheOptions;
  ruleSources: RuleSource[];
  binaryOnly: boolean;
  matchOptions: MatchOptions;
  decompress: DecompressOptions;
  /**
   * Untrusted rules (searches): each scan "thread" is a child process, and a file whose matching
   * takes longer than this is given up (the process is killed: YARA-X cannot be interrupted) and
   * reported timed out, while the path's other files are scanned again without it.
   */
  fileTimeoutMs?: number;
}

export type ToThread =
  | { type: 'init'; config: ScanThreadConfig }
  | { type: 'scan'; id: number; storePath: string; narInfo?: NarInfo; skipFiles?: string[] }
  | { type: 'close' };

export type FromThread =
  /** Isolated mode: the process listens; the pool may send 'init'. */
  | { type: 'hello' }
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'bytes'; downloaded: number; nar: number }
  /** Isolated mode: matching of `file` began (null: it ended). */
  | { type: 'matching'; id: number; file: string | null }
  | { type: 'result'; id: number; result: PathResult };
