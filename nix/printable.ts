// Untrusted bytes and names as text a terminal, a log line and JSON can carry: printable ASCII
// kept, everything else (control bytes, backslash, non-ASCII bytes) as \xNN. One helper for the
// NAR parser's errors and the matched strings of findings.

/** Bytes (or a string's UTF-16 units below 0x100) as escaped ASCII; cut to `max` characters when given. */
export function printable(data: Uint8Array | string, max = Number.POSITIVE_INFINITY): string {
  let out = '';
  const n = data.length;
  for (let i = 0; i < n && out.length < max; i++) {
    const b = typeof data === 'string' ? data.charCodeAt(i) : (data[i] ?? 0);
    if (b >= 0x20 && b < 0x7f && b !== 0x5c) out += String.fromCharCode(b);
    else if (typeof data === 'string' && b >= 0x80) out += data[i];
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out.length > max ? out.slice(0, max) : out;
}
