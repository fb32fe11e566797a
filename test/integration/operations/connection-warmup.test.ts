/**
 * A daemon opens its pipeline connections before traffic (store/connection-warmup.ts): as many
 * backends as asked, each having read every hot table, kept by the pool for the statements that
 * follow; a Postgres that cannot be reached makes it return its errors, not hang.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { warmConnections } from '../../../src/store/connection-warmup.ts';
import { HOT_PATH_TABLES } from '../../../src/store/planner-statistics.ts';
import { openDb } from '../../../src/store/db.ts';
import { TEST_DATABASE_URL } from '../../support/services.ts';
import { createHarness, simSmsc } from '../../support/daemon.ts';
import { recordingLogger, type LogLine } from '../../support/log-lines.ts';

const s = freshSchemaPerTest();

describe('warmConnections', () => {
  it('opens as many backends as asked, each reading every hot table, and the pool keeps them', async () => {
    const pool = s.openPool(3);
    const warmed = await warmConnections(pool, 3);
    expect(warmed.errors).toEqual([]);
    expect(new Set(warmed.backends).size).toBe(3);

    // What each backend ran last: the read of every hot table (one table each, in this schema).
    const last = await sql<{ pid: number; query: string }>`
      SELECT pid, query FROM pg_stat_activity WHERE pid = ANY (${warmed.backends}::int[])`.execute(s.db);
    expect(last.rows.map((r) => r.pid).sort()).toEqual([...warmed.backends].sort());
    for (const { query } of last.rows) {
      for (const table of HOT_PATH_TABLES) expect(query).toContain(`(SELECT 1 FROM "${table}" LIMIT 0)`);
    }

    // Three statements at once run on those backends: the pool opened no other.
    const used = await Promise.all(
      [0, 1, 2].map(async () => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`.execute(pool)).rows[0]!.pid),
    );
    expect(new Set(used)).toEqual(new Set(warmed.backends));
  });

  it('holds those that opened no longer than it takes the others to fail', async () => {
    // A role allowed one connection: the pool's second is refused by the server while the first is held.
    const role = `warm_${s.schema}`;
    await sql`CREATE ROLE ${sql.id(role)} LOGIN CONNECTION LIMIT 1`.execute(s.db);
    // The second connection reaches Postgres only once the first is a backend of the role: two
    // starting at once can each count the other and both be refused (Postgres enforces the limit
    // "only approximately", CREATE ROLE says), which once left nothing held and this test failing.
    const firstIsBackend = async (): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = ${role}`.execute(s.db);
        if (n.rows[0]!.n >= 1) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const proxy = await loopbackProxy(async (n) => {
      if (n === 2) await firstIsBackend();
      return 'forward';
    });
    try {
      await sql`GRANT USAGE ON SCHEMA ${sql.id(s.schema)} TO ${sql.id(role)}`.execute(s.db);
      await sql`GRANT SELECT ON ALL TABLES IN SCHEMA ${sql.id(s.schema)} TO ${sql.id(role)}`.execute(s.db);
      const limited = openDb({ url: proxy.url(role), schema: s.schema, poolSize: 2 });
      try {
        const warmed = await warmConnections(limited, 2);
        expect(warmed.backends).toHaveLength(1);
        expect(warmed.errors.map((e) => e.message)).toEqual([expect.stringMatching(/too many connections for role/)]);
      } finally {
        await limited.destroy();
      }
    } finally {
      await proxy.close();
      await sql`DROP OWNED BY ${sql.id(role)}`.execute(s.db);
      await sql`DROP ROLE ${sql.id(role)}`.execute(s.db);
    }
  });

  it('lets the pool use the connections it opened while another is still opening', async () => {
    // The second connection is held unanswered, as a server slow to accept would hold it, until
    // the pool's connect time-out ends it.
    const proxy = await loopbackProxy(async (n) => (n === 2 ? 'hold' : 'forward'));
    const slow = openDb({ url: proxy.url(), schema: s.schema, poolSize: 2, connectTimeoutMs: 3_000 });
    try {
      let warmed: Awaited<ReturnType<typeof warmConnections>> | undefined;
      const warming = warmConnections(slow, 2).then((w) => (warmed = w));
      // Runs on the connection the warm-up opened, released for it before the second gave up.
      const answered = await sql<{ one: number }>`SELECT 1 AS one`.execute(slow);
      expect(answered.rows).toEqual([{ one: 1 }]);
      expect(warmed).toBeUndefined();
      await warming;
      expect(warmed!.backends).toHaveLength(1);
      expect(warmed!.errors).toHaveLength(1);
    } finally {
      await slow.destroy();
      await proxy.close();
    }
  });

  it('returns each connection that could not open as an error, without waiting for ever', async () => {
    // Nothing listens on port 1: every connection is refused at once.
    const unreachable = openDb({ url: 'postgres://postgres@127.0.0.1:1/test', poolSize: 2, connectTimeoutMs: 2_000 });
    try {
      const warmed = await warmConnections(unreachable, 2);
      expect(warmed.backends).toEqual([]);
      expect(warmed.errors).toHaveLength(2);
      expect(warmed.errors[0]!.message).toMatch(/ECONNREFUSED/);
    } finally {
      await unreachable.destroy();
    }
  });

  it('a daemon opens its pipeline pool and its submit answers\' connection as it starts, before any traffic', async () => {
    const h = await createHarness();
    try {
      const sim = await h.startSim();
      const lines: LogLine[] = [];
      const config = h.config({
        database: { url: TEST_DATABASE_URL, pool_size: 4, pipeline_pool_size: 3 },
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
      });
      await h.startDaemon(config, { logger: recordingLogger(lines) });
      await h.until('the connections opened', () => lines.some((l) => l.msg === 'pipeline connections opened'), 10_000);
      // The pipeline pool's three and the answers' one; nothing was sent or received.
      expect(lines.find((l) => l.msg === 'pipeline connections opened')!.obj).toMatchObject({ opened: 4 });
      expect(sim.arrivals).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

/**
 * A loopback proxy to the test Postgres. `route` decides each connection (numbered from 1) in
 * turn: forwarded once it resolves, or held unanswered until the proxy closes. `url(user)` is the
 * test database's URL through the proxy.
 */
async function loopbackProxy(route: (n: number) => Promise<'forward' | 'hold'>): Promise<{ url(user?: string): string; close(): Promise<void> }> {
  const target = new URL(TEST_DATABASE_URL);
  const open = new Set<Socket>();
  let accepted = 0;
  const proxy = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    route(++accepted).then((how) => {
      if (how === 'hold' || client.destroyed) return;
      const upstream = connect(Number(target.port || 5432), target.hostname);
      open.add(upstream);
      client.pipe(upstream).pipe(client);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(upstream);
      };
      client.on('close', close);
      upstream.on('error', close).on('close', close);
    }, () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: (user) => {
      const url = new URL(TEST_DATABASE_URL);
      url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      if (user !== undefined) url.username = user;
      return url.toString();
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
