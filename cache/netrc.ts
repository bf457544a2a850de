// A netrc file, as Nix's `netrc-file` setting reads it: `machine HOST login USER password PASS`
// (tokens may span lines; `default` applies to any host). Credentials for HTTP caches that should
// not be written into a cache URL (where they would end up in listings and logs).
import type { HostCredentials } from './binary-cache.ts';
import { VendorscanError } from '../errors/errors.ts';

export class NetrcError extends VendorscanError {
  constructor(message: string) {
    super('VS_NETRC', 'config', message);
  }
}

/** Parses netrc text; `where` names the file in errors. `default` entries get host "*". */
export function parseNetrc(text: string, where: string): HostCredentials[] {
  const tokens = text.replace(/^\s*#.*$/gm, '').split(/\s+/).filter((t) => t !== '');
  const out: HostCredentials[] = [];
  let current: { host: string; login?: string; password?: string } | null = null;
  const finish = (): void => {
    if (!current) return;
    if (current.login === undefined || current.password === undefined) throw new NetrcError(`${where}: machine ${current.host} needs both login and password`);
    out.push({ host: current.host, login: current.login, password: current.password });
    current = null;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = (): string => {
      const v = tokens[++i];
      if (v === undefined) throw new NetrcError(`${where}: "${t}" at the end of the file has no value`);
      return v;
    };
    if (t === 'machine') {
      finish();
      current = { host: next() };
    } else if (t === 'default') {
      finish();
      current = { host: '*' };
    } else if (t === 'login' || t === 'password' || t === 'account') {
      if (!current) throw new NetrcError(`${where}: "${t}" before any machine`);
      const v = next();
      if (t === 'login') current.login = v;
      else if (t === 'password') current.password = v;
    } else if (t === 'macdef') {
      throw new NetrcError(`${where}: macdef is not supported`);
    } else {
      throw new NetrcError(`${where}: unexpected "${t}" (expected machine, default, login, password)`);
    }
  }
  finish();
  return out;
}
