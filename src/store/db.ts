/**
 * The Postgres connection, migrations and database creation. `store/` is the only folder that
 * imports pg and kysely.
 */
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './tables.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { ParleyError } from '../lib/errors.ts';
import { sleep } from '../lib/timeout.ts';
import { prepareRepeatedStatements } from './repeated-statements.ts';
import { planBatchesGeneric } from './generic-plans.ts';
import { writeArrayParameters } from './array-parameters.ts';

export type Db = Kysely<Database>;

export interface DbOptions {
  url: string;
  poolSize?: number;
  /** Postgres schema holding Parley's tables; tests use one each to run in parallel. */
  schema?: string;
  /**
   * Told when a pooled connection breaks, idle or checked out (57P01 on a restart, ECONNRESET, a
   * failover). The pool drops that connection and the next query opens a new one; the statement
   * that was running on it fails with a transient fault its caller retries.
   */
  onIdleError?: (err: Error) => void;
  /** How long opening a connection may take before the query fails (a transient fault). Default 10 s. */
  connectTimeoutMs?: number;
  /** Repeated statements prepared once per connection (store/repeated-statements.ts). Default true. */
  preparedStatements?: boolean;
  /** With preparedStatements, the batch statements planned generic from their first run (store/generic-plans.ts). Default true. */
  genericPlans?: boolean;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function openDb(options: DbOptions): Db {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new ParleyError('invalid_schema', `schema name ${schema} is not a plain identifier`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // A peer that vanished without a FIN (a failover, a dropped route) is found by TCP keepalive
    // instead of a query waiting for ever.
    keepAlive: true,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would end the process. The next query reconnects.
  const told = new WeakSet<Error>();
  const tell = (err: Error): void => {
    // An idle client's error reaches both listeners: tell it once.
    if (told.has(err)) return;
    told.add(err);
    options.onIdleError?.(err);
  };
  pool.on('error', tell);
  // A client checked out of the pool (inside a transaction, between two statements) has no pool
  // listener: pg emits 'error' on the client itself when the server ends it (57P01 on
  // `pg_ctl restart`), and an 'error' nobody listens to ends the process. Every client gets a
  // listener of its own for its whole life; the statement in flight still fails (and is retried
  // by its caller), and the pool discards the client when it is released, as it is no longer
  // queryable.
  pool.on('connect', (client) => {
    client.on('error', tell);
    if (options.preparedStatements !== false) {
      prepareRepeatedStatements(client);
      // Around the preparing wrapper: it sees every statement as (text, values).
      if (options.genericPlans !== false) planBatchesGeneric(client);
    }
    // Outermost, so that the prepared path gets the literals too.
    writeArrayParameters(client);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Creates the database named in the URL when it does not exist. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new ParleyError('invalid_database_url', `database URL ${target.origin} names no database`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  // The server going away mid-command rejects the command; without a listener the same error
  // emitted as an event would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new ParleyError('database_unreachable', `cannot reach Postgres at ${target.host}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } catch (err) {
    // Two daemons migrating at once: the loser's CREATE fails with duplicate_database.
    if ((err as { code?: string }).code === '42P04') return false;
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * Each migration in a transaction of its own, except those that cannot run in one (CREATE INDEX
 * CONCURRENTLY): the Migrator itself runs without a transaction (its lock is a session-level
 * advisory lock, so it still keeps two migrators apart) and each transactional migration opens
 * its own.
 */
const provider: MigrationProvider = {
  getMigrations: async () =>
    Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
        name,
        m.transactional === false
          ? { up: m.up, down: m.down }
          : {
              up: (db) => db.transaction().execute((trx) => m.up(trx)),
              down: m.down ? (db) => db.transaction().execute((trx) => m.down!(trx)) : undefined,
            },
      ]),
    ),
};

function migrator(db: Db, schema: string): Migrator {
  // Numbers are reserved per change, so one merged later may sort before one already applied
  // (0008 after 0010): it is applied then, instead of refusing the database. Every migration
  // only adds, so their order between branches does not matter.
  return new Migrator({ db, provider, migrationTableSchema: schema, disableTransactions: true, allowUnorderedMigrations: true });
}

export interface MigrationState {
  readonly name: string;
  /** When it was applied; null while pending. */
  readonly appliedAt: Date | null;
}

/** Every migration Parley knows, in order, with when it was applied (`parley migrate --status`). */
export async function migrationStatus(db: Db, schema = 'public'): Promise<MigrationState[]> {
  const table = `${schema}.kysely_migration`;
  const exists = await sql<{ found: string | null }>`SELECT to_regclass(${table}) AS found`.execute(db);
  const applied = new Map<string, Date>();
  if (exists.rows[0]?.found) {
    const rows = await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM ${sql.table(table)}`.execute(db);
    for (const r of rows.rows) applied.set(r.name, new Date(r.timestamp));
  }
  return Object.keys(MIGRATIONS)
    .sort()
    .map((name) => ({ name, appliedAt: applied.get(name) ?? null }));
}

/** Applies the migrations up to and including `target` (tests build older schemas with it). */
export async function migrateUpTo(db: Db, target: string, schema = 'public'): Promise<string[]> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  const { error, results } = await migrator(db, schema).migrateTo(target);
  if (error) throw new ParleyError('migration_failed', `migrating to ${target} failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: Db, schema = 'public'): Promise<string[]> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  // Each attempt reports only what it applied itself: what an attempt applied before it failed
  // (0008, then a deadlock in 0009's index build) is not in the next attempt's results.
  const applied: string[] = [];
  const run = async () => {
    const outcome = await migrator(db, schema).migrateToLatest();
    for (const r of outcome.results ?? []) if (r.status === 'Success') applied.push(r.migrationName);
    return outcome;
  };
  let outcome = await run();
  // Two causes of failure that are not the migration's, each tried again a few times:
  // - kysely's Migrator introspects every schema; one dropped meanwhile (by anyone) fails the scan.
  // - kysely's migration lock is one session advisory lock for the whole database. A migrator
  //   holding it while building an index CONCURRENTLY (a big table, in any schema) waits for every
  //   older transaction, among them another migrator's statement waiting for that lock: Postgres
  //   ends the waiting one as a deadlock before it did anything. Seen when two schemas (test files
  //   running side by side, or daemons of two schemas starting at once) migrate together.
  const notOurs = /schema ".*" does not exist|deadlock detected/;
  for (let attempt = 1; attempt < 5 && outcome.error && notOurs.test(String((outcome.error as Error).message)); attempt++) {
    await sleep(50 * attempt);
    outcome = await run();
  }
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ParleyError('migration_failed', `migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
  return applied;
}

/**
 * Names of migrations not yet applied; `parley start` refuses to run while any remain. Read
 * directly rather than through kysely's Migrator, which introspects every schema of the database
 * and fails when another schema is dropped at that moment.
 */
export async function pendingMigrations(db: Db, schema = 'public'): Promise<string[]> {
  const table = `${schema}.kysely_migration`;
  const exists = await sql<{ found: string | null }>`SELECT to_regclass(${table}) AS found`.execute(db);
  const applied = new Set<string>();
  if (exists.rows[0]?.found) {
    const rows = await sql<{ name: string }>`SELECT name FROM ${sql.table(table)}`.execute(db);
    for (const r of rows.rows) applied.add(r.name);
  }
  return Object.keys(MIGRATIONS)
    .sort()
    .filter((name) => !applied.has(name));
}

export interface DbProbe {
  /** Resolves when Postgres answers `SELECT 1` on the probe's own connection. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A connection of its own for health probes: a pool busy with (or waiting on) the pipelines'
 * work would make a probe wait behind them and report a Postgres that answers as down. The
 * connection is opened on demand and replaced when it breaks; its errors never go unheard.
 */
export function openDbProbe(url: string, connectTimeoutMs = 2000): DbProbe {
  let client: pg.Client | undefined;
  let closed = false;
  const drop = (c: pg.Client): void => {
    if (client === c) client = undefined;
    c.end().catch(() => undefined);
  };
  return {
    async probe() {
      if (closed) throw new ParleyError('probe_closed', 'the Postgres probe is closed');
      if (!client) {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
        c.on('error', () => drop(c));
        client = c;
        try {
          await c.connect();
        } catch (err) {
          drop(c);
          throw err;
        }
      }
      const c = client;
      try {
        await c.query('SELECT 1');
      } catch (err) {
        drop(c);
        throw err;
      }
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
