/**
 * The outbound benchmark: messages on the Redis outbound stream, through the daemon (intake ->
 * Postgres -> dispatcher -> binds), to the SMSC simulator, and (by default) the simulator's
 * delivery receipts back through the daemon, until every message is `delivered` in Postgres.
 *
 *   npm run bench -- [--count 20000] [--binds 1,2] [--runs 1] [--window 100] [--tps 100000] [--seconds 120]
 *                    [--feed before|during] [--rate 0] [--no-dlr] [--receipt-delay 100] [--no-two-way]
 *                    [--trace-sql] [--profile DIR] [--result-json FILE] [--help]
 *
 * --runs N runs each binds value N times in a row (rows `1 #2` ...) and prints the medians of the
 * headline figures, with issue 10's goals judged on them (they are medians of 3 runs: this machine's
 * runs of the same build differ by up to a third, so one run proves nothing either way). To tell
 * two builds apart, run them turn about: `npm run bench:ab -- --base REV` (test/bench/ab.ts).
 *
 * --result-json FILE writes each run's headline figures as JSON (test/bench/kannel.ts and
 * test/bench/ab.ts read them).
 *
 * Per message (the "cost per message" table, with receipts the whole life of a message):
 *   daemon cpu µs   process.cpuUsage() in the daemon, first dequeue -> last receipt recorded
 *   postgres cpu µs utime+stime from /proc/<pid>/stat of the Postgres backends serving the daemon's
 *                   connections, over their life (read every second, so a connection the pool
 *                   closed counts as last read; per-statement server time needs pg_stat_statements,
 *                   which a stock server does not load: see Profiling)
 *   statements      every query the daemon's pg clients sent (BEGIN and COMMIT included), counted
 *                   in the daemon by wrapping pg.Client.prototype.query, first dequeue -> report
 *   rows written    n_tup_ins + n_tup_upd + n_tup_del of pg_stat_user_tables in the run's own schema,
 *                   daemon start -> daemon exit (exact: no other session writes that schema)
 *   WAL bytes       pg_current_wal_lsn() difference, daemon start -> daemon exit: cluster-wide, so it
 *                   includes whatever else the shared server wrote meanwhile (an upper bound)
 *
 * Profiling:
 *   npm run bench -- --no-two-way --binds 1 --profile bench-profiles
 *     runs the daemon under `node --cpu-prof --cpu-prof-dir=bench-profiles/binds-1-<ms>` and prints a
 *     summary (self time by function and file, inclusive time of src/), or later:
 *   npx tsx test/bench/profile-summary.ts bench-profiles/binds-1-<ms>/<file>.cpuprofile --top 30
 *   npm run bench -- --no-two-way --binds 1 --heap-profile bench-profiles
 *     samples what the daemon allocates over the run, freed objects included, and prints bytes by
 *     function, by package and inclusive for src/ (test/bench/heap-profile.ts; later:
 *     npx tsx test/bench/heap-profile.ts bench-profiles/binds-1-<ms>/daemon-<pid>.heapprofile).
 *   The daemon runs here under tsx, whose esbuild transform keeps function names: a closure made at
 *   every call costs an Object.defineProperty, seen as `__name` under the function that makes it.
 *   The production build (tsc, dist/) has no `__name`; a closure made per message still allocates.
 *   --trace-sql prints per statement shape the calls, time and parameters as the daemon saw them.
 *   Server side, on a Postgres started with shared_preload_libraries = 'pg_stat_statements':
 *     CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();
 *     (run the bench)
 *     SELECT calls, rows, round(total_exec_time) AS ms, round(total_exec_time * 1000 / calls) AS us_per_call,
 *            wal_bytes, left(query, 100) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20;
 *     With ALTER SYSTEM SET pg_stat_statements.track_planning = on (then SELECT pg_reload_conf()),
 *     `plans` and total_plan_time too: a statement with plans close to calls is planned at every call.
 *   WAL by table and record type (pg_walinspect, in Postgres 15's contrib):
 *     CREATE EXTENSION IF NOT EXISTS pg_walinspect; SELECT pg_current_wal_lsn();  -- before and after the run
 *     While it runs, keep the run schema's relfilenode -> relname (the schema is dropped at the end):
 *       SELECT c.relfilenode, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 *       WHERE n.nspname LIKE 't\_%' AND c.relfilenode <> 0;   -- every 0.5 s, appended to a file
 *     Then sum(record_length) of pg_get_wal_records_info(before, after), grouped by record_type and by
 *     (regexp_match(block_ref, 'rel \d+/\d+/(\d+)'))[1]::oid joined to that list.
 *   The daemon is started with the Node flags it is packaged with (src/daemon-node-flags.ts).
 *   Node and V8 flags for the processes the benchmarks fork (the daemon, and here the simulator too).
 *   The daemon tunes V8's inlining as `parley start` does (src/compiler-tuning.ts); to measure V8's
 *   default instead: BENCH_NODE_FLAGS="--max-inlined-bytecode-size-cumulative=920" npm run bench
 *     BENCH_NODE_FLAGS="--trace-gc" npm run bench -- --no-two-way   (scavenges: count and pause)
 *     BENCH_NODE_FLAGS="--trace-opt --trace-deopt" npm run bench:two-way   (the optimising
 *     compiler's work: "completed compiling ... took a, b, c ms", b on a background thread)
 *   Where a statement's time goes, node by node (auto_explain, in Postgres 15's contrib): in one psql
 *     session LOAD 'auto_explain'; ALTER SYSTEM SET session_preload_libraries = 'auto_explain';
 *     ALTER SYSTEM SET auto_explain.log_min_duration = '6ms'; ALTER SYSTEM SET auto_explain.log_analyze = on;
 *     SELECT pg_reload_conf(); then run the bench and read the plans in the server log
 *     (/var/log/postgresql/); ALTER SYSTEM RESET session_preload_libraries afterwards. Timing inflates
 *     the totals; the split between CTEs (insert, lookup, updates, events) is what it is for.
 *
 * Memory: the daemon's RSS is sampled every second from the first dequeue and printed at 10/25/50/75/100%
of the run with the change from 10% to the end; for the long run, `npm run bench -- --count 1000000
--binds 1 --no-two-way --seconds 1200` (at the default --seconds 120 it stops part-way, PARTIAL). Only
the first 200,000 messages are timed stage by stage (the latency tables), so that the benchmark's own
maps do not grow with the run.

Warm against cold: at 20,000 messages the daemon's CPU per message is largely a new daemon warming
up. On 2 cores the same build used 191 µs a message at 20,000 and 113 at 400,000 (Postgres 163 and
142); in the 20,000 run V8's worker threads (read from /proc/<pid>/task) spent about 1.8 s
compiling, some of it before the first dequeue. For the steady state, run `--count 400000 --seconds
600` (about 2 minutes there).

Event loop: on the same samples, the share of the daemon's wall time its event loop was busy
(performance.eventLoopUtilization), until every message was submitted and after. Near 100% in a
phase: the daemon's main thread bounds it (with receipts, the submits leave the receipts' turns
waiting, and the SMSC's window of unanswered deliver_sm stays full); well below it: the phase waits
on something else (Postgres, that window).

With receipts (the default, issue 4's figure): every message asks for a receipt; the simulator
 * sends a DELIVRD receipt 100 ms after each submit. "final msg/s" is `count` over the time from
 * the first dequeue to the poll that first saw every message `delivered` in Postgres. Receipt
 * arrival -> status commit is read in the daemon process from `parley_receipt_commit_seconds`
 * (src/observability/metrics.ts): its `observe` is wrapped on the daemon's Metrics instance, so the
 * percentiles are exact per receipt (ReceiptRecorder.handle called -> its batch committed), and
 * the histogram's own buckets are printed beside them (bucket resolution, histogram_quantile
 * style). The simulator adds its view: deliver_sm written -> deliver_sm_resp received, which
 * includes the wire and the daemon's event-loop delays on both sides of the commit.
 * --no-dlr: the old submit-only figure (until every message is `submitted`).
 *
 * Then, unless --no-two-way, the two-way benchmark (test/bench/two-way.ts, with its defaults)
 * runs and prints its figure: `npm run bench` gives both issue 4's and issue 5's figures.
 *
 * Three processes, so no two share an event loop: this one (orchestrator: XADDs, polls Postgres,
 * cleans up), the daemon (`buildDaemon`, silent logger, no HTTP) and the simulator
 * (`startSimulator`, no control port). Each run gets a fresh Postgres schema in the `test`
 * database and a unique Redis prefix, both dropped at the end.
 *
 * --feed before (default): all `count` entries are XADDed (pipelined, 500 per round trip) before
 *   the daemon starts, so the daemon finds a full stream: its best sustained rate.
 * --feed during: the daemon starts first and the entries are XADDed while it runs, as fast as
 *   pipelining allows or at `--rate` entries/s, so the latency figures show a daemon that is not
 *   working through a backlog.
 *
 * Every message has its own destination, so the daemon-side instrumentation and the simulator's
 * arrival log can be joined by destination. Instrumentation wraps prototype methods in the daemon
 * process (nothing in src/ changes):
 *   dequeue   `OutboundStream.readNew/readOwnPending/claimStale` resolved with the entry
 *             (XREADGROUP reply parsed, before validation and the Postgres insert)
 *   enqueued  `Dispatcher.enqueue` got the job (the insert committed and the entry was XACKed)
 *   submit    `SmscBind.submit` was called for it (dispatcher queue, attempt ledger, throttle,
 *             window wait done; next: encode and write)
 *   wire      the simulator decoded the submit_sm (its arrival `atMs`): the PDU crossed loopback
 * All four are epoch milliseconds from each process's monotonic clock
 * (performance.timeOrigin + performance.now()), comparable on one machine.
 *
 * msg/s is counted from the first dequeue to the moment a poll of
 * `select count(*) from messages where status = 'submitted'` (every 20 ms) first saw `count`.
 * With receipts the poll runs every 100 ms and stays cheap (it shares the machine with what it
 * measures; at 20 ms its counts cost Postgres 0.15 of a core, 40% of what the daemon's own
 * statements did): how many are inserted is read from the stream group (entries acknowledged,
 * each only after its row committed), and only the `queued` and `submitted` rows are counted,
 * through their partial indexes (sequential scans forbidden for that count: the planner chose them
 * on statistics of a small table, and they cost Postgres 8% of a core); when none is left, one
 * full count confirms that every one is `delivered`. On a final span of ~15 s, 100 ms is <= 0.7%
 * of the figure. A poll that takes longer than a quarter of its interval (a long run's counts)
 * waits four times its own length.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Db } from '../../src/store/db.ts';
import { buildDaemon } from '../../src/main.ts';
import { tuneOptimisingCompiler } from '../../src/compiler-tuning.ts';
import { DAEMON_NODE_FLAGS } from '../../src/daemon-node-flags.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { OutboundStream, type StreamEntry } from '../../src/queue/streams.ts';
import { Dispatcher, type DispatchJob } from '../../src/outbound/dispatcher.ts';
import { SmscBind, type SubmitRequest } from '../../src/smpp/smsc-bind.ts';
import { streamKeys } from '../../src/queue/keys.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { dropRedisPrefix, freshSchema, testConfig, uniqueName, TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services.ts';
import {
  booleanFlag,
  cpuMsSince,
  cpuShareLine,
  epochNowMs,
  exited,
  failChild,
  fmt,
  fmtBucketQuantile,
  fmtInt,
  forkTs,
  loadLine,
  machineLine,
  nextMessage,
  numberFlag,
  localPortsTo,
  machineCpuMs,
  peakRssMb,
  percentile,
  pidsByName,
  procCpuMs,
  fileHeader,
  rssMb,
  snapshotHistogram,
  spread,
  stringFlag,
  table,
  tellParent,
  typed,
  traceSql,
  sqlTable,
  poolWaitLines,
  poolWaitSpreads,
  type PoolWaits,
  type HistogramSnapshot,
  type SqlStat,
  type Spread,
  perItemByTable,
  tableCounts,
  tableWrites,
  walBytesSince,
  walLsn,
} from './bench-support.ts';
import { summarise } from './profile-summary.ts';
import { issue10Verdict, median, type RunMedians } from './issue-goals.ts';
import { startHeapSampling, summariseHeap } from './heap-profile.ts';
import { SmppSession } from '../../src/smpp/session.ts';
import { printTwoWay, TWO_WAY_DEFAULTS } from './two-way.ts';

const SELF = fileURLToPath(import.meta.url);
/** How often the orchestrator counts statuses with receipts (--no-dlr: every 20 ms). */
const DLR_POLL_MS = 100;
/** How often the poll reads the CPU of the daemon's Postgres backends (see readBackends). */
const BACKEND_CPU_READ_MS = 1_000;

