/**
 * How a pending receipt is told apart: by what it still lacks (a match) and by the carrier ids it
 * may match (its keys). Shared by the statements that match pending receipts and by the answers'
 * statement, which looks for them before it marks a message submitted.
 */
import { sql, type RawBuilder } from 'kysely';

/**
 * `<alias>.message_id IS NULL`, written so that the planner cannot answer it from a partial index of
 * pending receipts (`IS NOT DISTINCT FROM NULL` it rewrites to IS NULL; num_nulls it cannot see
 * into): on statistics taken while nearly every receipt had matched, it read every pending receipt
 * that way, and receipts that never match stay pending for good (measured: CHANGELOG, migration
 * 0026). The rows to update then come by id, and a lookup by key has only receipts_pending_keys.
 */
export function stillPending(alias: string): RawBuilder<boolean> {
  return sql<boolean>`num_nulls(${sql.ref(`${alias}.message_id`)}) = 1`;
}

/**
 * Whether the receipt `alias` is pending and names the carrier id `key` of `smsc` among its match
 * keys: answered by receipts_pending_keys (GIN), one lookup per key when the caller keeps it a
 * lateral of its own (see pendingMatch).
 */
export function pendingNaming(alias: string, smsc: RawBuilder<unknown>, key: RawBuilder<unknown>): RawBuilder<boolean> {
  const keys = sql.ref(`${alias}.match_keys`);
  return sql<boolean>`cardinality(${keys}) > 0 AND ${keys} @> ARRAY[${key}] AND ${sql.ref(`${alias}.smsc`)} = ${smsc} AND ${stillPending(alias)}`;
}
