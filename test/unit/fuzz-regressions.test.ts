// Every crash `npm run fuzz` found, kept as a regression test: the input that crashed, and the
// error it must give now (the parser's own error, with a clear message, never a TypeError).
import { describe, expect, it } from 'vitest';
import { NixCacheInfoError, parseNixCacheInfo } from '../../nix/nix-cache-info.ts';

const input = (b64: string): string => new TextDecoder().decode(Buffer.from(b64, 'base64'));

describe('fuzz regressions', () => {
  it('nix-cache-info: a line with NUL bytes and no colon is an input error, shown escaped (seed 325465869)', () => {
    const text = input('U3RvcmVEaXI6IC9uaXgvc3RvcmUKV2FudE1hc3NRdWVyeTogMQpQAAAAAAAAAAAgNDAK');
    expect(() => parseNixCacheInfo(text, 'fuzz/nix-cache-info')).toThrow(NixCacheInfoError);
    expect(() => parseNixCacheInfo(text, 'fuzz/nix-cache-info')).toThrow(/line 3: "P\\x00\\x00.*" is not a "Key: value" line/);
  });
});
