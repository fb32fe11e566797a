/**
 * The hot path's store calls one at a time, on one Postgres connection, with no daemon, SMSC or
 * Redis running: what each costs the Postgres backend and this process, per message and per call,
 * at the batch sizes given.
 *
 *   npm run bench:statements -- [--messages 20000] [--sizes 1,10,100] [--per 2000] [--rounds 3]
 *                               [--against "SQL; SQL"]
 *
 * `npm run bench` measures the whole pipeline, where four processes share two cores: its CPU per
 * message moved by 10-20% between runs of the same build, too much to see a change of a few per
 * cent in one statement. Here one message's life is its five store calls, in the daemon's order
 * (insertMessages, markAttempted, recordAnswers with the status changes it can apply, recordSubmits
 * with the rest, storeReceipts), each timed alone:
 *   postgres µs   the backend's time on a CPU (/proc/PID/schedstat, nanoseconds) across the call;
 *   node µs       this process's user + system CPU across the call (pg, kysely, Parley's store);
 *   WAL B         pg_current_wal_lsn() before and after the call, cluster-wide (an upper bound
 *                 when something else writes meanwhile), read on a second connection.
 * The tables are filled first (--messages, through the same calls in batches of 500) and analyzed
 * with the sample the daemon's planner-statistics job takes; each round then takes --per messages
 * through the five calls at each size in turn (rounds alternate the order of the sizes, so that a
 * busy moment of the machine spreads over them), and the figures are the medians over the rounds.
 * Per call and per message are fitted over the sizes (least squares: cost of a call = fixed + per
 * message × size): the fixed part is what a small batch (two-way, light load) pays for each call.
 * A first round of 200 messages per size is not counted (the code of each size compiled, the
 * plans made).
 *
 * With --against, a second schema is filled the same way and then changed by the SQL given
 * (statements separated by `;`, say `DROP INDEX messages_thread`, or a column's new collation);
 * the two take the same messages turn about, in slices of about 100, and each figure is printed
 * for both with their ratio. Even CPU time moves by 10-20% between runs minutes apart on this
 * machine (its neighbours, its caches): two schemas timed turn about in one run share those
 * moments, two runs do not.
 *
 * Postgres must run on this machine (its backend's /proc entry is read), as in `npm run bench`.
 * Nothing is asserted. A change of code (not of schema) is A/B'd by runs from two work trees,
 * alternated (`npm run bench:ab` does that for the whole pipeline).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { backendPid, freshSchema } from '../support/services.ts';
import { acceptedSegment, carrierReceipt } from '../support/receipt-records.ts';
import { insertMessages, markAttempted, recordAnswers, recordSubmits } from '../../src/store/messages.ts';
import { storeReceipts } from '../../src/store/receipts.ts';
import { HOT_PATH_TABLES, analyzeSampled } from '../../src/store/planner-statistics.ts';
import type { Db } from '../../src/store/db.ts';
import type { RoutedMessage } from '../../src/domain/routed-message.ts';
import type { SegmentRecord } from '../../src/domain/segment.ts';
import { booleanFlag, fileHeader, fmt, fmtInt, machineLine, numberFlag, stringFlag, table, walBytesSince, walLsn } from './bench-support.ts';
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
async function lifeOfBatch(target: Target, batch: readonly RoutedMessage[], into?: Map<Stage, Cost>): Promise<void> {
  const { db, probe, pid } = target;
  const ids = batch.map((m) => m.id);
  const segments: SegmentRecord[] = ids.map((id) => acceptedSegment(id, `carrier-${id}`));
  const changes = ids.map((id) => ({ id, status: 'submitted' as const, previous: 'queued' as const, smsc: 'sim', segments: 1, route: 'default' }));
  const applied = new Set<string>();
  const calls: Record<Stage, () => Promise<unknown>> = {
    intake: () => insertMessages(db, 'bench', batch),
    dispatch: () => markAttempted(db, ids),
    // As the submit recorder calls them: the answers' statement applies the changes it can,
    // recordSubmits the rest (none here, where no receipt comes before its answer).
    answers: async () => {
      for (const c of await recordAnswers(db, segments, changes)) applied.add(c.id);
    },
    submitted: () =>
      recordSubmits(
        db,
        segments.filter((a) => !applied.has(a.messageId)),
        changes.filter((c) => !applied.has(c.id)),
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
  await db.transaction().execute((tx) => analyzeSampled(tx, HOT_PATH_TABLES));
}

interface Options {
  readonly messages: number;
  readonly sizes: readonly number[];
  readonly per: number;
  readonly rounds: number;
  /** SQL run in a second schema after its fill: the schema as it is and as changed, timed turn about. */
  readonly against?: string;
}

