/**
 * Per-test isolation on the shared Postgres and Redis: each test file gets its own Postgres schema
 * and Redis key prefix, so files run in parallel without seeing each other.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql, type Transaction } from 'kysely';
import { Redis } from 'ioredis';
import { openDb, migrateToLatest, type Db } from '../../src/store/db.ts';
import { validateConfig } from '../../src/config/validate.ts';
import type { ParleyConfig } from '../../src/config/types.ts';
import type { Database } from '../../src/store/tables.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client of its own on the test database (no pool, no wrappers), ended after `use`. */
export async function withTestClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Whether a backend is seen waiting, within `timeoutMs`, for a lock of `locktype` (pg_locks:
 * 'advisory', 'transactionid', ...) that the backend `blockedBy` holds: the premise of a test that
 * makes a statement wait on purpose, checked before the test goes on. Only waits on that holder
 * count: test files run side by side in one database, and another's wait is not this test's.
 */
export async function lockWaitSeen(db: Db, locktype: string, blockedBy: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = ${locktype} AND NOT granted AND ${blockedBy}::int = ANY (pg_blocking_pids(pid))`.execute(db);
    if (res.rows[0]!.n > 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The backend serving `db` (a transaction, a connection). */
export async function backendPid(db: Db | Transaction<Database>): Promise<number> {
  return (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
}

export interface TestSchema {
  readonly schema: string;
  readonly db: Db;
  /** Another pool on this schema (a second daemon's, say); drop() closes it. */
  openPool(poolSize: number): Db;
  drop(): Promise<void>;
}

/** A new schema with every migration applied. */
export async function freshSchema(): Promise<TestSchema> {
  const schema = uniqueName('t');
  const db = openDb({ url: TEST_DATABASE_URL, schema, poolSize: 4 });
  // kysely's migrator looks through every schema of the database; another test file dropping its
  // own schema at that moment makes the lookup fail. That is a test-only race: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateToLatest(db, schema);
      break;
    } catch (err) {
      if (attempt >= 5 || !/does not exist/.test(String((err as Error).message))) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  const pools: Db[] = [];
  return {
    schema,
    db,
    openPool: (poolSize) => {
      const pool = openDb({ url: TEST_DATABASE_URL, schema, poolSize });
      pools.push(pool);
      return pool;
    },
    drop: async () => {
      for (const pool of pools.splice(0)) await pool.destroy();
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}

/** Deletes every key under the prefix. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * A validated config for tests from a raw (YAML-shaped, snake_case) object, pointing at the test
 * Postgres and Redis with the given prefix.
 */
export function testConfig(raw: Record<string, unknown>, prefix: string): ParleyConfig {
  return validateConfig({
    database: { url: TEST_DATABASE_URL, pool_size: 4 },
    redis: { url: TEST_REDIS_URL, prefix },
    http: { listen: '127.0.0.1:19464' },
    intake: { consumer: uniqueName('c'), block: '100ms', claim_idle: '2s' },
    ...raw,
  });
}
