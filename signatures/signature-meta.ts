// What a signature rule declares in its meta: which library, what kind of evidence, how sure,
// and how to read the version out of its matched bytes.
import { VendorscanError } from '../errors/errors.ts';
export type Confidence = 'high' | 'medium' | 'low';

export type VersionReader =
  | { kind: 'regex'; from: string; regex: RegExp; map: Map<string, string> | null }
  | { kind: 'packed'; from: string; offset: number; align: number; encoding: 'u32le' | 'leb128' };

export interface SignatureMeta {
  library: string;
  evidence: string;
  confidence: Confidence;
  version: VersionReader | null;
  /** DT_SONAME/DT_NEEDED values of the library's shared objects (a trailing `*` is a prefix match). */
  sonames: string[];
  /** A few of the library's exported functions: defining one makes a file a copy. */
  symbols: string[];
}

export type MetaValues = Record<string, string | number | boolean>;

export class SignatureMetaError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_SIGNATURE_META', 'config', message, options);
  }
}

/** Reads a rule's meta; `strings` are the identifiers the rule defines (null: not checked). */
export function signatureMeta(meta: MetaValues, strings: string[] | null): SignatureMeta {
  const text = (key: string): string | undefined => {
    const v = meta[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new SignatureMetaError(`meta ${key} must be a string`);
    return v;
  };
  const library = text('library');
  const evidence = text('evidence');
  const confidence = text('confidence');
  if (!library || !/^[a-z0-9][a-z0-9+._-]*$/.test(library)) throw new SignatureMetaError('meta library is missing or not a lower-case project name');
  if (!evidence) throw new SignatureMetaError('meta evidence is missing');
  if (confidence !== 'high' && confidence !== 'medium' && confidence !== 'low') throw new SignatureMetaError(`meta confidence must be high, medium or low, not ${JSON.stringify(confidence ?? null)}`);
  const checkString = (key: string, id: string): string => {
    if (!id.startsWith('$')) throw new SignatureMetaError(`meta ${key} must name a string such as "$ver", not "${id}"`);
    if (strings && !strings.includes(id)) throw new SignatureMetaError(`meta ${key} names ${id}, which the rule does not define (it has ${strings.join(', ') || 'no strings'})`);
    return id;
  };
  let version: VersionReader | null = null;
  const from = text('version_from');
  const packed = text('version_packed');
  if (from !== undefined && packed !== undefined) throw new SignatureMetaError('meta version_from and version_packed exclude each other');
  if (from !== undefined) {
    const source = text('version_regex');
    if (source === undefined) throw new SignatureMetaError('meta version_from needs version_regex');
    let regex: RegExp;
    try {
      regex = new RegExp(source, 's');
    } catch (err) {
      throw new SignatureMetaError(`meta version_regex does not compile: ${(err as Error).message}`);
    }
    // The first capture group is the version (nested groups inside it are fine).
    const groups = (new RegExp(`${source}|`).exec('')?.length ?? 1) - 1;
    if (groups < 1) throw new SignatureMetaError('meta version_regex must have a capture group holding the version');
    const mapText = text('version_map');
    const map = mapText === undefined ? null : new Map(mapText.trim().split(/\s+/).map((pair): [string, string] => {
      const [k, v] = pair.split('=');
      if (!k || !v) throw new SignatureMetaError(`meta version_map entry "${pair}" is not from=to`);
      return [k, v];
    }));
    version = { kind: 'regex', from: checkString('version_from', from), regex, map };
  } else if (packed !== undefined) {
    const offset = meta['version_packed_offset'] ?? 0;
    const align = meta['version_packed_align'] ?? 1;
    if (typeof offset !== 'number' || typeof align !== 'number' || align < 1) throw new SignatureMetaError('meta version_packed_offset/align must be numbers');
    // u32le: x86 `mov eax, imm32`; leb128: a WebAssembly `i32.const` immediate.
    const encoding = text('version_packed_encoding') ?? 'u32le';
    if (encoding !== 'u32le' && encoding !== 'leb128') throw new SignatureMetaError(`meta version_packed_encoding must be u32le or leb128, not ${JSON.stringify(encoding)}`);
    version = { kind: 'packed', from: checkString('version_packed', packed), offset, align, encoding };
  }
  const sonames = list(text('sonames'), 'sonames', SONAME, 'a soname such as libssl.so.3 or libssl.so.*');
  const symbols = list(text('symbols'), 'symbols', SYMBOL, 'a C function name');
  return { library, evidence, confidence, version, sonames, symbols };
}

const SONAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*\*?$/;
const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A comma list of the linkage meta (`sonames = "libssl.so.*, libcrypto.so.*"`); "" declares none
 * (Chromium and Electron are programs, not shared libraries). The loader requires both keys on
 * every bundled rule (loader.ts); a user's ad-hoc rule without them gets linkage 'unknown'.
 */
function list(value: string | undefined, key: string, item: RegExp, what: string): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((raw) => {
    const v = raw.trim();
    if (!item.test(v)) throw new SignatureMetaError(`meta ${key} entry ${JSON.stringify(v)} is not ${what}`);
    return v;
  });
}
