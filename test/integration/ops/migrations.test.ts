/**
 * Migrations on a live database: `parley migrate --status` lists applied and pending migrations
 * and changes nothing; a migration that builds indexes CONCURRENTLY (0009) runs outside a
 * transaction, can be run again after a failure (an INVALID index left behind is rebuilt), and on
 * a table of 1,000,000 messages never holds a lock that keeps a writer waiting 1 s: a writer
 * inserting and updating messages all the while with `lock_timeout = 250ms` (stricter than the
 * 1 s asked, because on this table a plain, non-concurrent build of each index takes well under
 * 1 s yet blocks writers for its whole length: at 250 ms this test fails with plain builds) gets
 * no lock timeout. 0019 swaps message_events' primary key the same way, and can be run again.
 * 0024's functions (reassembly_lock, reassembly_unseen) answer as storeParts relies on, and down() and up() again
 * end the same. 0025's index of cancelled messages is what recentlyCancelled reads, as a generic plan too.
 * 0026 swaps the GIN index of pending receipts' keys for one keyed on having keys, and back.
 * 0027's index of unowned queued messages is what claimUnfinished reads them by, as a generic plan too.
 * 0028 swaps the index of held messages for one of those nobody claimed, and back. 0029 swaps the
 * index of queued messages by acceptance for one by when they may be sent, which the queue age reads.
 * 0030 swaps the index of replies not handled for two the claim of replies reads, and back.
 * Two schemas migrating at once: one that Postgres ends as a deadlock while it waits for kysely's
 * lock (its holder building an index concurrently) tries again and finishes; one ended as a
 * deadlock in its own concurrent build, after applying 0008, tries again and reports 0008 applied
 * too (the retry used to report only what its last attempt applied).
 */
import pg from 'pg';
import { sql, type Migration } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrateUpTo, migrationStatus, openDb, type Db } from '../../../src/store/db.ts';
import { MIGRATIONS } from '../../../src/store/migrations/index.ts';
import { SMALL_TABLE_ROWS } from '../../../src/store/migrations/concurrently.ts';
import { oldestQueuedAgeQuery, oldestQueuedAgeSeconds, recentlyCancelled, recentlyCancelledQuery } from '../../../src/store/operations.ts';
import { claimDue, claimUnfinished, claimUnfinishedQuery } from '../../../src/store/claims.ts';
import { claimReplies } from '../../../src/store/replies.ts';
import { lockWaitSeen, TEST_DATABASE_URL, uniqueName } from '../../support/services.ts';
import { statementPlan } from '../../support/plans.ts';
import { createWorld, runCli, type CliWorld } from '../cli/cli-harness.ts';

/** The definitions (from USING on) of the indexes of `schema` among `names`, by name. */
async function indexesNamed(db: Db, schema: string, names: readonly string[]): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; def: string }>`
    SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = ${schema} AND indexname = ANY (${[...names]}::text[])`.execute(db);
  return Object.fromEntries(rows.rows.map((r) => [r.name, r.def.replace(/^.* USING /, '')]));
}

const NAMES = Object.keys(MIGRATIONS).sort();

/**
 * A migration's down() then its up(), each run twice as an operator's re-run of either would:
 * `whileDown` checks what one down() left (and puts back rows its checks changed) before the second.
 */
async function rerunDownThenUp(migration: Migration, db: Db, whileDown: () => Promise<void>): Promise<void> {
  await migration.down!(db);
  await whileDown();
  await migration.down!(db);
  await migration.up(db);
  await migration.up(db);
}

// kysely's migration lock (PostgresAdapter's LOCK_ID): one session advisory lock for the database.
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

