/**
 * `npm run chaos` (not in CI): 3 daemons, 20,000 messages with receipts and customer replies,
 * while a random daemon is killed (-9) and restarted every few seconds, the SMSC is dropped and
 * restarted, Redis is restarted and Postgres is restarted. Everything runs on private servers this
 * harness starts and stops: Redis on 21100, a Postgres cluster (initdb as the `postgres` OS user)
 * on 21200, the SMSC simulator in this process. Bounded: PARLEY_CHAOS_SECONDS (default 240).
 *
 * Ports can be moved with PARLEY_CHAOS_REDIS_PORT, PARLEY_CHAOS_PG_PORT and PARLEY_CHAOS_SMSC_PORT.
 *
 * The SMSC keeps its store across its restart (the simulator's stateFile), as a real one does: the
 * receipts of messages it accepted before the drop still come, so what is stuck is Parley's.
 *
 * Prints: accepted (XADD answered), final, lost (accepted, never final), sent twice (a message the
 * SMSC accepted more than once), of those flagged (possible_duplicate on a segment), stuck (in
 * Postgres, not final, at the end), resends after each chaos step (second submits of a message,
 * counted against the latest step before them), unmatched receipts (stored, matched to no message).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { openDb, migrateToLatest } from '../../src/store/db.ts';
import { startChild, killed } from '../support/child.ts';

const REDIS_PORT = Number(process.env.PARLEY_CHAOS_REDIS_PORT ?? 21100);
const PG_PORT = Number(process.env.PARLEY_CHAOS_PG_PORT ?? 21200);
const SMSC_PORT = Number(process.env.PARLEY_CHAOS_SMSC_PORT ?? 21101);
const MESSAGES = Number(process.env.PARLEY_CHAOS_MESSAGES ?? 20_000);
const DEADLINE_MS = Number(process.env.PARLEY_CHAOS_SECONDS ?? 240) * 1000;
const FEED_PER_SECOND = 400;
const started = Date.now();
const log = (line: string): void => {
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
};
const pause = (ms: number): Promise<void> => new Promise((r) => {
  setTimeout(r, ms);
});

const dir = mkdtempSync(join(tmpdir(), 'parley-chaos-'));
const pgData = join(dir, 'pg');
const redisDir = join(dir, 'redis');
const asPostgres = (cmd: string, args: string[]): string => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', timeout: 60_000 });

function chownTree(path: string): void {
  chownSync(path, uidOf('postgres'), gidOf('postgres'));
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f));
}
function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

let redisServer: ChildProcess | undefined;
function startRedis(): ChildProcess {
  // appendfsync always: a Redis restart keeps every XADD it answered, so "accepted" means durable.
  const p = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  return p;
}
async function stopRedis(): Promise<void> {
  try {
    execFileSync('redis-cli', ['-p', String(REDIS_PORT), 'shutdown'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // shutdown closes the connection before answering
  }
  if (redisServer) await killed(redisServer);
}
const pgCtl = (...args: string[]): string => asPostgres('pg_ctl', ['-D', pgData, '-w', '-t', '60', ...args]);

const daemons = new Map<string, ChildProcess>();
let sim: Simulator | undefined;
const arrivalsByMessage = new Map<string, number>();
let lastSeq = 0;
/** Each chaos step, when it happened (the simulator's clock) and the resends that followed it. */
const steps: { atMs: number; what: string; resends: number }[] = [{ atMs: 0, what: 'before any chaos', resends: 0 }];
const stepNow = (): number => performance.timeOrigin + performance.now();
function collectArrivals(): void {
  if (!sim) return;
  const { arrivals, last } = sim.arrivalsSince(lastSeq);
  lastSeq = last;
  for (const a of arrivals) {
    if (a.status !== 'accepted') continue;
    const m = /^chaos (\d+)/.exec(a.text);
    if (!m) continue;
    const n = (arrivalsByMessage.get(m[1]!) ?? 0) + 1;
    arrivalsByMessage.set(m[1]!, n);
    if (n > 1) {
      let step = steps[0]!;
      for (const s of steps) if (s.atMs <= a.atMs) step = s;
      step.resends++;
    }
  }
}
async function startSim(): Promise<void> {
  sim = await startSimulator({
    port: SMSC_PORT,
    controlPort: false,
    receiptDelayMs: 200,
    handset: { rules: [{ match: /please reply/, reply: 'YES' }] },
    // The SMSC's store survives its restart: pending receipts and replies, and the id counter.
    stateFile: join(dir, 'smsc-state.json'),
  });
  lastSeq = 0;
}

