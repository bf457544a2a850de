// Electron asar. Grammar (electron/asar disk.ts, filesystem.ts): two Chromium Pickles, then data.
//   [0,8)   size pickle: u32 payloadSize = 4, u32 headerSize
//   [8, 8+headerSize) header pickle: u32 payloadSize, i32 jsonLength, JSON (UTF-8), padded to 4
//   [8+headerSize, …) file data; a file's bytes are at 8 + headerSize + Number(entry.offset)
// JSON: directory {"files": {name: entry}}, file {"offset": "<decimal string>", "size": n,
// "executable"?, "integrity"?}, unpacked file {"size", "unpacked": true} (its bytes live in
// app.asar.unpacked beside the archive, so are skipped here), link {"link": "path"} (skipped).
// The header is believed only where it is checked: offsets and sizes must land inside the input;
// entries may share bytes (asar dedupes identical files), bounded by the walk's byte budget.
import { q, u32 } from './bytes.ts';
import type { ReaderContext } from './context.ts';

const MAX_DEPTH = 256;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readAsar(b: Uint8Array, ctx: ReaderContext): void {
  const headerSize = u32(b, 4);
  if (headerSize < 8 || 8 + headerSize > b.length) {
    ctx.warn(`asar header claims ${headerSize} bytes, the archive has ${b.length}; not read`);
    return;
  }
  const payload = u32(b, 8);
  const jsonLength = u32(b, 12);
  if (payload + 4 > headerSize || jsonLength + 4 > payload || jsonLength > 0x7fffffff) {
    ctx.warn(`asar header pickle is inconsistent (header ${headerSize}, payload ${payload}, JSON ${jsonLength} bytes); not read`);
    return;
  }
  if (jsonLength > ctx.limits.maxHeaderBytes) {
    ctx.warn(`asar JSON header of ${jsonLength} bytes is over the ${ctx.limits.maxHeaderBytes}-byte cap; not read`);
    return;
  }
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8').decode(b.subarray(16, 16 + jsonLength)));
  } catch (e) {
    ctx.warn(`asar JSON header does not parse (${(e as Error).message}); not read`);
    return;
  }
  if (!isRecord(root) || !isRecord(root.files)) {
    ctx.warn('asar JSON header has no root "files" object; not read');
    return;
  }
  const dataStart = 8 + headerSize;
  const dataLength = b.length - dataStart;
  const stack: { files: Record<string, unknown>; path: string; depth: number }[] = [{ files: root.files, path: '', depth: 0 }];
  let visited = 0;
  while (stack.length > 0) {
    const dir = stack.pop();
    if (!dir) break;
    for (const [name, entry] of Object.entries(dir.files)) {
      if (ctx.budget.exhausted) return;
      if (++visited > ctx.limits.maxMembers * 4) {
        ctx.warn(`asar header has over ${ctx.limits.maxMembers * 4} entries; the rest are not read`);
        return;
      }
      const path = dir.path ? `${dir.path}/${name}` : name;
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
        ctx.warn(`${q(path)}: invalid entry name (path traversal?); skipped`);
        continue;
      }
      if (!isRecord(entry)) {
        ctx.warn(`${q(path)}: entry is not an object; skipped`);
        continue;
      }
      if ('files' in entry) {
        if (!isRecord(entry.files)) ctx.warn(`${q(path)}: "files" is not an object; skipped`);
        else if (dir.depth + 1 > MAX_DEPTH) ctx.warn(`${q(path)}: directories nested deeper than ${MAX_DEPTH}; skipped`);
        else stack.push({ files: entry.files, path, depth: dir.depth + 1 });
        continue;
      }
      if ('link' in entry) continue;
      if (entry.unpacked === true) continue;
      const offset = entry.offset;
      const size = entry.size;
      if (typeof offset !== 'string' || !/^\d{1,16}$/.test(offset) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        ctx.warn(`${q(path)}: offset ${JSON.stringify(offset)} or size ${JSON.stringify(size)} is not valid; skipped`);
        continue;
      }
      const at = Number(offset);
      if (!(at + size <= dataLength)) {
        ctx.warn(`${q(path)}: header says ${size} bytes at offset ${at}, past the ${dataLength} data bytes (the header lies); skipped`);
        continue;
      }
      if (!ctx.admit(path, size)) continue;
      if (!ctx.emit(path, b.subarray(dataStart + at, dataStart + at + size))) return;
    }
  }
}
