// Messages between the scan pool (main thread) and its scan threads.
import type { CacheOptions } from '../cache/binary-cache.js';
import type { NarInfo } from '../cache/narinfo.js';
import type { DecompressOptions } from '../decompress/decompress.js';
import type { MatchOptions } from '../match/file-matcher.js';
import type { RuleSource } from '../match/rule-source.js';
import type { PathResult } from './path-result.js';

export interface ScanThreadConfig {
  cacheUrl: string;
  cacheOptions: CacheOptions;
  ruleSources: RuleSource[];
  binaryOnly: boolean;
  matchOptions: MatchOptions;
  decompress: DecompressOptions;
}

export type ToThread = { type: 'scan'; id: number; storePath: string; narInfo?: NarInfo } | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'bytes'; downloaded: number; nar: number }
  | { type: 'result'; id: number; result: PathResult };
