/**
 * Redis goes away under three daemons sharing a route: each falls back to the route's rate ÷ the
 * live daemons (the heartbeat table in Postgres), says so in `parley_route_throttle_shared` and
 * `parley_route_throttle_fallbacks_total`, the SMSC never sees more than rate + burst in any second,
 * and once Redis is back the shared bucket paces the route again.
 *
 * The Redis is a private redis-server this test starts on 21110 (append-only, fsync always, so a
 * restart keeps the streams, as a production Redis with AOF would) and kills (-9) mid-run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { bucketKey } from '../../../src/queue/coordination.ts';
import { REJOIN_GRACE_MS } from '../../../src/outbound/route-throttle.ts';
import { streamKeys } from '../../../src/queue/keys.ts';
import { freshSchema, uniqueName, TEST_DATABASE_URL, type TestSchema } from '../../support/services.ts';
import { simSmsc } from '../../support/daemon.ts';
import { killed } from '../../support/child.ts';
import { busiestWindow, maxInWindow, recordSubmitWrites, type SubmitWrites } from '../../support/wire-times.ts';

const REDIS_PORT = 21110;
const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
const RATE = 90;
const BURST = 9;
const COUNT = 2000;

let dir: string;
let redisServer: ChildProcess | undefined;
let schema: TestSchema;
let sim: Simulator;
let daemons: Daemon[] = [];
let writes: SubmitWrites | undefined;

function startRedis(): ChildProcess {
  return spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
}

function redisAnswers(): boolean {
  try {
    return execFileSync('redis-cli', ['-p', String(REDIS_PORT), 'ping'], { encoding: 'utf8', timeout: 2000 }).trim() === 'PONG';
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const route = 'default';
async function gauge(d: Daemon, g: 'throttleShared' | 'throttleRate'): Promise<number | undefined> {
  return (await d.metrics[g].get()).values.find((v) => v.labels.route === route)?.value;
}
async function fallbacks(d: Daemon): Promise<number> {
  return (await d.metrics.throttleFallbacks.get()).values.find((v) => v.labels.route === route)?.value ?? 0;
}
async function acceptedBy(d: Daemon): Promise<number> {
  return (await d.metrics.submits.get()).values.filter((v) => v.labels.outcome === 'accepted').reduce((n, v) => n + v.value, 0);
}
const wallNow = (): number => performance.timeOrigin + performance.now();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-redis-down-'));
  redisServer = startRedis();
  await until('the private Redis', redisAnswers, 10_000);
  schema = await freshSchema();
  sim = await startSimulator({ controlPort: false });
  daemons = [];
});

afterEach(async () => {
  writes?.stop();
  // A failure mid-outage leaves Redis down: bring it back so the daemons stop as usual.
  if (!redisServer) {
    redisServer = startRedis();
    await until('the private Redis', redisAnswers, 10_000);
  }
  for (const d of daemons) await d.service.stop();
  await sim.stop();
  await schema.drop();
  if (redisServer) await killed(redisServer);
  rmSync(dir, { recursive: true, force: true });
});

describe('route throttle without Redis', () => {
  it('3 daemons fall back to rate ÷ 3 when Redis dies, stay within rate + burst, and share the bucket again when it is back', { timeout: 90_000 }, async () => {
    const prefix = `${uniqueName('p')}:`;
    for (let i = 0; i < 3; i++) {
      const config = validateConfig({
        database: { url: TEST_DATABASE_URL, pool_size: 4 },
        redis: { url: REDIS_URL, prefix },
        intake: { consumer: uniqueName(`d${i}`), batch_size: 50, block: '100ms', claim_idle: '5s' },
        smscs: [simSmsc('sim', sim, { window: 100 })],
        routes: [{ name: route, prefixes: ['*'], smscs: ['sim'], tps: RATE, burst: BURST, default_from: '12345' }],
      });
      const d = buildDaemon(config, { logger: silentLogger, schema: schema.schema, http: false });
      daemons.push(d);
      await d.service.start();
    }
    await until('three binds', () => sim.stats.binds.current === 3, 10_000);
    for (const d of daemons) expect(await gauge(d, 'throttleShared')).toBe(1);

    writes = recordSubmitWrites();
    const feeder = new Redis(REDIS_URL);
    try {
      const p = feeder.pipeline();
      for (let i = 0; i < COUNT; i++) p.xadd(streamKeys(prefix).outbound, '*', 'payload', JSON.stringify({ id: `r${i}`, to: '+14155550100', text: `redis down ${i}` }));
      await p.exec();
    } finally {
      feeder.disconnect();
    }
    // Every daemon holds work of its own (read from the stream before Redis goes), so each keeps
    // sending through the outage and each must pace itself.
    await until('each daemon holding work', () => daemons.every((d) => d.dispatcher.backlog >= 200), 20_000);
    await until('a few seconds of shared pacing', () => writes!.times.length >= 300, 20_000);
    // Each daemon's share is rate ÷ the daemons it last counted in the heartbeat table (every 5 s).
    await until('every daemon counting 3 live', async () => (await Promise.all(daemons.map(async (d) => (await d.metrics.liveDaemons.get()).values[0]?.value))).every((n) => n === 3), 10_000);

    const stoppedAt = wallNow();
    await killed(redisServer!);
    redisServer = undefined;
    await until('every daemon on its fallback share', async () => (await Promise.all(daemons.map((d) => gauge(d, 'throttleShared')))).every((v) => v === 0), 5000);
    const fellBackAt = wallNow();
    for (const d of daemons) {
      expect(await fallbacks(d)).toBe(1);
      // rate ÷ live daemons: the heartbeat table counts 3.
      expect(await gauge(d, 'throttleRate')).toBeCloseTo(RATE / 3, 6);
    }
    const beforeOutage = await Promise.all(daemons.map(acceptedBy));
    await new Promise((r) => setTimeout(r, 5000));
    const duringOutage = (await Promise.all(daemons.map(acceptedBy))).map((n, i) => n - beforeOutage[i]!);
    const outageS = (wallNow() - fellBackAt) / 1000;

    const restartedAt = wallNow();
    redisServer = startRedis();
    await until('the private Redis back', redisAnswers, 10_000);
    await until('every daemon back on the shared bucket', async () => (await Promise.all(daemons.map((d) => gauge(d, 'throttleShared')))).every((v) => v === 1), 10_000);
    const rejoinedAt = wallNow();
    const rejoinedEpochMs = Date.now();

    await until('all submitted', async () => {
      const r = await schema.db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n')).where('submitted_at', 'is not', null).executeTakeFirstOrThrow();
      return Number(r.n) === COUNT;
    }, 60_000);
    // The bucket in the restarted Redis paced what came after: it was still granting leases after every daemon was back (Redis's clock, epoch ms).
    const probe = new Redis(REDIS_URL);
    const bucket = await probe.hgetall(bucketKey(prefix, route)).finally(() => probe.disconnect());
    expect(Number(bucket.ts)).toBeGreaterThan(rejoinedEpochMs);

    const accepted = sim.arrivals.filter((a) => a.status === 'accepted');
    expect(accepted).toHaveLength(COUNT);
    expect(new Set(accepted.map((a) => a.text)).size).toBe(COUNT);
    for (const d of daemons) expect(await fallbacks(d)).toBe(1);

    // Each daemon kept to its third while Redis was gone (its bucket: RATE/3 a second, BURST/3
    // saved), and each did send: the outage did not simply stop the route.
    for (const n of duringOutage) {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual((RATE / 3) * outageS + BURST / 3 + 1);
    }
    // Whole run, across the fall back and the return: never more than rate + burst in a second at the SMSC.
    const wire = writes.times;
    expect(wire).toHaveLength(COUNT);
    const busiest = busiestWindow(wire, 1000);
    const worst = busiest.count;
    const rel = (t: number): string => `${((busiest.startMs - t) / 1000).toFixed(2)} s`;
    console.log(`busiest second starts ${rel(stoppedAt)} after the kill, ${rel(fellBackAt)} after all fell back, ${rel(restartedAt)} after the restart, ${rel(rejoinedAt)} after all rejoined`);
    const simWorst = maxInWindow(accepted.map((a) => a.atMs), 1000);
    console.log(`redis down: worst second ${worst} on the wire (${simWorst} as the simulator stamped them); limit ${RATE + BURST}; outage ${outageS.toFixed(1)} s, sent ${duringOutage.join('/')} per daemon; back on the bucket ${((rejoinedAt - restartedAt) / 1000).toFixed(1)} s after the restart (grace ${REJOIN_GRACE_MS} ms); Redis down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s`);
    expect(worst).toBeLessThanOrEqual(RATE + BURST);
  });
});
