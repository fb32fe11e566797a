/**
 * Redis restarted without persistence mid-run (its memory lost, as after a failover to an empty
 * replica): the consumer group is gone. The daemon recreates it, says Redis lost state, intake
 * resumes within 5 s, and every entry Redis accepted is sent exactly once: those committed before
 * the loss are not sent again, those added after it are all read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { streamKeys } from '../../../src/queue/keys.ts';
import { startPrivateRedis, type PrivateRedis } from '../../support/private-services.ts';
import { freshSchema, testConfig, type TestSchema } from '../../support/services.ts';
import { simSmsc } from '../../support/daemon.ts';

const REDIS_PORT = 21379;
const prefix = 'parley:';

let server: PrivateRedis;
let attemptSchema: TestSchema | undefined;
let attemptSim: Simulator | undefined;
let daemon: Daemon | undefined;

beforeAll(async () => {
  server = await startPrivateRedis(REDIS_PORT);
});

/** Stops what one attempt started, so a retry starts afresh. */
async function cleanUp(): Promise<void> {
  await daemon?.service.stop();
  daemon = undefined;
  await attemptSim?.stop();
  attemptSim = undefined;
  await attemptSchema?.drop();
  attemptSchema = undefined;
}

afterAll(async () => {
  await cleanUp();
  await server?.destroy();
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stored(schema: TestSchema): Promise<number> {
  const row = await schema.db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** XADDs each payload (with the given entry ids, else '*'); returns the entry ids. */
async function xaddAll(redis: Redis, stream: string, payloads: readonly object[], entryIds?: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < payloads.length; i += 500) {
    const p = redis.pipeline();
    payloads.slice(i, i + 500).forEach((payload, j) => p.xadd(stream, entryIds?.[i + j] ?? '*', 'payload', JSON.stringify(payload)));
    const results = await p.exec();
    for (const [err, id] of results ?? []) {
      if (err) throw err;
      ids.push(id as string);
    }
  }
  return ids;
}

describe('Redis loses its memory mid-run', () => {
  it('the group is recreated, intake resumes within 5 s and every accepted entry is sent exactly once', async () => {
    // Everything of one attempt is its own (schema, simulator, daemon, an empty Redis): a retry starts afresh.
    await cleanUp();
    await server.restartEmpty(0);
    const schema = await freshSchema();
    attemptSchema = schema;
    const sim = await startSimulator({ controlPort: false, keep: 20_000, receiptDelayMs: 50 });
    attemptSim = sim;
    const config = testConfig(
      {
        redis: { url: server.url, prefix },
        smscs: [simSmsc('sim', sim, { window: 100 })],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' }],
      },
      prefix,
    );
    daemon = buildDaemon(config, { logger: silentLogger, schema: schema.schema, http: false });
    await daemon.service.start();
    const keys = streamKeys(prefix);
    const app = new Redis(server.url, { maxRetriesPerRequest: null });
    app.on('error', () => undefined);
    try {
      // Before the loss: 1,500 entries, half with the app's id and half without (their id is then
      // the stream entry id).
      const before = Array.from({ length: 1500 }, (_, i) => ({
        ...(i % 2 === 0 ? { id: `b${i}` } : {}),
        to: `+1415${String(i).padStart(6, '0')}`,
        text: `before ${i}`,
      }));
      const beforeIds = await xaddAll(app, keys.outbound, before);
      await until('every entry before the loss stored', async () => (await stored(schema)) === 1500, 20_000);
      // Mid-run: the SMSC is still being sent those when Redis loses everything.
      expect(sim.stats.submits).toBeLessThan(1500);

      await server.restartEmpty();
      const restartedAt = Date.now();
      // Every entry is gone. (The stream itself may exist again already: the daemon recreates its
      // group with MKSTREAM as soon as it reconnects, which on a busy machine comes before this.)
      expect(await app.xlen(keys.outbound)).toBe(0);

      const after = Array.from({ length: 1500 }, (_, i) => ({
        ...(i % 2 === 0 ? { id: `a${i}` } : {}),
        to: `+1416${String(i).padStart(6, '0')}`,
        text: `after ${i}`,
      }));
      // A Redis that lost its memory may number new entries with ids it issued before (its clock
      // behind, or ids given by the app): ten new messages without an app id reuse the ids of ten
      // old ones (odd i: no app id). They are new messages and are sent; one entry that reuses an
      // old id with the old destination and text is taken for that entry read again.
      const reusedIds = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19].map((i) => beforeIds[i]!);
      const reusing = reusedIds.map((_, k) => ({ to: `+1417${String(k).padStart(6, '0')}`, text: `reused id ${k}` }));
      await xaddAll(app, keys.outbound, [...reusing, before[21]!], [...reusedIds, beforeIds[21]!]);
      await xaddAll(app, keys.outbound, after.slice(0, 1));
      await until('intake reading again', async () => (await stored(schema)) > 1500, 5_000);
      const resumedMs = Date.now() - restartedAt;
      await xaddAll(app, keys.outbound, after.slice(1));
      await until('every entry stored', async () => (await stored(schema)) === 3010, 20_000);
      await until('every message submitted', () => sim.stats.submits >= 3010, 30_000);
      // Let any late duplicate show up before counting.
      await new Promise((r) => setTimeout(r, 300));

      const perDestination = new Map<string, number>();
      for (const a of sim.arrivals) if (a.status === 'accepted') perDestination.set(a.destination, (perDestination.get(a.destination) ?? 0) + 1);
      expect(perDestination.size).toBe(3010);
      expect([...perDestination.values()].filter((n) => n !== 1)).toEqual([]);
      expect(resumedMs).toBeLessThan(5_000);

      const renamed = await schema.db.selectFrom('messages').select(['id', 'to_addr']).where('to_addr', 'like', '1417%').execute();
      expect(renamed).toHaveLength(10);
      for (const m of renamed) expect(m.id).toMatch(/^s-\d+-\d+\.[0-9a-f]{8}$/);

      // The group exists again and nothing is left pending.
      const pending = (await app.xpending(keys.outbound, keys.group)) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      const lost = await daemon.metrics.redisStateLost.get();
      expect(lost.values.find((v) => v.labels.what === 'intake_group')?.value ?? 0).toBeGreaterThanOrEqual(1);
    } finally {
      app.disconnect();
    }
  }, 60_000);
});
