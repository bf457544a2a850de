// Loads the signature folder at start-up: every .yar file compiles (else file, line, column),
// every rule declares library/evidence/confidence and a version reader that fits it (else file
// and rule), every rule names its library's sonames and symbols, alike across the library's
// rules (library-linkage.ts), rule names are unique; and a digest that changes whenever any signature changes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileRules, RuleCompileError, rulesDigest } from '../yara/rules.ts';
import { VERSION_READERS_REVISION } from './version-reader.ts';
import type { RuleSource } from '../yara/rule-source.ts';
import { signatureMeta, SignatureMetaError, type MetaValues, type SignatureMeta } from './signature-meta.ts';
import { VendorscanError } from '../errors/errors.ts';
import { libraryIdentities, type DeclaredIdentity } from './library-linkage.ts';
import { LINKAGE_REVISION } from './file-linkage.ts';

export const DEFAULT_SIGNATURES_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface SignatureSet {
  sources: RuleSource[];
  rules: Map<string, SignatureMeta>;
  /** Per library: the sonames and exported functions its meta declares (library-linkage.ts). */
  identities: Map<string, DeclaredIdentity>;
  digest: string;
}

export class SignatureError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_SIGNATURE', 'config', message, options);
  }
}

interface ParsedRule {
  name: string;
  meta: MetaValues;
  strings: string[];
}

/** Enough of YARA's grammar for rule names, meta values and string identifiers. */
export function parseRules(text: string): ParsedRule[] {
  const clean = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const rules: ParsedRule[] = [];
  const heads = [...clean.matchAll(/^\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)[^{]*\{/gm)];
  heads.forEach((h, i) => {
    const body = clean.slice((h.index ?? 0) + h[0].length, heads[i + 1]?.index ?? clean.length);
    const metaBlock = /\bmeta\s*:([\s\S]*?)(?:\bstrings\s*:|\bcondition\s*:)/.exec(body)?.[1] ?? '';
    const stringsBlock = /\bstrings\s*:([\s\S]*?)\bcondition\s*:/.exec(body)?.[1] ?? '';
    const meta: MetaValues = {};
    for (const m of metaBlock.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+|true|false)\s*$/gm)) {
      const raw = m[2] ?? '';
      meta[m[1] ?? ''] = raw.startsWith('"') ? unescapeYara(raw.slice(1, -1)) : raw === 'true' ? true : raw === 'false' ? false : Number(raw);
    }
    const strings = [...stringsBlock.matchAll(/^\s*(\$[A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1] ?? '');
    rules.push({ name: h[1] ?? '', meta, strings });
  });
  return rules;
}

/** YARA text string escapes: \\ \" \n \r \t \xNN. */
function unescapeYara(s: string): string {
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"' };
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : simple[e] ?? e));
}

/**
 * Each rule's meta as written in its source. The scanner's own meta values cannot be used for
 * this: @litko/yara-x reports any meta string holding an escape (a regex, say) as "unknown".
 */
export function ruleMetas(sources: RuleSource[]): Map<string, MetaValues> {
  const metas = new Map<string, MetaValues>();
  for (const source of sources) for (const rule of parseRules(source.text)) metas.set(rule.name, rule.meta);
  return metas;
}

/**
 * The signature files of `dir`, their rules' metadata checked. They are also compiled, to refuse a
 * rule YARA-X cannot compile before any work begins, unless `compile` is false: for a caller whose
 * scan threads compile them first anyway (their compiler's error then stops the scan).
 */
export function loadSignatures(dir: string = DEFAULT_SIGNATURES_DIR, { compile = true }: { compile?: boolean } = {}): SignatureSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yar')).sort();
  } catch (err) {
    throw new SignatureError(`signature folder ${dir}: ${(err as Error).message}`);
  }
  if (files.length === 0) throw new SignatureError(`signature folder ${dir} has no .yar files`);
  const sources = files.map((f) => ({ origin: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
  try {
    if (compile) compileRules(sources);
  } catch (err) {
    if (err instanceof RuleCompileError) throw new SignatureError(err.message);
    throw err;
  }
  const rules = new Map<string, SignatureMeta>();
  const origins = new Map<string, string>();
  for (const source of sources) {
    for (const rule of parseRules(source.text)) {
      try {
        const meta = signatureMeta(rule.meta, rule.strings);
        for (const key of ['sonames', 'symbols']) {
          if (rule.meta[key] === undefined) throw new SignatureMetaError(`meta ${key} is missing (a comma list, "" for none; see signatures/library-linkage.ts)`);
        }
        rules.set(rule.name, meta);
        origins.set(rule.name, source.origin);
      } catch (err) {
        if (err instanceof SignatureMetaError) throw new SignatureError(`${source.origin}: rule ${rule.name}: ${err.message}`);
        throw err;
      }
    }
  }
  const identities = libraryIdentities(rules, (rule, message) => {
    throw new SignatureError(`${origins.get(rule)}: rule ${rule}: ${message}`);
  });
  return { sources, rules, identities, digest: signatureDigest(sources) };
}

/**
 * The ruleset digest of a library scan: the rules' contents, the version readers' semantics and
 * the linkage check's, nothing else. The same from `scan`, `serve`, `worker` and any checkout path,
 * so a run links the NAR scans of any earlier run with the same signatures instead of rescanning.
 */
export function signatureDigest(sources: RuleSource[]): string {
  return createHash('sha256').update(`readers/${VERSION_READERS_REVISION}\0linkage/${LINKAGE_REVISION}\0${rulesDigest(sources.map((s) => s.text))}`).digest('hex');
}