/**
 * Entries of the outbound stream the daemon acknowledged: it acknowledges an entry only after its
 * row is committed, so this is how many messages are in Postgres (O(1) in Redis; counting every
 * row of `messages` cost Postgres a sequential scan per poll, 8% of a core in a 30k run).
 */
async function acknowledgedEntries(redis: Redis, stream: string, group: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    if (f.get('name') === group) return Number(f.get('entries-read') ?? 0) - Number(f.get('pending') ?? 0);
  }
  return 0;
}

/**
 * Messages still queued and submitted, read through their partial indexes (messages_queued_since,
 * messages_submitted): the in-flight rows only. The planner, with statistics from when the table
 * was small, chose a sequential scan of every row instead; the poll forbids it for these counts.
 */
async function inFlightCounts(db: Db): Promise<{ q: string; s: string }> {
  return db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(tx);
    const r = await sql<{ q: string; s: string }>`
      select (select count(*) from messages where status = 'queued') as q,
             (select count(*) from messages where status = 'submitted') as s`.execute(tx);
    return r.rows[0] ?? { q: '0', s: '0' };
  });
}
const TEXT = 'Your verification code is 482913. It expires in 10 minutes. Reply STOP to opt out.';

interface DaemonConfig {
  readonly traceSql: boolean;
  /** Where the daemon writes its sampled heap profile (--heap-profile), if anywhere. */
  readonly heapProfileDir?: string;
  readonly schema: string;
  readonly prefix: string;
  readonly simPort: number;
  readonly binds: number;
  readonly window: number;
  readonly tps: number;
}

interface DaemonReport {
  readonly type: 'daemon-report';
  /** [stream entry id, epoch ms] of each entry's first dequeue. */
  readonly dequeued: [string, number][];
  /** [destination digits, epoch ms] of each message's Dispatcher.enqueue. */
  readonly enqueued: [string, number][];
  /** [destination digits, epoch ms] of each message's first SmscBind.submit. */
  readonly submitted: [string, number][];
  readonly firstDequeueMs: number;
  /** CPU from the first dequeue to this report. */
  readonly cpuMs: number;
  /** Context switches over the same span: voluntary (waits) and involuntary (preempted). */
  readonly switches: { voluntary: number; involuntary: number };
  readonly cpuTotalMs: number;
  readonly rssAfterStartMb: number;
  readonly peakRssMb: number;
  /** process.hrtime µs of the first dequeue and of this report: the profile's measured span. */
  readonly windowUs: { fromUs: number; toUs: number };
  /** With --trace-sql: per statement shape, from the first dequeue on. */
  readonly sql: SqlStat[];
  /** With --trace-sql: waits for a pooled connection, ms. */
  readonly poolWait: PoolWaits | undefined;
  /** Each receipt's parley_receipt_commit_seconds observation, in ms (exact). */
  readonly receiptCommitMs: number[];
  /** The histogram itself at the report. */
  readonly receiptCommitHistogram: HistogramSnapshot;
  /** Queries sent by the daemon's pg clients from the first dequeue on (BEGIN/COMMIT included). */
  readonly statements: number;
  /** [ms since the first dequeue, rss MB], every RSS_SAMPLE_MS from the first dequeue on. */
  readonly rssSamples: [number, number][];
  /** [ms since the first dequeue, event loop busy ms, idle ms] over each RSS_SAMPLE_MS, the same samples. */
  readonly loopSamples: [number, number, number][];
}


