// Issue 13, the cache side: H3 (a narinfo body that never ends), L1 (a NAR trickling one byte at a
// time: an overall deadline), L4 (a 404 NAR leaves no timer behind), L5 (narinfo URLs and redirects
// that leave the cache's origin), L6 (file:// symlinks out of the cache), M7 (credentials in the
// cache URL or a netrc file work as Basic auth and are never shown). Real HTTP on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needleScan } from '../helpers/needle-scan.ts';
import { serveDirectory } from '../helpers/http-server.ts';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, readSync, statSync, symlinkSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { scanStorePath, type ScanDeps } from '../../scanner/scan-store-path.ts';
import { FileMatcher } from '../../yara/file-matcher.ts';
import { compileRules } from '../../yara/rules.ts';
import { needleRule } from '../../yara/rule-source.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpBinaryCache } from '../../cache/http-binary-cache.ts';
import { FileBinaryCache, WHOLE_NAR_BYTES } from '../../cache/file-binary-cache.ts';
import { parseNetrc } from '../../cache/netrc.ts';
import { addToStore, makeBinaryCache, readNarInfoText } from '../helpers/nix.ts';
import { loadConfig } from '../../services/config.ts';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';

const HASH = (c: string): string => c.repeat(32);
let storePath: string;
let cacheDir: string;
let realNarInfo: string;
let server: Server;
let other: Server;
let base: string;
let otherBase: string;
const hits: string[] = [];

function narInfo(hash: string, url: string): string {
  return realNarInfo.replace(/^StorePath: .*$/m, `StorePath: /nix/store/${hash}-x`).replace(/^URL: .*$/m, `URL: ${url}`).replace(/^(FileHash|FileSize): .*\n/gm, '');
}

/** A cache of one large xz NAR (a file over WHOLE_NAR_BYTES holding `needle`), scanned with the native engine; files with a hit go to `hits`. */
function largeNarScan(name: string, needle: string, hits: string[]): { big: string; dir: string; text: string; narFile: string; narInfoPath: string; deps: ScanDeps } {
  const big = addToStore(name, { 'blob.bin': Buffer.concat([randomBytes(WHOLE_NAR_BYTES * 2), Buffer.from(needle)]) });
  const dir = makeBinaryCache([big], 'xz');
  const text = readNarInfoText(dir, big);
  const deps: ScanDeps = {
    cache: new FileBinaryCache(`file://${dir}`),
    matcher: new FileMatcher(compileRules([needleRule(needle, 1)])),
    binaryOnly: false,
    decompress: { prefer: 'native' },
    toFindings: (_, files) => {
      hits.push(...files.map((f) => f.file));
      return [];
    },
  };
  return { big, dir, text, narFile: path.join(dir, /^URL: (.*)$/m.exec(text)?.[1] ?? ''), narInfoPath: path.join(dir, `${path.basename(big).slice(0, 32)}.narinfo`), deps };
}

function listen(s: Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)));
}