const databaseUrl = `postgres://postgres@127.0.0.1:${PG_PORT}/chaos`;
const redisUrl = `redis://127.0.0.1:${REDIS_PORT}`;
function daemonConfig(name: string): Record<string, unknown> {
  return {
    database: { url: databaseUrl, pool_size: 4 },
    redis: { url: redisUrl, prefix: 'parley:' },
    intake: { consumer: name, batch_size: 100, block: '200ms', claim_idle: '5s' },
    smscs: [{ name: 'sim', host: '127.0.0.1', port: SMSC_PORT, system_id: 'parley', password: 'secret', reconnect_min: '100ms', reconnect_max: '2s', window: 50 }],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 300, default_from: '12345' }],
    numbers: [{ address: '12345' }],
    shutdown: { grace: '1s', force: '5s' },
    // The sweep also matches the receipts of copies whose carrier ids died with a daemon; at the
    // default (1m) the harness would count them unmatched before it ran.
    receipts: { sweep_interval: '5s' },
  };
}
async function startDaemon(name: string): Promise<void> {
  const child = await startChild('test/support/daemon-child.ts', { PARLEY_TEST_CONFIG: JSON.stringify(daemonConfig(name)), PARLEY_TEST_SCHEMA: 'public' }, 60_000);
  daemons.set(name, child);
}

