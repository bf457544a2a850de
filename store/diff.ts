// Which runs a diff compares by default: a completed library scan and the completed library scan
// of the same scope (the same channel, or the same path list) that finished before it.
import type { Queryable } from './database.ts';

/** The completed library scan of the same scope as `runId` that finished last before it, or null. */
export async function previousRunOfScope(db: Queryable, runId: number): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT p.id FROM runs r JOIN runs p
       ON p.state = 'completed' AND p.kind = 'library-scan' AND p.id <> r.id
      AND p.source->>'kind' = r.source->>'kind'
      AND (CASE WHEN r.channel IS NOT NULL THEN p.channel = r.channel ELSE p.source->>'label' = r.source->>'label' END)
      AND (p.finished_at, p.id) < (r.finished_at, r.id)
     WHERE r.id = $1
     ORDER BY p.finished_at DESC, p.id DESC LIMIT 1`,
    [runId],
  );
  return rows[0] ? Number(rows[0].id) : null;
}
