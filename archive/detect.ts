// Recognises an archive or compression layer by its bytes alone, never by its name:
//   zip   "PK\3\4" (a local header) at 0, or an end-of-central-directory record near the end whose
//         central directory is really there (self-extractors, launcher-script jars, zipapps)
//   asar  Chromium Pickle: u32 4, u32 headerSize, u32 payloadSize, i32 jsonLength, "{"
//   tar   "ustar" at 257 (POSIX and GNU), or a v7 header: non-empty name, octal size, valid checksum
//   gzip  1f 8b 08 · zstd 28 b5 2f fd · xz fd "7zXZ" 00 · bzip2 "BZh" 1-9 then the block magic
// A file that starts with "#!" may be a launcher script or zipapp with a zip after it: only its
// end record tells, so a stream keeps it (startsLikeScript) and looks at its end.
import { startsWith, u32 } from './bytes.ts';
import { locateZip } from './zip.ts';
import { tarHeaderChecksumOk } from './tar.ts';

export type ArchiveFormat = 'zip' | 'asar' | 'tar' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export const ZIP_LOCAL = [0x50, 0x4b, 0x03, 0x04] as const;
const GZIP = [0x1f, 0x8b, 0x08] as const;
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd] as const;
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] as const;
const BZH = [0x42, 0x5a, 0x68] as const;
const BZ_BLOCK = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59] as const;
const BZ_EMPTY = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90] as const;
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72] as const;

/** The first 17 bytes of an asar (its Pickle start and the JSON's `{`): its header may run far past them. */
export function isAsarStart(b: Uint8Array): boolean {
  return b.length >= 17 && u32(b, 0) === 4 && b[16] === 0x7b;
}

export function isAsar(b: Uint8Array): boolean {
  if (b.length < 17 || u32(b, 0) !== 4) return false;
  const headerSize = u32(b, 4);
  const payload = u32(b, 8);
  const jsonLength = u32(b, 12);
  return (
    headerSize >= 8 &&
    headerSize <= b.length - 8 &&
    payload + 4 <= headerSize &&
    jsonLength + 4 <= payload &&
    jsonLength >= 2 &&
    b[16] === 0x7b
  );
}

export function isTar(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  if (startsWith(b, 257, USTAR)) return tarHeaderChecksumOk(b, 0);
  // v7: a name, an octal size and mode, and a checksum that adds up.
  if (b[0] === 0) return false;
  for (let i = 124; i < 135; i++) {
    const c = b[i] ?? 0;
    if (!((c >= 0x30 && c <= 0x37) || c === 0x20 || c === 0)) return false;
  }
  return tarHeaderChecksumOk(b, 0);
}

/** "#!": a launcher-script jar or a Python zipapp starts so, with the zip after the script. */
export function startsLikeScript(b: Uint8Array): boolean {
  return b[0] === 0x23 && b[1] === 0x21;
}

/**
 * Whether a file whose first bytes (up to 512) are `head` is worth handing to ArchiveStream: an
 * archive recognised by its start, an asar whose header is still coming, or a script that may
 * have a zip after it.
 */
export function mayBeArchive(head: Uint8Array): boolean {
  return sniffArchive(head, false) !== null || isAsarStart(head) || startsLikeScript(head);
}

/**
 * The format of `b`, or null for anything that is not an archive we know. `trailingZip` also
 * looks for a zip's end record in the last 64 KiB (a zip with something before it).
 */
export function sniffArchive(b: Uint8Array, trailingZip = true): ArchiveFormat | null {
  if (startsWith(b, 0, ZIP_LOCAL)) return 'zip';
  if (startsWith(b, 0, GZIP)) return 'gzip';
  if (startsWith(b, 0, ZSTD)) return 'zstd';
  if (startsWith(b, 0, XZ)) return 'xz';
  if (startsWith(b, 0, BZH) && (b[3] ?? 0) >= 0x31 && (b[3] ?? 0) <= 0x39) {
    if (startsWith(b, 4, BZ_BLOCK) || startsWith(b, 4, BZ_EMPTY)) return 'bzip2';
  }
  if (isAsar(b)) return 'asar';
  if (isTar(b)) return 'tar';
  if (trailingZip && locateZip(b) !== null) return 'zip';
  return null;
}
