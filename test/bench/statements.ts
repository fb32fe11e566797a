/**
 * The hot path's store calls one at a time, on one Postgres connection, with no daemon, SMSC or
 * Redis running: what each costs the Postgres backend and this process, per message and per call,
 * at the batch sizes given.
 *
 *   npm run bench:statements -- [--messages 20000] [--sizes 1,10,100] [--per 2000] [--rounds 3]
 *
 * `npm run bench` measures the whole pipeline, where four processes share two cores: its CPU per
 * message moved by 10-20% between runs of the same build, too much to see a change of a few per
 * cent in one statement. Here one message's life is its five store calls, in the daemon's order
 * (insertMessages, markAttempted, recordAnswers, recordSubmits, storeReceipts), each timed alone:
 *   postgres µs   the backend's time on a CPU (/proc/PID/schedstat, nanoseconds) across the call;
 *   node µs       this process's user + system CPU across the call (pg, kysely, Parley's store);
 *   WAL B         pg_current_wal_insert_lsn() before and after the call, cluster-wide (an upper
 *                 bound when something else writes meanwhile), read on a second connection.
 * The tables are filled first (--messages, through the same calls in batches of 500) and analyzed
 * with the sample the daemon's planner-statistics job takes; each round then takes --per messages through the
 * five calls at each size in turn (rounds alternate the sizes, so that a busy moment of the
 * machine spreads over them), and the figures are the medians over the rounds. Per call and per
 * message are fitted over the sizes (least squares: cost of a call = fixed + per message × size):
 * the fixed part is what a small batch (two-way, light load) pays for each call.
 *
 * Postgres must run on this machine (its backend's /proc entry is read), as in `npm run bench`.
 * Nothing is asserted; A/B a change by running this before and after, or alternately from two
 * work trees.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { freshSchema } from '../support/services.ts';
import { acceptedSegment, carrierReceipt } from '../support/receipt-records.ts';
import { insertMessages, markAttempted, recordAnswers, recordSubmits } from '../../src/store/messages.ts';
import { storeReceipts } from '../../src/store/receipts.ts';
import { HOT_PATH_TABLES, STATISTICS_TARGET } from '../../src/store/planner-statistics.ts';
import type { Db } from '../../src/store/db.ts';
import type { RoutedMessage } from '../../src/domain/routed-message.ts';
import type { SegmentRecord } from '../../src/domain/segment.ts';
import { fmt, fmtInt, machineLine, numberFlag, stringFlag, table, walBytesSince, walLsn } from './bench-support.ts';
import { median } from './issue-goals.ts';

const STAGES = ['intake', 'dispatch', 'answers', 'submitted', 'receipts'] as const;
type Stage = (typeof STAGES)[number];

/** What one round measured for one stage at one size. */
interface Cost {
  postgresUs: number;
  nodeUs: number;
  walBytes: number;
  calls: number;
  messages: number;
}

const zero = (): Cost => ({ postgresUs: 0, nodeUs: 0, walBytes: 0, calls: 0, messages: 0 });

/**
 * Least squares of y = fixed + perItem × x over the points: what a call costs whatever its size,
 * and what each item adds. Undefined with fewer than two distinct sizes.
 */
export function fitCallCost(points: readonly { size: number; perCall: number }[]): { fixed: number; perItem: number } | undefined {
  const n = points.length;
  if (new Set(points.map((p) => p.size)).size < 2) return undefined;
  const mx = points.reduce((s, p) => s + p.size, 0) / n;
  const my = points.reduce((s, p) => s + p.perCall, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.size - mx) * (p.perCall - my), 0);
  const sxx = points.reduce((s, p) => s + (p.size - mx) ** 2, 0);
  const perItem = sxy / sxx;
  return { fixed: my - perItem * mx, perItem };
}

/** The backend's time on a CPU so far, µs (first field of schedstat: nanoseconds). */
function backendCpuUs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}

/** Messages `from`..`from + n - 1`, each to a customer of its own from one of our numbers, as intake stores them. */
function messages(from: number, n: number): RoutedMessage[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { id: `bench-${i}`, to: `+1415${String(i).padStart(7, '0')}`, from: '12345', text: `Your code is ${i % 10_000}`, route: 'default', dlr: true, priority: 0 };
  });
}

/**
 * One message's life in the store, as the daemon's calls make it, for a batch: each call timed
 * alone when `into` is given.
 */
async function lifeOfBatch(db: Db, probe: Db, pid: number, batch: readonly RoutedMessage[], into?: Map<Stage, Cost>): Promise<void> {
  const ids = batch.map((m) => m.id);
  const segments: SegmentRecord[] = ids.map((id) => acceptedSegment(id, `carrier-${id}`));
  const calls: Record<Stage, () => Promise<unknown>> = {
    intake: () => insertMessages(db, 'bench', batch),
    dispatch: () => markAttempted(db, ids),
    answers: () => recordAnswers(db, segments),
    submitted: () =>
      recordSubmits(
        db,
        segments,
        ids.map((id) => ({ id, status: 'submitted' as const, previous: 'queued' as const, smsc: 'sim', segments: 1, route: 'default' })),
      ),
    receipts: () => storeReceipts(db, ids.map((id) => carrierReceipt(`carrier-${id}`, 'DELIVRD', 'delivered'))),
  };
  for (const stage of STAGES) {
    if (!into) {
      await calls[stage]();
      continue;
    }
    const lsn = await walLsn(probe);
    const pg0 = backendCpuUs(pid);
    const node0 = process.cpuUsage();
    await calls[stage]();
    const node = process.cpuUsage(node0);
    const pg1 = backendCpuUs(pid);
    const wal = await walBytesSince(probe, lsn);
    const c = into.get(stage) ?? zero();
    c.postgresUs += pg1 - pg0;
    c.nodeUs += node.user + node.system;
    c.walBytes += wal;
    c.calls += 1;
    c.messages += batch.length;
    into.set(stage, c);
  }
}