interface SimReport {
  readonly type: 'sim-report';
  /** [destination digits, epoch ms] of each accepted submit_sm. */
  readonly arrivals: [string, number][];
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly submits: number;
  readonly throttled: number;
  readonly rejected: number;
  readonly receiptsSent: number;
  /** Per receipt: deliver_sm written -> its deliver_sm_resp (ESME_ROK) decoded, ms. */
  readonly receiptRoundTripMs: number[];
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** The application_name the daemon's connections carry (pg_stat_activity finds them by it). */
const daemonApplicationName = (schema: string): string => `parley-bench-${schema}`;

function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/**
 * How busy the daemon's event loop was (its main thread running JavaScript or native work, not
 * waiting in epoll) before and after `splitMs` (every message submitted): a loop near 100% is what
 * bounds that phase; one well below it waits on something else (Postgres, the SMSC's window).
 */
function loopBusy(samples: readonly [number, number, number][], splitMs: number): string | undefined {
  const share = (part: readonly [number, number, number][]): string => {
    const [busy, idle] = part.reduce(([b, i], [, active, rest]) => [b + active, i + rest], [0, 0]);
    return busy + idle > 0 ? `${fmt((busy / (busy + idle)) * 100, 0)}%` : '-';
  };
  if (samples.length === 0) return undefined;
  const before = samples.filter(([at]) => at <= splitMs);
  const after = samples.filter(([at]) => at > splitMs);
  return `${share(before)} until every message was submitted${after.length > 0 ? `, ${share(after)} after` : ''}`;
}

/**
 * The daemon's RSS at 10%, 25%, 50%, 75% of the run and at its end, and the change from the 10%
 * point (past start-up and JIT warm-up) to the end: flat memory shows as a change near 0.
 */
function rssOverRun(samples: readonly [number, number][]): string | undefined {
  if (samples.length < 5) return undefined;
  const at = (f: number): [number, number] => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))]!;
  const points = [0.1, 0.25, 0.5, 0.75, 1].map((f) => at(f));
  const from = points[0]![1];
  const to = points[points.length - 1]![1];
  const max = Math.max(...samples.map(([, mb]) => mb));
  return (
    points.map(([ms, mb]) => `${fmtInt(mb)} at ${fmt(ms / 1000, 0)} s`).join(', ') +
    `; max ${fmtInt(max)}; 10% -> end ${to >= from ? '+' : ''}${fmt(((to - from) / Math.max(1, from)) * 100, 1)}%`
  );
}
const digits = (s: string): string => s.replace(/\D/g, '');
const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Messages whose stages are timed one by one (dequeue, enqueue, submit, receipt commit): the
 * first ones only, so that a long run (--count 1000000) measures the daemon's memory and not the
 * benchmark's own maps.
 */
const TIMED_MESSAGES = 200_000;

/**
 * When each key (an entry id, a customer number) was first seen at one stage, as the daemon's hooks
 * record it: a key and a time appended, nothing else. The hooks run inside the daemon, and their
 * CPU is counted as the daemon's: a normalised key (a regular expression over every number) and a
 * Map lookup per message, as they were, cost about 3% of its busy time in a profile (`SmscBind.submit`
 * alone 1.8%). Keys are normalised and only the first time of each kept when the report is made,
 * after the daemon's CPU is read. The first TIMED_MESSAGES records are kept (a copy sent again
 * takes one).
 */
class FirstSeen {
  private readonly keys: string[] = [];
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly normalise: (key: string) => string = (key) => key,
  ) {}

  add(key: string, at: number): void {
    if (this.keys.length >= this.limit) return;
    this.keys.push(key);
    this.times.push(at);
  }

  /** [key, first time], in the order first seen. */
  entries(): [string, number][] {
    const first = new Map<string, number>();
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.normalise(this.keys[i]!);
      if (!first.has(key)) first.set(key, this.times[i]!);
    }
    return [...first];
  }
}
const RSS_SAMPLE_MS = 1_000;

// ------------------------------------------------------------------------------ daemon child

async function runDaemonChild(cfg: DaemonConfig): Promise<void> {
  const dequeued = new FirstSeen(TIMED_MESSAGES);
  const enqueued = new FirstSeen(TIMED_MESSAGES, digits);
  const submitted = new FirstSeen(TIMED_MESSAGES, digits);
  let firstDequeueMs = 0;
  let firstDequeueUs = 0;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let switchesFrom: NodeJS.ResourceUsage | undefined;
  const cpuStart = process.cpuUsage();
  const rssSamples: [number, number][] = [];
  const loopSamples: [number, number, number][] = [];
  let rssTimer: NodeJS.Timeout | undefined;

  const onEntries = (entries: StreamEntry[]): StreamEntry[] => {
    const now = epochNowMs();
    if (entries.length > 0 && cpuFrom === undefined) {
      cpuFrom = process.cpuUsage();
      switchesFrom = process.resourceUsage();
      firstDequeueMs = now;
      firstDequeueUs = hrUs();
    }
    for (const e of entries) dequeued.add(e.id, now);
    if (rssTimer === undefined && cpuFrom !== undefined) {
      let loopFrom = performance.eventLoopUtilization();
      rssTimer = setInterval(() => {
        const atMs = Math.round(epochNowMs() - firstDequeueMs);
        rssSamples.push([atMs, Math.round(rssMb())]);
        const loop = performance.eventLoopUtilization(loopFrom);
        loopFrom = performance.eventLoopUtilization();
        loopSamples.push([atMs, loop.active, loop.idle]);
      }, RSS_SAMPLE_MS);
      rssTimer.unref();
    }
    return entries;
  };
  for (const name of ['readNew', 'readOwnPending', 'claimStale'] as const) {
    const original = OutboundStream.prototype[name] as (...args: unknown[]) => Promise<StreamEntry[]>;
    (OutboundStream.prototype as unknown as Record<string, unknown>)[name] = async function (this: OutboundStream, ...args: unknown[]) {
      return onEntries(await original.apply(this, args));
    };
  }
  const enqueue = Dispatcher.prototype.enqueue;
  Dispatcher.prototype.enqueue = function (this: Dispatcher, jobs: readonly DispatchJob[]): void {
    const now = epochNowMs();
    for (const j of jobs) enqueued.add(j.message.to, now);
    enqueue.call(this, jobs);
  };
  const submit = SmscBind.prototype.submit;
  SmscBind.prototype.submit = function (this: SmscBind, req: SubmitRequest) {
    submitted.add(req.destination.address, epochNowMs());
    return submit.call(this, req);
  };

  // Every query the daemon sends, from the first dequeue on: one counter, cheap enough to leave on.
  let statements = 0;
  {
    const pg = (await import('pg')).default;
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      if (cpuFrom !== undefined) statements++;
      return query.apply(this, args);
    };
  }
  // With --trace-sql: every statement and every wait for a pooled connection, from the first dequeue on.
  const trace = cfg.traceSql ? await traceSql(() => cpuFrom !== undefined) : undefined;

  const config = testConfig(
    {
      // The defaults a production config gets (testConfig shrinks the pool and the claim time).
      // Named, so that its backends are found over TCP and over a Unix socket alike.
      database: { url: withApplicationName(TEST_DATABASE_URL, daemonApplicationName(cfg.schema)), pool_size: 10 },
      intake: { consumer: uniqueName('bench') },
      smscs: [
        {
          name: 'sim',
          host: '127.0.0.1',
          port: cfg.simPort,
          system_id: 'parley',
          password: 'secret',
          binds: cfg.binds,
          window: cfg.window,
        },
      ],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: cfg.tps, default_from: 'Parley' }],
    },
    cfg.prefix,
  );
  // As `parley start` does (BENCH_NODE_FLAGS="--max-inlined-bytecode-size-cumulative=920" measures V8's default).
  tuneOptimisingCompiler();
  const daemon = buildDaemon(config, { logger: silentLogger, schema: cfg.schema, http: false });
  const stopHeapSampling = cfg.heapProfileDir ? await startHeapSampling(cfg.heapProfileDir) : undefined;
  // Every observation of parley_receipt_commit_seconds, as the daemon makes it (seconds).
  const receiptCommitMs: number[] = [];
  const commit = daemon.metrics.receiptCommitLatency;
  const observe = commit.observe.bind(commit) as (...args: unknown[]) => void;
  (commit as unknown as { observe: (...args: unknown[]) => void }).observe = (...args: unknown[]): void => {
    const v = args[args.length - 1];
    if (typeof v === 'number' && receiptCommitMs.length < TIMED_MESSAGES) receiptCommitMs.push(v * 1000);
    observe(...args);
  };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'report') {
      // The daemon's figures first: what the report itself costs (copying the timed stages) is not its.
      const cpuMs = cpuFrom ? cpuMsSince(cpuFrom) : 0;
      const cpuTotalMs = cpuMsSince(cpuStart);
      const windowUs = { fromUs: firstDequeueUs, toUs: hrUs() };
      const ru = process.resourceUsage();
      const switches = {
        voluntary: ru.voluntaryContextSwitches - (switchesFrom?.voluntaryContextSwitches ?? ru.voluntaryContextSwitches),
        involuntary: ru.involuntaryContextSwitches - (switchesFrom?.involuntaryContextSwitches ?? ru.involuntaryContextSwitches),
      };
      snapshotHistogram(commit).then((receiptCommitHistogram) => {
      const report: DaemonReport = {
        type: 'daemon-report',
        dequeued: dequeued.entries(),
        enqueued: enqueued.entries(),
        submitted: submitted.entries(),
        firstDequeueMs,
        cpuMs,
        switches,
        cpuTotalMs,
        rssAfterStartMb,
        peakRssMb: peakRssMb(),
        windowUs,
        sql: trace?.statements() ?? [],
        poolWait: trace ? poolWaitSpreads(trace.poolWaits()) : undefined,
        receiptCommitMs,
        receiptCommitHistogram,
        statements,
        rssSamples,
        loopSamples,
      };
      return tellParent(report);
      }).catch(failChild);
    } else if (m.type === 'stop') {
      (stopHeapSampling ? stopHeapSampling() : Promise.resolve(''))
        .then(() => daemon.service.stop())
        .then((result) => tellParent({ type: 'stopped', result }))
        .then(() => process.exit(0), failChild);
    }
  });
  await daemon.service.start();
  const rssAfterStartMb = rssMb();
  await tellParent({ type: 'started' });
}