async function main(): Promise<void> {
  execFileSync('mkdir', ['-p', pgData, redisDir]);
  chownTree(dir);
  asPostgres('initdb', ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  pgCtl('-o', `-p ${PG_PORT} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`, '-l', join(dir, 'pg.log'), 'start');
  execFileSync('psql', ['-h', '127.0.0.1', '-p', String(PG_PORT), '-U', 'postgres', '-c', 'CREATE DATABASE chaos'], { stdio: 'ignore' });
  const db = openDb({ url: databaseUrl, poolSize: 2 });
  await migrateToLatest(db, 'public');
  redisServer = startRedis();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // The feed's connection sees each Redis restart: one line per error, not ioredis's unhandled-error dump.
  redis.on('error', (err: Error) => log(`feed: redis ${err.message}`));
  await redis.ping();
  await startSim();
  for (const n of ['chaos-a', 'chaos-b', 'chaos-c']) await startDaemon(n);
  log('3 daemons up');

  // Feed: 20,000 messages at FEED_PER_SECOND, every 10th asking for a reply.
  let accepted = 0;
  const feed = (async () => {
    for (let i = 0; i < MESSAGES && Date.now() - started < DEADLINE_MS; i += FEED_PER_SECOND / 10) {
      const batch = [];
      for (let j = i; j < Math.min(MESSAGES, i + FEED_PER_SECOND / 10); j++) {
        batch.push({ id: `chaos-${j}`, to: `+1415555${String(j % 10_000).padStart(4, '0')}`, text: `chaos ${j}${j % 10 === 0 ? ' please reply' : ''}` });
      }
      for (;;) {
        try {
          const p = redis.pipeline();
          for (const m of batch) p.xadd('parley:outbound', '*', 'payload', JSON.stringify(m));
          const res = await p.exec();
          accepted += res?.filter(([e]) => !e).length ?? 0;
          break;
        } catch {
          await pause(200);
        }
      }
      await pause(100);
    }
  })();

  // Chaos: a step every 3 s.
  const plan = ['kill', 'kill', 'smsc', 'kill', 'redis', 'kill', 'postgres'];
  let step = 0;
  const chaosUntil = started + Math.min(DEADLINE_MS / 2, 90_000);
  while (Date.now() < chaosUntil) {
    await pause(3000);
    collectArrivals();
    const what = plan[step++ % plan.length]!;
    try {
      if (what === 'kill') {
        const names = [...daemons.keys()];
        const name = names[Math.floor(Math.random() * names.length)]!;
        steps.push({ atMs: stepNow(), what: `kill -9 ${name} at ${((Date.now() - started) / 1000).toFixed(1)} s`, resends: 0 });
        await killed(daemons.get(name)!);
        daemons.delete(name);
        log(`kill -9 ${name}`);
        await pause(1000);
        for (let attempt = 1; attempt <= 5; attempt++) {
          try {
            await startDaemon(name);
            log(`${name} restarted`);
            break;
          } catch (err) {
            log(`${name} did not start (${(err as Error).message.split('\n')[0]}); retrying`);
            await pause(2000);
          }
        }
      } else if (what === 'smsc') {
        collectArrivals();
        steps.push({ atMs: stepNow(), what: `SMSC dropped at ${((Date.now() - started) / 1000).toFixed(1)} s`, resends: 0 });
        await sim!.stop();
        log('SMSC dropped');
        await pause(2000);
        await startSim();
        log('SMSC restarted');
      } else if (what === 'redis') {
        steps.push({ atMs: stepNow(), what: `Redis restarted at ${((Date.now() - started) / 1000).toFixed(1)} s`, resends: 0 });
        await stopRedis();
        log('Redis stopped');
        await pause(2000);
        redisServer = startRedis();
        log('Redis restarted');
      } else {
        steps.push({ atMs: stepNow(), what: `Postgres restarted at ${((Date.now() - started) / 1000).toFixed(1)} s`, resends: 0 });
        pgCtl('-m', 'fast', 'restart', '-l', join(dir, 'pg.log'));
        log('Postgres restarted');
      }
    } catch (err) {
      log(`chaos step ${what} failed: ${(err as Error).message}`);
    }
  }
  await feed;
  log(`feed done: ${accepted} accepted; waiting for every message to be final`);
  const FINAL = ['delivered', 'partially_delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'unknown'];
  const counts = async (): Promise<{ rows: number; final: number }> => {
    const r = await sql<{ rows: string; final: string }>`
      SELECT count(*)::text AS rows, count(*) FILTER (WHERE status IN (${sql.join(FINAL.map((s) => sql`${s}`))}))::text AS final
      FROM messages WHERE id LIKE 'chaos-%'`.execute(db);
    return { rows: Number(r.rows[0]!.rows), final: Number(r.rows[0]!.final) };
  };
  let c = { rows: 0, final: 0 };
  while (Date.now() - started < DEADLINE_MS) {
    collectArrivals();
    try {
      c = await counts();
    } catch {
      // Postgres may still be coming back
    }
    if (c.final >= accepted) break;
    await pause(2000);
  }
  collectArrivals();
  c = await counts();
  // Receipts of copies whose carrier ids were lost are matched by the sweep after 5 s pending:
  // give it a bounded while before counting what stays unmatched.
  const unmatchedNow = async (): Promise<number> =>
    Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM receipts WHERE message_id IS NULL`.execute(db)).rows[0]!.n);
  for (const settleBy = Date.now() + 30_000; Date.now() < settleBy && (await unmatchedNow()) > 0; ) await pause(1000);
  const twice = [...arrivalsByMessage].filter(([, n]) => n > 1).map(([i]) => `chaos-${i}`);
  let flagged = 0;
  if (twice.length > 0) {
    const r = await sql<{ n: string }>`
      SELECT count(DISTINCT message_id)::text AS n FROM segments WHERE possible_duplicate AND message_id IN (${sql.join(twice.map((id) => sql`${id}`))})`.execute(db);
    flagged = Number(r.rows[0]!.n);
  }
  const replies = await sql<{ n: string }>`SELECT count(*)::text AS n FROM replies`.execute(db).then((r) => Number(r.rows[0]!.n)).catch(() => -1);
  const receipts = await sql<{ n: string; unmatched: string }>`
    SELECT count(*)::text AS n, count(*) FILTER (WHERE message_id IS NULL)::text AS unmatched FROM receipts`.execute(db);
  const resendLines = steps.map((s) => `    ${s.what}: ${s.resends}`).join('\n');
  const status = await sql<{ status: string; n: string }>`SELECT status, count(*)::text AS n FROM messages GROUP BY status ORDER BY status`.execute(db);
  process.stdout.write(
    `\nchaos result after ${((Date.now() - started) / 1000).toFixed(0)} s\n` +
      `  accepted      ${accepted}\n` +
      `  final         ${c.final}\n` +
      `  lost          ${accepted - c.final}  (accepted, never final; ${accepted - c.rows} never reached Postgres)\n` +
      `  sent twice    ${twice.length}\n` +
      `    of those flagged  ${flagged}\n` +
      `  stuck         ${c.rows - c.final}  (in Postgres, not final)\n` +
      `  customer replies stored ${replies}\n` +
      `  receipts stored ${receipts.rows[0]!.n}, unmatched ${receipts.rows[0]!.unmatched}\n` +
      `  resends (second submits of a message) after each chaos step:\n${resendLines}\n` +
      `  statuses      ${status.rows.map((r) => `${r.status} ${r.n}`).join(', ')}\n`,
  );
  redis.disconnect();
  await db.destroy();
}

async function cleanup(): Promise<void> {
  for (const child of daemons.values()) await killed(child);
  await sim?.stop().catch(() => undefined);
  await stopRedis().catch(() => undefined);
  try {
    pgCtl('-m', 'immediate', 'stop');
  } catch {
    // not running
  }
  rmSync(dir, { recursive: true, force: true });
}

const watchdog = setTimeout(() => {
  log('deadline passed; stopping');
  cleanup().then(
    () => process.exit(2),
    (err: unknown) => {
      log(`cleanup after the deadline failed: ${(err as Error).stack ?? String(err)}`);
      process.exit(2);
    },
  );
}, DEADLINE_MS + 60_000);
main()
  .then(cleanup, async (err: unknown) => {
    log(`chaos harness failed: ${(err as Error).stack ?? String(err)}`);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
