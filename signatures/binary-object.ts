// Only binary objects can be a copy of a library: ELF, Mach-O (and fat), PE, static archives and
// WebAssembly. A header, man page or changelog naming a version is not.

export function isBinaryObject(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const b0 = head[0], b1 = head[1], b2 = head[2], b3 = head[3];
  if (b0 === 0x7f && b1 === 0x45 && b2 === 0x4c && b3 === 0x46) return true; // ELF
  if (b0 === 0x4d && b1 === 0x5a) return true; // PE/COFF "MZ"
  if (b0 === 0x00 && b1 === 0x61 && b2 === 0x73 && b3 === 0x6d) return true; // wasm
  const be = ((b0! << 24) | (b1! << 16) | (b2! << 8) | b3!) >>> 0;
  const le = ((b3! << 24) | (b2! << 16) | (b1! << 8) | b0!) >>> 0;
  const macho = [0xfeedface, 0xfeedfacf];
  if (macho.includes(be) || macho.includes(le)) return true; // Mach-O 32/64, either byte order
  if (be === 0xcafebabe && head.length >= 8 && head[4] === 0 && head[5] === 0) return true; // fat Mach-O (not a Java class: those have a version > 0x2c here)
  if (head.length >= 8 && Buffer.from(head.subarray(0, 8)).toString('latin1') === '!<arch>\n') return true; // static archive
  return false;
}