/** A schema the calls run in, on one connection whose backend is `pid`. */
interface Target {
  readonly name: string;
  readonly db: Db;
  /** Another connection, for reading the WAL position. */
  readonly probe: Db;
  /** Read once every schema is filled: the pool closes a connection idle for 10 s. */
  pid: number;
  readonly drop: () => Promise<void>;
}

/** Costs of one round: per size, per stage. */
type RoundCosts = Map<number, Map<Stage, Cost>>;

async function openTarget(name: string, o: Options, change?: string): Promise<Target> {
  const schema = await freshSchema();
  const filling: Target = { name, db: schema.openPool(1), probe: schema.db, pid: 0, drop: () => schema.drop() };
  const started = Date.now();
  for (let next = 0; next < o.messages; next += 500) await lifeOfBatch(filling, messages(next, Math.min(500, o.messages - next)));
  for (const statement of (change ?? '').split(';').filter((x) => x.trim() !== '')) await sql.raw(statement).execute(filling.db);
  await analyzeHotTables(filling.db);
  console.log(`${name}: ${fmtInt(o.messages)} messages through the five calls in batches of 500 (${fmt((Date.now() - started) / 1000)} s)${change ? `, then: ${change}` : ''}; analyzed`);
  // Timed on a connection of its own, one: every call runs on the backend whose CPU is read, and
  // none runs a plan prepared before the change (a column's new type or collation fails it).
  return { ...filling, db: schema.openPool(1) };
}

async function run(o: Options): Promise<void> {
  const targets: Target[] = [];
  try {
    targets.push(await openTarget(o.against ? 'as is' : 'schema', o));
    if (o.against) targets.push(await openTarget('changed', o, o.against));
    for (const t of targets) t.pid = await backendPid(t.db);
    const rounds = new Map<Target, RoundCosts[]>(targets.map((t) => [t, []]));
    // Every schema takes the same messages (ids are per schema), turn about in slices of at
    // least 100, so that a busy moment of the machine falls on both.
    // Which goes first changes every slice (A B, B A, ...): the first of a pair was measured to
    // pay more (node's CPU 1.5-2x in a run of one round) for the same code.
    let next = o.messages;
    let slices = 0;
    const runRound = async (per: number): Promise<Map<Target, RoundCosts>> => {
      const round = new Map<Target, RoundCosts>(targets.map((t) => [t, new Map()]));
      const order = rounds.get(targets[0]!)!.length % 2 === 0 ? o.sizes : [...o.sizes].reverse();
      for (const size of order) {
        const slice = Math.max(size, Math.ceil(100 / size) * size);
        for (let done = 0; done < per; done += slice, next += slice, slices++) {
          for (const t of slices % 2 === 0 ? targets : [...targets].reverse()) {
            const costs = round.get(t)!.get(size) ?? new Map<Stage, Cost>();
            round.get(t)!.set(size, costs);
            for (let k = 0; k < slice; k += size) await lifeOfBatch(t, messages(next + k, size), costs);
          }
        }
      }
      return round;
    };
    // Not counted: the code paths of each batch size compiled, the connections' plans made.
    await runRound(Math.min(o.per, 200));
    for (let r = 0; r < o.rounds; r++) {
      const round = await runRound(o.per);
      for (const t of targets) rounds.get(t)!.push(round.get(t)!);
    }
    for (const t of targets) {
      if ((await backendPid(t.db)) !== t.pid) throw new Error(`${t.name}: the connection was opened again mid-run: its backend CPU was not all read`);
    }
    report(o, targets.map((t) => ({ name: t.name, rounds: rounds.get(t)! })));
  } finally {
    for (const t of targets) await t.drop();
  }
}

