// The matcher: needles and hex patterns as YARA-X rules, compiler errors located in their own
// file, whole-file and windowed scanning giving the same answers, and scanning in a worker thread.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { compileRules, RuleCompileError } from '../../yara/rules.ts';
import { FileMatcher, type RuleHit } from '../../yara/file-matcher.ts';
import { hexRule, needleRule, PatternError } from '../../yara/rule-source.ts';
import { BufferPool } from '../../yara/buffer-pool.ts';

function scan(rules: ReturnType<typeof compileRules>, data: Buffer, options = {}, chunk = 4096): RuleHit[] {
  const m = new FileMatcher(rules, options);
  m.begin('f', data.length);
  for (let i = 0; i < data.length; i += chunk) m.data(data.subarray(i, i + chunk));
  return m.end();
}

describe('needles and hex patterns', () => {
  it('a needle matches exactly its UTF-8 bytes, whatever they are', () => {
    const needle = 'quote" back\\slash\nnew\0line é ✓';
    const data = Buffer.concat([Buffer.alloc(100, 1), Buffer.from(needle), Buffer.alloc(100, 2)]);
    const hits = scan(compileRules([needleRule(needle, 1)]), data);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.strings[0]).toMatchObject({ offset: 100, length: Buffer.byteLength(needle) });
    expect(hits[0]!.strings[0]!.data.toString()).toBe(needle);
    expect(hits[0]!.meta).toMatchObject({ library: 'adhoc', evidence: 'needle' });
    expect(scan(compileRules([needleRule(needle, 1)]), Buffer.from(needle.slice(0, -1)))).toEqual([]);
  });
  it('hex with wildcards, jumps and alternatives', () => {
    const rules = compileRules([hexRule('{ 4e 6f ?? [1-3] (21|3f) }', 1)]);
    expect(scan(rules, Buffer.from('xx No!..? yy'))).toHaveLength(1);
    expect(scan(rules, Buffer.from('xx No!....? yy'))).toHaveLength(0);
    expect(scan(compileRules([hexRule('4e6f', 2)]), Buffer.from('No'))).toHaveLength(1);
  });
  it('a bad hex pattern names the token', () => {
    expect(() => hexRule('{ 4e zz }', 3)).toThrow(PatternError);
    expect(() => hexRule('{ 4e zz }', 3)).toThrow('hex #3: "zz" is not a hex byte');
    expect(() => hexRule('{ ?? ?? }', 1)).toThrow(/no fixed byte/);
  });
});

describe('compiling', () => {
  it('locates a syntax error in its own file, with line and column', () => {
    const bad = { origin: 'second.yar', text: 'rule ok { condition: true }\n\nrule b {\n  strings: $a = "x"\n  condition: $a and }\n' };
    const err = (() => {
      try {
        compileRules([needleRule('a', 1), bad]);
      } catch (e) {
        return e;
      }
    })() as RuleCompileError;
    expect(err).toBeInstanceOf(RuleCompileError);
    expect(err).toMatchObject({ origin: 'second.yar', line: 5, column: 21 });
    expect(err.message).toMatch(/^second\.yar:5:21: syntax error/);
  });
  it('refuses the same rule name in two files, naming both', () => {
    expect(() => compileRules([{ origin: 'a.yar', text: 'rule dup { condition: true }' }, { origin: 'b.yar', text: 'rule dup { condition: true }' }])).toThrow(
      'b.yar: rule "dup" is already defined in a.yar',
    );
  });
  it('changes its digest with any source', () => {
    expect(compileRules([needleRule('a', 1)]).digest).not.toBe(compileRules([needleRule('b', 1)]).digest);
  });
});

