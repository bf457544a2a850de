-- The version and confidence sorts of /v1/vendors break ties by finding id (store/queries.ts), so
-- these indexes give their order directly: a page reads its rows off the index and stops, instead
-- of joining and sorting every copy of the library first (700 ms → 3 ms for a first page at
-- 200,000 copies; issue 13: no page slower than 500 ms). The CASE must stay the query's exactly.
CREATE INDEX findings_library_version_id ON findings (library, version_key NULLS FIRST, id);
CREATE INDEX findings_library_confidence_id ON findings (library, (CASE confidence WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END), id);
