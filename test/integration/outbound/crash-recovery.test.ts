/**
 * Crash recovery (issue 17): a daemon killed with -9 mid-stream and restarted under the same
 * daemon.name resumes at once; a survivor takes over a dead daemon's work within daemon.takeover;
 * a message sent twice has both copies' receipts matched and is flagged where apps read it.
 *
 * The first test runs in a database of its own (public schema) so that `parley status` (which
 * takes its database from the config file only) reads what the daemons wrote.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Redis } from 'ioredis';
import pg from 'pg';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { openDb, migrateToLatest, type Db } from '../../../src/store/db.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { streamKeys } from '../../../src/queue/keys.ts';
import { killed, startChild } from '../../support/child.ts';
import { dropRedisPrefix, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../../support/services.ts';
import { adminQuery, databaseUrl, runCli } from '../cli/cli-harness.ts';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // In reverse: daemons before the simulator, the simulator before the database.
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function count(db: Db, query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  const res = await query.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}

describe('crash recovery', () => {
  it('kill -9 mid-stream, restart under the same daemon.name: the rest is sent within 3 s, both copies of each duplicate matched, the flag where apps read it', async () => {
    const database = uniqueName('parley_crash');
    await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    const url = databaseUrl(database);
    const db = openDb({ url, poolSize: 4 });
    cleanups.push(async () => {
      await db.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    });
    await migrateToLatest(db, 'public');
    const prefix = `${uniqueName('crash')}:`;
    const redis = new Redis(TEST_REDIS_URL);
    cleanups.push(async () => {
      redis.disconnect();
      await dropRedisPrefix(prefix);
    });
    const keys = streamKeys(prefix);

    // Answers take 20 ms, so the window is full of submits in flight when the daemon is killed.
    const sim: Simulator = await startSimulator({ controlPort: false, keep: 20_000, responseDelayMs: 20, receiptDelayMs: 200 });
    cleanups.push(() => sim.stop());
    const raw = {
      database: { url, pool_size: 4 },
      redis: { url: TEST_REDIS_URL, prefix },
      http: { listen: '127.0.0.1:19464' },
      daemon: { name: 'crashy' },
      // claim_idle far beyond the test: the restarted daemon must find its entries by its name.
      intake: { block: '100ms', claim_idle: '10m' },
      receipts: { sweep_interval: '200ms' },
      smscs: [simSmsc('sim', sim, { window: 50 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 2000, default_from: '12345' }],
    };
    const child = await startChild('test/support/daemon-child.ts', { PARLEY_TEST_CONFIG: JSON.stringify(raw), PARLEY_TEST_SCHEMA: 'public' });
    cleanups.push(() => killed(child));

    const total = 2000;
    const dest = (i: number): string => `+1415${String(i).padStart(6, '0')}`;
    const p = redis.pipeline();
    for (let i = 0; i < total; i++) p.xadd(keys.outbound, '*', 'payload', JSON.stringify({ id: `k${i}`, to: dest(i), text: `crash ${i}` }));
    await p.exec();
    const accepted = (): Promise<number> => count(db, sql<{ n: string }>`SELECT count(*) AS n FROM messages WHERE submitted_at IS NOT NULL`);
    await until('sending under way', async () => (await accepted()) >= 400);
    await killed(child);
    expect(await accepted()).toBeLessThan(total);

    const daemon: Daemon = buildDaemon(validateConfig(raw), { logger: silentLogger, schema: 'public', http: false });
    cleanups.push(async () => void (await daemon.service.stop()));
    await daemon.service.start();
    // No clock needed: with claim_idle at 10 minutes, finishing at all within the test's time means
    // the restarted daemon found its pending entries by its name, not by claiming idle ones.
    await until('every message submitted', async () => (await accepted()) === total, 20_000);

    // None lost: every destination reached the SMSC. Those reached twice are the resends.
    const arrivals = sim.arrivals.filter((a) => a.status === 'accepted');
    const perDestination = new Map<string, number>();
    for (const a of arrivals) perDestination.set(a.destination, (perDestination.get(a.destination) ?? 0) + 1);
    expect(perDestination.size).toBe(total);
    const twice = [...perDestination].filter(([, n]) => n > 1).map(([d]) => `k${Number(d.slice(-6))}`);
    expect(twice.length).toBeGreaterThan(0);
    // At most the window in flight plus the batch being written is resent.
    expect(twice.length).toBeLessThanOrEqual(50 + 500);
    const flagged = new Set((await sql<{ id: string }>`SELECT id FROM messages WHERE possible_duplicate`.execute(db)).rows.map((r) => r.id));
    for (const id of twice) expect(flagged.has(id), `${id} sent twice without the flag`).toBe(true);

    // Every copy's receipt stored, each matched to its message (none unmatched), every message delivered.
    await until('every copy has its receipt', async () => (await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts`)) >= arrivals.length, 20_000);
    await until(
      'no receipt left unmatched',
      async () => (await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts WHERE message_id IS NULL`)) === 0,
      15_000,
    );
    await until('every message delivered', async () => (await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM messages WHERE status = 'delivered'`)) === total);
    const perMessage = new Map(
      (await sql<{ message_id: string; n: string }>`SELECT message_id, count(*) AS n FROM receipts GROUP BY message_id`.execute(db)).rows.map((r) => [r.message_id, Number(r.n)]),
    );
    for (const id of twice) expect(perMessage.get(id), `receipts matched to ${id}`).toBe(2);
    expect(await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM receipts WHERE message_id IS NULL`)).toBe(0);
    // Every copy's carrier id is kept (one row per submit attempt that was answered and recorded).
    expect(await count(db, sql<{ n: string }>`SELECT count(*) AS n FROM submit_attempts WHERE match_key IS NOT NULL`)).toBeGreaterThanOrEqual(total);

    // Where apps read it: `parley status --json`, the text timeline, the event stream, the metric.
    const dup = twice[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'parley.yaml');
    writeFileSync(configFile, JSON.stringify(raw));
    const asJson = await runCli(['status', dup, '--json', '-c', configFile]);
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(JSON.parse(asJson.stdout).message.possible_duplicate).toBe(true); // CLI JSON is snake_case
    const asText = await runCli(['status', dup, '-c', configFile]);
    expect(asText.stdout).toContain('POSSIBLE DUPLICATE');
    const events = (await redis.xrange(keys.events, '-', '+')).map(([, fields]) => JSON.parse(fields[1]!) as { id: string; status: string; possible_duplicate: boolean });
    const mine = events.filter((e) => e.id === dup);
    expect(mine.find((e) => e.status === 'submitted')?.possible_duplicate).toBe(true);
    expect(mine.find((e) => e.status === 'delivered')?.possible_duplicate).toBe(true);
    const scrape = await daemon.metrics.scrape();
    expect(scrape).toContain(`parley_possible_duplicates_total{route="default"} ${flagged.size}`);
  }, 90_000);
});

describe('takeover', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a survivor takes over a dead daemon’s queued messages and pending stream entries within daemon.takeover, not after claim_idle', async () => {
    h = await createHarness();
    const harness = h;
    const sim = await harness.startSim({ keep: 20_000 });
    const base = {
      database: { url: TEST_DATABASE_URL, pool_size: 4 },
      redis: { url: TEST_REDIS_URL, prefix: harness.prefix },
      http: { listen: '127.0.0.1:19464' },
      intake: { block: '100ms', claim_idle: '10m' },
      smscs: [simSmsc('sim', sim)],
      // Slow enough that the victim holds most of its messages queued when it dies.
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 50, default_from: '12345' }],
    };
    const takeoverMs = 2_000;
    const victimRaw = { ...base, daemon: { name: 'victim', takeover: `${takeoverMs}ms` } };
    const victim = await startChild('test/support/daemon-child.ts', { PARLEY_TEST_CONFIG: JSON.stringify(victimRaw), PARLEY_TEST_SCHEMA: harness.schema.schema });
    try {
      const total = 300;
      const payload = (i: number): object => ({ id: `t${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `takeover ${i}` });
      await harness.send(Array.from({ length: 200 }, (_, i) => payload(i)));
      await harness.until('the victim holds queued messages', async () => {
        const row = await harness.schema.db.selectFrom('messages').select((eb) => eb.fn.countAll<string>().as('n')).where('owner', '=', 'victim').executeTakeFirstOrThrow();
        return Number(row.n) >= 150;
      });
      // Hold the messages table so the victim's next intake batch is read but cannot be stored:
      // its entries stay pending on it when it dies.
      const blocker = openDb({ url: TEST_DATABASE_URL, schema: harness.schema.schema, poolSize: 1 });
      try {
        await blocker.transaction().execute(async (tx) => {
          await sql`LOCK TABLE messages IN EXCLUSIVE MODE`.execute(tx);
          await harness.send(Array.from({ length: total - 200 }, (_, i) => payload(200 + i)));
          await harness.until('the victim holds pending stream entries', async () => {
            const summary = (await harness.redis.xpending(harness.keys.outbound, harness.keys.group)) as [number, string, string, [string, string][] | null];
            return (summary[3] ?? []).some(([name, n]) => name === 'victim' && Number(n) > 0);
          }, 5_000);
          await killed(victim);
        });
      } finally {
        await blocker.destroy();
      }

      const survivor = await harness.startDaemon(harness.config({ ...base, daemon: { name: 'survivor', takeover: `${takeoverMs}ms` } }));
      const victimWork = async (): Promise<{ queued: number; pending: number }> => {
        const row = await harness.schema.db
          .selectFrom('messages')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('owner', '=', 'victim')
          .where('status', '=', 'queued')
          .executeTakeFirstOrThrow();
        const pending = (await harness.redis.xpending(harness.keys.outbound, harness.keys.group, '-', '+', 1000, 'victim')) as unknown[];
        return { queued: Number(row.n), pending: pending.length };
      };
      expect((await victimWork()).queued).toBeGreaterThan(0);
      await harness.until('the victim’s work taken over', async () => {
        const w = await victimWork();
        return w.queued === 0 && w.pending === 0;
      }, 20_000);
      // Shown without a clock: claim_idle is 10 minutes, so work taken over within the test's time
      // was taken by the heartbeat takeover, which the survivor's counter confirms.
      expect(await survivor.metrics.scrape()).toContain('parley_daemon_takeovers_total 1');
      await harness.until('every message submitted', async () => (await harness.acceptedCount()) === total, 30_000);
      const destinations = new Set(sim.arrivals.filter((a) => a.status === 'accepted').map((a) => a.destination));
      expect(destinations.size).toBe(total);
    } finally {
      await killed(victim);
    }
  }, 60_000);

  it('a second live process under a daemon.name in use is refused with the holder named', async () => {
    h = await createHarness();
    const sim = await h.startSim();
    const raw = { daemon: { name: 'twin' }, intake: { block: '100ms' }, smscs: [simSmsc('sim', sim)], routes: [{ name: 'default', smscs: ['sim'], tps: 10 }] };
    const first = await h.startDaemon(h.config(raw));
    expect(first.consumer).toBe('twin');
    // The same name from another (live) process on this host.
    await h.schema.db.updateTable('daemons').set({ pid: process.ppid }).where('name', '=', 'twin').execute();
    const second = buildDaemon(h.config(raw), { logger: silentLogger, schema: h.schema.schema, http: false });
    await expect(second.service.start()).rejects.toThrow(/daemon\.name "twin" is held by pid/);
  });
});