describe('parley migrate --status', () => {
  let world: CliWorld;
  afterAll(async () => {
    await world?.cleanup();
  });

  it('lists every migration as pending, then applied with its time; a removed one shows pending again and migrate re-applies it', async () => {
    world = createWorld();
    const config = world.writeConfig('parley.yaml', world.configYaml({ smscPort: 2775, httpPort: 9464 }));
    // The database does not exist yet: --status says so and does not create it.
    const missing = await runCli(['migrate', '--status', '-c', config]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist|cannot/i);

    const applied = await runCli(['migrate', '-c', config]);
    expect(applied.code, applied.stderr).toBe(0);
    const status = await runCli(['migrate', '--status', '-c', config]);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines.slice(0, NAMES.length).map((l) => l.replace(/^applied \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s+/, ''))).toEqual(NAMES);
    expect(lines.at(-1)).toMatch(/is up to date$/);

    // As if 0009 had never run (an older version's database): pending, and migrate applies it again.
    const admin = new pg.Client({ connectionString: world.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`DELETE FROM kysely_migration WHERE name = '0009-retention-indexes'`);
      await admin.query('DROP INDEX messages_final_at');
    } finally {
      await admin.end();
    }
    const json = await runCli(['migrate', '--status', '--json', '-c', config]);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { migrations: { name: string; applied_at: string | null }[]; pending: number };
    expect(parsed.pending).toBe(1);
    expect(parsed.migrations.filter((m) => m.applied_at === null).map((m) => m.name)).toEqual(['0009-retention-indexes']);
    const again = await runCli(['migrate', '-c', config]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('applied 0009-retention-indexes');
  }, 60_000);
});

