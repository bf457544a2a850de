// Serves a directory over HTTP on 127.0.0.1 (an ephemeral port), like a static binary cache host.
// `faults` lets a test make chosen paths fail a number of times first, to exercise retries.
import { createServer, type Server } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';

export interface StaticServer {
  url: string;
  requests: string[];
  /** Next `times` requests whose path ends with `suffix` answer `status` (or hang up when status is 0). */
  fail(suffix: string, status: number, times: number): void;
  close(): Promise<void>;
}

export async function serveDirectory(root: string): Promise<StaticServer> {
  const requests: string[] = [];
  const faults: { suffix: string; status: number; times: number }[] = [];
  const server: Server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(urlPath);
    const fault = faults.find((f) => f.times > 0 && urlPath.endsWith(f.suffix));
    if (fault) {
      fault.times--;
      if (fault.status === 0) return req.socket.destroy();
      res.writeHead(fault.status).end(`injected ${fault.status}`);
      return;
    }
    const file = path.join(root, path.normalize(urlPath).replace(/^(\.\.[/\\])+/, ''));
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    fail: (suffix, status, times) => faults.push({ suffix, status, times }),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
