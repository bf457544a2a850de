// The binary cache client over the three kinds of URL, against a real Nix-made cache: served over
// HTTP on 127.0.0.1, read as file://, and from an S3-compatible server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needleScan } from '../helpers/needle-scan.ts';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { addToStore, makeBinaryCache, readNarInfoText } from '../helpers/nix.ts';
import { serveDirectory, type StaticServer } from '../helpers/http-server.ts';
import { serveCacheOverS3, type S3Server } from '../helpers/s3-server.ts';
import { CacheError, type BinaryCache } from '../../cache/binary-cache.ts';
import { openBinaryCache } from '../../cache/open.ts';
import { countingRetries } from '../../cache/retry.ts';
import { parseNarInfo, NarInfoError } from '../../nix/narinfo.ts';
import { parseStorePath, parseDrvName, StorePathError } from '../../nix/store-path.ts';

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

let storePath: string;
let cacheDir: string;
let http: StaticServer;
let s3: S3Server;

beforeAll(async () => {
  storePath = addToStore('cache-client-1.0', { bin: { tool: { exec: readFileSync('/bin/true') } }, README: 'hello\n' });
  cacheDir = makeBinaryCache([storePath], 'xz');
  http = await serveDirectory(cacheDir);
  s3 = await serveCacheOverS3(cacheDir);
});
afterAll(async () => {
  await http.close();
  await s3.close();
});

const hashOf = (p: string): string => path.basename(p).slice(0, 32);

describe.each([
  ['http', () => http.url],
  ['file', () => `file://${cacheDir}`],
  ['s3', () => s3.cacheUrl],
])('%s cache', (_kind, url) => {
  let cache: BinaryCache;
  beforeAll(() => {
    cache = openBinaryCache(url(), { retries: 1, timeoutMs: 5000 });
  });
  afterAll(() => cache.close());

  it('reads nix-cache-info', async () => {
    expect(await cache.cacheInfo()).toMatchObject({ storeDir: '/nix/store' });
  });
  it('reads the narinfo Nix wrote and streams the exact NAR file', async () => {
    const info = await cache.narInfo(hashOf(storePath));
    expect(info).toEqual(parseNarInfo(readNarInfoText(cacheDir, storePath), 'x'));
    const nar = await cache.openNar(info!);
    expect((await readAll(nar.body)).equals(readFileSync(path.join(cacheDir, info!.url)))).toBe(true);
  });
  it('says "not in cache" (null) for an absent narinfo', async () => {
    expect(await cache.narInfo('0'.repeat(32))).toBeNull();
  });
});

describe('narinfo', () => {
  it('parses every field a real nix copy wrote', () => {
    const info = parseNarInfo(readNarInfoText(cacheDir, storePath), 'test.narinfo');
    expect(info.storePath).toBe(storePath);
    expect(info.compression).toBe('xz');
    expect(info.url).toMatch(/^nar\/[0-9a-z]{52}\.nar\.xz$/);
    expect(info.narHash).toMatch(/^sha256:[0-9a-z]{52}$/);
    expect(info.narSize).toBeGreaterThan(0);
    expect(info.fileSize).toBeGreaterThan(0);
  });
  const base = 'StorePath: /nix/store/00000000000000000000000000000000-x-1.0\nURL: nar/a.nar.xz\nCompression: xz\nNarHash: sha256:abc\nNarSize: 12\n';
  it('keeps unknown keys and every Sig, defaults Compression to bzip2', () => {
    const info = parseNarInfo(`${base.replace('Compression: xz\n', '')}Sig: a:1\nSig: b:2\nFancy: yes\nReferences: \n`, 's');
    expect(info).toMatchObject({ compression: 'bzip2', sigs: ['a:1', 'b:2'], extra: { Fancy: 'yes' }, references: [] });
  });
  it('names the line of each malformed input', () => {
    expect(() => parseNarInfo(`${base}garbage line\n`, 'x.narinfo')).toThrow('x.narinfo line 6: "garbage line" is not a "Key: value" line');
    expect(() => parseNarInfo(base.replace('NarSize: 12', 'NarSize: x12'), 'x.narinfo')).toThrow('x.narinfo line 5: NarSize "x12" is not a number');
    expect(() => parseNarInfo(`${base}URL: again\n`, 'x.narinfo')).toThrow('x.narinfo line 6: URL appears twice (first on line 2)');
    expect(() => parseNarInfo(base.replace(/URL: .*\n/, ''), 'x.narinfo')).toThrow(NarInfoError);
    expect(() => parseNarInfo(base.replace(/URL: .*\n/, ''), 'x.narinfo')).toThrow('required field URL is missing');
  });
});