describe('migrations that build indexes concurrently', () => {
  const schema = uniqueName('t');
  const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  /** The primary key of `table` and the indexes of `tables` (by name): what a key migration changes. */
  const keyAndIndexes = async (table: string, tables: readonly string[] = [table]) => ({
    key: (
      await sql<{ def: string }>`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = to_regclass(${table}) AND contype = 'p'`.execute(db)
    ).rows.map((r) => r.def),
    indexes: (
      await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE schemaname = ${schema}
        AND tablename = ANY (${[...tables]}::text[]) ORDER BY 1`.execute(db)
    ).rows.map((r) => r.name),
  });

  it('a migration numbered below one already applied (merged later) is applied, not refused', async () => {
    await migrateToLatest(db, schema);
    // As if 0008 had been merged after 0009 (and 0010 on main) was applied.
    await sql`DROP TABLE paused`.execute(db);
    await sql`DROP TABLE opt_out_hashes`.execute(db);
    await sql`ALTER TABLE messages DROP COLUMN expires_at`.execute(db);
    await sql`DELETE FROM kysely_migration WHERE name = '0008-operations'`.execute(db);
    expect(await migrateToLatest(db, schema)).toEqual(['0008-operations']);
    expect((await migrationStatus(db, schema)).every((m) => m.appliedAt !== null)).toBe(true);
  });

  it('0009 run again after a failure rebuilds an INVALID index', async () => {
    await migrateToLatest(db, schema);
    // What an interrupted CREATE INDEX CONCURRENTLY leaves behind.
    await sql`UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass('messages_final_at')`.execute(db);
    await sql`DELETE FROM kysely_migration WHERE name = '0009-retention-indexes'`.execute(db);
    expect(await migrateToLatest(db, schema)).toEqual(['0009-retention-indexes']);
    const valid = await sql<{ valid: boolean }>`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('messages_final_at')`.execute(db);
    expect(valid.rows).toEqual([{ valid: true }]);
    expect((await migrationStatus(db, schema)).every((m) => m.appliedAt !== null)).toBe(true);
  });

  it('0019 keys message_events by (message_id, id), keeping the events; down() and up() again, and a half-done run, end the same', async () => {
    await migrateToLatest(db, schema);
    const m0019 = MIGRATIONS['0019-message-events-key']!;
    const latest = { key: ['PRIMARY KEY (message_id, id)'], indexes: ['message_events_pkey'] };
    expect(await keyAndIndexes('message_events')).toEqual(latest);
    await sql`INSERT INTO message_events (message_id, status, previous) VALUES ('m1', 'queued', NULL), ('m1', 'submitted', 'queued')`.execute(db);

    await m0019.down!(db);
    expect(await keyAndIndexes('message_events')).toEqual({ key: ['PRIMARY KEY (id)'], indexes: ['message_events_message', 'message_events_pkey'] });
    // As a run that failed after building the new key's index and before the swap leaves it.
    await sql`CREATE UNIQUE INDEX message_events_key ON message_events (message_id, id)`.execute(db);
    await m0019.up(db);
    expect(await keyAndIndexes('message_events')).toEqual(latest);
    await m0019.up(db);
    expect(await keyAndIndexes('message_events')).toEqual(latest);

    const events = await sql<{ status: string }>`SELECT status FROM message_events WHERE message_id = 'm1' ORDER BY id`.execute(db);
    expect(events.rows.map((r) => r.status)).toEqual(['queued', 'submitted']);
    await sql`DELETE FROM message_events`.execute(db);
  });

  it('0023 drops the primary key of submit_attempts and conversations_customer; down() builds both again, and up() again ends the same', async () => {
    await migrateToLatest(db, schema);
    const m0023 = MIGRATIONS['0023-unread-keys']!;
    const shape = () => keyAndIndexes('submit_attempts', ['submit_attempts', 'conversations']);
    const latest = {
      key: [],
      indexes: ['conversations_activity', 'conversations_expires_at', 'conversations_pair', 'conversations_pkey', 'submit_attempts_match', 'submit_attempts_segment'],
    };
    expect(await shape()).toEqual(latest);
    await sql`INSERT INTO submit_attempts (message_id, seq, attempt, smsc, submitted_at) VALUES ('m1', 1, 1, 'sim', now())`.execute(db);

    await m0023.down!(db);
    expect(await shape()).toEqual({ key: ['PRIMARY KEY (id)'], indexes: [...latest.indexes, 'conversations_customer', 'submit_attempts_pkey'].sort() });
    await m0023.down!(db);
    expect((await shape()).key).toEqual(['PRIMARY KEY (id)']);
    await m0023.up(db);
    expect(await shape()).toEqual(latest);
    await m0023.up(db);
    expect(await shape()).toEqual(latest);
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM submit_attempts`.execute(db)).rows[0]?.n).toBe(1);
    await sql`DELETE FROM submit_attempts`.execute(db);
  });

  it('0024 adds reassembly_lock and reassembly_unseen, which reports the fingerprints not seen within the window; down() drops both, and up() twice ends the same', async () => {
    await migrateToLatest(db, schema);
    const m0024 = MIGRATIONS['0024-reassembly-unseen']!;
    const unseen = async (): Promise<string[]> =>
      (
        await sql<{ f: string }>`SELECT f FROM reassembly_unseen(1, false, '{7,9}'::bigint[], ARRAY['fp-old', 'fp-new', 'fp-stale'], 60) AS f ORDER BY f`.execute(db)
      ).rows.map((r) => r.f);
    const exists = async (): Promise<boolean> =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname IN ('reassembly_lock', 'reassembly_unseen') AND n.nspname = ${schema}`.execute(db)).rows[0]?.n === 2;
    await sql`INSERT INTO inbound_parts (id, fingerprint, smsc, bind, from_addr, to_addr, total, seq, data_coding, body, received_at)
      VALUES (1, 'fp-old', 'sim', 'sim-1', '+1555', '12345', 1, 1, 0, 'x', now()),
             (2, 'fp-stale', 'sim', 'sim-1', '+1555', '12345', 1, 1, 0, 'x', now() - interval '2 minutes')`.execute(db);
    expect(await unseen()).toEqual(['fp-new', 'fp-stale']);
    await rerunDownThenUp(m0024, db, async () => {
      expect(await exists()).toBe(false);
    });
    expect(await exists()).toBe(true);
    expect(await unseen()).toEqual(['fp-new', 'fp-stale']);
    await sql`DELETE FROM inbound_parts`.execute(db);
  });

  it('0025 indexes cancelled messages, and recentlyCancelled reads that index even as a generic plan, not every message made final; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0025 = MIGRATIONS['0025-cancelled-index']!;
    // Many messages made final within the window, two cancelled: one within it, one long before.
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, error_code, created_at, final_at)
      SELECT 'done-' || g, '+14155550100', 'text', 'default', 0, true, 'delivered', NULL, now(), now() FROM generate_series(1, 2000) g
      UNION ALL SELECT 'c-new', '+14155550101', 'text', 'default', 0, true, 'failed', 'cancelled', now(), now()
      UNION ALL SELECT 'c-old', '+14155550102', 'text', 'default', 0, true, 'failed', 'cancelled', now(), now() - interval '1 hour'`.execute(db);
    await sql`ANALYZE messages`.execute(db);
    const indexed = async (): Promise<boolean> =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = ${schema} AND indexname = 'messages_cancelled'`.execute(db)).rows[0]?.n === 1;
    // The plan a prepared statement may settle on after its first runs (one for any parameters).
    const genericPlan = async (): Promise<string> => JSON.stringify(await statementPlan(db, recentlyCancelledQuery(10_000), true, false));
    expect(await indexed()).toBe(true);
    expect(await recentlyCancelled(db, 10_000)).toEqual(['c-new']);
    expect(await genericPlan()).toContain('"Index Name":"messages_cancelled"');

    await rerunDownThenUp(m0025, db, async () => {
      expect(await indexed()).toBe(false);
      expect(await genericPlan()).not.toContain('messages_cancelled');
      expect(await recentlyCancelled(db, 10_000)).toEqual(['c-new']);
    });
    expect(await indexed()).toBe(true);
    expect(await recentlyCancelled(db, 10_000)).toEqual(['c-new']);
    await sql`DELETE FROM messages`.execute(db);
  });

  it('0026 indexes receipts that have keys to match by, in place of those not matched yet; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0026 = MIGRATIONS['0026-pending-receipt-keys']!;
    const indexes = (): Promise<Record<string, string>> => indexesNamed(db, schema, ['receipts_pending', 'receipts_pending_keys']);
    const options = async (name: string): Promise<string[] | null> =>
      (await sql<{ options: string[] | null }>`SELECT c.reloptions AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema} AND c.relname = ${name}`.execute(db)).rows[0]?.options ?? null;
    const keyed = { receipts_pending_keys: 'gin (match_keys) WITH (fastupdate=off) WHERE (cardinality(match_keys) > 0)' };
    expect(await indexes()).toEqual(keyed);
    expect(await options('receipts_pending_keys')).toEqual(['fastupdate=off']);

    await rerunDownThenUp(m0026, db, async () => {
      expect(await indexes()).toEqual({ receipts_pending: 'gin (match_keys) WITH (fastupdate=off) WHERE (message_id IS NULL)' });
    });
    expect(await indexes()).toEqual(keyed);
  });

  it('0027 indexes unowned queued messages that are not held, and the claim reads them by it even as a generic plan; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0027 = MIGRATIONS['0027-unowned-queued-index']!;
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, owner, send_at)
      SELECT 'held-' || g, '+14155550100', 'text', 'default', 0, true, 'queued', now(), NULL, now() + interval '1 day' FROM generate_series(1, 2000) g
      UNION ALL SELECT 'free-1', '+14155550101', 'text', 'default', 0, true, 'queued', now(), NULL, NULL`.execute(db);
    await sql`ANALYZE messages`.execute(db);
    const indexed = async (): Promise<boolean> =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = ${schema} AND indexname = 'messages_unowned'`.execute(db)).rows[0]?.n === 1;
    const genericPlan = async (): Promise<string> => JSON.stringify(await statementPlan(db, claimUnfinishedQuery('me', [], 1000), true, false));
    const claimed = async (): Promise<string[]> => (await claimUnfinished(db, 'me', 5_000, 1000)).map((c) => c.message.id);
    expect(await indexed()).toBe(true);
    expect(await genericPlan()).toContain('"Index Name":"messages_unowned"');
    expect(await claimed()).toEqual(['free-1']);

    await sql`UPDATE messages SET owner = NULL WHERE id = 'free-1'`.execute(db);
    await rerunDownThenUp(m0027, db, async () => {
      expect(await indexed()).toBe(false);
      expect(await genericPlan()).not.toContain('messages_unowned');
      expect(await claimed()).toEqual(['free-1']);
      await sql`UPDATE messages SET owner = NULL WHERE id = 'free-1'`.execute(db);
    });
    expect(await indexed()).toBe(true);
    expect(await claimed()).toEqual(['free-1']);
    await sql`DELETE FROM messages`.execute(db);
  });

  it('0028 indexes held messages only while nobody claimed them, in place of every held message; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0028 = MIGRATIONS['0028-held-unowned-index']!;
    const indexes = (): Promise<Record<string, string>> => indexesNamed(db, schema, ['messages_held', 'messages_held_unowned']);
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, owner, send_at)
      VALUES ('due-1', '+14155550100', 'text', 'default', 0, true, 'queued', now(), NULL, now() - interval '1 minute'),
        ('taken-1', '+14155550100', 'text', 'default', 0, true, 'queued', now(), 'other', now() - interval '1 minute')`.execute(db);
    const released = async (): Promise<string[]> => {
      const ids = (await claimDue(db, 'me', new Date(), 500)).map((m) => m.id);
      await sql`UPDATE messages SET owner = NULL WHERE id = 'due-1'`.execute(db);
      return ids;
    };
    const unowned = { messages_held_unowned: "btree (send_at) WHERE ((status = 'queued'::text) AND (send_at IS NOT NULL) AND (owner IS NULL))" };
    expect(await indexes()).toEqual(unowned);
    expect(await released()).toEqual(['due-1']);

    await rerunDownThenUp(m0028, db, async () => {
      expect(await indexes()).toEqual({ messages_held: "btree (send_at) WHERE ((status = 'queued'::text) AND (send_at IS NOT NULL))" });
      expect(await released()).toEqual(['due-1']);
    });
    expect(await indexes()).toEqual(unowned);
    expect(await released()).toEqual(['due-1']);
    await sql`DELETE FROM messages`.execute(db);
  });

  it('0029 indexes queued messages by when they may be sent, and the queue age reads its first entry; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0029 = MIGRATIONS['0029-queued-since-index']!;
    // Tests above apply 0009 again (it built messages_queued_age) after 0029 ran: up() puts 0029's state back.
    await m0029.up(db);
    const indexes = (): Promise<Record<string, string>> => indexesNamed(db, schema, ['messages_queued_age', 'messages_queued_since']);
    // Many queued messages, some held until later; the oldest waiting one was accepted 10 minutes ago.
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, send_at)
      SELECT 'q-' || g, '+14155550100', 'text', 'default', 0, true, 'queued', now() - interval '10 minutes' + make_interval(secs => g),
        CASE WHEN g % 2 = 0 THEN now() + interval '1 day' END
      FROM generate_series(1, 2000) g`.execute(db);
    await sql`ANALYZE messages`.execute(db);
    const plan = async (): Promise<string> => JSON.stringify(await statementPlan(db, oldestQueuedAgeQuery(), false, false));
    const since = { messages_queued_since: "btree (COALESCE(send_at, created_at)) WHERE (status = 'queued'::text)" };
    expect(await indexes()).toEqual(since);
    expect(await plan()).toContain('"Index Name":"messages_queued_since"');
    expect(Math.round(await oldestQueuedAgeSeconds(db))).toBe(599);

    await rerunDownThenUp(m0029, db, async () => {
      expect(await indexes()).toEqual({ messages_queued_age: "btree (created_at) WHERE (status = 'queued'::text)" });
      expect(Math.round(await oldestQueuedAgeSeconds(db))).toBe(599);
    });
    expect(await indexes()).toEqual(since);
    await sql`DELETE FROM messages`.execute(db);
  });

  it('0030 indexes replies not handled by lease (none, or its end) in place of by age; claims work either way; down() and up() twice end the same', async () => {
    await migrateToLatest(db, schema);
    const m0030 = MIGRATIONS['0030-claimable-replies-indexes']!;
    const indexes = (): Promise<Record<string, string>> => indexesNamed(db, schema, ['replies_pending', 'replies_unleased', 'replies_leased']);
    await sql`
      INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, data_coding, received_at, status, lease_until)
      VALUES ('given-back', 'sim', '+14155550100', '12345', 'PING', 1, 0, now() - interval '2 minutes', 'received', NULL),
        ('lapsed', 'sim', '+14155550101', '12345', 'PING', 1, 0, now() - interval '1 minute', 'received', now() - interval '10 seconds'),
        ('held', 'sim', '+14155550102', '12345', 'PING', 1, 0, now(), 'received', now() + interval '10 minutes')`.execute(db);
    const claimed = async (): Promise<string[]> => {
      const ids = (await claimReplies(db, 10, 60_000)).map((r) => r.id);
      await sql`UPDATE replies SET lease_until = CASE id WHEN 'lapsed' THEN now() - interval '10 seconds' END WHERE id IN ('given-back', 'lapsed')`.execute(db);
      return ids;
    };
    const byLease = {
      replies_unleased: "btree (received_at) WHERE ((status = 'received'::text) AND (lease_until IS NULL))",
      replies_leased: "btree (lease_until) WHERE (status = 'received'::text)",
    };
    expect(await indexes()).toEqual(byLease);
    expect(await claimed()).toEqual(['given-back', 'lapsed']);

    await rerunDownThenUp(m0030, db, async () => {
      expect(await indexes()).toEqual({ replies_pending: "btree (received_at) WHERE (status = 'received'::text)" });
      expect(await claimed()).toEqual(['given-back', 'lapsed']);
    });
    expect(await indexes()).toEqual(byLease);
    expect(await claimed()).toEqual(['given-back', 'lapsed']);
    await sql`DELETE FROM replies`.execute(db);
  });
});

describe('migrations on a table of 1,000,000 messages', () => {
  const schema = uniqueName('t');
  const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('hold no lock that makes a writer with lock_timeout = 250ms fail', async () => {
    // A retry starts from an empty schema again.
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    const before = NAMES.filter((n) => n < '0008');
    await migrateUpTo(db, before.at(-1)!, schema);
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, final_at)
      SELECT 'bulk-' || g, '+1415555' || lpad((g % 10000)::text, 4, '0'), 'text ' || g, 'default', 0, true,
             CASE WHEN g % 10 = 0 THEN 'queued' ELSE 'delivered' END,
             now() - make_interval(secs => g), CASE WHEN g % 10 = 0 THEN NULL ELSE now() - make_interval(secs => g) END
      FROM generate_series(1, 1000000) g`.execute(db);
    await sql`ANALYZE messages`.execute(db);

    // The writer: one insert and one update at a time, each allowed to wait 250 ms for a lock.
    const writer = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema} -c lock_timeout=250ms` });
    await writer.connect();
    let migrating = true;
    let writes = 0;
    const failures: string[] = [];
    const writing = (async () => {
      for (let i = 0; migrating && i < 100_000; i++) {
        try {
          await writer.query(`INSERT INTO messages (id, to_addr, body, route, priority, dlr, status) VALUES ($1, '+14155550100', 'during', 'default', 0, true, 'queued')`, [`w-${i}`]);
          await writer.query(`UPDATE messages SET status = 'delivered', final_at = now() WHERE id = $1`, [`w-${i}`]);
          writes += 2;
        } catch (e) {
          failures.push(`${(e as { code?: string }).code}: ${(e as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const applied = await migrateToLatest(db, schema);
      expect(applied).toEqual(NAMES.filter((n) => n >= '0008'));
    } finally {
      migrating = false;
      await writing;
      await writer.end();
    }
    expect(failures).toEqual([]);
    expect(writes).toBeGreaterThan(10);
    const invalid = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema} AND NOT i.indisvalid`.execute(db);
    expect(invalid.rows).toEqual([]);
  }, 300_000);
});

describe('two schemas migrating at once', () => {
  const schema = uniqueName('t');
  const other = uniqueName('t');
  const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await sql`DROP SCHEMA IF EXISTS ${sql.id(other)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('a migrator waiting for the lock while its holder builds an index CONCURRENTLY is ended as a deadlock, tries again and finishes', async () => {
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    try {
      // The holder never runs the deadlock check first: the waiting migrator's runs after 1 s.
      await holder.query(`SET deadlock_timeout = '20s'`);
      await holder.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.big (n int); INSERT INTO ${other}.big SELECT generate_series(1, 1000)`);
      await holder.query(`SELECT pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      const holderPid = (await holder.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
      const migrating = migrateToLatest(db, schema);
      // Guards the premise: the migrator waits for this very lock (kysely did not change it).
      expect(await lockWaitSeen(db, 'advisory', holderPid)).toBe(true);
      // Waits for every older transaction, the waiting migrator's among them: a cycle.
      await holder.query(`CREATE INDEX CONCURRENTLY big_n ON ${other}.big (n)`);
      await holder.query(`SELECT pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`);
      expect(await migrating).toEqual(NAMES);
    } finally {
      await holder.end();
    }
  }, 60_000);
});

