// Rule sources: signature files, user rule files, and ad-hoc needles and hex patterns turned into
// YARA rules.
import { VendorscanError } from '../errors/errors.ts';

export interface RuleSource {
  /** Where the text came from: a file path, or "needle #1", "hex #2". */
  origin: string;
  text: string;
  /** `include` may read local files: only for a rule file its owner trusts (`--rule --allow-include`). */
  allowIncludes?: boolean;
}

export class PatternError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_PATTERN_INVALID', 'usage', message, options);
  }
}

/** A YARA text string that matches exactly the UTF-8 bytes of `s`. */
export function yaraTextString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

function adhocRule(kind: 'needle' | 'hex', index: number, pattern: string, shown: string): RuleSource {
  const name = `adhoc_${kind}_${index}`;
  return {
    origin: `${kind} #${index}`,
    text: `rule ${name} {
  meta:
    library = "adhoc"
    evidence = "${kind}"
    confidence = "high"
    pattern = ${yaraTextString(shown)}
  strings:
    $p = ${pattern}
  condition:
    $p
}
`,
  };
}

export function needleRule(needle: string, index: number): RuleSource {
  if (needle.length === 0) throw new PatternError(`needle #${index} is empty`);
  return adhocRule('needle', index, yaraTextString(needle), needle);
}

const HEX_TOKEN = /^(?:[0-9a-fA-F?]{2}|~[0-9a-fA-F?]{2}|\[\d*(?:-\d*)?\]|\(|\)|\|)$/;

/** `{ 4e 6f ?? [2-4] (aa|bb) }`, braces optional. */
export function hexRule(pattern: string, index: number): RuleSource {
  const body = pattern.trim().replace(/^\{/, '').replace(/\}$/, '');
  const spaced = body.replace(/([()|])/g, ' $1 ').replace(/\[\s*/g, '[').replace(/\s*\]/g, ']').replace(/\s*-\s*(?=[\d\]])/g, '-');
  const tokens = spaced.split(/\s+/).filter((t) => t !== '');
  // Pairs may be written without spaces: "4e6f??".
  const expanded = tokens.flatMap((t) => (/^[0-9a-fA-F?]{4,}$/.test(t) && t.length % 2 === 0 ? t.match(/../g) ?? [] : [t]));
  if (expanded.length === 0) throw new PatternError(`hex #${index} is empty`);
  for (const t of expanded) {
    if (!HEX_TOKEN.test(t)) throw new PatternError(`hex #${index}: "${t}" is not a hex byte, ??, ~xx, [n-m] jump or (a|b) alternative`);
  }
  if (!expanded.some((t) => /^[0-9a-fA-F]{2}$/.test(t))) throw new PatternError(`hex #${index} has no fixed byte to search for`);
  return adhocRule('hex', index, `{ ${expanded.join(' ')} }`, pattern.trim());
}
