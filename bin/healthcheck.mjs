#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK, docker-compose.yml healthcheck), no curl needed.
// `healthcheck.mjs URL`: healthy when GET URL answers 2xx within 4 s (the API's /healthz queries
// the store). Without a URL, for processes that serve no HTTP (worker, scheduler): healthy when
// REDIS_URL answers PING and DATABASE_URL's host accepts a connection.
import net from 'node:net';
import tls from 'node:tls';

const TIMEOUT_MS = 4000;

function fail(message) {
  process.stderr.write(`unhealthy: ${message}\n`);
  process.exit(1);
}

/** Connects to host:port; sends `send` and resolves with the first reply (or '' when nothing is sent). */
function talk(url, defaultPort, send) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = { host: u.hostname, port: Number(u.port || defaultPort) };
    const socket = u.protocol === 'rediss:' ? tls.connect({ ...options, servername: u.hostname }) : net.connect(options);
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`${u.host}: timed out`)));
    socket.once('error', reject);
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      if (!send) {
        socket.end();
        resolve('');
        return;
      }
      socket.write(send);
      socket.once('data', (data) => {
        socket.end();
        resolve(data.toString('latin1'));
      });
    });
  });
}

const [url] = process.argv.slice(2);
try {
  if (url) {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) fail(`${url} answered HTTP ${res.status}`);
  } else {
    const redis = process.env.REDIS_URL;
    const database = process.env.DATABASE_URL;
    if (!redis && !database) fail('no URL given and neither REDIS_URL nor DATABASE_URL is set');
    if (redis) {
      const u = new URL(redis);
      const auth = u.password ? `AUTH ${decodeURIComponent(u.username || 'default')} ${decodeURIComponent(u.password)}\r\n` : '';
      const reply = await talk(redis, 6379, `${auth}PING\r\n`);
      if (!reply.includes('PONG') && !reply.startsWith('+OK')) fail(`${u.host}: Redis answered ${JSON.stringify(reply.slice(0, 80))}`);
    }
    if (database) await talk(database, 5432, null);
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