/**
 * Analyzes the hot tables as the daemon's planner-statistics job does (its sample size). Not
 * through that job: it picks tables by pg_stat_user_tables, which a backend brings up to date
 * only every second or so, and the fill's last counts would not be there yet.
 */
async function analyzeHotTables(db: Db): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`SET LOCAL default_statistics_target = ${sql.lit(STATISTICS_TARGET)}`.execute(tx);
    for (const table of HOT_PATH_TABLES) await sql`ANALYZE ${sql.table(table)}`.execute(tx);
  });
}

interface Options {
  readonly messages: number;
  readonly sizes: readonly number[];
  readonly per: number;
  readonly rounds: number;
}

async function run(o: Options): Promise<void> {
  const schema = await freshSchema();
  // One connection: every call runs on the backend whose CPU is read.
  const db = schema.openPool(1);
  try {
    const pid = (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
    const started = Date.now();
    let next = 0;
    for (; next < o.messages; next += 500) await lifeOfBatch(db, schema.db, pid, messages(next, Math.min(500, o.messages - next)));
    await analyzeHotTables(db);
    console.log(`filled: ${fmtInt(o.messages)} messages through the five calls in batches of 500 (${fmt((Date.now() - started) / 1000)} s), analyzed`);

    // rounds[r][size] = costs per stage
    const rounds: Map<number, Map<Stage, Cost>>[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const bySize = new Map<number, Map<Stage, Cost>>();
      const order = r % 2 === 0 ? o.sizes : [...o.sizes].reverse();
      for (const size of order) {
        const costs = new Map<Stage, Cost>();
        for (let done = 0; done < o.per; done += size, next += size) await lifeOfBatch(db, schema.db, pid, messages(next, size), costs);
        bySize.set(size, costs);
      }
      rounds.push(bySize);
    }
    const stillOurs = (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
    if (stillOurs !== pid) throw new Error('the connection was opened again mid-run: its backend CPU was not all read');
    report(o, rounds);
  } finally {
    await schema.drop();
  }
}

function report(o: Options, rounds: readonly Map<number, Map<Stage, Cost>>[]): void {
  const med = (size: number, stage: Stage | 'all', pick: (c: Cost) => number, perMessage: boolean): number =>
    median(
      rounds.map((r) => {
        const costs = [...(r.get(size)?.entries() ?? [])].filter(([s]) => stage === 'all' || s === stage).map(([, c]) => c);
        const total = costs.reduce((s, c) => s + pick(c), 0);
        const denominator = stage === 'all' ? (costs[0]?.messages ?? 0) : perMessage ? (costs[0]?.messages ?? 0) : (costs[0]?.calls ?? 0);
        return total / denominator;
      }),
    );
  const rows: string[][] = [];
  for (const stage of [...STAGES, 'all' as const]) {
    for (const size of o.sizes) {
      rows.push([
        stage === 'all' ? 'a message, all five' : stage,
        String(size),
        fmt(med(size, stage, (c) => c.postgresUs, true)),
        fmt(med(size, stage, (c) => c.nodeUs, true)),
        fmtInt(med(size, stage, (c) => c.walBytes, true)),
        stage === 'all' ? '-' : fmtInt(med(size, stage, (c) => c.postgresUs, false)),
        stage === 'all' ? '-' : fmtInt(med(size, stage, (c) => c.nodeUs, false)),
      ]);
    }
  }
  console.log(`\nper message and per call, medians of ${o.rounds} rounds of ${fmtInt(o.per)} messages per size:`);
  console.log(table(['call', 'batch', 'postgres µs/msg', 'node µs/msg', 'WAL B/msg', 'postgres µs/call', 'node µs/call'], rows));
  const fits: string[][] = [];
  for (const stage of STAGES) {
    const fit = (pick: (c: Cost) => number) => fitCallCost(o.sizes.map((size) => ({ size, perCall: med(size, stage, pick, false) })));
    const pg = fit((c) => c.postgresUs);
    const node = fit((c) => c.nodeUs);
    fits.push([stage, fmt(pg?.fixed ?? Number.NaN, 0), fmt(pg?.perItem ?? Number.NaN), fmt(node?.fixed ?? Number.NaN, 0), fmt(node?.perItem ?? Number.NaN)]);
  }
  console.log('\ncost of a call = fixed + per message × batch (least squares over the sizes above):');
  console.log(table(['call', 'postgres fixed µs', 'postgres µs/msg', 'node fixed µs', 'node µs/msg'], fits));
  console.log(`  postgres: the backend's on-CPU time (schedstat); node: this process; WAL cluster-wide. ${machineLine()}`);
}

function sizesFlag(): number[] {
  const sizes = stringFlag('sizes', '1,10,100')
    .split(',')
    .map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 500)) {
    throw new Error('--sizes takes batch sizes from 1 to 500, comma-separated (e.g. 1,10,100)');
  }
  return sizes;
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (process.argv.includes('--help')) {
    console.log(readFileSync(SELF, 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, ''));
    process.exit(0);
  }
  const options: Options = {
    messages: numberFlag('messages', 20_000),
    sizes: sizesFlag(),
    per: Math.max(1, numberFlag('per', 2_000)),
    rounds: Math.max(1, numberFlag('rounds', 3)),
  };
  run(options).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
