/**
 * Runs the CLI as a subprocess (`node --import tsx src/cli/index.ts …`, as bin/parley does) against
 * a database and a Redis prefix of its own. The CLI takes its database from the config file only
 * (no Postgres schema), so each test file gets a fresh database `parley_cli_<random>`, made by
 * `parley migrate` itself, and drops it afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { dropRedisPrefix, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../../support/services.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

/** The environment a CLI subprocess starts with: ours without the variables that would redirect it. */
function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PARLEY_CONFIG', 'DATABASE_URL', 'REDIS_URL', 'NODE_OPTIONS']) delete env[name];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `parley <args>` and hands back the child with its output collected. */
export function spawnCli(args: readonly string[], options: RunOptions = {}): { child: ChildProcess; result: Promise<CliResult>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    cwd: ROOT,
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const result = new Promise<CliResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, result, output: () => stdout + stderr };
}

export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).result;
}

/** Resolves once `check` is true of the child's output so far. */
export async function waitForOutput(output: () => string, check: (text: string) => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check(output())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for output; so far:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A URL on the test Postgres server naming another database. */
export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const found = await adminQuery(`SELECT 1 FROM pg_database WHERE datname = ${pg.escapeLiteral(name)}`);
  return (found.rowCount ?? 0) > 0;
}

/** Everything one test file needs: a database name (not created), a Redis prefix, a temp dir for configs. */
export interface CliWorld {
  readonly database: string;
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly redisUrl: string;
  readonly dir: string;
  /** Writes a config file (YAML text) into the temp dir and returns its path. */
  writeConfig(name: string, yaml: string): string;
  /** A valid config: this world's database and prefix, one SMSC at `smscPort`, fast intake and shutdown. */
  configYaml(options: { smscPort: number; httpPort: number; password?: string; database?: string }): string;
  cleanup(): Promise<void>;
}

export function createWorld(): CliWorld {
  const database = uniqueName('parley_cli');
  const prefix = `${uniqueName('parley_cli')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  const extraDatabases: string[] = [];
  const world: CliWorld = {
    database,
    databaseUrl: databaseUrl(database),
    prefix,
    redisUrl: TEST_REDIS_URL,
    dir,
    writeConfig(name, yaml) {
      const path = join(dir, name);
      writeFileSync(path, yaml);
      return path;
    },
    configYaml({ smscPort, httpPort, password = '', database: db = database }) {
      if (db !== database) extraDatabases.push(db);
      return [
        `database: { url: "${databaseUrl(db)}", pool_size: 2 }`,
        `redis: { url: "${TEST_REDIS_URL}", prefix: "${prefix}" }`,
        `http: { listen: "127.0.0.1:${httpPort}" }`,
        'log: { level: info }',
        'intake: { block: 100ms }',
        'store: { batch_delay: 2ms }',
        'shutdown: { grace: 2s, force: 8s }',
        'smscs:',
        '  - name: sim',
        '    host: 127.0.0.1',
        `    port: ${smscPort}`,
        '    system_id: parley',
        `    password: ${JSON.stringify(password)}`,
        '    reconnect_min: 100ms',
        '    reconnect_max: 1s',
        'routes:',
        '  - name: default',
        '    prefixes: ["*"]',
        '    smscs: [sim]',
        '    tps: 100',
        'numbers:',
        '  - address: "12345"',
        '',
      ].join('\n');
    },
    async cleanup() {
      for (const db of [database, ...extraDatabases]) await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
      await dropRedisPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
