// The thread that checks untrusted rule sources (see rule-check.ts): compiling a rule is CPU work
// of unknown length (a 46 KB regex-heavy rule took seconds), so it never runs on a request thread.
import { parentPort, workerData } from 'node:worker_threads';
import { compileRules, RuleCompileError, slowRuleWarnings } from './rules.ts';
import type { RuleSource } from './rule-source.ts';
import type { RuleCheckReply } from './rule-check.ts';

function checkAll(sources: RuleSource[]): RuleCheckReply {
  try {
    compileRules(sources);
    return { ok: true, warnings: slowRuleWarnings(sources) };
  } catch (err) {
    if (err instanceof RuleCompileError) {
      return { ok: false, origin: err.origin, line: err.line, column: err.column, message: err.compilerMessage };
    }
    return { ok: false, origin: '(rules)', line: null, column: null, message: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.postMessage(checkAll(workerData.sources as RuleSource[]));
