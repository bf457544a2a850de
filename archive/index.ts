// The archive walker's public face (README.md beside this file). Grammar: none here; zip.ts,
// zip-stream.ts, tar.ts, asar.ts and detect.ts each state theirs.
// Hand-written, no library: yauzl is async and built around file descriptors; fflate's unzip
// allocates what a header declares and inflates in JavaScript, without zstd; tar-stream is
// stream-only over streamx (four dependencies); @electron/asar reads from disk paths and brings
// glob and minimatch. The caps need node:zlib directly (maxOutputLength, bytesWritten).
export { walkArchive, ArchiveStream, Walk, type MemberCallback, type WalkResult } from './walk.ts';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.ts';
export { isAsarStart, mayBeArchive, sniffArchive, type ArchiveFormat } from './detect.ts';
export { ZipStreamReader } from './zip-stream.ts';
export type { LayerDecoded, LayerDecoder, LayerDecoders, ReaderContext, WalkOptions } from './context.ts';
export { zstdAvailable } from './bytes.ts';
