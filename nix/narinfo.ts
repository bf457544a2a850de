// The .narinfo text a binary cache serves for each store path: "Key: value" lines.
import { VendorscanError } from '../errors/errors.ts';
export interface NarInfo {
  storePath: string;
  url: string;
  compression: string;
  fileHash?: string;
  fileSize?: number;
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  system?: string;
  sigs: string[];
  ca?: string;
  /** Keys this parser does not know, kept verbatim. */
  extra: Record<string, string>;
}

export class NarInfoError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_NARINFO_INVALID', 'input', message, options);
  }
}

const SINGLETONS = ['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'System', 'CA'];

export function parseNarInfo(text: string, source: string): NarInfo {
  const seen = new Map<string, number>();
  const fields = new Map<string, string>();
  const sigs: string[] = [];
  const extra: Record<string, string> = {};
  const fail = (line: number, why: string): never => {
    throw new NarInfoError(`${source} line ${line}: ${why}`);
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const n = index + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const colon = line.indexOf(': ');
    // Nix writes "References: " with nothing after it; accept a bare "Key:" as an empty value.
    const sep = colon >= 0 ? colon : line.endsWith(':') ? line.length - 1 : -1;
    if (sep <= 0) fail(n, `"${line.slice(0, 80)}" is not a "Key: value" line`);
    const key = line.slice(0, sep);
    const value = colon >= 0 ? line.slice(sep + 2) : '';
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(key)) fail(n, `"${key}" is not a valid key`);
    if (key === 'Sig') {
      sigs.push(value);
      return;
    }
    if (SINGLETONS.includes(key)) {
      if (seen.has(key)) fail(n, `${key} appears twice (first on line ${seen.get(key)})`);
      seen.set(key, n);
      fields.set(key, value);
    } else {
      extra[key] = value;
    }
  });
  const required = (key: string): string => {
    const v = fields.get(key);
    if (v === undefined || v === '') throw new NarInfoError(`${source}: required field ${key} is missing`);
    return v;
  };
  const integer = (key: string): number | undefined => {
    const v = fields.get(key);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) fail(seen.get(key) ?? 0, `${key} "${v}" is not a number`);
    return Number(v);
  };
  const requiredInteger = (key: string): number => {
    required(key);
    return integer(key) ?? 0;
  };
  const info: NarInfo = {
    storePath: required('StorePath'),
    url: required('URL'),
    // Nix's default when a narinfo names no compression.
    compression: fields.get('Compression') || 'bzip2',
    narHash: required('NarHash'),
    narSize: requiredInteger('NarSize'),
    references: (fields.get('References') ?? '').split(' ').filter((r) => r !== ''),
    sigs,
    extra,
  };
  const optional: [keyof NarInfo, string][] = [['fileHash', 'FileHash'], ['deriver', 'Deriver'], ['system', 'System'], ['ca', 'CA']];
  for (const [prop, key] of optional) {
    const v = fields.get(key);
    if (v !== undefined && v !== '') (info as unknown as Record<string, string>)[prop] = v;
  }
  const fileSize = integer('FileSize');
  if (fileSize !== undefined) info.fileSize = fileSize;
  return info;
}