/** The median over rounds of a figure per message (or per call) of one stage, or of a whole message ('all'). */
function medianOf(rounds: readonly RoundCosts[], size: number, stage: Stage | 'all', pick: (c: Cost) => number, perMessage: boolean): number {
  return median(
    rounds.map((r) => {
      const costs = [...(r.get(size)?.entries() ?? [])].filter(([s]) => stage === 'all' || s === stage).map(([, c]) => c);
      const total = costs.reduce((sum, c) => sum + pick(c), 0);
      const first = costs[0];
      return total / (stage === 'all' || perMessage ? (first?.messages ?? 0) : (first?.calls ?? 0));
    }),
  );
}

function report(o: Options, results: readonly { name: string; rounds: readonly RoundCosts[] }[]): void {
  const [base, changed] = results;
  if (!base) return;
  const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${fmt(b / a, 2)}x` : '-');
  const rows: string[][] = [];
  for (const stage of [...STAGES, 'all' as const]) {
    for (const size of o.sizes) {
      const label = stage === 'all' ? 'a message, all five' : stage;
      const figures = (r: readonly RoundCosts[]) => ({
        pg: medianOf(r, size, stage, (c) => c.postgresUs, true),
        node: medianOf(r, size, stage, (c) => c.nodeUs, true),
        wal: medianOf(r, size, stage, (c) => c.walBytes, true),
        pgCall: stage === 'all' ? Number.NaN : medianOf(r, size, stage, (c) => c.postgresUs, false),
        nodeCall: stage === 'all' ? Number.NaN : medianOf(r, size, stage, (c) => c.nodeUs, false),
      });
      const a = figures(base.rounds);
      if (!changed) {
        rows.push([label, String(size), fmt(a.pg), fmt(a.node), fmtInt(a.wal), fmtInt(a.pgCall), fmtInt(a.nodeCall)]);
        continue;
      }
      const b = figures(changed.rounds);
      rows.push([label, String(size), `${fmt(a.pg)} / ${fmt(b.pg)}`, ratio(a.pg, b.pg), `${fmt(a.node)} / ${fmt(b.node)}`, ratio(a.node, b.node), `${fmtInt(a.wal)} / ${fmtInt(b.wal)}`]);
    }
  }
  console.log(`\nper message${changed ? '' : ' and per call'}, medians of ${o.rounds} rounds of ${fmtInt(o.per)} messages per size:`);
  if (changed) {
    console.log(`  ${base.name} / ${changed.name} (${o.against}), taken turn about`);
    console.log(table(['call', 'batch', 'postgres µs/msg', 'ratio', 'node µs/msg', 'ratio', 'WAL B/msg'], rows));
  } else {
    console.log(table(['call', 'batch', 'postgres µs/msg', 'node µs/msg', 'WAL B/msg', 'postgres µs/call', 'node µs/call'], rows));
  }
  for (const r of results) {
    const fits: string[][] = [];
    for (const stage of STAGES) {
      const fit = (pick: (c: Cost) => number) => fitCallCost(o.sizes.map((size) => ({ size, perCall: medianOf(r.rounds, size, stage, pick, false) })));
      const pg = fit((c) => c.postgresUs);
      const node = fit((c) => c.nodeUs);
      fits.push([stage, fmt(pg?.fixed ?? Number.NaN, 0), fmt(pg?.perItem ?? Number.NaN), fmt(node?.fixed ?? Number.NaN, 0), fmt(node?.perItem ?? Number.NaN)]);
    }
    console.log(`\n${changed ? `${r.name}: ` : ''}cost of a call = fixed + per message × batch (least squares over the sizes above):`);
    console.log(table(['call', 'postgres fixed µs', 'postgres µs/msg', 'node fixed µs', 'node µs/msg'], fits));
  }
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
  if (booleanFlag('help')) {
    console.log(fileHeader(SELF));
    process.exit(0);
  }
  const options: Options = {
    messages: numberFlag('messages', 20_000),
    sizes: sizesFlag(),
    per: Math.max(1, numberFlag('per', 2_000)),
    rounds: Math.max(1, numberFlag('rounds', 3)),
    ...(process.argv.includes('--against') ? { against: stringFlag('against', '') } : {}),
  };
  run(options).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