beforeAll(async () => {
  storePath = addToStore('hostile-cache-1.0', { 'a.txt': 'hello\n' });
  cacheDir = makeBinaryCache([storePath], 'xz');
  realNarInfo = readNarInfoText(cacheDir, storePath);
  const realUrl = /^URL: (.*)$/m.exec(realNarInfo)?.[1] ?? '';
  other = createServer((req, res) => {
    hits.push(`other ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(200).end(readFileSync(path.join(cacheDir, realUrl)));
  });
  otherBase = await listen(other);
  server = createServer((req, res: ServerResponse) => {
    const url = req.url ?? '/';
    hits.push(`cache ${url} ${req.headers.authorization ?? ''}`);
    if (url.startsWith('/private/')) {
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:hunter2').toString('base64')}`) return void res.writeHead(401).end('no');
      const hash = path.basename(storePath).slice(0, 32);
      if (url === `/private/${hash}.narinfo`) return void res.writeHead(200).end(realNarInfo);
      return void res.writeHead(404).end();
    }
    switch (url) {
      case `/${HASH('0')}.narinfo`: {
        // A body that never ends.
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (res.write(chunk)) if (res.destroyed) return;
          res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        return pump();
      }
      case `/${HASH('1')}.narinfo`:
        return void res.writeHead(200).end(narInfo(HASH('1'), 'nar/trickle.nar.xz'));
      case '/nar/trickle.nar.xz': {
        res.writeHead(200);
        const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('x')), 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      case `/${HASH('2')}.narinfo`:
        return void res.writeHead(200).end(narInfo(HASH('2'), `${otherBase}/nar/x.nar.xz`));
      case `/${HASH('3')}.narinfo`:
        return void res.writeHead(200).end(narInfo(HASH('3'), 'nar/redirect.nar.xz'));
      case '/nar/redirect.nar.xz':
        return void res.writeHead(302, { location: `${otherBase}/nar/x.nar.xz` }).end();
      case `/${HASH('4')}.narinfo`:
        return void res.writeHead(200).end(narInfo(HASH('4'), 'nar/missing.nar.xz'));
      default:
        return void res.writeHead(404).end('not found');
    }
  });
  base = await listen(server);
}, 120_000);
afterAll(async () => {
  server?.closeAllConnections();
  other?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => other?.close(r));
});

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of body) n += c.length;
  return n;
}

describe('bounded answers', () => {
  it('H3: refuses a narinfo body past 1 MiB instead of reading it whole', async () => {
    const cache = new HttpBinaryCache(base, { retries: 0 });
    await expect(cache.narInfo(HASH('0'))).rejects.toThrow(/larger than 1048576 bytes: not a narinfo/);
  });

  it('L1: a NAR that trickles forever ends at the download deadline', async () => {
    const cache = new HttpBinaryCache(base, { retries: 0, timeoutMs: 5000, deadlineMs: 1500 });
    const info = await cache.narInfo(HASH('1'));
    const nar = await cache.openNar(info!);
    await expect(drain(nar.body)).rejects.toThrow(/download deadline of 1500 ms passed/);
  });

  it('L4: a NAR that is missing (404) leaves no timer running', async () => {
    const cache = new HttpBinaryCache(base, { retries: 0, timeoutMs: 60_000 });
    const info = await cache.narInfo(HASH('4'));
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await expect(cache.openNar(info!)).rejects.toThrow(/missing from the cache \(HTTP 404\)/);
    expect(timers()).toBe(before);
  });
});

