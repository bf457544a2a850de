// The reference for drills: the findings of a clean scan in one process (no queue, no database),
// as "storePath|file|library|version" keys.
import { loadSignatures } from '../../signatures/loader.ts';
import { runScan } from '../../scanner/scan.ts';

export async function referenceFindings(cacheUrl: string, paths: string[]): Promise<Set<string>> {
  const reference = new Set<string>();
  await runScan({
    cacheUrl,
    cacheOptions: {},
    ruleSources: loadSignatures().sources,
    binaryOnly: true,
    matchOptions: {},
    decompress: {},
    paths,
    concurrency: 2,
    threads: 1,
    onResult: (r) => {
      for (const f of r.findings) reference.add(`${f.storePath}|${f.file}|${f.library}|${f.version}`);
    },
  });
  return reference;
}
