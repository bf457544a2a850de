// Signatures on real binary bytes: the public corpus (Debian and npm binaries packed by real Nix
// with shared/corpus/build-cache.sh, fetched at test time) must be read exactly as its truth says;
// and every way a signature file can be wrong stops loading with file and rule named.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSignatures, ruleMetas, SignatureError, DEFAULT_SIGNATURES_DIR } from '../../signatures/loader.ts';
import { compileRules, RuleCompileError } from '../../yara/rules.ts';
import { FileMatcher } from '../../yara/file-matcher.ts';
import { fileFindings } from '../../signatures/file-findings.ts';
import { isBinaryObject } from '../../signatures/binary-object.ts';
import { signatureMeta } from '../../signatures/signature-meta.ts';
import { readVersion } from '../../signatures/version-reader.ts';
import { runScan } from '../../scanner/scan.ts';
import type { FileFinding } from '../../scanner/path-result.ts';
import { buildCorpus, score, sharedCorpus, type BuiltCorpus } from '../../bench/corpus.ts';

const cacheRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bench', '.cache', 'corpus');

describe('the public corpus', () => {
  let corpus: BuiltCorpus;
  let findings: FileFinding[];
  beforeAll(async () => {
    corpus = buildCorpus(path.join(sharedCorpus, 'public.tsv'), path.join(cacheRoot, 'public'));
    findings = [];
    await runScan({
      cacheUrl: `file://${corpus.cacheDir}`,
      cacheOptions: {},
      ruleSources: loadSignatures().sources,
      binaryOnly: true,
      matchOptions: {},
      decompress: {},
      paths: corpus.storePaths,
      concurrency: 2,
      threads: 2,
      onResult: (r) => findings.push(...r.findings),
    });
  }, 300_000);

  it('finds every expected library with its exact version, and nothing where the truth says none', () => {
    const { libraries } = score(corpus.truth, findings);
    expect(libraries.size).toBeGreaterThanOrEqual(3);
    for (const [name, s] of libraries) {
      expect({ name, problems: s.problems.filter((p) => !p.endsWith('(not counted)')) }).toEqual({ name, problems: [] });
      expect(s.falsePositives + s.falseNegatives).toBe(0);
      expect(s.versionsExact).toBe(s.versionsExpected);
    }
  });

  it('reads libwebp 1.3.2 in sharp-libvips from the libvips pin, and 1.2.4 from the exported function', () => {
    const webp = findings.filter((f) => f.library === 'libwebp');
    expect(webp.find((f) => f.storePath.endsWith('sharp-libvips-1.0.0'))).toMatchObject({ version: '1.3.2', rule: 'libwebp_sharp_libvips_pin', confidence: 'medium' });
    expect(webp.find((f) => f.storePath.endsWith('libwebp-1.2.4'))).toMatchObject({ version: '1.2.4', rule: 'libwebp_version_function' });
    expect(webp.find((f) => f.storePath.endsWith('ffmpeg-static-4.1.0'))).toMatchObject({ version: null, rule: 'libwebp_presence' });
  });

  it('keeps git-describe versions of libvpx whole', () => {
    expect(findings.find((f) => f.library === 'libvpx' && f.storePath.endsWith('ffmpeg-static-4.1.0'))?.version).toBe('1.7.0-1487-g842afb26f');
  });
});

