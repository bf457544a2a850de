// What turns copies into decisions, loaded once per command or service from files the operator
// names (flags, or VENDORSCAN_ADVISORIES / VENDORSCAN_PACKAGES / VENDORSCAN_TRIAGE): the
// advisories (bundled plus extra), the packages listing for attribution, the triage file. Every
// file is read with a size cap, and a bad one stops start-up with an error naming it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { AdvisoryError, BUNDLED_ADVISORIES_DIR, loadAdvisories, type Advisory } from '../../advisories/loader.ts';
import { parseTriage, type TriageEntry } from '../../advisories/triage.ts';
import { parsePackagesFile, type PackageIndex } from '../../nix/packages-file.ts';
import { VendorscanError } from '../../errors/errors.ts';

export interface DecisionContext {
  advisories: Advisory[];
  packages: PackageIndex | null;
  triage: TriageEntry[];
  /** The clock triage dates are checked against (tests pass their own). */
  now: () => Date;
}

export interface DecisionSources {
  /** An extra folder of OSV advisories, beside the bundled ones. */
  advisoriesDir: string | null;
  /** packages.json (optionally .br or .gz) or `nix-env -qa --json --meta --out-path` output. */
  packagesFile: string | null;
  triageFile: string | null;
}

export class DecisionFileError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_DECISION_FILE', 'config', message, options);
  }
}

const PACKAGES_MAX = 1024 * 1024 * 1024; // nixpkgs' packages.json is ~200 MB today
const TRIAGE_MAX = 4 * 1024 * 1024;

/** A whole file, refused past `max` bytes (checked before reading, and while reading a growing one). */
function readCapped(file: string, max: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new DecisionFileError(`${what} ${file}: ${(err as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new DecisionFileError(`${what} ${file}: ${size} bytes, more than the ${max} allowed`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

function packagesText(file: string): string {
  const raw = readCapped(file, PACKAGES_MAX, 'packages file');
  try {
    if (file.endsWith('.br')) return brotliDecompressSync(raw, { maxOutputLength: PACKAGES_MAX }).toString('utf8');
    if (file.endsWith('.gz')) return gunzipSync(raw, { maxOutputLength: PACKAGES_MAX }).toString('utf8');
  } catch (err) {
    throw new DecisionFileError(`packages file ${file}: cannot decompress (${(err as Error).message})`);
  }
  return raw.toString('utf8');
}

export function loadDecisionContext(sources: DecisionSources, now: () => Date = () => new Date()): DecisionContext {
  let advisories: Advisory[];
  try {
    advisories = loadAdvisories(sources.advisoriesDir ? [BUNDLED_ADVISORIES_DIR, sources.advisoriesDir] : [BUNDLED_ADVISORIES_DIR]);
  } catch (err) {
    if (err instanceof AdvisoryError) throw new DecisionFileError(`advisory ${err.message}`, { cause: err });
    throw new DecisionFileError(`advisories ${sources.advisoriesDir ?? BUNDLED_ADVISORIES_DIR}: ${(err as Error).message}`, { cause: err });
  }
  const packages = sources.packagesFile ? parsePackagesFile(packagesText(sources.packagesFile), sources.packagesFile) : null;
  const triage = sources.triageFile ? parseTriage(readCapped(sources.triageFile, TRIAGE_MAX, 'triage file').toString('utf8'), sources.triageFile, advisories) : [];
  return { advisories, packages, triage, now };
}
