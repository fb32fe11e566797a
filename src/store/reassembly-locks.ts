/**
 * The locks customer messages are stored under (`replies.ts`): a part's own, per message, so that
 * different customers' parts never wait for each other, on one daemon or several; above them the
 * schema's, shared, or exclusive for a batch too big to lock part by part.
 */
import { sql, type RawBuilder } from 'kysely';
import { sha256 } from '../lib/sha256.ts';
import type { Db } from './db.ts';

/** What names one concatenated message's parts. */
export interface GroupRow {
  smsc: string;
  from_addr: string;
  to_addr: string;
  concat_key: string | null;
  total: number;
}

export const groupKey = (r: GroupRow): string => `${r.smsc}\0${r.from_addr}\0${r.to_addr}\0${r.concat_key}\0${r.total}`;

/**
 * The advisory lock a part is stored under: its message's (smsc, sender, recipient, reference,
 * total) for a part of a longer message, so two parts of one message committed at once still
 * meet; its fingerprint for a whole message, so a resend stored by another daemon a moment ago is
 * seen. Different customers' parts never wait for each other, on one daemon or several.
 */
export function reassemblyLockId(part: { fingerprint: string } & GroupRow): bigint {
  return part.total <= 1 || part.concat_key === null ? lockId(`f\0${part.fingerprint}`) : groupLockId(part);
}

export const groupLockId = (group: GroupRow): bigint => lockId(`g\0${groupKey(group)}`);

/** A 60-bit hash of the key: a transaction-level advisory lock id. */
const lockId = (key: string): bigint => BigInt(`0x${sha256(key, 'hex').slice(0, 15)}`);

/** The schema's reassembly lock ("PREP" in ASCII, with the schema), above every part's own. */
const REASSEMBLY_LOCK = 0x50524550;
/**
 * Parts' locks one transaction takes at most (Postgres's default max_locks_per_transaction); a
 * batch with more takes the schema's lock alone, so no number of daemons fills the lock table.
 */
const MAX_PART_LOCKS = 64;

/**
 * A transaction that holds the reassembly locks `locks` from its start: BEGIN and the locks go as
 * one simple query (one round trip; the ids are numbers Parley made, so they are written into
 * it). The schema's lock is taken first, shared, then the parts' own in ascending order, so two
 * transactions never wait for each other's; a batch of more than MAX_PART_LOCKS parts takes the
 * schema's lock exclusive instead, which waits for and holds off every other. Every statement
 * after it sees what the previous holder of any of those locks committed. The locks are taken by
 * `reassembly_lock` (migration 0024), as unseenUnderLocks takes them.
 */
export async function withReassemblyLocks<T>(db: Db, locks: readonly bigint[], work: (tx: Db) => Promise<T>): Promise<T> {
  const { exclusive, ids } = lockArguments(locks);
  const take = `BEGIN; SELECT reassembly_lock(${REASSEMBLY_LOCK}, ${exclusive}, '${ids}'::bigint[])`;
  return db.connection().execute(async (conn) => {
    let result: T;
    try {
      // Inside the try: a lock wait cut short (statement_timeout, a cancel) leaves the
      // transaction open and aborted, to be rolled back before the connection is pooled again.
      await sql.raw(take).execute(conn);
      result = await work(conn);
    } catch (err) {
      // The work's error is the one to report; a broken connection fails the ROLLBACK too, and
      // the pool drops such a connection when it is released.
      await sql.raw('ROLLBACK').execute(conn).catch(() => undefined);
      throw err;
    }
    await sql.raw('COMMIT').execute(conn);
    return result;
  });
}

/**
 * The arguments of `reassembly_lock` for a batch: each lock once, in ascending order (two holders
 * of overlapping sets never wait for each other), as an array literal, and whether the batch takes
 * the schema's lock exclusive instead (more than MAX_PART_LOCKS parts).
 */
function lockArguments(locks: readonly bigint[]): { exclusive: boolean; ids: string } {
  const ids = [...new Set(locks)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { exclusive: ids.length > MAX_PART_LOCKS, ids: `{${ids.join(',')}}` };
}

/**
 * Takes the reassembly locks `locks`, as withReassemblyLocks does, and then yields, as a relation
 * of one column `fingerprint`, those of `fingerprints` that no part received within
 * `windowSeconds` has. The check runs inside the function `reassembly_unseen` (migration 0024)
 * after the locks are granted, with a snapshot of its own, so it sees a part another daemon
 * committed while this one waited. Alone, a statement of whole messages needs no transaction; in
 * withReassemblyLocks' transaction (parts of longer messages, whose groups are read next) the
 * locks are held already and granted again at once.
 */
export function unseenUnderLocks(locks: readonly bigint[], fingerprints: readonly string[], windowSeconds: number): RawBuilder<{ fingerprint: string }> {
  const { exclusive, ids } = lockArguments(locks);
  return sql<{ fingerprint: string }>`SELECT f AS fingerprint FROM reassembly_unseen(${REASSEMBLY_LOCK}::integer, ${exclusive},
    ${ids}::bigint[], ${fingerprints}::text[], ${windowSeconds}::double precision) AS f`;
}
