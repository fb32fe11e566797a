/**
 * Retention on the real Postgres and Redis while a daemon sends traffic through the simulator:
 * the sweep deletes only rows past their table's retention (never a queued or in-progress row,
 * never a recent one), in batches no bigger than batch_size, while messages keep flowing; the
 * outbound stream is trimmed only behind the slowest consumer group; `purgeCustomer` leaves no
 * trace of one customer's number or texts in any table, keeps their opt-out as a hash that still
 * refuses messages, and leaves other customers alone.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { RetentionSweeper } from '../../../src/operations/retention-sweeper.ts';
import { deleteBatch, purgeCustomer, type RetainedTable } from '../../../src/store/retention.ts';
import { customerHash } from '../../../src/store/opt-outs.ts';
import { trimOutbound, trimToLength } from '../../../src/queue/streams.ts';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { statuses, submittedTexts } from '../../support/ops.ts';

const DAY_S = 86_400;
let h: Harness;
let sim: Simulator;
let daemon: Daemon;

beforeAll(async () => {
  h = await createHarness();
  sim = await h.startSim({ receiptDelayMs: 20 });
  daemon = await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 200, default_from: '12345' }],
      numbers: [{ address: '12345' }],
    }),
  );
  await h.until('bound', () => daemon.pools.get('sim')!.canSubmit);
});

afterAll(async () => {
  await h?.close();
});

async function count(table: string, where = sql`true`): Promise<number> {
  const res = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${where}`.execute(h.schema.db);
  return Number(res.rows[0]!.n);
}

describe('the retention sweep', () => {
  it('deletes only what is past retention, in batches of at most batch_size, while traffic flows', async () => {
    const db = h.schema.db;
    const ago = (days: number) => sql`now() - make_interval(secs => ${days * DAY_S})`;
    // Old history: 1,050 finished messages with their status history, 100 days old.
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, final_at)
      SELECT 'old-' || g, '1415555' || lpad(g::text, 4, '0'), 'old text ' || g, 'default', 0, true, 'delivered', ${ago(101)}, ${ago(100)}
      FROM generate_series(1, 1050) g`.execute(db);
    await sql`INSERT INTO message_events (message_id, status, previous, at) SELECT id, 'delivered', 'submitted', final_at FROM messages WHERE id LIKE 'old-%'`.execute(db);
    // Recent history and work in progress, which must stay.
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, final_at)
      SELECT 'recent-' || g, '1415556' || lpad(g::text, 4, '0'), 'recent text', 'default', 0, true, 'failed', ${ago(2)}, ${ago(1)}
      FROM generate_series(1, 300) g`.execute(db);
    await sql`
      INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, submitted_at)
      SELECT 'old-submitted-' || g, '1415557' || lpad(g::text, 4, '0'), 'waiting for a receipt', 'default', 0, true, 'submitted', ${ago(100)}, ${ago(100)}
      FROM generate_series(1, 20) g`.execute(db);
    // Their parts and submit attempts: no foreign key ties them to their message (migration 0021),
    // so they go with it or not at all.
    await sql`
      INSERT INTO segments (message_id, seq, total, smsc, status, submitted_at)
      SELECT id, 1, 1, 'sim', 'delivered', created_at FROM messages WHERE id LIKE 'old-%' OR id LIKE 'recent-%'`.execute(db);
    await sql`
      INSERT INTO submit_attempts (message_id, seq, attempt, smsc, submitted_at)
      SELECT id, 1, 1, 'sim', created_at FROM messages WHERE id LIKE 'old-%' OR id LIKE 'recent-%'`.execute(db);
    await sql`
      INSERT INTO receipts (fingerprint, smsc, smsc_message_id, match_keys, state, final, body, received_at)
      SELECT 'fp-' || g, 'sim', 'x' || g, ARRAY['x' || g], 'DELIVRD', true, 'id:x stat:DELIVRD',
        CASE WHEN g <= 250 THEN ${ago(100)} ELSE ${ago(1)} END
      FROM generate_series(1, 260) g`.execute(db);
    // reply-1 is still being handled (leased, as by another daemon): the running daemon's handler
    // does not claim it, however long this test takes on a loaded machine.
    await sql`
      INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, data_coding, received_at, status, lease_until)
      SELECT 'reply-' || g, 'sim', '14155550999', '12345', 'old reply', 1, 0, ${ago(100)}, CASE WHEN g = 1 THEN 'received' ELSE 'handled' END,
        CASE WHEN g = 1 THEN now() + interval '1 hour' END
      FROM generate_series(1, 120) g`.execute(db);
    await sql`
      INSERT INTO webhook_deliveries (webhook, event_type, body, status, finished_at)
      SELECT 'crm', 'message.status', '{}'::jsonb, CASE WHEN g = 1 THEN 'pending' ELSE 'delivered' END, CASE WHEN g = 1 THEN NULL ELSE ${ago(100)} END
      FROM generate_series(1, 50) g`.execute(db);
    await sql`
      INSERT INTO conversations (customer, our_number, expires_at)
      SELECT '1415558' || lpad(g::text, 4, '0'), '12345', CASE WHEN g <= 30 THEN ${ago(100)} ELSE now() + interval '1 day' END
      FROM generate_series(1, 40) g`.execute(db);

    // Traffic while the sweep runs.
    const live = Array.from({ length: 300 }, (_, i) => `live-${i}`);
    await h.send(live.map((id, i) => ({ id, to: `+1415559${String(i).padStart(4, '0')}`, text: `live ${i}` })));

    const batches: { table: string; rows: number }[] = [];
    const tables: { table: RetainedTable; olderThanMs: number }[] = (['messages', 'receipts', 'replies', 'inbound_parts', 'conversations', 'webhook_deliveries'] as const).map(
      (table) => ({ table, olderThanMs: 30 * DAY_S * 1000 }),
    );
    const sweeper = new RetentionSweeper<RetainedTable>(
      {
        tables,
        deleteBatch: async (table, olderThanMs, limit) => {
          const rows = await deleteBatch(db, table, olderThanMs, limit);
          batches.push({ table, rows });
          return rows;
        },
        trimStreams: async () => ({}),
        logger: silentLogger,
      },
      { batchSize: 100, pauseMs: 5, intervalMs: 60_000 },
    );
    const deleted = await sweeper.sweepOnce();

    expect(deleted).toEqual({ messages: 1050, receipts: 250, replies: 119, inbound_parts: 0, conversations: 30, webhook_deliveries: 49 });
    expect(Math.max(...batches.map((b) => b.rows))).toBeLessThanOrEqual(100);
    expect(batches.filter((b) => b.table === 'messages').map((b) => b.rows)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);

    expect(await count('messages', sql`id LIKE 'old-%' AND id NOT LIKE 'old-submitted-%'`)).toBe(0);
    expect(await count('message_events', sql`message_id LIKE 'old-%'`)).toBe(0);
    for (const table of ['segments', 'submit_attempts']) {
      expect(await count(table, sql`message_id LIKE 'old-%' AND message_id NOT LIKE 'old-submitted-%'`)).toBe(0);
      expect(await count(table, sql`message_id LIKE 'old-submitted-%'`)).toBe(20);
      expect(await count(table, sql`message_id LIKE 'recent-%'`)).toBe(300);
    }
    expect(await count('messages', sql`id LIKE 'recent-%'`)).toBe(300);
    expect(await count('messages', sql`id LIKE 'old-submitted-%'`)).toBe(20);
    expect(await count('receipts', sql`fingerprint LIKE 'fp-%'`)).toBe(10);
    expect(await count('replies', sql`id LIKE 'reply-%'`)).toBe(1);
    expect(await count('replies', sql`id = 'reply-1' AND status = 'received'`)).toBe(1);
    expect(await count('webhook_deliveries', sql`webhook = 'crm' AND status = 'pending'`)).toBe(1);
    expect(await count('conversations', sql`customer LIKE '1415558%'`)).toBe(10);

    // The traffic went through untouched.
    await h.until('live traffic sent', async () => Object.values(await statuses(h, live)).every((s) => s !== undefined && s !== 'queued'), 30_000);
    expect(await count('messages', sql`id LIKE 'live-%'`)).toBe(300);
    expect(submittedTexts(sim).filter((t) => t.startsWith('live ')).length).toBe(300);
  }, 60_000);

  it('trims the outbound stream only behind the slowest consumer group, and the dead letters to about their length', async () => {
    // Everything so far was read and acknowledged by the daemon's group.
    await h.until('all acknowledged', async () => Number(((await h.redis.xpending(h.keys.outbound, h.keys.group)) as [number])[0]) === 0);
    // A second group that has read only up to the middle of the stream.
    const all = (await h.redis.xrange(h.keys.outbound, '-', '+')) as [string, string[]][];
    expect(all.length).toBeGreaterThan(100);
    const middle = all[Math.floor(all.length / 2)]![0];
    await h.redis.xgroup('CREATE', h.keys.outbound, 'lagging', middle);
    const trimmed = await trimOutbound(h.redis, h.keys);
    const left = (await h.redis.xrange(h.keys.outbound, '-', '+')) as [string, string[]][];
    expect(trimmed).toBe(all.length - left.length);
    // Entries up to the lagging group's last-delivered id are gone; everything after it is kept.
    expect(left.map((e) => e[0])).toEqual(all.map((e) => e[0]).filter((id) => {
      const [ms, seq] = id.split('-').map(Number) as [number, number];
      const [mms, mseq] = middle.split('-').map(Number) as [number, number];
      return ms > mms || (ms === mms && seq > mseq);
    }));
    // Once that group has read everything (and acknowledged), the rest goes too.
    await h.redis.xreadgroup('GROUP', 'lagging', 'reader', 'COUNT', 10_000, 'STREAMS', h.keys.outbound, '>');
    expect(await trimOutbound(h.redis, h.keys)).toBe(0); // read but pending: kept
    await h.redis.xack(h.keys.outbound, 'lagging', ...left.map((e) => e[0]));
    expect(await trimOutbound(h.redis, h.keys)).toBe(left.length);
    expect(await h.redis.xlen(h.keys.outbound)).toBe(0);
    await h.redis.xgroup('DESTROY', h.keys.outbound, 'lagging');

    const p = h.redis.pipeline();
    for (let i = 0; i < 2_000; i++) p.xadd(h.keys.dead, '*', 'code', 'test', 'reason', 'filler');
    await p.exec();
    await trimToLength(h.redis, h.keys.dead, 500);
    const deadLength = await h.redis.xlen(h.keys.dead);
    expect(deadLength).toBeGreaterThanOrEqual(500);
    expect(deadLength).toBeLessThan(2_000);
  });
});

describe('parley purge --customer', () => {
  it('leaves no text or number of that customer in any table, keeps the opt-out as a hash, and spares the others', async () => {
    const erased = '14155550777';
    const other = '14155550888';
    await h.send([
      { id: 'p-1', to: `+${erased}`, text: 'secret-token-alpha for you' },
      { id: 'p-2', to: `+${erased}`, text: 'secret-token-beta', metadata: { note: 'x' } },
      { id: 'k-1', to: `+${other}`, text: 'kept-token-gamma' },
    ]);
    await h.until('sent', async () => Object.values(await statuses(h, ['p-1', 'p-2', 'k-1'])).every((s) => s !== undefined && s !== 'queued'));
    // The customer answers, then opts out.
    for (const text of ['secret-token-delta reply', 'STOP']) {
      const injected = sim.injectReply({ from: erased, to: '12345', text });
      expect(await injected.acked).toBe(true);
    }
    await h.until('replies handled', async () => (await count('replies', sql`from_addr = ${erased} AND status <> 'received'`)) === 2);
    await h.until('opted out', async () => (await count('opt_outs', sql`customer = ${erased} AND opted_out`)) === 1);
    // Every receipt about a message to them, the STOP confirmation's included, is in before the
    // purge: one arriving after it would write their number again (a receipt names both parties).
    await h.until('receipts in', async () => {
      const sent = await count('messages', sql`to_addr LIKE ${`%${erased}`}`);
      return sent === 3 && (await count('receipts', sql`message_id IN (SELECT id FROM messages WHERE to_addr LIKE ${`%${erased}`})`)) === 3;
    });

    const erasedIds = ['p-1', 'p-2'];
    for (const table of ['segments', 'submit_attempts']) expect(await count(table, sql`message_id = ANY (${erasedIds}::text[])`)).toBe(2);
    const { counts } = await purgeCustomer(h.schema.db, erased);
    // Their parts and submit attempts went with them (no foreign key did it: migration 0021).
    for (const table of ['segments', 'submit_attempts']) expect(await count(table, sql`message_id = ANY (${erasedIds}::text[])`)).toBe(0);
    expect(await count('segments', sql`message_id = 'k-1'`)).toBe(1);
    // Two sent by the app and the STOP confirmation Parley sent them.
    expect(counts).toMatchObject({ messages: 3, replies: 2, opt_outs_hashed: 1 });
    expect(counts.receipts).toBeGreaterThanOrEqual(2);

    // Every row of every table, as text: nothing of that customer is left (the STOP confirmation
    // Parley sent them was a message to them too, so it went with the rest).
    const tables = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = ${h.schema.schema} AND table_type = 'BASE TABLE'`.execute(h.schema.db);
    expect(tables.rows.length).toBeGreaterThan(8);
    const leftovers: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.table(table_name)} t`.execute(h.schema.db);
      for (const { row } of rows.rows) {
        if (row.includes(erased) || /secret-token/.test(row)) leftovers.push(`${table_name}: ${row.slice(0, 200)}`);
      }
    }
    expect(leftovers).toEqual([]);
    expect(await count('opt_out_hashes', sql`customer_hash = ${customerHash(erased)} AND scope = '12345'`)).toBe(1);
    // The other customer's data is untouched.
    expect(await count('messages', sql`id = 'k-1' AND body = 'kept-token-gamma'`)).toBe(1);

    // The hashed opt-out still refuses messages to them.
    await h.send([{ id: 'p-3', to: `+${erased}`, text: 'after the purge' }]);
    await h.until('refused', async () => (await statuses(h, ['p-3']))['p-3'] === 'failed');
    const refused = await h.schema.db.selectFrom('messages').select('error_code').where('id', '=', 'p-3').executeTakeFirstOrThrow();
    expect(refused.error_code).toBe('opted_out');
    expect(submittedTexts(sim)).not.toContain('after the purge');
  }, 40_000);
});
