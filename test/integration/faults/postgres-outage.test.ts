/**
 * Postgres restarted twice (pg_ctl restart -m fast: every connection ends with 57P01) and stopped
 * for 10 s while 5,000 messages with receipts go through a daemon in a process of its own: the
 * daemon stays up, nothing is lost, a message sent twice is flagged, and every message ends final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { startChild, killed } from '../../support/child.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../../support/private-services.ts';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueName } from '../../support/services.ts';
import { simSmsc } from '../../support/daemon.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { openDb, migrateToLatest, type Db } from '../../../src/store/db.ts';
import { streamKeys } from '../../../src/queue/keys.ts';

const PG_PORT = 21432;
const COUNT = 5000;
let cluster: PrivatePostgres;
let attemptDb: Db | undefined;
let attemptSim: Simulator | undefined;
let redis: Redis;
let child: ChildProcess | undefined;
const prefixes: string[] = [];

beforeAll(async () => {
  cluster = await startPrivatePostgres(PG_PORT);
  redis = new Redis(TEST_REDIS_URL);
}, 60_000);

/** Stops what one attempt started, so a retry starts afresh. */
async function cleanUp(): Promise<void> {
  if (child) await killed(child);
  child = undefined;
  await attemptSim?.stop();
  attemptSim = undefined;
  await attemptDb?.destroy();
  attemptDb = undefined;
}

afterAll(async () => {
  await cleanUp();
  redis?.disconnect();
  for (const p of prefixes) await dropRedisPrefix(p);
  await cluster?.destroy();
}, 60_000);

/** A count from the private Postgres, or -1 while it does not answer. */
async function count(db: Db, where: 'accepted' | 'final'): Promise<number> {
  try {
    const q = db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n'));
    const row =
      where === 'accepted'
        ? await q.where('submitted_at', 'is not', null).executeTakeFirstOrThrow()
        : await q.where('status', 'in', ['delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'unknown', 'partially_delivered']).executeTakeFirstOrThrow();
    return Number(row.n);
  } catch {
    return -1;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Postgres restarts and an outage under load', () => {
  it('two restarts and 10 s down during 5,000 messages: the daemon stays up, 0 lost, duplicates flagged, every message final', async () => {
    // Everything of one attempt is its own (schema, key prefix, simulator, daemon): a retry starts afresh.
    await cleanUp();
    await cluster.start();
    const SCHEMA = uniqueName('faults');
    const prefix = `${uniqueName('pgfault')}:`;
    prefixes.push(prefix);
    const db = openDb({ url: cluster.url, schema: SCHEMA, poolSize: 2 });
    attemptDb = db;
    await migrateToLatest(db, SCHEMA);
    // Receipts unanswered while Postgres is down are sent again once the outage is over.
    const sim = await startSimulator({ controlPort: false, keep: 20_000, receiptDelayMs: 100, receiptRetryMs: 500, responseTimeoutMs: 2000 });
    attemptSim = sim;
    const raw = {
      database: { url: cluster.url, pool_size: 4, outage_unbind_after: '1m' },
      redis: { url: TEST_REDIS_URL, prefix },
      http: { listen: '127.0.0.1:19464' },
      intake: { consumer: 'survivor', block: '100ms', claim_idle: '2s' },
      smscs: [simSmsc('sim', sim, { window: 100, response_timeout: '2s' })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
    };
    let stderr = '';
    child = await startChild('test/support/daemon-child.ts', {
      PARLEY_TEST_CONFIG: JSON.stringify(raw),
      PARLEY_TEST_SCHEMA: SCHEMA,
      PARLEY_TEST_LOG: 'warn',
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));

    const keys = streamKeys(prefix);
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 500) {
        const p = redis.pipeline();
        for (let j = i; j < Math.min(to, i + 500); j++) {
          p.xadd(keys.outbound, '*', 'payload', JSON.stringify({ id: `f${j}`, to: `+1415${String(j).padStart(6, '0')}`, text: `fault ${j}` }));
        }
        await p.exec();
      }
    };
    // The app keeps sending while Postgres is down: the last 1,000 are added during the outage.
    const DURING = 1000;
    await send(0, COUNT - DURING);

    await until('800 submitted', async () => (await count(db, 'accepted')) >= 800, 20_000);
    await cluster.restart();
    await until('1,800 submitted', async () => (await count(db, 'accepted')) >= 1800, 30_000);
    await cluster.restart();
    await until('2,800 submitted', async () => (await count(db, 'accepted')) >= 2800, 30_000);
    await cluster.stop();
    // While Postgres is down nothing is acknowledged: not a stream entry, not a deliver_sm; the
    // bind stays up (enquire_link) rather than being dropped and bound again.
    await send(COUNT - DURING, COUNT);
    await new Promise((r) => setTimeout(r, 500));
    const unsettled = async (): Promise<number> => {
      const groups = (await redis.xinfo('GROUPS', keys.outbound)) as unknown[][];
      const g = groups.find((x) => x[x.indexOf('name') + 1] === keys.group)!;
      return Number(g[g.indexOf('pending') + 1]) + Number(g[g.indexOf('lag') + 1]);
    };
    const unsettledAtStop = await unsettled();
    expect(unsettledAtStop).toBeGreaterThanOrEqual(DURING);
    const ackedAtStop = sim.stats.receipts.acked;
    const bindsAtStop = sim.stats.binds.total;
    await new Promise((r) => setTimeout(r, 9_500));
    expect(exited, `the daemon exited during the outage: ${stderr.slice(-2000)}`).toBeUndefined();
    expect(sim.stats.receipts.acked).toBe(ackedAtStop);
    expect(await unsettled()).toBe(unsettledAtStop);
    expect(sim.stats.binds.total).toBe(bindsAtStop);
    expect(sim.stats.binds.current).toBe(1);
    await cluster.start();

    await until('every message final', async () => (await count(db, 'final')) === COUNT, 45_000);
    expect(exited, `the daemon exited: ${stderr.slice(-2000)}`).toBeUndefined();
    expect(stderr).not.toContain('internal error');

    // 0 lost: every message reached the SMSC; one that reached it twice is flagged.
    const perDestination = new Map<string, number>();
    for (const a of sim.arrivals) if (a.status === 'accepted') perDestination.set(a.destination, (perDestination.get(a.destination) ?? 0) + 1);
    expect(perDestination.size).toBe(COUNT);
    const flagged = new Set(
      (await db.selectFrom('segments').select('message_id').where('possible_duplicate', '=', true).execute()).map((r) => r.message_id),
    );
    for (const [destination, n] of perDestination) {
      if (n > 1) expect(flagged.has(`f${Number(destination.slice(-6))}`), `message to ${destination} sent ${n} times without a flag`).toBe(true);
    }
    const statuses = await db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('status').execute();
    expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([['delivered', COUNT]]);
    // Every entry was acknowledged once its message was committed.
    const pending = (await redis.xpending(keys.outbound, keys.group)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(SCHEMA)}.messages`.execute(db);
    expect(Number(rows[0]!.n)).toBe(COUNT);

    // The daemon still stops cleanly.
    const code = await new Promise<number | null>((resolve) => {
      child!.once('exit', (c) => resolve(c));
      child!.kill('SIGTERM');
    });
    expect(code).toBe(0);
    child = undefined;
  }, 120_000);
});
