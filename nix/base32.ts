// Nix's base32: its own alphabet (no e, o, u, t) and bytes read from the last digit backwards.
export const NIX_BASE32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const ALPHABET = NIX_BASE32_ALPHABET;
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

export function encodedLength(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

export function encodeNixBase32(bytes: Uint8Array): string {
  const len = encodedLength(bytes.length);
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = ((bytes[i] ?? 0) >> j) | (j > 3 && i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0);
    out += ALPHABET[c & 0x1f];
  }
  return out;
}

export function decodeNixBase32(s: string): Uint8Array {
  const size = Math.floor((s.length * 5) / 8);
  const out = new Uint8Array(size);
  for (let n = 0; n < s.length; n++) {
    const ch = s[s.length - n - 1] ?? '';
    const digit = VALUE.get(ch);
    if (digit === undefined) throw new Error(`invalid character "${ch}" at position ${s.length - n - 1} of Nix base32 string "${s}"`);
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    if (i < size) out[i] = (out[i] ?? 0) | ((digit << j) & 0xff);
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1] = (out[i + 1] ?? 0) | carry;
    else if (carry !== 0) throw new Error(`Nix base32 string "${s}" has excess bits`);
  }
  return out;
}
