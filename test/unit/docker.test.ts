// The image's invariants, read from the Dockerfile and docker-compose.yml themselves: production
// dependencies only, an unprivileged user, the decompressors inside, a health check, and no
// package installation when a container starts. Where a compose CLI is installed, it also
// validates the file (`docker compose config`, else the standalone `docker-compose config`).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
const compose = readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8');

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The top-level `services:` block of the compose file: service name → its lines. */
function services(text: string): Map<string, string> {
  const block = text.split(/^services:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  const out = new Map<string, string>();
  for (const part of block.split(/^ {2}(?=[a-z][\w-]*:\s*$)/m)) {
    const name = /^([a-z][\w-]*):/.exec(part)?.[1];
    if (name) out.set(name, part);
  }
  return out;
}

describe('Dockerfile', () => {
  const ins = instructions(dockerfile);
  const stages = ins.filter((i) => i.op === 'FROM');

  it('is multi-stage on Node 24 and installs production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.args).toMatch(/^node:24[.-]/);
    const npm = ins.filter((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args));
    expect(npm.length).toBeGreaterThan(0);
    for (const r of npm) expect(r.args).toMatch(/npm ci --omit=dev/);
  });

  it('runs as a non-root user, with xz, zstd and bzip2, and a health check on /healthz', () => {
    const users = ins.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)?.args).not.toMatch(/^(root|0)(:|$)/);
    // USER comes before the command the container runs.
    expect(ins.findIndex((i) => i.op === 'USER')).toBeLessThan(ins.findIndex((i) => i.op === 'ENTRYPOINT'));
    const apt = ins.filter((i) => i.op === 'RUN' && /apt-get install/.test(i.args)).map((i) => i.args).join(' ');
    for (const pkg of ['xz-utils', 'zstd', 'bzip2']) expect(apt).toContain(pkg);
    const health = ins.find((i) => i.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/\/healthz/);
  });

  it('copies every source folder the layer check knows (a new folder must not be left out of the image)', () => {
    const copied = new Set(ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).map((i) => i.args.split(/\s+/)[0]));
    const sourceDirs = readdirSync(repo, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !['node_modules', 'test', 'bench', 'docs', 'examples', '.git', '.ci', '.vendorscan'].includes(d.name))
      .filter((d) => readdirSync(path.join(repo, d.name)).some((f) => f.endsWith('.ts') || f.endsWith('.mjs') || f.endsWith('.sql') || f.endsWith('.yar') || f.endsWith('.json')))
      .map((d) => d.name);
    for (const dir of sourceDirs) expect(copied, `Dockerfile does not COPY ${dir}/`).toContain(dir);
  });
});

describe('docker-compose.yml', () => {
  const svc = services(compose);

  it('runs api, worker and scheduler from one image built once, with PostgreSQL and Redis', () => {
    expect([...svc.keys()].sort()).toEqual(['api', 'postgres', 'redis', 'scheduler', 'worker']);
    expect(compose.match(/^\s+build:/gm)?.length).toBe(1);
    expect(compose).toMatch(/x-vendorscan: &vendorscan\n\s+image: vendorscan:local/);
    for (const name of ['api', 'worker', 'scheduler']) expect(svc.get(name)).toContain('<<: *vendorscan');
  });

  it('gives every service a health check and a restart policy, and installs nothing at start', () => {
    for (const [name, text] of svc) {
      expect(text, `${name} has no healthcheck`).toMatch(/healthcheck:/);
      if (!text.includes('<<: *vendorscan')) expect(text, `${name} has no restart policy`).toMatch(/restart: /);
    }
    expect(compose).toMatch(/x-vendorscan:[\s\S]*?restart: unless-stopped/);
    expect(compose).not.toMatch(/\bnpm (ci|install|i)\b|apt-get|\bvolumes: \["\.:\/app"\]/);
  });

  // `docker compose` (the plugin) or the standalone `docker-compose`, whichever answers `version`.
  const cli = ([
    ['docker', ['compose']],
    ['docker-compose', []],
  ] as const).find(([cmd, pre]) => spawnSync(cmd, [...pre, 'version'], { encoding: 'utf8' }).status === 0);

  it.skipIf(cli === undefined)('is valid for the compose CLI installed here', () => {
    const [cmd, pre] = cli ?? ['docker-compose', []];
    const r = spawnSync(cmd, [...pre, 'config', '--quiet'], { cwd: repo, env: { ...process.env, VENDORSCAN_API_TOKEN: 'test' }, encoding: 'utf8' });
    expect(r.status, `${cmd} ${pre.join(' ')} config: ${r.stderr}`).toBe(0);
  });
});
