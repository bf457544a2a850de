// A Redis of the test's own on another port (no persistence), which the test may shut down and
// start again: the machine's shared Redis on 6379 is never restarted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.ts';

export interface PrivateRedis {
  url: string;
  port: number;
  /** `shutdown nosave` (every key lost), then a fresh server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function ping(port: number): boolean {
  return spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
}

export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  let server: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis on ${port}`, async () => ping(port), (up) => up, 20_000);
  };
  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    const exited = new Promise((r) => s.once('exit', r));
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    await exited;
    server = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}
