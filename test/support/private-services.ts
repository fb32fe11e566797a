/**
 * A Postgres cluster or a redis-server of a test's own, on a port of its own, that the test may
 * restart, stop and start at will (fault injection) without disturbing the shared services.
 *
 * Postgres refuses to run as root: when the tests run as root, initdb and pg_ctl run as the
 * `postgres` OS user (runuser), and the data directory under os.tmpdir() is handed to it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';

const run = promisify(execFile);

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error('no Postgres server binaries under /usr/lib/postgresql/*/bin');
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', name])).stdout.trim());
  const gid = Number((await run('id', ['-g', name])).stdout.trim());
  return { uid, gid };
}

export interface PrivatePostgres {
  readonly port: number;
  /** URL of the `postgres` database on this cluster (trust authentication). */
  readonly url: string;
  /** pg_ctl restart -m fast: every connection is ended with 57P01. */
  restart(): Promise<void>;
  /** pg_ctl stop -m fast. */
  stop(): Promise<void>;
  /** Starts the cluster unless it runs. */
  start(): Promise<void>;
  /** Stops the cluster (if running) and deletes its data directory. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(tmpdir(), `parley-pg-${port}-`));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await userIds('postgres');
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'log');
  const exec = async (tool: string, args: string[]): Promise<void> => {
    const file = path.join(bin, tool);
    if (asRoot) await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 60_000 });
    else await run(file, args, { timeout: 60_000 });
  };
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  // fsync off: the test is about connections dying, not about the disk.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=50`;
  let running = false;
  const ctl = async (...args: string[]): Promise<void> => exec('pg_ctl', ['-D', data, '-l', log, '-o', serverOptions, ...args]);
  const cluster: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await ctl('-m', 'fast', '-w', 'restart');
      running = true;
    },
    async stop() {
      await ctl('-m', 'fast', '-w', 'stop');
      running = false;
    },
    async start() {
      if (running) return;
      await ctl('-w', 'start');
      running = true;
    },
    async destroy() {
      if (running) await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return cluster;
}

/** True when `SELECT 1` answers on the URL. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL) and starts a new one on the same port: without persistence, every key is gone. */
  restartEmpty(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A redis-server without persistence (`--save "" --appendonly no`) on 127.0.0.1:port. */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  let child: ChildProcess | undefined;
  const waitUntilUp = async (): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: 'ignore',
    });
    await waitUntilUp();
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async restartEmpty(downMs = 200) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop,
    start,
    destroy: stop,
  };
}
