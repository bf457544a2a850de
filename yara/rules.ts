// Compiles rule sources once into a YARA-X scanner. Each source is validated on its own first, so
// a compiler error names its file with line and column relative to that file; then all sources
// are compiled together, so each scanned file is read once whatever the number of rule files.
import { compile, validate, type YaraX } from '@litko/yara-x';
import { createHash } from 'node:crypto';
import type { RuleSource } from './rule-source.ts';
import { VendorscanError } from '../errors/errors.ts';

export class RuleCompileError extends VendorscanError {
  readonly origin: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly compilerMessage: string;
  constructor(
    origin: string,
    line: number | null,
    column: number | null,
    compilerMessage: string,
  ) {
    super('VS_RULE_COMPILE', 'config', `${origin}${line !== null ? `:${line}:${column ?? 0}` : ''}: ${compilerMessage}`);
    this.origin = origin;
    this.line = line;
    this.column = column;
    this.compilerMessage = compilerMessage;
  }
}

export interface CompiledRules {
  scanner: YaraX;
  sources: RuleSource[];
  /** rule identifier → origin it was defined in (reported as the namespace). */
  origins: Map<string, string>;
  /** A conservative bound on the bytes any one pattern can match: the window overlap. */
  longestPatternLength: number;
  /** sha256 of the sources in order. */
  digest: string;
}

/** The per-pattern match limit each scanner was last given (see limitMatchesPerPattern). */
const matchLimits = new WeakMap<YaraX, number>();

/**
 * Sets the scanner's per-pattern match limit, only when it changes: @litko/yara-x drops its cached
 * scanner on every call, and rebuilding one for the bundled signatures took 0.5 ms, which a matcher
 * made per store path paid on its first scan (a fifth of a small path's CPU).
 */
export function limitMatchesPerPattern(rules: CompiledRules, limit: number): void {
  if (matchLimits.get(rules.scanner) === limit) return;
  rules.scanner.setMaxMatchesPerPattern(limit);
  matchLimits.set(rules.scanner, limit);
}

/** Regexes and unbounded jumps have no length of their own; this bounds them. */
export const UNBOUNDED_PATTERN_CAP = 4096;

const LOCATION = /-->\s*line:(\d+):(\d+)/;

function firstLine(message: string): string {
  const m = /(?:error|warning)\[\w+\]:\s*(.*)/.exec(message);
  const detail = /\|\s*\^+\s*(.*)$/m.exec(message)?.[1];
  return [m?.[1] ?? message.split('\n')[0] ?? message, detail].filter(Boolean).join(': ');
}

/** Includes read local files: only a source that says so (a trusted `--rule --allow-include`) may use them. */
function compilerOptions(sources: RuleSource[]): { enableIncludes: boolean } {
  return { enableIncludes: sources.some((s) => s.allowIncludes === true) };
}

function check(source: RuleSource): void {
  const result = validate(source.text, compilerOptions([source]));
  const error = result.errors[0];
  if (!error) return;
  const loc = LOCATION.exec(error.message);
  throw new RuleCompileError(
    source.origin,
    error.line ?? (loc ? Number(loc[1]) : null),
    error.column ?? (loc ? Number(loc[2]) : null),
    firstLine(error.message),
  );
}

export function ruleIdentifiers(text: string): string[] {
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...noComments.matchAll(/^\s*(?:(?:private|global)\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1] ?? '');
}

export function patternLengthBound(text: string): number {
  let longest = 1;
  for (const m of text.matchAll(/\$[A-Za-z0-9_]*\s*=\s*("(?:[^"\\]|\\.)*"|\{[^}]*\}|\/(?:[^/\\\n]|\\.)*\/)/g)) {
    const p = m[1] ?? '';
    let n: number;
    if (p.startsWith('"')) {
      n = Buffer.byteLength(p.slice(1, -1).replace(/\\x[0-9a-fA-F]{2}/g, 'x').replace(/\\./g, 'x'));
      // wide strings take two bytes per character
      n *= 2;
    } else if (p.startsWith('{')) {
      const body = p.slice(1, -1);
      if (/\[\s*\d*\s*-\s*\]/.test(body) || /\[-\]/.test(body)) n = UNBOUNDED_PATTERN_CAP;
      else {
        const bytes = (body.match(/~?[0-9a-fA-F?]{2}/g) ?? []).length;
        const jumps = [...body.matchAll(/\[\s*(\d*)\s*(?:-\s*(\d+))?\s*\]/g)].reduce((a, j) => a + Number(j[2] ?? j[1] ?? 0), 0);
        n = bytes + jumps;
      }
    } else n = UNBOUNDED_PATTERN_CAP;
    longest = Math.max(longest, n);
  }
  return longest;
}

export function compileRules(sources: RuleSource[]): CompiledRules {
  if (sources.length === 0) throw new RuleCompileError('(rules)', null, null, 'no rules to scan with');
  const origins = new Map<string, string>();
  for (const source of sources) {
    for (const id of ruleIdentifiers(source.text)) {
      const other = origins.get(id);
      if (other !== undefined) {
        throw new RuleCompileError(source.origin, null, null, `rule "${id}" is already defined in ${other}; rule names must be unique across files`);
      }
      origins.set(id, source.origin);
    }
  }
  // One compilation of everything; only when it fails is each source validated on its own, to
  // name the file, line and column (validating every file first doubled the cost of each start).
  let scanner: YaraX;
  try {
    scanner = compile(sources.map((s) => s.text).join('\n'), compilerOptions(sources));
  } catch (err) {
    for (const source of sources) check(source);
    throw new RuleCompileError('(rules)', null, null, err instanceof Error ? firstLine(err.message) : String(err));
  }
  const digest = rulesDigest(sources.map((s) => s.text));
  return {
    scanner,
    sources,
    origins,
    longestPatternLength: Math.max(...sources.map((s) => patternLengthBound(s.text))),
    digest,
  };
}

/** A compiler warning that a rule may make scans slow (a pattern without a good atom, a loop over filesize). */
export interface SlowRuleWarning {
  origin: string;
  code: string;
  line: number | null;
  column: number | null;
  message: string;
}

const SLOW_CODES = new Set(['slow_pattern', 'potentially_slow_loop']);

/** YARA-X's slow-pattern and slow-loop warnings of each source (errors are left to compileRules). */
export function slowRuleWarnings(sources: RuleSource[]): SlowRuleWarning[] {
  const out: SlowRuleWarning[] = [];
  for (const source of sources) {
    for (const w of validate(source.text, compilerOptions([source])).warnings) {
      if (!SLOW_CODES.has(w.code)) continue;
      const loc = LOCATION.exec(w.message);
      out.push({
        origin: source.origin,
        code: w.code,
        line: w.line ?? (loc ? Number(loc[1]) : null),
        column: w.column ?? (loc ? Number(loc[2]) : null),
        message: firstLine(w.message),
      });
    }
  }
  return out;
}

/**
 * The digest of a set of rules: their texts only, in a fixed order, so it is the same from every
 * entry point and checkout path (file names and folders do not matter, contents do).
 */
export function rulesDigest(texts: string[]): string {
  const h = createHash('sha256');
  h.update('vendorscan-rules/1\0');
  for (const t of [...texts].sort()) h.update(`${Buffer.byteLength(t)}\0${t}`);
  return h.digest('hex');
}
