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
}

export type ToThread = { type: 'scan'; id: number; storePath: string; narInfo?: NarInfo } | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'bytes'; downloaded: number; nar: number }
  | { type: 'result'; id: number; result: PathResult };