describe('store paths', () => {
  it("splits names the way Nix's parseDrvName does", () => {
    expect(parseDrvName('hello-2.10')).toEqual({ pname: 'hello', version: '2.10' });
    expect(parseDrvName('firefox-bin-unwrapped-119.0')).toEqual({ pname: 'firefox-bin-unwrapped', version: '119.0' });
    expect(parseDrvName('libpng-apng-1.6.40-dev')).toEqual({ pname: 'libpng-apng', version: '1.6.40-dev' });
    expect(parseDrvName('nix-unstable-2.19pre')).toEqual({ pname: 'nix-unstable', version: '2.19pre' });
    expect(parseDrvName('source')).toEqual({ pname: 'source', version: null });
  });
  it('rejects what is not a store path, saying why', () => {
    expect(parseStorePath(storePath).pname).toBe('cache-client');
    expect(() => parseStorePath('/usr/bin/ls')).toThrow(StorePathError);
    expect(() => parseStorePath('/nix/store/eeee-x')).toThrow(/not a 32-character Nix base32 hash/);
    expect(() => parseStorePath(`${storePath}/bin/tool`)).toThrow(/names a file inside one/);
  });
});

describe('failures', () => {
  it('retries 503s and succeeds', async () => {
    const server = await serveDirectory(cacheDir);
    server.fail('.narinfo', 503, 2);
    const cache = openBinaryCache(server.url, { retries: 3 });
    expect(await cache.narInfo(hashOf(storePath))).not.toBeNull();
    expect(server.requests.filter((r) => r.endsWith('.narinfo'))).toHaveLength(3);
    await server.close();
  });
  it("counts every retry in the path's fault counter, requests and NAR bodies alike", async () => {
    const server = await serveDirectory(cacheDir);
    server.fail('.narinfo', 503, 2);
    const cache = openBinaryCache(server.url, { retries: 3 });
    const { value, retries } = await countingRetries(() => cache.narInfo(hashOf(storePath)));
    expect(value).not.toBeNull();
    expect(retries).toBe(2);
    // Through a whole scan: the NAR answered 503 once; the result says so (before, only body restarts counted).
    server.fail('.nar.xz', 503, 1);
    const { results } = await needleScan(server.url, [storePath], 'hello', { retries: 3 });
    expect(results[0]?.status).toBe('scanned');
    expect(results[0]?.retries).toBe(1);
    await cache.close();
    await server.close();
  }, 60_000);
  it('gives up after the retries with a CacheError naming the URL and the attempts', async () => {
    const server = await serveDirectory(cacheDir);
    server.fail('.narinfo', 500, 100);
    const cache = openBinaryCache(server.url, { retries: 2 });
    await expect(cache.narInfo(hashOf(storePath))).rejects.toThrow(/HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/[0-9a-z]{32}\.narinfo \(after 3 attempts\)/);
    await server.close();
  });
  it('names an unreachable cache', async () => {
    const cache = openBinaryCache('http://127.0.0.1:9', { retries: 0 });
    const err = await cache.narInfo(hashOf(storePath)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect((err as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\//);
  });
  it('honours the concurrency limit', async () => {
    let inFlight = 0;
    let most = 0;
    const server = createServer((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(404).end();
      }, 30);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const cache = openBinaryCache(`http://127.0.0.1:${port}`, { concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => cache.narInfo(String(i % 10).repeat(32))));
    expect(most).toBe(3);
    server.close();
  });
  it('times out a stalled body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x'.repeat(10)); // then silence
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const cache = openBinaryCache(`http://127.0.0.1:${port}`, { timeoutMs: 300, retries: 0 });
    const info = parseNarInfo(readNarInfoText(cacheDir, storePath), 'x');
    const nar = await cache.openNar(info);
    await expect(readAll(nar.body)).rejects.toThrow(/within 300 ms/);
    server.closeAllConnections();
    server.close();
  });
});