// --------------------------------------------------------------------------- simulator child

/** What the simulator child is started with (`--role sim`); test/bench/kannel.ts starts it too. */
export interface SimChildOptions {
  readonly window: number;
  readonly count: number;
  readonly dlr: boolean;
  readonly receiptDelayMs: number;
}

async function runSimChild(options: SimChildOptions): Promise<void> {
  const sim = await startSimulator({
    controlPort: false,
    keep: options.count + 1000,
    window: options.window,
    receiptDelayMs: options.receiptDelayMs,
  });
  const cpuFrom = process.cpuUsage();
  // Receipts as the simulator sees them: deliver_sm written -> deliver_sm_resp decoded.
  const receiptRoundTripMs: number[] = [];
  const request = SmppSession.prototype.request;
  SmppSession.prototype.request = function (this: SmppSession, command, init) {
    const result = request.call(this, command, init);
    if (command === 'deliver_sm' && ((init as { esm_class?: number }).esm_class ?? 0) & 0x04) {
      const at = performance.now();
      result.then(
        (resp) => {
          if (resp.command_status === 0) receiptRoundTripMs.push(performance.now() - at);
        },
        () => undefined,
      );
    }
    return result;
  } as typeof request;
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'report') {
      const stats = sim.stats;
      const report: SimReport = {
        type: 'sim-report',
        arrivals: sim.arrivals.filter((a) => a.status === 'accepted').map((a) => [digits(a.destination), a.atMs]),
        cpuMs: cpuMsSince(cpuFrom),
        peakRssMb: peakRssMb(),
        submits: stats.submits,
        throttled: stats.throttled,
        rejected: stats.rejected,
        receiptsSent: stats.receipts.sent,
        receiptRoundTripMs,
      };
      tellParent(report).catch(failChild);
    } else if (m.type === 'stop') {
      sim.stop().then(() => process.exit(0), failChild);
    }
  });
  await tellParent({ type: 'listening', port: sim.port });
}

// ------------------------------------------------------------------------------ orchestrator

interface RunOptions {
  readonly count: number;
  readonly binds: number;
  /** This run's number (from 1) among the `runs` made of each binds value (--runs). */
  readonly run: number;
  readonly runs: number;
  readonly window: number;
  readonly tps: number;
  readonly seconds: number;
  readonly feed: 'before' | 'during';
  readonly rate: number;
  readonly dlr: boolean;
  /** The simulator's delay from submit to receipt. */
  readonly receiptDelayMs: number;
  readonly traceSql: boolean;
  readonly profileDir: string | undefined;
  readonly heapProfileDir: string | undefined;
}

interface ReceiptFigures {
  /** Messages `delivered` in Postgres when the poll stopped. */
  readonly delivered: number;
  /** count / (all delivered in Postgres - first dequeue), msg/s. */
  readonly finalRate: number;
  readonly finalSpanMs: number;
  /** Receipt arrival (ReceiptRecorder.handle) -> commit, ms, exact per receipt. */
  readonly commit: Spread | undefined;
  readonly histogram: HistogramSnapshot;
  /** Simulator: deliver_sm written -> deliver_sm_resp decoded, ms. */
  readonly roundTrip: Spread | undefined;
  /**
   * Receipts committed before the last submit's answer was (receipts.received_at <= the latest
   * segments.responded_at): the share of receipts the daemon kept up with while it was submitting.
   */
  readonly beforeLastAnswer: number;
}

interface Interval {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** When a stage saw its first and last message, in ms after the first dequeue. */
interface Stage {
  readonly firstMs: number;
  readonly lastMs: number;
  readonly n: number;
}

type Stages = Record<'dequeue' | 'enqueued' | 'submit' | 'wire' | 'recorded' | 'delivered', Stage>;

/** What the run cost Postgres, read from the server (see the header). */
interface ServerCost {
  /** Rows inserted, updated and deleted in the run's schema, daemon start -> exit. */
  readonly rowsWritten: number;
  /** Per table of the schema: [inserted, updated, deleted, HOT-updated]. */
  readonly byTable: Record<string, [number, number, number, number]>;
  /** WAL written by the whole cluster over the same span. */
  readonly walBytes: number;
}

interface RunResult {
  readonly server: ServerCost;
  readonly stages: Stages;
  readonly options: RunOptions;
  readonly postgresCpuMs: number;
  readonly postgresBackends: number;
  readonly redisCpuMs: number;
  readonly submitted: number;
  readonly partial: boolean;
  readonly rate: number;
  readonly spanMs: number;
  readonly feedMs: number;
  readonly wireRate: number;
  readonly daemon: DaemonReport;
  readonly sim: SimReport;
  readonly intervals: Record<'dequeueToWire' | 'dequeueToEnqueued' | 'enqueuedToSubmit' | 'submitToWire' | 'xaddToWire', Interval | undefined>;
  readonly statuses: Record<string, number>;
  readonly profile: string | undefined;
  /** The daemon's sampled heap profile (--heap-profile). */
  readonly heapProfile: string | undefined;
  /** With receipts only. */
  readonly receipts: ReceiptFigures | undefined;
  /** The 1/5/15-minute load averages when the run ended. */
  readonly load: string;
  /** The machine's busy CPU over the run and the benchmark's share of it. */
  readonly cpuShare: string;
}


function interval(pairs: Iterable<[number | undefined, number | undefined]>): Interval | undefined {
  const values: number[] = [];
  for (const [from, to] of pairs) if (from !== undefined && to !== undefined) values.push(to - from);
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values[values.length - 1] as number };
}

