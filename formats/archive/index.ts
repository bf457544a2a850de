// The archive walker's public face: see README.md beside this file. Grammar: none.
export { walkArchive, ArchiveStream, Walk, type MemberCallback, type WalkResult } from './walk.ts';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.ts';
export { sniffArchive, type ArchiveFormat } from './detect.ts';
export { ZipStreamReader } from './zip-stream.ts';
export type { ReaderContext } from './context.ts';
