// npm run corpus: build the real-binary corpus caches (shared/corpus/public.tsv and our own
// manifests in bench/corpus/), scan them with the bundled signatures, and print per library: true
// positives, false positives, false negatives and version accuracy. Exit 1 if the target is
// missed: every expected library found, every expected version exact, nothing where truth says none.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { loadSignatures } from '../signatures/loader.ts';
import { runScan } from '../scanner/scan.ts';
import type { FileFinding } from '../scanner/path-result.ts';
import { buildCorpus, score, sharedCorpus, type LibraryScore } from './corpus.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const manifests = [path.join(sharedCorpus, 'public.tsv'), ...readdirSync(path.join(here, 'corpus')).filter((f) => f.endsWith('.tsv')).map((f) => path.join(here, 'corpus', f))];
const signatures = loadSignatures();
let failed = false;
const total = new Map<string, LibraryScore>();
for (const manifest of manifests) {
  const corpus = buildCorpus(manifest, path.join(here, '.cache', 'corpus', path.basename(manifest, '.tsv')));
  const findings: FileFinding[] = [];
  const summary = await runScan({
    cacheUrl: `file://${corpus.cacheDir}`,
    cacheOptions: {},
    ruleSources: signatures.sources,
    binaryOnly: true,
    matchOptions: {},
    decompress: {},
    paths: corpus.storePaths,
    concurrency: availableParallelism(),
    threads: availableParallelism(),
    onResult: (r) => findings.push(...r.findings),
  });
  if (summary.failed > 0) {
    failed = true;
    console.log(`${path.basename(manifest)}: ${summary.failed} store paths failed: ${summary.failures.map((f) => f.reason).join('; ')}`);
  }
  const { libraries, unlisted } = score(corpus.truth, findings);
  console.log(`\n${path.basename(manifest)}: ${corpus.storePaths.length} store paths, ${findings.length} findings`);
  for (const [name, s] of [...libraries].sort()) {
    const t = total.get(name) ?? { truePositives: 0, falsePositives: 0, falseNegatives: 0, versionsExact: 0, versionsExpected: 0, problems: [] };
    t.truePositives += s.truePositives;
    t.falsePositives += s.falsePositives;
    t.falseNegatives += s.falseNegatives;
    t.versionsExact += s.versionsExact;
    t.versionsExpected += s.versionsExpected;
    total.set(name, t);
    for (const p of s.problems) console.log(`  ${p}`);
  }
  for (const u of unlisted) console.log(`  unlisted (truth silent): ${u}`);
}
console.log('\nlibrary          TP  FP  FN  versions exact');
for (const [name, s] of [...total].sort()) {
  console.log(`${name.padEnd(16)} ${String(s.truePositives).padStart(3)} ${String(s.falsePositives).padStart(3)} ${String(s.falseNegatives).padStart(3)}  ${s.versionsExact}/${s.versionsExpected}`);
  if (s.falsePositives > 0 || s.falseNegatives > 0 || s.versionsExact !== s.versionsExpected) failed = true;
}
console.log(failed ? '\ncorpus check: target MISSED' : '\ncorpus check: target met');
process.exitCode = failed ? 1 : 0;