describe("the cache's origin (L5)", () => {
  it('refuses a narinfo URL on another origin, and follows it when that origin is allowed', async () => {
    const cache = new HttpBinaryCache(base, { retries: 0 });
    const info = await cache.narInfo(HASH('2'));
    await expect(cache.openNar(info!)).rejects.toThrow(/outside the cache's origin/);
    expect(hits.some((h) => h.startsWith('other'))).toBe(false);
    const allowed = new HttpBinaryCache(base, { retries: 0, allowedOrigins: [otherBase] });
    expect(await drain((await allowed.openNar(info!)).body)).toBeGreaterThan(0);
  });

  it('refuses a redirect to another origin', async () => {
    hits.length = 0;
    const cache = new HttpBinaryCache(base, { retries: 0 });
    const info = await cache.narInfo(HASH('3'));
    await expect(cache.openNar(info!)).rejects.toThrow(/redirects to .* outside the cache's origin/);
    expect(hits.some((h) => h.startsWith('other'))).toBe(false);
  });
});

describe('credentials (M7)', () => {
  const hash = (): string => path.basename(storePath).slice(0, 32);

  it('uses credentials in the cache URL as Basic auth, and never shows them', async () => {
    const url = base.replace('http://', 'http://alice:hunter2@');
    const cache = new HttpBinaryCache(`${url}/private`, { retries: 0 });
    expect(cache.url).not.toMatch(/hunter2/);
    expect((await cache.narInfo(hash()))?.storePath).toBe(storePath);
    const wrong = new HttpBinaryCache(`${base.replace('http://', 'http://alice:wrong@')}/private`, { retries: 0 });
    const err = await wrong.narInfo(hash()).catch((e: unknown) => e as Error);
    expect(String((err as Error).message)).toMatch(/HTTP 401/);
    expect(String((err as Error).message)).not.toMatch(/wrong|alice/);
  });

  it("uses a netrc file's credentials for the cache's host only", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-netrc-'));
    const file = path.join(dir, 'netrc');
    writeFileSync(file, 'machine 127.0.0.1\n  login alice\n  password hunter2\nmachine elsewhere login bob password x\n');
    const config = loadConfig({ VENDORSCAN_NETRC_FILE: file });
    expect(config.cacheOptions.credentials).toEqual(parseNetrc(readFileSync(file, 'utf8'), file));
    const cache = new HttpBinaryCache(`${base}/private`, { retries: 0, ...config.cacheOptions });
    expect((await cache.narInfo(hash()))?.storePath).toBe(storePath);
    expect(() => loadConfig({ VENDORSCAN_NETRC_FILE: path.join(dir, 'none') })).toThrow(/VENDORSCAN_NETRC_FILE: cannot read/);
    writeFileSync(file, 'machine h login a\n');
    expect(() => loadConfig({ VENDORSCAN_NETRC_FILE: file })).toThrow(/machine h needs both login and password/);
  });
});

describe('file:// symlinks (L6)', () => {
  it('refuses a NAR or narinfo that is a symlink leading out of the cache', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-symlink-cache-'));
    const secret = path.join(mkdtempSync(path.join(tmpdir(), 'vendorscan-secret-')), 'secret.nar.xz');
    writeFileSync(secret, readFileSync(path.join(cacheDir, /^URL: (.*)$/m.exec(realNarInfo)?.[1] ?? '')));
    mkdirSync(path.join(dir, 'nar'));
    writeFileSync(path.join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n');
    symlinkSync(secret, path.join(dir, 'nar', 'evil.nar.xz'));
    writeFileSync(path.join(dir, `${HASH('5')}.narinfo`), narInfo(HASH('5'), 'nar/evil.nar.xz'));
    symlinkSync('/etc/hostname', path.join(dir, `${HASH('6')}.narinfo`));
    const cache = new FileBinaryCache(`file://${dir}`);
    const info = await cache.narInfo(HASH('5'));
    await expect(cache.openNar(info!)).rejects.toThrow(/symlink leading outside/);
    await expect(cache.narInfo(HASH('6'))).rejects.toThrow(/symlink leading outside/);
  });
  it('refuses a FIFO or a folder in place of a narinfo or a NAR at once, instead of waiting for a writer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-fifo-cache-'));
    mkdirSync(path.join(dir, 'nar'));
    execFileSync('mkfifo', [path.join(dir, `${HASH('7')}.narinfo`), path.join(dir, 'nar', 'fifo.nar.xz')]);
    mkdirSync(path.join(dir, `${HASH('8')}.narinfo`));
    writeFileSync(path.join(dir, `${HASH('9')}.narinfo`), narInfo(HASH('9'), 'nar/fifo.nar.xz'));
    const cache = new FileBinaryCache(`file://${dir}`);
    await expect(cache.narInfo(HASH('7'))).rejects.toThrow(/\.narinfo is not a regular file/);
    await expect(cache.narInfo(HASH('8'))).rejects.toThrow(/\.narinfo is not a regular file/);
    const info = await cache.narInfo(HASH('9'));
    await expect(cache.openNar(info!)).rejects.toThrow(/fifo\.nar\.xz is not a regular file/);
  });
  it('a malformed FileHash fails its path and leaves no file descriptor open', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-filehash-cache-'));
    mkdirSync(path.join(dir, 'nar'));
    writeFileSync(path.join(dir, 'nar', 'large.nar.xz'), randomBytes(WHOLE_NAR_BYTES + 1));
    const hashes = ['c', 'd', 'e'].map(HASH);
    for (const h of hashes) writeFileSync(path.join(dir, `${h}.narinfo`), `${narInfo(h, 'nar/large.nar.xz')}FileHash: x\n`);
    const deps = {
      cache: new FileBinaryCache(`file://${dir}`),
      matcher: new FileMatcher(compileRules([needleRule('unused-needle', 1)])),
      binaryOnly: false,
      toFindings: () => [],
    };
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (const h of hashes) {
      const result = await scanStorePath(`/nix/store/${h}-x`, deps);
      expect(result.status).toBe('failed');
      expect(result.reason).toMatch(/"x"|FileHash|hash/i);
    }
    expect(openFds()).toBeLessThanOrEqual(before);
  });
  it("hands a large NAR's descriptor over at offset 0, however far its body has been read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-fd-cache-'));
    mkdirSync(path.join(dir, 'nar'));
    const large = randomBytes(WHOLE_NAR_BYTES * 3);
    writeFileSync(path.join(dir, 'nar', 'large.nar'), large);
    writeFileSync(path.join(dir, `${HASH('f')}.narinfo`), narInfo(HASH('f'), 'nar/large.nar'));
    const cache = new FileBinaryCache(`file://${dir}`);
    const download = await cache.openNar((await cache.narInfo(HASH('f')))!);
    expect(download.file?.fd).toBeTypeOf('number');
    const reader = download.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(first.done).toBe(false);
    // A decompressor given the descriptor reads from its offset: still the start of the file.
    const head = Buffer.alloc(64);
    expect(readSync(download.file!.fd, head, 0, head.length, null)).toBe(head.length);
    expect(head.equals(large.subarray(0, head.length))).toBe(true);
    // The same bytes for a reader that only looks: views of one buffer, the whole file in order.
    const seen = createHash('sha256');
    const views = new Set<ArrayBufferLike>();
    for await (const chunk of download.file!.chunks()) {
      seen.update(chunk);
      views.add(chunk.buffer);
    }
    expect(seen.digest('hex')).toBe(createHash('sha256').update(large).digest('hex'));
    expect(views.size).toBe(1);
    await reader.return?.();
    // A small NAR is read whole and closed at once: no descriptor to hand over.
    writeFileSync(path.join(dir, 'nar', 'small.nar'), randomBytes(100));
    writeFileSync(path.join(dir, `${HASH('g')}.narinfo`), narInfo(HASH('g'), 'nar/small.nar'));
    expect((await cache.openNar((await cache.narInfo(HASH('g')))!)).file).toBeUndefined();
  });
  it('a large xz NAR read by the xz process itself is still checked against its FileHash and NarHash', async () => {
    // Incompressible content: the xz NAR is over WHOLE_NAR_BYTES, so it is streamed and its file handed to xz.
    const hitFiles: string[] = [];
    const { big, text, narFile, narInfoPath, deps } = largeNarScan('fd-handover-1.0', 'vendorscan-fd-needle-4e1d', hitFiles);
    expect(statSync(narFile).size).toBeGreaterThan(WHOLE_NAR_BYTES);
    const good = await scanStorePath(big, deps);
    expect(good.status, good.reason).toBe('scanned');
    expect(hitFiles).toEqual(['blob.bin']);
    expect(good.downloadedBytes).toBe(statSync(narFile).size);
    const wrongFileHash = text.replace(/^FileHash: sha256:.*$/m, `FileHash: sha256:${'1'.repeat(52)}`);
    writeFileSync(narInfoPath, wrongFileHash);
    const bad = await scanStorePath(big, deps);
    expect(bad.status).toBe('failed');
    expect(bad.reason).toMatch(/FileHash mismatch: narinfo says sha256:1{52}/);
    writeFileSync(narInfoPath, text.replace(/^NarHash: sha256:.*$/m, `NarHash: sha256:${'1'.repeat(52)}`));
    expect((await scanStorePath(big, deps)).reason).toMatch(/NarHash mismatch: narinfo says sha256:1{52}/);
  });
  it('a stream zstd refuses and xz takes (stream padding) is decoded again by xz; a refused one stops reading the file', async () => {
    const hitFiles: string[] = [];
    const { big, text, narFile, narInfoPath, deps } = largeNarScan('fd-padding-1.0', 'vendorscan-padding-needle-77aa', hitFiles);
    // Four NUL bytes after the stream: xz's stream padding, which zstd calls an unsupported format.
    writeFileSync(narFile, Buffer.concat([readFileSync(narFile), Buffer.alloc(4)]));
    writeFileSync(narInfoPath, text.replace(/^(FileHash|FileSize): .*\n/gm, ''));
    const padded = await scanStorePath(big, deps);
    expect(padded.status, padded.reason).toBe('scanned');
    expect(hitFiles).toEqual(['blob.bin']);
    // Gigabytes of zeros after the stream, which xz would read to the end as padding: more than a
    // NAR of this NarSize can weigh compressed, refused before anything is read.
    truncateSync(narFile, 1024 * 1024 * 1024);
    const heavy = await scanStorePath(big, deps);
    expect(heavy.status).toBe('failed');
    expect(heavy.reason).toMatch(/the compressed NAR nar\/\S+ has 1073741824 bytes, more than a NAR of \d+ bytes \(NarSize\) can take in any compression/);
    expect(heavy.downloadedBytes).toBe(0);
    // A bad header in front of a 1 GiB sparse file (NarSize made large enough to allow it): both
    // tools refuse it at once, and the file is not read on to its end for a hash (it was, 19 s for 8 GiB).
    const bad = Buffer.concat([readFileSync(narFile).subarray(0, 12), Buffer.from('GARBAGE GARBAGE GARBAGE')]);
    writeFileSync(narFile, bad);
    truncateSync(narFile, 1024 * 1024 * 1024);
    writeFileSync(narInfoPath, text.replace(/^(FileHash|FileSize): .*\n/gm, '').replace(/^NarSize: \d+$/m, `NarSize: ${4 * 1024 ** 3}`));
    const refused = await scanStorePath(big, deps);
    expect(refused.status).toBe('failed');
    expect(refused.reason).toMatch(/xz decompression \(native\) failed: xz -dc --memlimit-decompress=\d+ exited with status 1 after reading \d+ compressed bytes: xz: \(stdin\): /);
    expect(refused.downloadedBytes).toBeLessThan(256 * 1024 * 1024);
  });
  it("xz's second try takes none of the body's retries and is counted; a front-check refusal gets none", async () => {
    const hits: string[] = [];
    const { big, text, narFile, dir } = largeNarScan('fd-second-try-1.0', 'vendorscan-second-try-needle-19', hits);
    writeFileSync(narFile, Buffer.concat([readFileSync(narFile), Buffer.alloc(4)]));
    const narInfoPath = path.join(dir, `${path.basename(big).slice(0, 32)}.narinfo`);
    writeFileSync(narInfoPath, text.replace(/^(FileHash|FileSize): .*\n/gm, ''));
    const narUrl = `/${/^URL: (.*)$/m.exec(text)?.[1]}`;
    // The first NAR body is whole (zstd refuses its padding), the next three break off, the fifth is whole.
    let served = 0;
    const flaky = createServer((req, res) => {
      let body: Buffer;
      try {
        body = readFileSync(path.join(dir, decodeURIComponent(req.url ?? '/')));
      } catch {
        return void res.writeHead(404).end();
      }
      res.writeHead(200, { 'content-length': body.length });
      if (req.url === narUrl && ++served >= 2 && served <= 4) {
        res.write(body.subarray(0, 4096));
        return void setTimeout(() => req.socket.destroy(), 20);
      }
      res.end(body);
    });
    const url = await listen(flaky);
    try {
      const { results } = await needleScan(url, [big], 'vendorscan-second-try-needle-19', { retries: 0, timeoutMs: 5000 });
      expect(results[0]?.reason).toBeUndefined();
      expect(results[0]).toMatchObject({ status: 'scanned', retries: 4 });
      expect(served).toBe(5);
      // A dictionary over the limit is the front check's verdict: no second try, no retry.
      const over = Buffer.from(readFileSync(narFile));
      writeFileSync(narFile, Buffer.concat([execFileSync('xz', ['-c', '--lzma2=dict=512MiB'], { input: 'x' }), over.subarray(0, 300 * 1024)]));
      served = 0;
      const refused = (await needleScan(url, [big], 'unused', { retries: 0, timeoutMs: 5000 })).results[0];
      expect(refused?.status).toBe('failed');
      expect(refused?.reason).toMatch(/needs a 536870912-byte dictionary, over the limit/);
      expect(refused?.retries).toBeUndefined();
      expect(served).toBe(1);
    } finally {
      flaky.closeAllConnections();
      await new Promise((r) => flaky.close(r));
    }
  });
  it('a tool that stops at the end of its stream (bzip2 with trailing bytes) is not taken for a file that changed', async () => {
    const big = addToStore('fd-bzip2-trailing-1.0', { 'blob.bin': randomBytes(WHOLE_NAR_BYTES * 2) });
    const dir = makeBinaryCache([big], 'bzip2');
    const text = readNarInfoText(dir, big);
    const narFile = path.join(dir, /^URL: (.*)$/m.exec(text)?.[1] ?? '');
    appendFileSync(narFile, randomBytes(64 * 1024));
    writeFileSync(path.join(dir, `${path.basename(big).slice(0, 32)}.narinfo`), text.replace(/^(FileHash|FileSize): .*\n/gm, ''));
    const result = await needleScan(`file://${dir}`, [big], 'unused-needle-7b', { retries: 0 });
    expect(result.results[0]?.reason).toBeUndefined();
    expect(result.results[0]?.status).toBe('scanned');
  });
  it('a NAR file that grows while the decompressor reads it fails the path', async () => {
    const big = addToStore('fd-grows-1.0', { 'blob.bin': randomBytes(16 * 1024 * 1024) });
    const dir = makeBinaryCache([big], 'xz');
    const narFile = path.join(dir, /^URL: (.*)$/m.exec(readNarInfoText(dir, big))?.[1] ?? '');
    // An empty xz stream appended once the first NAR bytes are out: it adds no NAR byte and leaves
    // FileHash and FileSize right (they are read from the first length), but the decompressor
    // reads it. The tool cannot be at the file's end yet: its output waits in a full pipe.
    let appended = false;
    const deps = {
      cache: new FileBinaryCache(`file://${dir}`),
      matcher: new FileMatcher(compileRules([needleRule('unused-needle-5c', 1)])),
      binaryOnly: false,
      decompress: { prefer: 'native' as const },
      toFindings: () => [],
      onBytes: (_: number, nar: number) => {
        if (nar > 0 && !appended) {
          appended = true;
          appendFileSync(narFile, execFileSync('xz', ['-c'], { input: '' }));
        }
      },
    };
    const result = await scanStorePath(big, deps);
    expect(appended).toBe(true);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/changed while being read: the decompressor read \d+ bytes, \d+ were hashed/);
  });
  it('reads a small NAR whole and streams a large one, byte for byte', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-file-cache-'));
    mkdirSync(path.join(dir, 'nar'));
    const small = randomBytes(1000);
    const large = randomBytes(WHOLE_NAR_BYTES * 2 + 17);
    writeFileSync(path.join(dir, 'nar', 'small.nar'), small);
    writeFileSync(path.join(dir, 'nar', 'large.nar'), large);
    writeFileSync(path.join(dir, `${HASH('a')}.narinfo`), narInfo(HASH('a'), 'nar/small.nar'));
    writeFileSync(path.join(dir, `${HASH('b')}.narinfo`), narInfo(HASH('b'), 'nar/large.nar'));
    const cache = new FileBinaryCache(`file://${dir}`);
    for (const [hash, bytes, minChunks] of [[HASH('a'), small, 1], [HASH('b'), large, 3]] as const) {
      const download = await cache.openNar((await cache.narInfo(hash))!);
      const chunks: Uint8Array[] = [];
      for await (const chunk of download.body) chunks.push(chunk);
      expect(download.size).toBe(bytes.length);
      expect(chunks.length).toBeGreaterThanOrEqual(minChunks);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    }
  });
});

