// What a WebAssembly binary declares about its functions, read from its sections (the binary
// format, https://webassembly.github.io/spec/core/binary/modules.html): how many functions are
// imported (they come first in the function index space) and the size of each defined body.
export interface WasmFunctions {
  imported: number;
  /** Body sizes in bytes of the defined functions, in index order (index = imported + position). */
  bodies: number[];
}

export function wasmFunctions(bytes: Uint8Array): WasmFunctions {
  let at = 8; // magic and version
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      if (b === undefined) throw new Error(`LEB128 runs past the end at byte ${at}`);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  /** Skips a length-prefixed run of bytes (a name). */
  const skip = (): void => {
    const length = u32();
    at += length;
  };
  const limits = (): void => {
    const flags = bytes[at++] ?? 0;
    u32();
    if (flags & 1) u32();
  };
  let imported = 0;
  const bodies: number[] = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        skip(); // module name
        skip(); // field name
        const kind = bytes[at++];
        if (kind === 0) {
          u32();
          imported++;
        } else if (kind === 1) {
          at++; // reference type
          limits();
        } else if (kind === 2) limits();
        else if (kind === 3) at += 2; // value type, mutability
        else if (kind === 4) {
          at++;
          u32();
        } else throw new Error(`unknown import kind ${kind} at byte ${at - 1}`);
      }
    } else if (id === 10) {
      for (let n = u32(); n > 0; n--) {
        const body = u32();
        bodies.push(body);
        at += body;
      }
    }
    at = end;
  }
  return { imported, bodies };
}
