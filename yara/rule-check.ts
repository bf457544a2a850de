// Checks rules that come from people (an API search, `scan --rule`) before anything scans with them:
// compiled in a thread of their own with a time limit, so a pathological rule never blocks the
// caller; `include` refused unless the source allows it (rules.ts); YARA-X's slow-rule warnings
// returned, and a rule flagged slow refused unless the submitter forces it.
import { Worker as Thread } from 'node:worker_threads';
import { RuleCompileError, type SlowRuleWarning } from './rules.ts';
import type { RuleSource } from './rule-source.ts';

export type RuleCheckReply =
  | { ok: true; warnings: SlowRuleWarning[] }
  | { ok: false; origin: string; line: number | null; column: number | null; message: string };

/** A rule that compiles but that YARA-X flags as slow, submitted without `force`. */
export class SlowRuleError extends RuleCompileError {
  readonly warnings: SlowRuleWarning[];
  constructor(warnings: SlowRuleWarning[]) {
    const first = warnings[0];
    super(
      first?.origin ?? '(rules)',
      first?.line ?? null,
      first?.column ?? null,
      `${first?.message ?? 'slow rule'}: this rule may make every scan slow (${warnings.length} warning${warnings.length === 1 ? '' : 's'}); fix it, or force it to run anyway with per-file time limits`,
    );
    this.warnings = warnings;
  }
}

export const DEFAULT_COMPILE_TIMEOUT_MS = 10_000;

const entry = new URL('./rule-check-thread.ts', import.meta.url);

/**
 * Compiles `sources` in a separate thread within `timeoutMs`; resolves with the slow-rule warnings
 * (empty when none), rejects with RuleCompileError (compile error, timeout) or SlowRuleError.
 */
export async function checkRules(sources: RuleSource[], options: { force?: boolean; timeoutMs?: number } = {}): Promise<SlowRuleWarning[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS;
  const thread = new Thread(entry, { workerData: { sources }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
  let timer: NodeJS.Timeout | undefined;
  const reply = await new Promise<RuleCheckReply>((resolve, reject) => {
    timer = setTimeout(() => reject(new RuleCompileError(sources[0]?.origin ?? '(rules)', null, null, `compiling took longer than ${timeoutMs} ms: simplify the rule`)), timeoutMs);
    thread.once('message', resolve);
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`rule check thread exited with code ${code}`)));
  }).finally(() => {
    clearTimeout(timer);
    // A thread still compiling is abandoned: terminate() ends it as soon as the compiler returns.
    void thread.terminate();
  });
  if (!reply.ok) throw new RuleCompileError(reply.origin, reply.line, reply.column, reply.message);
  if (reply.warnings.length > 0 && !options.force) throw new SlowRuleError(reply.warnings);
  return reply.warnings;
}