describe('a migrator ended as a deadlock after applying some migrations', () => {
  const schema = uniqueName('t');
  const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('tries again and returns every migration applied, those of the failed attempt too', async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await migrateUpTo(db, NAMES.filter((n) => n < '0008').at(-1)!, schema);
    // Enough rows that 0009 builds its indexes concurrently (createIndexConcurrently).
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status)
      SELECT 'bulk-' || g, '+14155550100', 'text', 'default', 0, true, 'queued' FROM generate_series(1, ${SMALL_TABLE_ROWS}) g`.execute(db);
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      // A transaction whose snapshot 0009's concurrent index build waits for; it then waits for
      // kysely's lock, which the migrator holds: a cycle. Its deadlock check comes long after the
      // migrator's (1 s), so Postgres ends the migrator's build, after 0008 was applied.
      await other.query(`BEGIN ISOLATION LEVEL REPEATABLE READ`);
      await other.query(`SET LOCAL deadlock_timeout = '20s'`);
      await other.query(`SELECT 1`);
      const pid = (await other.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
      const migrating = migrateToLatest(db, schema);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const waiting = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE ${pid}::int = ANY (pg_blocking_pids(pid))`.execute(db);
        if (waiting.rows[0]!.n > 0) break;
        if (Date.now() > deadline) throw new Error('the index build never waited for the open transaction');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await sql<{ name: string }>`SELECT name FROM ${sql.table(`${schema}.kysely_migration`)}`.execute(db)).rows.map((r) => r.name)).toContain('0008-operations');
      // Granted once the migrator's build is ended and its lock released.
      await other.query(`SELECT pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      await other.query(`SELECT pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`);
      await other.query('COMMIT');
      expect(await migrating).toEqual(NAMES.filter((n) => n >= '0008'));
    } finally {
      await other.end();
    }
  }, 60_000);
});