async function xaddAll(redis: Redis, stream: string, payloads: readonly string[], rate: number): Promise<{ ids: string[]; at: number[] }> {
  const ids: string[] = [];
  const at: number[] = [];
  const chunk = rate > 0 ? Math.max(1, Math.min(500, Math.round(rate / 50))) : 500;
  const started = performance.now();
  for (let i = 0; i < payloads.length; i += chunk) {
    if (rate > 0) {
      const due = started + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const p = redis.pipeline();
    const slice = payloads.slice(i, i + chunk);
    for (const payload of slice) p.xadd(stream, '*', 'payload', payload);
    const sentAt = epochNowMs();
    const results = (await p.exec()) ?? [];
    for (const [err, id] of results) {
      if (err) throw err;
      ids.push(id as string);
      at.push(sentAt);
    }
  }
  return { ids, at };
}

async function runOnce(o: RunOptions): Promise<RunResult> {
  const schema = await freshSchema();
  const prefix = `${uniqueName('bench')}:`;
  const redis = new Redis(TEST_REDIS_URL);
  const keys = streamKeys(prefix);
  const killAfterMs = (o.seconds + 90) * 1000;
  let sim: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  const profileDir = o.profileDir ? path.join(o.profileDir, `binds-${o.binds}-${Date.now()}`) : undefined;
  const heapProfileDir = o.heapProfileDir ? path.join(o.heapProfileDir, `binds-${o.binds}-${Date.now()}`) : undefined;
  try {
    const simOptions: SimChildOptions = { window: o.window, count: o.count, dlr: o.dlr, receiptDelayMs: o.receiptDelayMs };
    sim = forkTs(SELF, ['--role', 'sim', JSON.stringify(simOptions)], { killAfterMs });
    const { port } = await nextMessage(sim, typed<{ type: 'listening'; port: number }>('listening'), 'simulator');

    const tag = uniqueName('m');
    const destinations: string[] = [];
    const payloads: string[] = [];
    for (let i = 0; i < o.count; i++) {
      const to = `1415${String(i).padStart(7, '0')}`;
      destinations.push(to);
      payloads.push(JSON.stringify({ id: `${tag}-${i}`, to: `+${to}`, text: TEXT, dlr: o.dlr }));
    }
    let fed: Promise<{ ids: string[]; at: number[] }> | undefined;
    const feedStart = performance.now();
    if (o.feed === 'before') fed = xaddAll(redis, keys.outbound, payloads, o.rate);

    const cfg: DaemonConfig = { traceSql: o.traceSql, heapProfileDir, schema: schema.schema, prefix, simPort: port, binds: o.binds, window: o.window, tps: o.tps };
    if (fed) await fed;
    const feedMs = performance.now() - feedStart;
    const redisPids = pidsByName('redis-server');
    const redisCpuFrom = sum(redisPids.map((p) => procCpuMs(p) ?? 0));
    // The machine's CPU from here to the end of the poll, and the benchmark's own share of it.
    const ownBackends = async (pid: number | undefined): Promise<number[]> => {
      const ports = pid ? localPortsTo(pid, 5432) : [];
      if (ports.length === 0) return [];
      return (await sql<{ pid: number }>`select pid from pg_stat_activity where client_port = any(${ports})`.execute(schema.db)).rows.map((b) => b.pid);
    };
    const orchestratorBackends = await ownBackends(process.pid);
    const orchestratorPgFrom = sum(orchestratorBackends.map((p) => procCpuMs(p) ?? 0));
    const machineFrom = machineCpuMs();
    const simCpuFrom = (sim.pid && procCpuMs(sim.pid)) || 0;
    const orchestratorCpuFrom = process.cpuUsage();
    const wallFrom = performance.now();
    const countsFrom = await tableCounts(schema.db, schema.schema);
    const walFrom = await walLsn(schema.db);
    // Started as the packaged daemon is (src/daemon-node-flags.ts); BENCH_NODE_FLAGS come after, and win.
    daemon = forkTs(SELF, ['--role', 'daemon', JSON.stringify(cfg)], { killAfterMs, profileDir, execArgv: DAEMON_NODE_FLAGS });
    await nextMessage(daemon, typed<{ type: 'started' }>('started'), 'daemon');
    if (o.feed === 'during') fed = xaddAll(redis, keys.outbound, payloads, o.rate);

    // Poll until every message is submitted, or the time is up. With receipts, a message may
    // already be delivered when it is first seen, so "submitted" is then "no longer queued"; the
    // poll goes on until every receipt is recorded too.
    const deadline = performance.now() + o.seconds * 1000;
    // The daemon's backends' CPU, read about every second while they live: pg.Pool closes a
    // connection idle for 10 s, and a backend read only at the end would be missing from the sum.
    const backendCpuMs = new Map<number, number>();
    const readBackends = async (): Promise<void> => {
      const live = await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = ${daemonApplicationName(schema.schema)}`.execute(schema.db);
      for (const { pid } of live.rows) {
        const ms = procCpuMs(pid);
        if (ms !== undefined) backendCpuMs.set(pid, Math.max(ms, backendCpuMs.get(pid) ?? 0));
      }
    };
    let backendsReadAt = 0;
    let submitted = 0;
    let delivered = 0;
    let inserted = 0;
    let doneAt = 0;
    let deliveredAt = 0;
    while (performance.now() < deadline) {
      const pollStart = performance.now();
      if (pollStart - backendsReadAt >= BACKEND_CPU_READ_MS) {
        backendsReadAt = pollStart;
        await readBackends();
      }
      if (o.dlr) {
        if (inserted < o.count) inserted = await acknowledgedEntries(redis, keys.outbound, keys.group);
        const r = await inFlightCounts(schema.db);
        const queued = Number(r.q);
        submitted = inserted - queued;
        if (submitted >= o.count && doneAt === 0) doneAt = epochNowMs();
        if (doneAt !== 0 && submitted - Number(r.s) >= o.count) {
          const d = await sql<{ d: string }>`select count(*) as d from messages where status = 'delivered'`.execute(schema.db);
          delivered = Number(d.rows[0]?.d ?? 0);
          if (delivered >= o.count) {
            deliveredAt = epochNowMs();
            break;
          }
        }
      } else {
        const r = await sql<{ n: string }>`select count(*) as n from messages where status = 'submitted'`.execute(schema.db);
        submitted = Number(r.rows[0]?.n ?? 0);
        if (submitted >= o.count) {
          doneAt = epochNowMs();
          break;
        }
      }
      // A poll that got slow (its counts grow with the table: 1.3 s at a million rows) waits four
      // times its own length, so the benchmark never takes more than a fifth of a core from what
      // it measures.
      const pollMs = performance.now() - pollStart;
      await new Promise((r) => setTimeout(r, Math.max(o.dlr ? DLR_POLL_MS : 20, 4 * pollMs)));
    }
    if (doneAt === 0) doneAt = epochNowMs();
    if (o.dlr && deliveredAt === 0) {
      const d = await sql<{ d: string }>`select count(*) as d from messages where status = 'delivered'`.execute(schema.db);
      delivered = Number(d.rows[0]?.d ?? 0);
    }
    const feedResult = await fed!;
    // CPU of the Postgres backends serving the daemon's connections (their whole life, which
    // began with the daemon; those closed meanwhile as last read), and of Redis since the daemon
    // was started.
    await readBackends();
    const postgresCpuMs = sum([...backendCpuMs.values()]);
    const redisCpuMs = sum(redisPids.map((p) => procCpuMs(p) ?? 0)) - redisCpuFrom;
    const cpuShare = cpuShareLine(performance.now() - wallFrom, machineCpuMs().busyMs - machineFrom.busyMs, {
      daemon: (daemon.pid && procCpuMs(daemon.pid)) || 0,
      'its postgres backends': postgresCpuMs,
      simulator: ((sim.pid && procCpuMs(sim.pid)) || 0) - simCpuFrom,
      redis: redisCpuMs,
      orchestrator: cpuMsSince(orchestratorCpuFrom),
      'its poll in postgres': sum(orchestratorBackends.map((p) => procCpuMs(p) ?? 0)) - orchestratorPgFrom,
    });

    daemon.send({ type: 'report' });
    const daemonReport = await nextMessage(daemon, typed<DaemonReport>('daemon-report'), 'daemon');
    sim.send({ type: 'report' });
    const simReport = await nextMessage(sim, typed<SimReport>('sim-report'), 'simulator');

    const statusRows = await sql<{ status: string; n: string }>`select status, count(*) as n from messages group by status`.execute(schema.db);
    const statuses = Object.fromEntries(statusRows.rows.map((r) => [r.status, Number(r.n)]));

    // Join the instrumentation by destination.
    const destOfEntry = new Map<string, string>();
    const xaddAt = new Map<string, number>();
    feedResult.ids.forEach((id, i) => {
      destOfEntry.set(id, destinations[i] as string);
      xaddAt.set(destinations[i] as string, feedResult.at[i] as number);
    });
    const dequeueAt = new Map<string, number>();
    for (const [id, t] of daemonReport.dequeued) {
      const d = destOfEntry.get(id);
      if (d !== undefined) dequeueAt.set(d, t);
    }
    const enqueuedAt = new Map(daemonReport.enqueued);
    const submitAt = new Map(daemonReport.submitted);
    const wireAt = new Map<string, number>();
    for (const [d, t] of simReport.arrivals) if (!wireAt.has(d)) wireAt.set(d, t);
    const over = (f: (d: string) => [number | undefined, number | undefined]): [number | undefined, number | undefined][] => destinations.map(f);
    const wireTimes = [...wireAt.values()].sort((a, b) => a - b);
    const wireSpan = (wireTimes[wireTimes.length - 1] ?? 0) - (wireTimes[0] ?? 0);
    const t0 = daemonReport.firstDequeueMs;
    const stage = (times: Iterable<number>): Stage => {
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      let n = 0;
      for (const t of times) {
        first = Math.min(first, t);
        last = Math.max(last, t);
        n++;
      }
      return { firstMs: first - t0, lastMs: last - t0, n };
    };
    const stages: Stages = {
      dequeue: stage(dequeueAt.values()),
      enqueued: stage(enqueuedAt.values()),
      submit: stage(submitAt.values()),
      wire: stage(wireAt.values()),
      recorded: { firstMs: Number.NaN, lastMs: doneAt - t0, n: submitted },
      delivered: { firstMs: Number.NaN, lastMs: deliveredAt > 0 ? deliveredAt - t0 : Number.NaN, n: o.count },
    };

    daemon.send({ type: 'stop' });
    await exited(daemon, 30_000);
    // The daemon's backends flush their table counters as they exit.
    await new Promise((r) => setTimeout(r, 700));
    const walBytes = await walBytesSince(schema.db, walFrom);
    const server: ServerCost = { ...tableWrites(countsFrom, await tableCounts(schema.db, schema.schema)), walBytes };
    let profile: string | undefined;
    if (profileDir) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      const biggest = files.map((f) => path.join(profileDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
      profile = biggest;
    }
    const heapProfile = heapProfileDir ? readdirSync(heapProfileDir).filter((f) => f.endsWith('.heapprofile')).map((f) => path.join(heapProfileDir, f))[0] : undefined;
    const spanMs = doneAt - daemonReport.firstDequeueMs;
    const finalSpanMs = (deliveredAt > 0 ? deliveredAt : epochNowMs()) - daemonReport.firstDequeueMs;
    const beforeLastAnswer = o.dlr
      ? Number(
          (
            await sql<{ n: string }>`select count(*) as n from receipts
              where received_at <= (select max(responded_at) from segments)`.execute(schema.db)
          ).rows[0]?.n ?? 0,
        )
      : 0;
    const receipts: ReceiptFigures | undefined = o.dlr
      ? {
          beforeLastAnswer,
          delivered,
          finalRate: (delivered / finalSpanMs) * 1000,
          finalSpanMs,
          commit: spread(daemonReport.receiptCommitMs),
          histogram: daemonReport.receiptCommitHistogram,
          roundTrip: spread(simReport.receiptRoundTripMs),
        }
      : undefined;
    return {
      server,
      receipts,
      cpuShare,
      load: loadLine(),
      options: o,
      postgresCpuMs,
      postgresBackends: backendCpuMs.size,
      redisCpuMs,
      submitted,
      partial: submitted < o.count,
      rate: (submitted / spanMs) * 1000,
      spanMs,
      feedMs,
      wireRate: wireTimes.length > 1 ? ((wireTimes.length - 1) / wireSpan) * 1000 : Number.NaN,
      daemon: daemonReport,
      sim: simReport,
      intervals: {
        dequeueToWire: interval(over((d) => [dequeueAt.get(d), wireAt.get(d)])),
        dequeueToEnqueued: interval(over((d) => [dequeueAt.get(d), enqueuedAt.get(d)])),
        enqueuedToSubmit: interval(over((d) => [enqueuedAt.get(d), submitAt.get(d)])),
        submitToWire: interval(over((d) => [submitAt.get(d), wireAt.get(d)])),
        xaddToWire: o.feed === 'during' ? interval(over((d) => [xaddAt.get(d), wireAt.get(d)])) : undefined,
      },
      statuses,
      profile,
      heapProfile,
      stages,
    };
  } finally {
    if (daemon && daemon.exitCode === null) {
      daemon.send({ type: 'stop' });
      await exited(daemon, 30_000);
    }
    if (sim) {
      if (sim.exitCode === null) sim.send({ type: 'stop' });
      await exited(sim, 10_000);
    }
    redis.disconnect();
    await dropRedisPrefix(prefix);
    await schema.drop();
  }
}

/** A run's headline figures, as `--result-json` writes them. */
export interface OutboundResult {
  readonly binds: number;
  readonly count: number;
  /** Every message final in Postgres (with receipts), msg/s; undefined without receipts. */
  readonly finalRate: number | undefined;
  readonly delivered: number | undefined;
  readonly submitRate: number;
  readonly daemonCpuMs: number;
  readonly postgresCpuMs: number;
  /** WAL written over the run, cluster-wide (see "cost per message"). */
  readonly walBytes: number;
}

/** A run's row label: its binds, and its number among the runs of that binds value (--runs). */
function runLabel(r: RunResult): string {
  return r.options.runs > 1 ? `${r.options.binds} #${r.options.run}` : String(r.options.binds);
}

/** The median of each headline figure over the runs of one binds value (per message of the count). */
function runMedians(runs: readonly RunResult[]): RunMedians {
  const of = (f: (r: RunResult) => number): number => median(runs.map(f));
  return {
    finalRate: of((r) => r.receipts?.finalRate ?? 0),
    rate: of((r) => r.rate),
    daemonUs: of((r) => (r.daemon.cpuMs * 1000) / Math.max(1, r.options.count)),
    postgresUs: of((r) => (r.postgresCpuMs * 1000) / Math.max(1, r.options.count)),
    walBytes: of((r) => r.server.walBytes / Math.max(1, r.options.count)),
  };
}

function writeResultJson(file: string, results: readonly RunResult[]): void {
  const out: OutboundResult[] = results.map((r) => ({
    binds: r.options.binds,
    count: r.options.count,
    finalRate: r.receipts?.finalRate,
    delivered: r.receipts?.delivered,
    submitRate: r.rate,
    daemonCpuMs: r.daemon.cpuMs,
    postgresCpuMs: r.postgresCpuMs,
    walBytes: r.server.walBytes,
  }));
  writeFileSync(file, JSON.stringify(out, null, 2));
}

async function main(): Promise<void> {
  const roleAt = process.argv.indexOf('--role');
  if (roleAt >= 0) {
    const role = process.argv[roleAt + 1];
    const arg = JSON.parse(process.argv[roleAt + 2] ?? '{}') as unknown;
    if (role === 'daemon') await runDaemonChild(arg as DaemonConfig);
    else if (role === 'sim') await runSimChild(arg as SimChildOptions);
    return;
  }

  if (booleanFlag('help')) {
    console.log(fileHeader(SELF));
    return;
  }
  const feed = stringFlag('feed', 'before');
  if (!Number.isInteger(numberFlag('runs', 1)) || numberFlag('runs', 1) < 1 || numberFlag('runs', 1) > 9) throw new Error('--runs must be an integer from 1 to 9');
  if (feed !== 'before' && feed !== 'during') throw new Error('--feed must be before or during');
  const bindsList = stringFlag('binds', '1,2')
    .split(',')
    .map((b) => Number(b));
  if (bindsList.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('--binds must be a list of integers >= 1, e.g. 1,2');
  const base = {
    count: numberFlag('count', 20_000),
    runs: numberFlag('runs', 1),
    window: numberFlag('window', 100),
    tps: numberFlag('tps', 100_000),
    seconds: numberFlag('seconds', 120),
    feed: feed as 'before' | 'during',
    rate: numberFlag('rate', 0),
    // Receipts are on unless --no-dlr (--dlr is still accepted).
    dlr: !booleanFlag('no-dlr'),
    receiptDelayMs: numberFlag('receipt-delay', 100),
    traceSql: booleanFlag('trace-sql'),
    profileDir: process.argv.includes('--profile') ? path.resolve(stringFlag('profile', 'bench-profiles')) : undefined,
    heapProfileDir: process.argv.includes('--heap-profile') ? path.resolve(stringFlag('heap-profile', 'bench-profiles')) : undefined,
  };
  console.log(
    `outbound bench: ${fmtInt(base.count)} messages (1 GSM-7 segment each, dlr ${base.dlr}), route tps ${fmtInt(base.tps)}, window ${base.window}, ` +
      `binds ${bindsList.join(' then ')}; entries XADDed ${base.feed === 'before' ? 'before the daemon starts' : `while it runs${base.rate > 0 ? ` at ${base.rate}/s` : ' (as fast as pipelining allows)'}`}; ` +
      `daemon and simulator in their own processes; ${machineLine()}`,
  );
  const results: RunResult[] = [];
  for (const binds of bindsList) for (let run = 1; run <= base.runs; run++) {
    const r = await runOnce({ ...base, binds, run });
    results.push(r);
    console.log(
      `  binds ${runLabel(r)}: ` +
        (r.receipts ? `${fmtInt(r.receipts.finalRate)} msg/s final (${r.receipts.delivered}/${base.count} delivered in Postgres in ${fmt(r.receipts.finalSpanMs / 1000, 2)} s), ` : '') +
        `${fmtInt(r.rate)} msg/s ${base.dlr ? 'past queued' : 'submitted'}, ${r.submitted}/${base.count} in ${fmt(r.spanMs / 1000, 2)} s` +
        `${r.partial ? ' PARTIAL (time limit)' : ''}; statuses ${JSON.stringify(r.statuses)}; sim: submits ${r.sim.submits}, throttled ${r.sim.throttled}, rejected ${r.sim.rejected}, receipts ${r.sim.receiptsSent}` +
        (base.feed === 'before' ? `; XADD of all entries took ${fmt(r.feedMs / 1000, 2)} s` : '') +
        `; load ${r.load}`,
    );
  }

  if (process.argv.includes('--result-json')) writeResultJson(stringFlag('result-json', 'bench-result.json'), results);
  console.log('');
  console.log(
    table(
      ['binds', ...(base.dlr ? ['final msg/s', 'delivered', 'final span s'] : []), base.dlr ? 'submit msg/s' : 'msg/s', 'submitted', 'span s', 'wire msg/s', 'daemon cpu s', 'daemon µs/msg', 'sim cpu s', 'sim µs/msg', 'postgres cpu s', 'redis cpu s', 'daemon rss MB'],
      results.map((r) => [
        runLabel(r) + (r.partial || (r.receipts && r.receipts.delivered < base.count) ? ' (partial)' : ''),
        ...(r.receipts ? [fmtInt(r.receipts.finalRate), fmtInt(r.receipts.delivered), fmt(r.receipts.finalSpanMs / 1000, 2)] : []),
        fmtInt(r.rate),
        fmtInt(r.submitted),
        fmt(r.spanMs / 1000, 2),
        fmtInt(r.wireRate),
        `${fmt(r.daemon.cpuMs / 1000, 2)} (${Math.round((r.daemon.cpuMs * 1000 / (r.daemon.windowUs.toUs - r.daemon.windowUs.fromUs)) * 100)}%)`,
        fmt((r.daemon.cpuMs * 1000) / Math.max(1, r.submitted), 0),
        `${fmt(r.sim.cpuMs / 1000, 2)}`,
        fmt((r.sim.cpuMs * 1000) / Math.max(1, r.sim.submits), 0),
        `${fmt(r.postgresCpuMs / 1000, 2)} (${r.postgresBackends} conn)`,
        fmt(r.redisCpuMs / 1000, 2),
        `${fmt(r.daemon.peakRssMb, 0)} (after start ${fmt(r.daemon.rssAfterStartMb, 0)})`,
      ]),
    ),
  );
  if (base.dlr) {
    console.log(
      `  final msg/s: count / (first dequeue -> the poll (every ${DLR_POLL_MS} ms) that saw every message delivered); it includes the\n` +
        `  simulator's ${base.receiptDelayMs} ms receipt delay once. submit msg/s: until none was queued (submitted or already delivered).`,
    );
  }
  for (const r of results) {
    console.log(
      `  binds ${runLabel(r)}: ${r.cpuShare}; daemon context switches per message ${fmt(r.daemon.switches.voluntary / Math.max(1, r.submitted), 2)} voluntary, ` +
        `${fmt(r.daemon.switches.involuntary / Math.max(1, r.submitted), 2)} involuntary (preempted)`,
    );
  }
  for (const r of results) {
    const loop = loopBusy(r.daemon.loopSamples, r.spanMs);
    if (loop) console.log(`  binds ${runLabel(r)}: daemon event loop busy (sampled every ${RSS_SAMPLE_MS / 1000} s): ${loop}`);
  }
  for (const r of results) {
    const rss = rssOverRun(r.daemon.rssSamples);
    if (rss) console.log(`  binds ${runLabel(r)}: daemon rss MB over the run (sampled every ${RSS_SAMPLE_MS / 1000} s from the first dequeue): ${rss}`);
  }
  console.log(
    '  daemon cpu: from the first dequeue to the end (% of one core over that time; with --dlr the end is the last receipt recorded,\n' +
      '  so µs/msg then includes receipt handling); sim cpu: from its start;\n' +
      "  postgres cpu: the backends of the daemon's connections over their life (read every second); redis cpu: redis-server while the daemon ran (shared).",
  );
  console.log('');
  console.log(`cost per message (${base.dlr ? 'with receipts: submit, receipt, every status final' : 'submit only'}):`);
  console.log(
    table(
      ['binds', 'daemon cpu µs', 'postgres cpu µs', 'statements', 'rows written', 'WAL bytes (cluster)', 'rows by table (ins/upd (of them HOT)/del per msg)'],
      results.map((r) => {
        const n = Math.max(1, r.options.count);
        return [
          runLabel(r),
          fmt((r.daemon.cpuMs * 1000) / n, 0),
          fmt((r.postgresCpuMs * 1000) / n, 0),
          fmt(r.daemon.statements / n, 2),
          fmt(r.server.rowsWritten / n, 2),
          fmtInt(r.server.walBytes / n),
          perItemByTable(r.server.byTable, n),
        ];
      }),
    ),
  );
  console.log(
    '  per message of the run (count): daemon cpu first dequeue -> end; postgres cpu of the daemon\'s backends over their life;\n' +
      '  statements = queries the daemon sent (BEGIN/COMMIT included); rows = pg_stat_user_tables of the run\'s schema; WAL is\n' +
      '  cluster-wide (other sessions on the shared server add to it). See --help for how each is read and how to profile.',
  );
  console.log('');
  console.log('latency per message, ms (p50 / p99 / max):');
  const cell = (i: Interval | undefined): string => (i ? `${fmt(i.p50, 1)} / ${fmt(i.p99, 1)} / ${fmt(i.max, 0)}` : '-');
  console.log(
    table(
      ['binds', 'dequeue -> wire', 'dequeue -> dispatcher', 'dispatcher -> bind.submit', 'bind.submit -> wire', ...(base.feed === 'during' ? ['XADD -> wire'] : [])],
      results.map((r) => [
        runLabel(r),
        cell(r.intervals.dequeueToWire),
        cell(r.intervals.dequeueToEnqueued),
        cell(r.intervals.enqueuedToSubmit),
        cell(r.intervals.submitToWire),
        ...(base.feed === 'during' ? [cell(r.intervals.xaddToWire)] : []),
      ]),
    ),
  );
  console.log(
    '  dequeue = XREADGROUP reply in the daemon; dispatcher = Dispatcher.enqueue (insert committed, XACK done);\n' +
      '  bind.submit = SmscBind.submit called (queue, attempt ledger, throttle, window passed); wire = submit_sm decoded by the simulator.',
  );
  console.log('');
  console.log('stages, ms after the first dequeue (first .. last, and the rate between them):');
  console.log(
    table(
      ['binds', 'dequeue', 'dispatcher', 'bind.submit', 'wire', 'all submitted in Postgres', ...(base.dlr ? ['all delivered in Postgres'] : [])],
      results.map((r) => {
        const c = (st: Stage): string =>
          `${fmt(st.firstMs, 0)} .. ${fmt(st.lastMs, 0)}` + (st.lastMs > st.firstMs ? ` (${fmtInt(((st.n - 1) / (st.lastMs - st.firstMs)) * 1000)}/s)` : '');
        return [
          runLabel(r),
          c(r.stages.dequeue),
          c(r.stages.enqueued),
          c(r.stages.submit),
          c(r.stages.wire),
          fmt(r.stages.recorded.lastMs, 0),
          ...(base.dlr ? [fmt(r.stages.delivered.lastMs, 0)] : []),
        ];
      }),
    ),
  );
  if (base.dlr) {
    console.log('');
    console.log('receipts, ms (p50 / p99 / max):');
    const sp = (s: Spread | undefined): string => (s ? `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} / ${fmt(s.max, 0)}` : '-');
    console.log(
      table(
        ['binds', 'receipts', 'before the last answer', 'arrival -> commit (exact)', 'p50 from buckets', 'p99 from buckets', 'sim: deliver_sm -> resp'],
        results.map((r) => {
          const rc = r.receipts!;
          return [
            runLabel(r),
            fmtInt(rc.commit?.n ?? 0),
            `${fmtInt(rc.beforeLastAnswer)} (${r.options.count > 0 ? Math.round((rc.beforeLastAnswer / r.options.count) * 100) : 0}%)`,
            sp(rc.commit),
            fmtBucketQuantile(rc.histogram, 0.5),
            fmtBucketQuantile(rc.histogram, 0.99),
            sp(rc.roundTrip),
          ];
        }),
      ),
    );
    console.log(
      '  before the last answer: receipts committed while the daemon was still submitting (received_at <= the last\n' +
        '  segment\'s responded_at), and their share of all receipts (one per message); the rest waited for the submits\n' +
        '  to end: the SMSC holds back its next deliver_sm until its window\'s are answered, so each receipt commit\'s\n' +
        '  round trips (each a turn of the daemon\'s busy event loop) bound the receipts\' rate.\n' +
        '  arrival -> commit: parley_receipt_commit_seconds in the daemon, each observation (ReceiptRecorder.handle called ->\n' +
        '  its batch committed); from buckets: the same histogram read as Prometheus would (histogram_quantile, linear in\n' +
        '  the bucket shown as (from..to]: bucket resolution). sim: deliver_sm written -> deliver_sm_resp decoded, both in\n' +
        '  the simulator (wire, daemon decode and event-loop waits, commit, answer).',
    );
  }
  const paced = base.feed === 'during' && base.rate > 0;
  if (base.runs > 1) {
    console.log('');
    console.log(`medians of ${base.runs} runs (each binds value run ${base.runs} times in a row; per message as in "cost per message"):`);
    const medians = bindsList.map((binds) => runMedians(results.filter((r) => r.options.binds === binds)));
    console.log(
      table(
        ['binds', ...(base.dlr ? ['final msg/s'] : []), base.dlr ? 'submit msg/s' : 'msg/s', 'daemon cpu µs', 'postgres cpu µs', 'WAL bytes (cluster)'],
        bindsList.map((binds, i) => {
          const m = medians[i]!;
          return [String(binds), ...(base.dlr ? [fmtInt(m.finalRate)] : []), fmtInt(m.rate), fmt(m.daemonUs, 0), fmt(m.postgresUs, 0), fmtInt(m.walBytes)];
        }),
      ),
    );
    for (const line of issue10Verdict(bindsList, medians, base.dlr, base.runs, paced)) console.log(line);
  } else {
    console.log(`\nissue 10 goals are medians of 3 runs: not judged on one run (--runs 3 judges them)`);
  }
  const best = Math.max(...results.map((r) => r.rate));
  console.log(
    `\nissue goal >= 5,000 msg/s on this machine: best ${fmtInt(best)} msg/s -> ` +
      (paced ? `not judged: the feed was paced at ${base.rate}/s (a latency run, not a capacity run)` : best >= 5000 ? 'met' : 'NOT met') +
      `  (${machineLine()} at the end)`,
  );
  if (base.dlr) {
    const bestFinal = Math.max(...results.map((r) => r.receipts?.finalRate ?? 0));
    const p99s = results.map((r) => r.receipts?.commit?.p99 ?? Number.NaN);
    console.log(
      `issue 4 goal >= 10,000 msg/s until every message is final in Postgres: best ${fmtInt(bestFinal)} msg/s -> ` +
        (paced ? 'not judged (paced feed)' : bestFinal >= 10_000 ? 'met' : `NOT met (${fmt(bestFinal / 10_000, 2)}x of the goal)`) +
        `; receipt arrival -> commit p99 ${p99s.map((p) => fmt(p, 1)).join(' / ')} ms (binds ${results.map(runLabel).join(' / ')})`,
    );
  }
  for (const r of results) {
    if (r.daemon.sql.length > 0) {
      console.log(`\nSQL as the daemon saw it, binds ${runLabel(r)} (time from query() to result, connection queueing included):`);
      console.log(sqlTable(r.daemon.sql));
      for (const line of poolWaitLines(r.daemon.poolWait)) console.log(line);
    }
  }
  for (const r of results) {
    if (r.profile) {
      console.log(`\ndaemon profile, binds ${runLabel(r)}: ${r.profile}`);
      console.log(
        `(the daemon's CPU over the span, from getrusage: ${fmt(r.daemon.cpuMs / 1000, 2)} s; V8 samples are taken on a wall-clock timer, so "busy" time\n` +
          ' beyond that is the thread preempted (off the core) inside whatever it was running, typically the write that woke Postgres)',
      );
      console.log(summarise(r.profile, 25, 'src/', r.daemon.windowUs));
    }
    if (r.heapProfile) {
      console.log(`\ndaemon heap profile, binds ${runLabel(r)}: ${r.heapProfile}`);
      console.log(summariseHeap(r.heapProfile, 25, 'src/'));
    }
  }
  if (!booleanFlag('no-two-way')) {
    console.log(`\n${'-'.repeat(100)}\n`);
    await printTwoWay(TWO_WAY_DEFAULTS);
  }
}

main().then(
  () => {
    if (!process.argv.includes('--role')) process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