// No Electron or CEF binary is in a registry this project reaches (npm's electron downloads its
// binary from GitHub at install time; Debian ships neither). Until one is in the corpus, these
// check the rules against the literals as the upstream sources compile them (paths in the rule
// comments), inside an ELF-looking buffer, with the neighbours a linker leaves.
describe('Electron and CEF, as their sources lay the strings out', () => {
  const signatures = loadSignatures();
  const rules = compileRules(signatures.sources);
  const metas = ruleMetas(signatures.sources);
  function findingsIn(...parts: (string | Buffer)[]): FileFinding[] {
    const data = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\0'), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(`\0${p}\0`, 'latin1') : p))]);
    const m = new FileMatcher(rules);
    m.begin('lib/x', data.length);
    m.data(data);
    return fileFindings(`/nix/store/${'a'.repeat(32)}-some-app-1.0`, 'lib/x', m.end(), metas);
  }

  it('reads Electron from its compile-time user-agent product, with any one corroborating string', () => {
    const ua = 'Chrome/120.0.6099.129 Electron/28.1.0';
    for (const corroboration of ['dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'default_app.asar', 'electron.asar']) {
      expect(findingsIn(ua, corroboration).find((f) => f.library === 'electron')).toMatchObject({ version: '28.1.0', rule: 'electron_product', vendored: true });
    }
    expect(findingsIn('Chrome/126.0.6478.36 Electron/31.0.0-beta.7', 'default_app.asar').find((f) => f.library === 'electron')?.version).toBe('31.0.0-beta.7');
    // The product alone (a program that only talks about Electron) is not a copy.
    expect(findingsIn(ua).filter((f) => f.library === 'electron')).toEqual([]);
  });

  it('reads CEF from CEF_VERSION next to its exported functions, never a digit short', () => {
    const exports = ['cef_initialize', 'cef_execute_process', 'cef_api_hash'];
    expect(findingsIn('120.1.10+g3ce3184+chromium-120.0.6099.129', ...exports).find((f) => f.library === 'cef')).toMatchObject({ version: '120.1.10', rule: 'cef_version' });
    expect(findingsIn('121.0.0-master.2897+gabcdef0+chromium-121.0.6167.0', ...exports).find((f) => f.library === 'cef')?.version).toBe('121.0.0');
    // The version string without CEF's exports (a program printing it) is not a copy.
    expect(findingsIn('120.1.10+g3ce3184+chromium-120.0.6099.129', 'cef_initialize').filter((f) => f.library === 'cef')).toEqual([]);
  });
});

describe('binary objects', () => {
  it('recognises ELF, archives, PE, Mach-O and wasm, and not text', () => {
    expect(isBinaryObject(readFileSync('/bin/ls').subarray(0, 8))).toBe(true);
    expect(isBinaryObject(Buffer.from('!<arch>\nfoo'))).toBe(true);
    expect(isBinaryObject(Buffer.from('MZ\x90\x00'))).toBe(true);
    expect(isBinaryObject(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]))).toBe(true);
    expect(isBinaryObject(Buffer.from('\0asm\x01\0\0\0'))).toBe(true);
    expect(isBinaryObject(Buffer.from('/* libpng version 1.6.39 */'))).toBe(false);
    expect(isBinaryObject(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });
});

describe('loading signatures', () => {
  function folderWith(name: string, text: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-sigs-'));
    cpSync(path.join(DEFAULT_SIGNATURES_DIR, 'libvpx.yar'), path.join(dir, 'libvpx.yar'));
    writeFileSync(path.join(dir, name), text);
    return dir;
  }
  const rule = (meta: string, strings = '$ver = "x1.2.3"'): string => `rule r {\n  meta:\n${meta}\n  strings:\n    ${strings}\n  condition:\n    any of them\n}\n`;
  const good = '    library = "libfoo"\n    evidence = "version-string"\n    confidence = "high"\n    sonames = "libfoo.so.1"\n    symbols = "foo_version"';

  it('loads the bundled folder with a digest that changes when a signature does', () => {
    const set = loadSignatures();
    expect(set.rules.get('libpng_version_string')).toMatchObject({ library: 'libpng', confidence: 'high' });
    const a = loadSignatures(folderWith('foo.yar', rule(good))).digest;
    const b = loadSignatures(folderWith('foo.yar', rule(good).replace('x1.2.3', 'x1.2.4'))).digest;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
  it('a syntax error names file, line and column', () => {
    const dir = folderWith('bad.yar', 'rule r {\n  strings:\n    $a = "x"\n  condition:\n    $a and\n}\n');
    expect(() => loadSignatures(dir)).toThrow(SignatureError);
    expect(() => loadSignatures(dir)).toThrow(new RegExp(`${dir}/bad\\.yar:6:1: syntax error`));
  });
  it('uncompiled (compile: false), a rule YARA-X refuses is left to whoever compiles next; its metadata is still checked', () => {
    const dir = folderWith('bad.yar', rule(good, '$ver = "x1.2.3"\n    $other = { 4e zz }'));
    expect(() => loadSignatures(dir)).toThrow(SignatureError);
    expect(loadSignatures(dir, { compile: false }).rules.get('r')).toMatchObject({ library: 'libfoo' });
    expect(() => compileRules(loadSignatures(dir, { compile: false }).sources)).toThrow(RuleCompileError);
    expect(() => loadSignatures(folderWith('m.yar', rule('    evidence = "x"\n    confidence = "high"')), { compile: false })).toThrow(/meta library is missing/);
  });
  it('missing or bad meta names file and rule', () => {
    expect(() => loadSignatures(folderWith('m.yar', rule('    evidence = "x"\n    confidence = "high"')))).toThrow(/m\.yar: rule r: meta library is missing/);
    expect(() => loadSignatures(folderWith('m.yar', rule('    library = "libfoo"\n    confidence = "high"\n    sonames = ""\n    symbols = ""')))).toThrow(/rule r: meta evidence is missing/);
    expect(() => loadSignatures(folderWith('m.yar', rule(good.replace('"high"', '"sure"'))))).toThrow(/rule r: meta confidence must be high, medium or low/);
  });
  it('a version reader that does not fit its rule names file and rule', () => {
    expect(() => loadSignatures(folderWith('v.yar', rule(`${good}\n    version_from = "$nope"\n    version_regex = "x([0-9.]+)"`)))).toThrow(
      /v\.yar: rule r: meta version_from names \$nope, which the rule does not define/,
    );
    expect(() => loadSignatures(folderWith('v.yar', rule(`${good}\n    version_from = "$ver"\n    version_regex = "x[0-9.]+"`)))).toThrow(/rule r: meta version_regex must have a capture group/);
    expect(() => loadSignatures(folderWith('v.yar', rule(`${good}\n    version_from = "$ver"\n    version_regex = "x([0-9.]+"`)))).toThrow(/rule r: meta version_regex does not compile/);
  });
  it('linkage meta: both comma lists are required, checked, and alike across a library\'s rules', () => {
    const set = loadSignatures();
    expect(set.identities.get('openssl')).toMatchObject({ sonames: ['libcrypto.so.*', 'libssl.so.*'], symbols: expect.arrayContaining(['OpenSSL_version']) });
    expect(set.identities.get('chromium')).toMatchObject({ sonames: [], symbols: [] });
    const base = '    library = "libfoo"\n    evidence = "version-string"\n    confidence = "high"';
    expect(() => loadSignatures(folderWith('l.yar', rule(`${base}\n    symbols = "foo_version"`)))).toThrow(/l\.yar: rule r: meta sonames is missing/);
    expect(() => loadSignatures(folderWith('l.yar', rule(`${base}\n    sonames = "libfoo.so.1"`)))).toThrow(/l\.yar: rule r: meta symbols is missing/);
    expect(() => loadSignatures(folderWith('l.yar', rule(`${base}\n    sonames = "libfoo.so.1, lib foo"\n    symbols = "f"`)))).toThrow(/rule r: meta sonames entry "lib foo" is not a soname/);
    expect(() => loadSignatures(folderWith('l.yar', rule(`${base}\n    sonames = "libfoo.so.*"\n    symbols = "foo_version, foo-bar"`)))).toThrow(/rule r: meta symbols entry "foo-bar" is not a C function name/);
    const second = rule(`${base}\n    sonames = "libfoo.so.2"\n    symbols = "foo_version"`).replace('rule r ', 'rule r2 ');
    expect(() => loadSignatures(folderWith('l.yar', `${rule(good)}${second}`))).toThrow(/l\.yar: rule r2: meta sonames\/symbols \(libfoo\.so\.2 \/ foo_version\) differ from those of rule r of library libfoo/);
  });
  it('two files defining one rule name are refused', () => {
    const dir = folderWith('dup.yar', readFileSync(path.join(DEFAULT_SIGNATURES_DIR, 'libvpx.yar'), 'utf8'));
    expect(() => loadSignatures(dir)).toThrow(/rule "libvpx_codec_version" is already defined in .*dup\.yar/);
  });
});

describe('version readers for wasm and product pins', () => {
  it('reads a LEB128 i32.const (a wasm WebPGetDecoderVersion body) and rejects a bad encoding name', () => {
    const meta = signatureMeta({ library: 'libwebp', evidence: 'x', confidence: 'high', version_packed: '$fn', version_packed_offset: 3, version_packed_encoding: 'leb128' }, ['$fn']);
    const body = Uint8Array.from([0x06, 0x00, 0x41, 0x80, 0x82, 0x04, 0x0b]); // 0x010100
    expect(readVersion(meta, [{ identifier: '$fn', offset: 241044, data: body }])).toEqual({ version: '1.1.0', raw: null });
    const six = Uint8Array.from([0x06, 0x00, 0x41, 0x80, 0x8c, 0x04, 0x0b]); // 0x010600
    expect(readVersion(meta, [{ identifier: '$fn', offset: 7, data: six }]).version).toBe('1.6.0');
    expect(() => signatureMeta({ library: 'l', evidence: 'x', confidence: 'high', version_packed: '$fn', version_packed_encoding: 'be' }, ['$fn'])).toThrow(/version_packed_encoding must be u32le or leb128/);
  });

  it('a product version outside the generated pin table is "version unknown", with the product version kept', () => {
    const metas = ruleMetas(loadSignatures().sources);
    const meta = signatureMeta(metas.get('libwebp_sharp_libvips_pin')!, null);
    const at = (v: string): Uint8Array => Buffer.from(`\0${v}\0`, 'latin1');
    expect(readVersion(meta, [{ identifier: '$vips', offset: 0, data: at('8.18.7') }])).toEqual({ version: '1.6.0', raw: null });
    // 8.17.1 was built with libwebp 1.5.0 in one release and 1.6.0 in another: left out, not guessed.
    expect(readVersion(meta, [{ identifier: '$vips', offset: 0, data: at('8.17.1') }])).toEqual({ version: null, raw: '8.17.1 (product version not in the pin table: version unknown)' });
    expect(readVersion(meta, [{ identifier: '$vips', offset: 0, data: at('8.19.0') }]).version).toBeNull();
  });
});
