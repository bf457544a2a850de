// One config module: every variable read once, a bad value names the variable, the README lists
// every variable, and error kinds (not class names) decide exit codes and HTTP statuses.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, DEFAULT_CACHE, loadConfig, redact } from '../../services/config.ts';
import { exitCodeFor, httpStatusFor } from '../../errors/errors.ts';
import { StorePathError } from '../../nix/store-path.ts';
import { RuleCompileError } from '../../yara/rules.ts';
import { NarFormatError } from '../../nix/nar.ts';
import { redisConnection } from '../../workers/queue/scan-queue.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

describe('config', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({});
    expect(c.cacheUrl).toBe(DEFAULT_CACHE);
    expect(c.databaseUrl).toBeNull();
    expect(c.redisUrl).toBeNull();
    expect(c.stalledMs).toBe(30_000);
    expect(c.channels).toEqual(['nixos-unstable']);
  });

  it.each([
    ['VENDORSCAN_STALLED_MS', 'soon'],
    ['VENDORSCAN_STALLED_MS', '5'],
    ['VENDORSCAN_CRON', 'every sunday'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['DATABASE_URL', 'not a url'],
    ['VENDORSCAN_CACHE', 'ftp://example.org'],
    ['VENDORSCAN_CHANNELS', 'nixos unstable'],
    ['PORT', '70000'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toContain(name);
    expect(exitCodeFor(err)).toBe(2);
  });

  it('never shows a password in a bad URL message', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://alice:hunter2@db/x' })).toThrow(/alice:\*\*\*@/);
    expect(redact('https://alice:hunter2@cache.example/x')).toBe('https://alice:***@cache.example/x');
  });

  it('is documented in full in the README', () => {
    // docs/hostile.md: issue 13's variables, beside the README (the lead merges them into its table).
    const readme = ['README.md', 'docs/hostile.md'].map((f) => readFileSync(path.join(repo, f), 'utf8')).join('\n');
    for (const v of CONFIG_VARIABLES) expect(readme, v.name).toContain(`\`${v.name}\``);
  });

  it('keeps TLS for rediss://', () => {
    expect(redisConnection('rediss://u:p%40ss@redis.example:6380/2')).toMatchObject({ host: 'redis.example', port: 6380, username: 'u', password: 'p@ss', db: 2, tls: { servername: 'redis.example' } });
    expect(redisConnection('redis://127.0.0.1:6379')).not.toHaveProperty('tls');
  });
});

describe('error kinds', () => {
  it('map to exit codes and statuses by kind, not by class name', () => {
    expect(exitCodeFor(new StorePathError('x'))).toBe(2);
    expect(exitCodeFor(new RuleCompileError('r.yar', 1, 2, 'bad'))).toBe(2);
    expect(exitCodeFor(new NarFormatError('bad', 8))).toBe(1);
    expect(exitCodeFor(new Error('plain'))).toBe(1);
    expect(httpStatusFor(new StorePathError('x'))).toBe(400);
    expect(httpStatusFor(new Error('plain'))).toBe(500);
    expect(new NarFormatError('bad', 8).code).toBe('VS_NAR_FORMAT');
  });
});