describe("a channel's store-paths.xz (M6)", () => {
  it('gives up on a host that accepts and never answers, and on a body that never ends', async () => {
    const { channelStorePaths } = await import('../../workers/sources/channel.ts');
    const silent = createServer(() => {}); // accepts, never answers
    // Valid xz streams, one after another, forever (xz reads concatenated streams as one).
    const chunk = execFileSync('xz', ['-c', '-0'], { input: `${randomBytes(96 * 1024).toString('hex').replace(/(.{64})/g, '$1\n')}` });
    const endless = createServer((_req, res) => {
      res.writeHead(200);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const silentUrl = await listen(silent);
    const endlessUrl = await listen(endless);
    const drainPaths = async (it: AsyncIterable<string>): Promise<number> => {
      let n = 0;
      for await (const _ of it) n++;
      return n;
    };
    // A valid store-paths.xz with xz stream padding (zstd, the NARs' native xz decoder, refuses it).
    const paddedDir = mkdtempSync(path.join(tmpdir(), 'vendorscan-padded-channel-'));
    mkdirSync(path.join(paddedDir, 'nixos-padded'));
    const listed = `/nix/store/${HASH('a')}-a-1.0\n/nix/store/${HASH('b')}-b-2.0\n`;
    writeFileSync(path.join(paddedDir, 'nixos-padded', 'store-paths.xz'), Buffer.concat([execFileSync('xz', ['-c'], { input: listed }), Buffer.alloc(8)]));
    const padded = await serveDirectory(paddedDir);
    try {
      expect(await drainPaths(channelStorePaths('nixos-padded', padded.url))).toBe(2);
      await expect(drainPaths(channelStorePaths('nixos-test', silentUrl, undefined, { timeoutMs: 300 }))).rejects.toThrow(/cannot fetch .*nixos-test\/store-paths\.xz: no answer within 300 ms/);
      await expect(drainPaths(channelStorePaths('nixos-test', endlessUrl, undefined, { maxBytes: 1024 * 1024 }))).rejects.toThrow(/is larger than 1048576 bytes: not a channel's store-paths\.xz/);
    } finally {
      await padded.close();
      for (const s of [silent, endless]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  });
});

describe('a NAR body that breaks off (chaos: resetting and stalling caches)', () => {
  it('is downloaded again: the path is scanned, the retry counted', async () => {
    const narUrl = `/${/^URL: (.*)$/m.exec(realNarInfo)?.[1]}`;
    let broken = 0;
    const flaky = createServer((req, res) => {
      const file = path.join(cacheDir, decodeURIComponent(req.url ?? '/'));
      let body: Buffer;
      try {
        body = readFileSync(file);
      } catch {
        return void res.writeHead(404).end();
      }
      res.writeHead(200, { 'content-length': body.length });
      if (req.url === narUrl && broken++ === 0) {
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        return void setTimeout(() => req.socket.destroy(), 20);
      }
      res.end(body);
    });
    const url = await listen(flaky);
    try {
      const { summary, results } = await needleScan(url, [storePath], 'hello', { retries: 2, timeoutMs: 5000 });
      expect(summary.failed).toBe(0);
      expect(results[0]).toMatchObject({ status: 'scanned', retries: 1 });
      expect(results[0]?.findings.map((f) => f.file)).toEqual(['a.txt']);
    } finally {
      flaky.closeAllConnections();
      await new Promise((r) => flaky.close(r));
    }
  });
});
