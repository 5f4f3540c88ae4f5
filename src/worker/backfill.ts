import type { Database } from '../db/database.ts';
import { withClaims } from '../session/claims.ts';

/** The tables whose rows carry an embedding. */
export const EMBEDDED_TABLES = ['posts', 'analyses'] as const;

/**
 * Queues an `embed` job for every row whose embedding is not `model`'s (none yet, or another
 * model's), as service_role; a row already queued is not queued twice. Returns the rows per table.
 */
export function queueBackfill(db: Database, model: string): Promise<Record<(typeof EMBEDDED_TABLES)[number], number>> {
  return withClaims(db, { role: 'service_role' }, async (tx) => {
    const counts = { posts: 0, analyses: 0 };
    for (const table of EMBEDDED_TABLES) {
      const { rows } = await tx.query<{ n: number }>(
        `select count(private.enqueue_row_job('embed', $2, id))::int as n from public.${table} where embedding_model is distinct from $1`,
        [model, table],
      );
      counts[table] = rows[0]?.n ?? 0;
    }
    return counts;
  });
}
