// A million findings over 200,000 store paths in one completed run (run 1): for the index test and
// the /v1/vendors bench. libwebp is every fifth finding, versions 1.0 to 1.6.
import type { Database } from '../../store/database.ts';

export async function seedMillionFindings(db: Database): Promise<void> {
  await db.exec(`
    INSERT INTO runs (source, cache_url, ruleset_digest, state, total, started_at, finished_at) VALUES ('{"kind":"paths","label":"scale"}', 'file:///x', 'd', 'completed', 200000, now(), now());
    INSERT INTO store_paths (path, hash, pname, version)
      SELECT '/nix/store/' || lpad(i::text, 32, '0') || '-pkg' || i || '-1.0', lpad(i::text, 32, '0'), 'pkg' || i, '1.0' FROM generate_series(1, 200000) i;
    INSERT INTO nar_scans (nar_hash, ruleset_digest, nar_size, files) SELECT 'sha256:' || i, 'd', 1, 1 FROM generate_series(1, 200000) i;
    INSERT INTO run_paths (run_id, store_path_id, status, nar_scan_id) SELECT 1, i, 'scanned', i FROM generate_series(1, 200000) i;
    INSERT INTO findings (nar_scan_id, file, library, version, version_key, rule, confidence, evidence, matches)
      SELECT (i % 200000) + 1, 'lib/f' || i, (ARRAY['libpng','zlib','libvpx','freetype','libwebp'])[i % 5 + 1], '1.' || (i % 7), '0000000001.' || lpad((i % 7)::text, 10, '0') || ',', 'r', 'high', 'e', '[]'
      FROM generate_series(1, 1000000) i;
    ANALYZE;
  `);
}
