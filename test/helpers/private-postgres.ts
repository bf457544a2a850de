// A PostgreSQL cluster of the test's own (initdb into a temporary folder, port 5440, socket in
// /tmp), which a drill may restart: the machine's shared PostgreSQL on 5432 is never touched.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  url: string;
  restart(): void;
  stop(): void;
}

function asPostgres(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: `${r.stdout}${r.stderr}` };
}

export function startPrivatePostgres(port: number): PrivatePostgres {
  const dir = mkdtempSync(path.join(tmpdir(), 'vendorscan-pg-'));
  const { uid, gid } = { uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout) };
  chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const init = asPostgres([`${BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const ctl = (action: string, extra: string[] = []): void => {
    const r = asPostgres([`${BIN}/pg_ctl`, '-D', data, '-w', '-l', path.join(dir, 'log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, ...extra, action]);
    if (r.status !== 0) throw new Error(`pg_ctl ${action} failed: ${r.stderr}`);
  };
  ctl('start');
  const created = spawnSync(`${BIN}/createdb`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'chaos'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`createdb failed: ${created.stderr}`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/chaos`,
    restart: () => ctl('restart', ['-m', 'fast']),
    stop: () => ctl('stop', ['-m', 'immediate']),
  };
}
