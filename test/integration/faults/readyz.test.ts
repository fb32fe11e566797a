/**
 * `/readyz` names the dependency that is down (Postgres, Redis) and is ready again after it comes
 * back; past database.outage_unbind_after the SMSC binds are unbound cleanly and bind again when
 * Postgres answers; work resumes by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { Redis } from 'ioredis';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { streamKeys } from '../../../src/queue/keys.ts';
import { openDb, migrateToLatest, type Db } from '../../../src/store/db.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from '../../support/private-services.ts';
import { simSmsc } from '../../support/daemon.ts';

const PG_PORT = 21433;
const REDIS_PORT = 21380;
const SCHEMA = 'readyz';

let cluster: PrivatePostgres;
let server: PrivateRedis;
let db: Db;
let sim: Simulator;
let daemon: Daemon | undefined;

beforeAll(async () => {
  [cluster, server] = await Promise.all([startPrivatePostgres(PG_PORT), startPrivateRedis(REDIS_PORT)]);
  db = openDb({ url: cluster.url, schema: SCHEMA, poolSize: 2 });
  await migrateToLatest(db, SCHEMA);
  sim = await startSimulator({ controlPort: false, receiptDelayMs: 50, receiptRetryMs: 300 });
}, 60_000);

afterAll(async () => {
  await daemon?.service.stop();
  await sim?.stop();
  await db?.destroy();
  await cluster?.destroy();
  await server?.destroy();
}, 60_000);

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}

async function statusOf(id: string): Promise<string | undefined> {
  try {
    return (await db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirst())?.status;
  } catch {
    return undefined;
  }
}

describe('/readyz while a dependency is down', () => {
  it('names Postgres, then Redis, while each is down; binds are unbound past outage_unbind_after and rebound; ready again and sending after', async () => {
    // A retry starts from running services and no daemon left from the failed run.
    await daemon?.service.stop();
    await Promise.all([cluster.start(), server.start()]);
    const config = validateConfig({
      database: { url: cluster.url, pool_size: 4, outage_unbind_after: '2s' },
      redis: { url: server.url, prefix: 'parley:' },
      http: { listen: `127.0.0.1:${await freePort()}` },
      intake: { consumer: 'readyz', block: '100ms' },
      smscs: [simSmsc('sim', sim, { window: 10, enquire_link_interval: '500ms' })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
    });
    daemon = buildDaemon(config, { logger: silentLogger, schema: SCHEMA, http: true });
    await daemon.service.start();
    const port = daemon.httpPort!;
    const keys = streamKeys('parley:');
    const app = new Redis(server.url, { maxRetriesPerRequest: null });
    app.on('error', () => undefined);
    try {
      await until('ready', async () => (await readyz(port)).status === 200, 10_000);

      // Postgres down: /readyz names it; after 2 s the binds are unbound and held.
      await cluster.stop();
      await until('readyz names postgres', async () => {
        const r = await readyz(port);
        return r.status === 503 && /postgres: down/.test(r.body);
      }, 5_000);
      expect((await readyz(port)).body).not.toMatch(/redis/);
      await until('binds unbound after outage_unbind_after', () => sim.stats.binds.current === 0, 6_000);
      await until('binds held', () => daemon!.pools.get('sim')!.binds.every((b) => b.state === 'held'), 2_000);
      // Entries added meanwhile wait in Redis, unacknowledged.
      await app.xadd(keys.outbound, '*', 'payload', JSON.stringify({ id: 'during-pg', to: '+14155550001', text: 'while postgres is down' }));
      // Intake reads it but cannot commit it: it stays pending, not acknowledged.
      await until('entry read by intake', async () => ((await app.xpending(keys.outbound, keys.group)) as [number])[0] === 1, 5_000);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(((await app.xpending(keys.outbound, keys.group)) as [number])[0]).toBe(1);

      await cluster.start();
      await until('ready again after postgres', async () => (await readyz(port)).status === 200, 15_000);
      expect(sim.stats.binds.current).toBeGreaterThanOrEqual(1);
      await until('message sent during the outage delivered', async () => (await statusOf('during-pg')) === 'delivered', 15_000);

      // Redis down: /readyz names it (and answers at once rather than waiting for Redis).
      await server.stop();
      await until('readyz names redis', async () => {
        const r = await readyz(port);
        return r.status === 503 && /redis: down/.test(r.body);
      }, 5_000);
      expect((await readyz(port)).body).not.toMatch(/postgres/);
      await server.start();
      await until('ready again after redis', async () => (await readyz(port)).status === 200, 15_000);
      await app.xadd(keys.outbound, '*', 'payload', JSON.stringify({ id: 'after-redis', to: '+14155550002', text: 'after redis came back' }));
      await until('message sent after redis delivered', async () => (await statusOf('after-redis')) === 'delivered', 15_000);

      const up = await daemon.metrics.dependencyUp.get();
      expect(up.values.map((v) => [v.labels.dependency, v.value]).sort()).toEqual([['postgres', 1], ['redis', 1]]);
      const outages = await daemon.metrics.dependencyOutages.get();
      expect(outages.values.map((v) => [v.labels.dependency, v.value]).sort()).toEqual([['postgres', 1], ['redis', 1]]);
    } finally {
      app.disconnect();
    }
  }, 60_000);
});
