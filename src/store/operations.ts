/**
 * Queries for operating Parley (alerts, runtime control, retention) that read or change the
 * tables across the flows rather than within one.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';

/**
 * Seconds since the oldest still-queued message was accepted, 0 when none is queued. Reads the
 * partial index on queued messages, so its cost follows the queue, not the table.
 */
export async function oldestQueuedAgeSeconds(db: Db): Promise<number> {
  const res = await sql<{ age: string | null }>`
    SELECT extract(epoch FROM now() - min(created_at)) AS age FROM messages WHERE status = 'queued'`.execute(db);
  const age = Number(res.rows[0]?.age ?? 0);
  return Number.isFinite(age) && age > 0 ? age : 0;
}