describe('windows', () => {
  const real = readFileSync('/bin/ls');
  const needle = 'vendorscan-window-needle';
  it('finds a pattern straddling a window boundary once, at its absolute offset', () => {
    const rules = compileRules([needleRule(needle, 1)]);
    const window = 4096;
    const at = window - 10;
    const data = Buffer.concat([real.subarray(0, at), Buffer.from(needle), real.subarray(at, 3 * window)]);
    const hits = scan(rules, data, { maxWholeFileSize: 1000, windowSize: window }, 333);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.strings.map((s) => s.offset)).toEqual([at]);
  });
  it('whole and windowed scans of a real binary agree', () => {
    const rules = compileRules([hexRule('{ 7f 45 4c 46 }', 1), needleRule('GLIBC_2.', 2), needleRule('--help', 3)]);
    const whole = scan(rules, real);
    const windowed = scan(rules, real, { maxWholeFileSize: 10_000, windowSize: 20_000 }, 777);
    const norm = (h: RuleHit[]): unknown => h.map((x) => [x.rule, x.strings.map((s) => s.offset).sort((a, b) => a - b)]).sort();
    expect(windowed.length).toBeGreaterThan(1);
    expect(norm(windowed)).toEqual(norm(whole));
  });
});

describe('the match limit', () => {
  it('is set on the scanner once per value, not by every matcher (each call rebuilt YARA-X\'s scanner)', () => {
    const rules = compileRules([needleRule('limit-needle', 1)]);
    const given: number[] = [];
    const original = rules.scanner.setMaxMatchesPerPattern.bind(rules.scanner);
    rules.scanner.setMaxMatchesPerPattern = (n: number) => {
      given.push(n);
      original(n);
    };
    const data = Buffer.from('..limit-needle..limit-needle..limit-needle..');
    for (let i = 0; i < 5; i++) expect(scan(rules, data)[0]!.strings).toHaveLength(3);
    expect(given).toEqual([64]);
    // A different limit is still applied, and applied to the scans that follow.
    expect(scan(rules, data, { maxMatchesPerPattern: 2 })[0]!.strings).toHaveLength(2);
    expect(scan(rules, data)[0]!.strings).toHaveLength(3);
    expect(given).toEqual([64, 2, 64]);
  });
});

describe('buffers reused between files', () => {
  it('the pool hands a freed buffer to the next file of its size class, within its cap', () => {
    const pool = new BufferPool(3 << 20, 2 << 20);
    const a = pool.take(700_000);
    expect(a.length).toBe(1 << 20);
    pool.give(a);
    expect(pool.retainedBytes).toBe(1 << 20);
    expect(pool.take(600_000)).toBe(a);
    const big = pool.take(3_000_000);
    pool.give(big); // over maxKeptSize: let go
    expect(pool.retainedBytes).toBe(0);
    for (const b of [pool.take(1 << 21), pool.take(1 << 21)]) pool.give(b); // the second would pass the cap
    expect(pool.retainedBytes).toBe(2 << 20);
  });
  it('a reused buffer leaks nothing of the previous file into the next', () => {
    const rules = compileRules([needleRule('tail-marker-of-file-one', 1)]);
    const m = new FileMatcher(rules, { pool: new BufferPool(8 << 20, 4 << 20) });
    const one = Buffer.concat([Buffer.alloc(200_000, 0x41), Buffer.from('tail-marker-of-file-one')]);
    const two = Buffer.alloc(150_000, 0x42); // same size class: it gets file one's buffer
    for (const [file, expected] of [[one, 1], [two, 0], [one, 1]] as const) {
      m.begin('f', file.length);
      m.data(file);
      expect(m.end()).toHaveLength(expected);
    }
  });
});

describe('worker threads', () => {
  it('compile and scan inside a worker thread', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { compile } = require(workerData.yara);
      const r = compile('rule t { strings: $a = "worker-needle" condition: $a }');
      parentPort.postMessage(r.scan(Buffer.from('xx worker-needle yy')).map((m) => m.ruleIdentifier));
    `;
    const worker = new Worker(code, { eval: true, workerData: { yara: require.resolve('@litko/yara-x') } });
    const result = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    expect(result).toEqual(['t']);
  });
});
