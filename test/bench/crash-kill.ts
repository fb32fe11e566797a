/**
 * The kill -9 chaos run (issue 17): `--messages` messages (20,000) on the stream, the daemon
 * killed with -9 `--kills` times (5) while sending and restarted each time under the same
 * daemon.name, against the simulator on loopback. Reports what counts: messages lost, resends per
 * kill (submits the SMSC accepted beyond one per message), messages flagged possible_duplicate,
 * receipts left unmatched, and how long after the last restart everything was submitted.
 *
 *   npx tsx test/bench/crash-kill.ts [--messages 20000] [--kills 5] [--tps 2000] [--window 100]
 *
 * Bounded: every wait has a deadline; the database and Redis keys it makes are dropped at the end.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { sql } from 'kysely';
import { openDb, migrateToLatest, type Db } from '../../src/store/db.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { streamKeys } from '../../src/queue/keys.ts';
import { killed, startChild } from '../support/child.ts';
import { dropRedisPrefix, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../support/services.ts';
import { numberFlag } from './bench-support.ts';

const messages = numberFlag('messages', 20_000);
const kills = numberFlag('kills', 5);
const tps = numberFlag('tps', 2_000);
const window = numberFlag('window', 100);

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function count(db: Db, query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  return Number((await query.execute(db)).rows[0]?.n ?? 0);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}: ${await describeState()}`);
}

let describeState = async (): Promise<string> => '';

const database = uniqueName('parley_chaos');
await admin(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
const url = databaseUrl(database);
const db = openDb({ url, poolSize: 4 });
const prefix = `${uniqueName('chaos')}:`;
const redis = new Redis(TEST_REDIS_URL);
const sim = await startSimulator({ controlPort: false, keep: messages * 2, receiptDelayMs: [100, 400] });
try {
  await migrateToLatest(db, 'public');
  const keys = streamKeys(prefix);
  const raw = {
    database: { url, pool_size: 6 },
    redis: { url: TEST_REDIS_URL, prefix },
    http: { listen: '127.0.0.1:19464' },
    log: { level: 'warn' },
    daemon: { name: 'chaos' },
    intake: { block: '100ms' },
    receipts: { sweep_interval: '500ms' },
    smscs: [{ name: 'sim', host: '127.0.0.1', port: sim.port, system_id: 'parley', password: 'secret', window }],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps, default_from: '12345' }],
  };
  const env = { PARLEY_TEST_CONFIG: JSON.stringify(raw), PARLEY_TEST_SCHEMA: 'public' };
  for (let i = 0; i < messages; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(messages, i + 1000); j++) {
      p.xadd(keys.outbound, '*', 'payload', JSON.stringify({ id: `c${j}`, to: `+1415${String(j).padStart(6, '0')}`, text: `chaos ${j}` }));
    }
    await p.exec();
  }
  describeState = async () => {
    const byStatus = await sql<{ status: string; owner: string | null; attempts: number; n: string }>`
      SELECT status, owner, attempts, count(*) AS n FROM messages GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`.execute(db);
    const pending = await redis.xpending(keys.outbound, keys.group);
    const daemons = await sql`SELECT * FROM daemons`.execute(db);
    const activity = await sql`SELECT state, wait_event_type, wait_event, now() - xact_start AS xact_age, left(query, 120) AS query
      FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`.execute(db);
    console.error(JSON.stringify(activity.rows, null, 1));
    return JSON.stringify({ byStatus: byStatus.rows, pending, daemons: daemons.rows, binds: sim.stats.binds, receipts: sim.stats.receipts, arrivals: sim.arrivals.length });
  };
  const accepted = (): Promise<number> => count(db, sql<{ n: string }>`SELECT count(*) AS n FROM messages WHERE submitted_at IS NOT NULL`);
  const arrivalsAt: number[] = [];
  for (let k = 1; k <= kills; k++) {
    const child = await startChild('test/support/daemon-child.ts', env, 60_000);
    const target = Math.floor((messages * k) / (kills + 1));
    await until(`${target} submitted`, async () => (await accepted()) >= target, 120_000);
    await killed(child);
    const byAttempts = await sql<{ attempts: number; n: string }>`SELECT status, attempts, count(*) AS n FROM messages GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
    console.log(`after kill ${k}: ${JSON.stringify(byAttempts.rows)}`);
    arrivalsAt.push(sim.arrivals.filter((a) => a.status === 'accepted').length);
  }
  const last = await startChild('test/support/daemon-child.ts', env, 60_000);
  last.on('exit', (code, signal) => console.error(`the last daemon exited: ${code ?? signal}`));
  last.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  const restarted = Date.now();
  try {
    await until('every message submitted', async () => (await accepted()) === messages, 120_000);
    const settledMs = Date.now() - restarted;
    const arrivals = sim.arrivals.filter((a) => a.status === 'accepted');
    await until('every copy has its receipt', async () => (await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts`)) >= arrivals.length, 60_000);
    // Receipts of copies whose ids were lost are matched after 5 s by the sweep.
    await until('receipts matched', async () => (await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts WHERE message_id IS NULL`)) === 0, 20_000).catch(
      () => undefined,
    );
    const destinations = new Set(arrivals.map((a) => a.destination));
    const resends = arrivals.length - destinations.size;
    const flagged = await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM messages WHERE possible_duplicate`);
    const unmatched = await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts WHERE message_id IS NULL`);
    const delivered = await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM messages WHERE status = 'delivered'`);
    console.log(`messages ${messages}, kills ${kills}, tps ${tps}, window ${window}`);
    console.log(`lost (never reached the SMSC): ${messages - destinations.size}`);
    console.log(`resends: ${resends} in all, ${(resends / kills).toFixed(1)} per kill (the window is ${window})`);
    console.log(`flagged possible_duplicate: ${flagged}`);
    const byAttempts = await sql<{ attempts: number; n: string }>`SELECT attempts, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1`.execute(db);
    console.log(`dispatch attempts counted: ${byAttempts.rows.map((r) => `${r.n} × ${r.attempts}`).join(', ')}`);
    console.log(`receipts: ${arrivals.length} expected, unmatched ${unmatched}; messages delivered ${delivered}`);
    console.log(`after the last restart, every message submitted in ${settledMs} ms`);
    if (unmatched > 0) {
      const sample = await sql`
        SELECT r.smsc_message_id, r.source_addr, r.dest_addr, r.received_at, r.state, r.matched_at,
          m.id, m.status, m.possible_duplicate, m.created_at, m.attempts, s.total, s.smsc, s.smsc_message_id AS seg_id, s.possible_duplicate AS seg_dup,
          (SELECT count(*) FROM submit_attempts a WHERE a.message_id = m.id) AS attempts_rows
        FROM receipts r LEFT JOIN messages m ON m.to_addr = '+' || r.source_addr LEFT JOIN segments s ON s.message_id = m.id
        WHERE r.message_id IS NULL LIMIT 5`.execute(db);
      console.log(JSON.stringify(sample.rows, null, 1));
    }
  } finally {
    await killed(last);
  }
} finally {
  await sim.stop();
  redis.disconnect();
  await dropRedisPrefix(prefix);
  await db.destroy();
  await admin(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
}
