/**
 * The two-way benchmark (issue 5's figure): customer replies injected at a steady rate, each
 * answered by a keyword rule, timed from the reply's deliver_sm to the answer's submit_sm, both
 * on the simulator's clock.
 *
 *   npm run bench:two-way -- [--rate 1000] [--seconds 10] [--drain 15] [--warmup 1] [--binds 1]
 *                            [--window 100] [--sim-window 100] [--tps 100000] [--trace-sql]
 *                            [--profile DIR]
 *
 * `npm run bench` (test/bench/outbound.ts) runs this too, with these defaults, after its own
 * figures (skip it there with --no-two-way).
 *
 * Two processes: this one holds the SMSC simulator (`startSimulator`, no control port) and the
 * injector; the daemon (`buildDaemon`, silent logger, no HTTP) runs in a child, against a fresh
 * Postgres schema in the `test` database and a unique Redis prefix, both dropped at the end. Its
 * config: number "12345" with the keyword rule PING -> reply "PONG", `unmatched: silent`, one
 * route `*` to the simulator at --tps (high: the throttle never waits).
 *
 * `rate` x `seconds` replies ("PING", to 12345), each from its own customer number, are injected
 * with `sim.injectReply` on a 5 ms timer (as many as are due each tick). For each:
 *   written  the simulator wrote its deliver_sm (SmppSession.request('deliver_sm') called in this
 *            process: encoded and handed to the socket), first attempt
 *   answered the answer's submit_sm to that customer was decoded by the simulator (its arrival
 *            `atMs`): it crossed loopback
 * Both are performance.timeOrigin + performance.now() of this process. The latency is answered -
 * written: the daemon's decode, the durable store of the reply (batched), its deliver_sm_resp,
 * claiming it, the rule, the answer's insert through intake, the dispatcher and the bind.
 * The answers ask for receipts (as every auto-reply does), so the simulator's receipts for them
 * flow back meanwhile, 100 ms later: that load is part of the figure.
 *
 * Cross-check in the daemon: `parley_auto_reply_seconds` (the dispatcher's observation, reply
 * arrival in ReplyCapture -> the answer's first segment handed to the bind), its `observe` wrapped
 * for exact values, and the histogram's buckets (histogram_quantile style, bucket resolution).
 *
 * Injection stops after `seconds` (or `seconds + 5` of wall time, whichever first); answers are
 * awaited at most `drain` seconds more. Reported: what was answered, p50/p95/p99/max for every
 * reply and for those injected after the first `warmup` seconds, the same by the second of the run
 * each reply was injected in (with that second's slowest hop: a p99 made by the daemon's first
 * seconds shows there, apart from one made all along), the daemon's CPU over the
 * injection and drain (and this process's, which holds the simulator), the rows and WAL written
 * per answered reply (pg_stat_user_tables of the run's schema; pg_current_wal_lsn, cluster-wide),
 * and the load average.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { buildDaemon } from '../../src/main.ts';
import { tuneOptimisingCompiler } from '../../src/compiler-tuning.ts';
import { DAEMON_NODE_FLAGS } from '../../src/daemon-node-flags.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { SmppSession } from '../../src/smpp/session.ts';
import { SmscBind, type InboundSm, type SubmitRequest } from '../../src/smpp/smsc-bind.ts';
import { ReplyCapture } from '../../src/inbound/reply-capture.ts';
import { ReplyHandler } from '../../src/inbound/reply-handler.ts';
import { Intake } from '../../src/outbound/intake.ts';
import { Dispatcher, type DispatchJob } from '../../src/outbound/dispatcher.ts';
import type { PendingReply } from '../../src/domain/reply.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { dropRedisPrefix, freshSchema, testConfig, uniqueName, TEST_DATABASE_URL } from '../support/services.ts';
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
  histogramDelta,
  loadLine,
  localPortsTo,
  machineCpuMs,
  machineLine,
  nextMessage,
  numberFlag,
  pidsByName,
  procCpuMs,
  snapshotHistogram,
  spread,
  sqlTable,
  poolWaitLines,
  poolWaitSpreads,
  type PoolWaits,
  stringFlag,
  perItemByTable,
  table,
  tableCounts,
  tableWrites,
  traceSql,
  tellParent,
  walBytesSince,
  walLsn,
  typed,
  type HistogramSnapshot,
  type SqlStat,
  type Spread,
} from './bench-support.ts';
import { summarise } from './profile-summary.ts';

const SELF = fileURLToPath(import.meta.url);
const OUR_NUMBER = '12345';
const KEYWORD = 'PING';
const ANSWER = 'PONG';

export interface TwoWayOptions {
  /** Replies injected per second. */
  readonly rate: number;
  /** How long replies are injected. */
  readonly seconds: number;
  /** Longest wait for the last answers after the injection. */
  readonly drainSeconds: number;
  /** Replies injected in the first `warmupSeconds` are left out of the second row. */
  readonly warmupSeconds: number;
  readonly binds: number;
  /** The daemon's submit window per bind. */
  readonly window: number;
  /** The simulator's deliver_sm window per bind. */
  readonly simWindow: number;
  readonly tps: number;
  readonly profileDir: string | undefined;
  /** Time every SQL statement and pool wait in the daemon. */
  readonly traceSql: boolean;
}

export const TWO_WAY_DEFAULTS: TwoWayOptions = {
  rate: 1000,
  seconds: 10,
  drainSeconds: 15,
  warmupSeconds: 1,
  binds: 1,
  window: 100,
  simWindow: 100,
  tps: 100_000,
  profileDir: undefined,
  traceSql: false,
};

interface DaemonConfig {
  readonly schema: string;
  readonly prefix: string;
  readonly simPort: number;
  readonly binds: number;
  readonly window: number;
  readonly tps: number;
  readonly traceSql: boolean;
}

interface DaemonReport {
  readonly type: 'daemon-report';
  /** CPU from the 'mark' (injection start) to this report. */
  readonly cpuMs: number;
  /** Context switches over the same span: voluntary (waits) and involuntary (preempted). */
  readonly switches: { voluntary: number; involuntary: number };
  readonly wallMs: number;
  readonly peakRssMb: number;
  /** Each parley_auto_reply_seconds observation after the mark, ms. */
  readonly autoReplyMs: number[];
  readonly autoReplyHistogram: HistogramSnapshot;
  /** process.hrtime µs of the mark and of this report: the profile's measured span. */
  readonly windowUs: { fromUs: number; toUs: number };
  /** Per stage, [customer digits, epoch ms] of its first passage (see STAGES). */
  readonly stages: Record<DaemonStage, [string, number][]>;
  readonly sql: SqlStat[];
  readonly poolWait: PoolWaits | undefined;
}

/**
 * Where a reply and its answer are in the daemon, by wrapping prototype methods in the daemon
 * process (nothing in src/ changes); each keyed by the customer's number, first passage only.
 */
const STAGES = {
  capture: 'ReplyCapture.handle called (deliver_sm decoded, classified as a reply)',
  stored: 'its ReplyCapture.handle resolved (the batch of parts committed; deliver_sm_resp next)',
  claimed: 'ReplyHandler.handleBatch got it (claimed from the replies table)',
  admit: 'Intake.admit called with the answer (conversation, opt-out and rule done)',
  enqueued: 'Dispatcher.enqueue got the answer (its insert committed)',
  submit: 'SmscBind.submit called for the answer (queue, throttle, window passed)',
} as const;
type DaemonStage = keyof typeof STAGES;

const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);
const digits = (s: string): string => s.replace(/\D/g, '');

function instrumentStages(): Record<DaemonStage, Map<string, number>> {
  const seen = Object.fromEntries(Object.keys(STAGES).map((k) => [k, new Map<string, number>()])) as Record<DaemonStage, Map<string, number>>;
  const mark = (stage: DaemonStage, key: string): void => {
    const m = seen[stage];
    if (!m.has(key)) m.set(key, epochNowMs());
  };
  const capture = ReplyCapture.prototype.handle;
  ReplyCapture.prototype.handle = async function (this: ReplyCapture, sm: InboundSm) {
    const key = digits(sm.source.address);
    mark('capture', key);
    const answer = await capture.call(this, sm);
    mark('stored', key);
    return answer;
  };
  const proto = ReplyHandler.prototype as unknown as { handleBatch: (batch: readonly PendingReply[]) => Promise<void> };
  const handleBatch = proto.handleBatch;
  proto.handleBatch = function (this: unknown, batch: readonly PendingReply[]) {
    for (const r of batch) mark('claimed', digits(r.from));
    return handleBatch.call(this, batch);
  };
  const admit = Intake.prototype.admit;
  Intake.prototype.admit = function (this: Intake, messages) {
    for (const m of messages) mark('admit', digits(m.to));
    return admit.call(this, messages);
  };
  const enqueue = Dispatcher.prototype.enqueue;
  Dispatcher.prototype.enqueue = function (this: Dispatcher, jobs: readonly DispatchJob[]): void {
    for (const j of jobs) mark('enqueued', digits(j.message.to));
    enqueue.call(this, jobs);
  };
  const submit = SmscBind.prototype.submit;
  SmscBind.prototype.submit = function (this: SmscBind, req: SubmitRequest) {
    mark('submit', digits(req.destination.address));
    return submit.call(this, req);
  };
  return seen;
}

// ------------------------------------------------------------------------------ daemon child

async function runDaemonChild(cfg: DaemonConfig): Promise<void> {
  const stages = instrumentStages();
  let marked = false;
  const trace = cfg.traceSql ? await traceSql(() => marked) : undefined;
  const config = testConfig(
    {
      // The defaults a production config gets (testConfig shrinks the pool and the claim time).
      database: { url: TEST_DATABASE_URL, pool_size: 10 },
      intake: { consumer: uniqueName('bench2w') },
      smscs: [{ name: 'sim', host: '127.0.0.1', port: cfg.simPort, system_id: 'parley', password: 'secret', binds: cfg.binds, window: cfg.window }],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: cfg.tps, default_from: OUR_NUMBER }],
      numbers: [{ address: OUR_NUMBER, rules: [{ name: 'ping', keywords: [KEYWORD], actions: [{ reply: ANSWER }] }], unmatched: 'silent' }],
    },
    cfg.prefix,
  );
  // As `parley start` does (BENCH_NODE_FLAGS="--max-inlined-bytecode-size-cumulative=920" measures V8's default).
  tuneOptimisingCompiler();
  const daemon = buildDaemon(config, { logger: silentLogger, schema: cfg.schema, http: false });
  const autoReplyMs: number[] = [];
  const hist = daemon.metrics.autoReplyLatency;
  const observe = hist.observe.bind(hist) as (...args: unknown[]) => void;
  (hist as unknown as { observe: (...args: unknown[]) => void }).observe = (...args: unknown[]): void => {
    const v = args[args.length - 1];
    if (marked && typeof v === 'number') autoReplyMs.push(v * 1000);
    observe(...args);
  };
  let cpuFrom = process.cpuUsage();
  let switchesFrom = process.resourceUsage();
  let wallFrom = performance.now();
  let fromUs = hrUs();
  let histogramAtMark: HistogramSnapshot | undefined;
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'mark') {
      snapshotHistogram(hist).then((h) => {
        histogramAtMark = h;
        marked = true;
        cpuFrom = process.cpuUsage();
        switchesFrom = process.resourceUsage();
        wallFrom = performance.now();
        fromUs = hrUs();
        return tellParent({ type: 'marked' });
      }).catch(failChild);
    } else if (m.type === 'report') {
      const cpuMs = cpuMsSince(cpuFrom);
      const ru = process.resourceUsage();
      const switches = {
        voluntary: ru.voluntaryContextSwitches - switchesFrom.voluntaryContextSwitches,
        involuntary: ru.involuntaryContextSwitches - switchesFrom.involuntaryContextSwitches,
      };
      const wallMs = performance.now() - wallFrom;
      const toUs = hrUs();
      snapshotHistogram(hist).then((now) => {
        const report: DaemonReport = {
          type: 'daemon-report',
          cpuMs,
          switches,
          wallMs,
          peakRssMb: process.resourceUsage().maxRSS / 1024,
          autoReplyMs,
          autoReplyHistogram: histogramDelta(now, histogramAtMark),
          windowUs: { fromUs, toUs },
          sql: trace?.statements() ?? [],
          poolWait: trace ? poolWaitSpreads(trace.poolWaits()) : undefined,
          stages: Object.fromEntries(Object.entries(stages).map(([k, m]) => [k, [...m]])) as Record<DaemonStage, [string, number][]>,
        };
        return tellParent(report);
      }).catch(failChild);
    } else if (m.type === 'stop') {
      daemon.service
        .stop()
        .then(() => tellParent({ type: 'stopped' }))
        .then(() => process.exit(0), failChild);
    }
  });
  await daemon.service.start();
  await tellParent({ type: 'started' });
}

// ------------------------------------------------------------------------------ orchestrator

export interface TwoWayResult {
  readonly options: TwoWayOptions;
  readonly injected: number;
  readonly written: number;
  readonly answered: number;
  readonly injectSeconds: number;
  /** Replies per second actually injected (first to last injection). */
  readonly injectRate: number;
  readonly all: Spread | undefined;
  readonly afterWarmup: Spread | undefined;
  /** The same latency by the second its reply was injected, with that second's slowest hop. */
  readonly bySecond: readonly SecondOfRun[];
  /** injectReply -> deliver_sm written (the simulator's own queueing, its window included). */
  readonly injectToWritten: Spread | undefined;
  readonly daemon: DaemonReport;
  readonly daemonAutoReply: Spread | undefined;
  readonly benchCpuMs: number;
  readonly replies: Record<string, number>;
  readonly messages: Record<string, number>;
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly profile: string | undefined;
  /** Consecutive stages, sim write -> daemon stages -> sim arrival, ms (replies answered only). */
  readonly hops: Hop[];
  /** The daemon's Postgres backends over injection + drain. */
  readonly postgresCpuMs: number;
  readonly postgresBackends: number;
  /** The machine's busy CPU over injection + drain and the benchmark's share. */
  readonly cpuShare: string;
  /**
   * Rows the daemon wrote (pg_stat_user_tables of the run's own schema) and WAL (cluster-wide, an
   * upper bound), from just before the first reply to the daemon's exit.
   */
  readonly rowsWritten: number;
  readonly byTable: Record<string, [number, number, number, number]>;
  readonly walBytes: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function customer(i: number): string {
  return `1555${String(i).padStart(7, '0')}`;
}

async function waitForBinds(sim: Simulator, binds: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (sim.binds.filter((b) => b.type !== 'transmitter').length >= binds) return;
    await sleep(20);
  }
  throw new Error(`the daemon did not bind ${binds} receiving bind(s) to the simulator within ${ms} ms`);
}

export async function runTwoWay(o: TwoWayOptions): Promise<TwoWayResult> {
  const loadBefore = loadLine();
  const total = Math.round(o.rate * o.seconds);
  const schema = await freshSchema();
  const prefix = `${uniqueName('bench2w')}:`;
  const killAfterMs = (o.seconds + o.drainSeconds + 120) * 1000;
  const profileDir = o.profileDir ? path.join(o.profileDir, `two-way-${Date.now()}`) : undefined;

  // Customer replies as this process's simulator writes them: customer -> first write, epoch ms.
  const writtenAt = new Map<string, number>();
  const request = SmppSession.prototype.request;
  SmppSession.prototype.request = function (this: SmppSession, command, init) {
    if (command === 'deliver_sm') {
      const f = init as { esm_class?: number; source_addr?: string };
      if (((f.esm_class ?? 0) & 0x3c) === 0 && f.source_addr !== undefined && !writtenAt.has(f.source_addr)) writtenAt.set(f.source_addr, epochNowMs());
    }
    return request.call(this, command, init);
  } as typeof request;

  let sim: Simulator | undefined;
  let daemon: ChildProcess | undefined;
  try {
    sim = await startSimulator({ controlPort: false, window: o.simWindow, keep: total * 2 + 1000, receiptDelayMs: 100 });
    const cfg: DaemonConfig = { schema: schema.schema, prefix, simPort: sim.port, binds: o.binds, window: o.window, tps: o.tps, traceSql: o.traceSql };
    // Started as the packaged daemon is (src/daemon-node-flags.ts); BENCH_NODE_FLAGS come after, and win.
    daemon = forkTs(SELF, ['--role', 'daemon', JSON.stringify(cfg)], { killAfterMs, profileDir, execArgv: DAEMON_NODE_FLAGS });
    await nextMessage(daemon, typed<{ type: 'started' }>('started'), 'daemon');
    await waitForBinds(sim, o.binds, 15_000);
    // CPU of the Postgres backends serving the daemon, of Redis and of the whole machine from
    // here to the end of the drain.
    const backendsOf = async (pid: number | undefined): Promise<number[]> => {
      const ports = pid ? localPortsTo(pid, 5432) : [];
      if (ports.length === 0) return [];
      return (await sql<{ pid: number }>`select pid from pg_stat_activity where client_port = any(${ports})`.execute(schema.db)).rows.map((b) => b.pid);
    };
    const pgFrom = new Map((await backendsOf(daemon.pid)).map((p) => [p, procCpuMs(p) ?? 0]));
    const redisPids = pidsByName('redis-server');
    const redisFrom = sum(redisPids.map((p) => procCpuMs(p) ?? 0));
    const machineFrom = machineCpuMs();
    const countsFrom = await tableCounts(schema.db, schema.schema);
    const walFrom = await walLsn(schema.db);
    daemon.send({ type: 'mark' });
    await nextMessage(daemon, typed<{ type: 'marked' }>('marked'), 'daemon');

    // Answers: the first submit_sm to each customer, read from the arrival log as it grows.
    const answerAt = new Map<string, number>();
    let seenSeq = 0;
    const collect = (): void => {
      const { arrivals, last } = sim!.arrivalsSince(seenSeq);
      seenSeq = last;
      for (const a of arrivals) {
        if (a.status === 'accepted' && a.text === ANSWER && !answerAt.has(a.destination)) answerAt.set(a.destination, a.atMs);
      }
    };

    const injectAt: number[] = [];
    const benchCpuFrom = process.cpuUsage();
    const started = performance.now();
    const hardStop = started + (o.seconds + 5) * 1000;
    let injected = 0;
    while (injected < total && performance.now() < hardStop) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * o.rate));
      while (injected < due) {
        injectAt.push(epochNowMs());
        sim.injectReply({ from: customer(injected), to: OUR_NUMBER, text: KEYWORD });
        injected++;
      }
      collect();
      await sleep(5);
    }
    const injectSeconds = (performance.now() - started) / 1000;
    const drainUntil = performance.now() + o.drainSeconds * 1000;
    while (answerAt.size < injected && performance.now() < drainUntil) {
      collect();
      await sleep(20);
    }
    collect();
    const benchCpuMs = cpuMsSince(benchCpuFrom);
    const wallMs = performance.now() - started;
    const machineBusyMs = machineCpuMs().busyMs - machineFrom.busyMs;
    const pgPids = await backendsOf(daemon.pid);
    const postgresCpuMs = sum(pgPids.map((p) => (procCpuMs(p) ?? 0) - (pgFrom.get(p) ?? 0)));
    const redisCpuMs = sum(redisPids.map((p) => procCpuMs(p) ?? 0)) - redisFrom;

    daemon.send({ type: 'report' });
    const report = await nextMessage(daemon, typed<DaemonReport>('daemon-report'), 'daemon');
    const cpuShare = cpuShareLine(wallMs, machineBusyMs, {
      daemon: report.cpuMs,
      'its postgres backends': postgresCpuMs,
      'simulator + injector': benchCpuMs,
      redis: redisCpuMs,
    });

    const all: number[] = [];
    const late: number[] = [];
    const queueing: number[] = [];
    const warmupEnd = (injectAt[0] ?? 0) + o.warmupSeconds * 1000;
    for (let i = 0; i < injected; i++) {
      const c = customer(i);
      const w = writtenAt.get(c);
      const a = answerAt.get(c);
      if (w !== undefined) queueing.push(w - (injectAt[i] as number));
      if (w === undefined || a === undefined) continue;
      all.push(a - w);
      if ((injectAt[i] as number) >= warmupEnd) late.push(a - w);
    }
    // Hop by hop, on every answered reply: the sim's write, the daemon's stages, the sim's arrival.
    const chain: [string, Map<string, number>][] = [
      ['sim write', writtenAt],
      ...(Object.keys(STAGES) as DaemonStage[]).map((k): [string, Map<string, number>] => [k, new Map(report.stages[k])]),
      ['sim arrival', answerAt],
    ];
    const hops = hopsOf(chain, [...answerAt.keys()]);
    const bySecond = latencyBySecond(injectAt, customer, chain);
    const groupBy = async (table: 'replies' | 'messages'): Promise<Record<string, number>> => {
      const r = await sql<{ status: string; n: string }>`select status, count(*) as n from ${sql.table(table)} group by status`.execute(schema.db);
      return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
    };
    const replies = await groupBy('replies');
    const messages = await groupBy('messages');

    daemon.send({ type: 'stop' });
    await exited(daemon, 30_000);
    // The daemon's backends flush their table counters as they exit.
    await sleep(700);
    const walBytes = await walBytesSince(schema.db, walFrom);
    const writes = tableWrites(countsFrom, await tableCounts(schema.db, schema.schema));
    let profile: string | undefined;
    if (profileDir) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      profile = files.map((f) => path.join(profileDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    }
    const firstInject = injectAt[0] ?? 0;
    const lastInject = injectAt[injectAt.length - 1] ?? 0;
    return {
      options: o,
      injected,
      written: [...Array(injected).keys()].filter((i) => writtenAt.has(customer(i))).length,
      answered: all.length,
      injectSeconds,
      injectRate: injected > 1 ? ((injected - 1) / (lastInject - firstInject)) * 1000 : Number.NaN,
      all: spread(all),
      afterWarmup: spread(late),
      bySecond,
      injectToWritten: spread(queueing),
      daemon: report,
      daemonAutoReply: spread([...report.autoReplyMs]),
      benchCpuMs,
      replies,
      messages,
      loadBefore,
      loadAfter: loadLine(),
      profile,
      hops,
      postgresCpuMs,
      postgresBackends: pgPids.length,
      cpuShare,
      ...writes,
      walBytes,
    };
  } finally {
    SmppSession.prototype.request = request;
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.send({ type: 'stop' });
      await exited(daemon, 30_000);
    }
    if (sim) await sim.stop();
    await dropRedisPrefix(prefix);
    await schema.drop();
  }
}

type Chain = readonly [string, ReadonlyMap<string, number>][];
type Hop = { readonly from: string; readonly to: string; readonly spread: Spread | undefined };

/** Each consecutive pair of `chain`'s stages, over the answered ones (the last stage) of `customers`. */
function hopsOf(chain: Chain, customers: readonly string[]): Hop[] {
  const answered = customers.filter((c) => chain[chain.length - 1]![1].has(c));
  return chain.slice(1).map(([to, toMap], i) => {
    const [from, fromMap] = chain[i]!;
    const values = answered.flatMap((c) => {
      const [x, y] = [fromMap.get(c), toMap.get(c)];
      return x !== undefined && y !== undefined ? [y - x] : [];
    });
    return { from, to, spread: spread(values) };
  });
}

interface SecondOfRun {
  readonly second: number;
  /** First stage of the chain to its last. */
  readonly spread: Spread | undefined;
  readonly slowest: (Hop & { readonly spread: Spread }) | undefined;
}

/**
 * Latency (the chain's first stage to its last) of the replies injected in each second of the
 * run, and that second's hop with the highest p50.
 */
function latencyBySecond(injectAt: readonly number[], customer: (i: number) => string, chain: Chain): SecondOfRun[] {
  const first = injectAt[0] ?? 0;
  const seconds = new Map<number, string[]>();
  injectAt.forEach((at, i) => {
    const s = Math.floor((at - first) / 1000);
    const list = seconds.get(s);
    if (list) list.push(customer(i));
    else seconds.set(s, [customer(i)]);
  });
  return [...seconds].map(([second, customers]) => {
    let slowest: SecondOfRun['slowest'];
    for (const hop of hopsOf(chain, customers)) {
      if (hop.spread && (!slowest || hop.spread.p50 > slowest.spread.p50)) slowest = { ...hop, spread: hop.spread };
    }
    const [whole] = hopsOf([chain[0]!, chain[chain.length - 1]!], customers);
    return { second, spread: whole?.spread, slowest };
  });
}

/** Runs the benchmark and prints its figures. */
export async function printTwoWay(o: TwoWayOptions): Promise<TwoWayResult> {
  console.log(
    `two-way bench: "${KEYWORD}" replies to ${OUR_NUMBER} at ${fmtInt(o.rate)}/s for ${o.seconds} s (${fmtInt(o.rate * o.seconds)}, one customer number each), ` +
      `keyword rule -> "${ANSWER}"; daemon binds ${o.binds}, window ${o.window}, route tps ${fmtInt(o.tps)}; simulator deliver_sm window ${o.simWindow}, ` +
      `in this process; daemon in its own; ${machineLine()}`,
  );
  const r = await runTwoWay(o);
  const d = r.daemon;
  console.log(
    `  injected ${fmtInt(r.injected)} in ${fmt(r.injectSeconds, 2)} s (${fmtInt(r.injectRate)}/s), deliver_sm written ${fmtInt(r.written)}, answered ${fmtInt(r.answered)}` +
      `${r.answered < r.injected ? ` (${fmtInt(r.injected - r.answered)} NOT answered within ${o.drainSeconds} s)` : ''}; ` +
      `replies in Postgres ${JSON.stringify(r.replies)}; messages ${JSON.stringify(r.messages)}; load before ${r.loadBefore}, after ${r.loadAfter}`,
  );
  const row = (label: string, s: Spread | undefined): string[] =>
    s ? [label, fmtInt(s.n), fmt(s.p50, 1), fmt(s.p95, 1), fmt(s.p99, 1), fmt(s.max, 0)] : [label, '0', '-', '-', '-', '-'];
  console.log('');
  console.log('latency, ms:');
  console.log(
    table(
      ['', 'n', 'p50', 'p95', 'p99', 'max'],
      [
        row('deliver_sm written -> answer submit_sm arrived (all)', r.all),
        row(`  the same, injected after the first ${o.warmupSeconds} s`, r.afterWarmup),
        row('daemon: parley_auto_reply_seconds observations', r.daemonAutoReply),
        row('sim: injectReply -> deliver_sm written', r.injectToWritten),
      ],
    ),
  );
  console.log('');
  console.log('latency by the second the reply was injected (ms), and that second\'s slowest hop by its p50:');
  console.log(
    table(
      ['second', 'n', 'p50', 'p95', 'p99', 'max', 'slowest hop (p50 / p95)'],
      r.bySecond.map((b) => [
        ...row(String(b.second), b.spread),
        b.slowest ? `${b.slowest.from} -> ${b.slowest.to} (${fmt(b.slowest.spread.p50, 1)} / ${fmt(b.slowest.spread.p95, 1)})` : '-',
      ]),
    ),
  );
  console.log(
    '  a p99 made in the first seconds is the daemon just started, one made all along is its steady state;\n' +
      '  --warmup N leaves the first N seconds out of the second row above.',
  );
  console.log('');
  console.log('where the time goes, hop by hop (answered replies; ms):');
  console.log(
    table(
      ['hop', 'n', 'p50', 'p95', 'p99', 'max'],
      r.hops.map((hp) => row(`${hp.from} -> ${hp.to}`, hp.spread)),
    ),
  );
  console.log(
    '  sim write = deliver_sm handed to the simulator\'s session; ' +
      Object.entries(STAGES)
        .map(([k, v]) => `${k} = ${v}`)
        .join(';\n  ') +
      ';\n  sim arrival = the answer\'s submit_sm decoded by the simulator. Stages are epoch ms from each process\'s monotonic\n' +
      '  clock (comparable on one machine); a percentile of a sum is not the sum of percentiles.',
  );
  const h = d.autoReplyHistogram;
  console.log(
    `  parley_auto_reply_seconds from its buckets (histogram_quantile, ms, bucket in brackets): p50 ${fmtBucketQuantile(h, 0.5)}, ` +
      `p95 ${fmtBucketQuantile(h, 0.95)}, p99 ${fmtBucketQuantile(h, 0.99)}; count ${fmtInt(h.count)}, mean ${fmt((h.sumSeconds / Math.max(1, h.count)) * 1000, 1)}`,
  );
  console.log(
    '  the daemon observes from the reply reaching ReplyCapture to the answer handed to SmppSession (before encode and\n' +
      '  write), so it misses the loopback legs and the decode/encode on either side of the wire figure.',
  );
  console.log('');
  const busy = (ms: number, wall: number): string => `${fmt(ms / 1000, 2)} s (${Math.round((ms / wall) * 100)}% of a core)`;
  console.log(
    table(
      ['process', 'cpu over injection + drain', 'µs per reply', 'peak rss MB'],
      [
        ['daemon', busy(d.cpuMs, d.wallMs), fmt((d.cpuMs * 1000) / Math.max(1, r.answered), 0), fmt(d.peakRssMb, 0)],
        ['bench (simulator + injector)', busy(r.benchCpuMs, d.wallMs), fmt((r.benchCpuMs * 1000) / Math.max(1, r.injected), 0), '-'],
        [`daemon's postgres backends (${r.postgresBackends})`, busy(r.postgresCpuMs, d.wallMs), fmt((r.postgresCpuMs * 1000) / Math.max(1, r.answered), 0), '-'],
      ],
    ),
  );
  console.log(`  ${r.cpuShare}`);
  const n = Math.max(1, r.answered);
  console.log(
    `  written per answered reply (its answer's submit and receipt included): ${fmt(r.rowsWritten / n, 2)} rows, ` +
      `${fmtInt(r.walBytes / n)} WAL bytes (cluster-wide: an upper bound); by table (ins/upd (of them HOT)/del): ${perItemByTable(r.byTable, n)}`,
  );
  console.log(
    `  daemon context switches per answered reply: ${fmt(d.switches.voluntary / Math.max(1, r.answered), 1)} voluntary (waiting), ` +
      `${fmt(d.switches.involuntary / Math.max(1, r.answered), 1)} involuntary (preempted: another process got the core)`,
  );
  console.log(
    '  daemon µs per reply: its whole CPU (reply store, rule, answer insert and submit, and the answer\'s receipt) over\n' +
      '  the answered replies.',
  );
  const p99 = r.all?.p99 ?? Number.NaN;
  console.log(
    `\nissue 5 goal p99 < 50 ms (deliver_sm -> auto-reply submit_sm, ${fmtInt(o.rate)}/s): p99 ${fmt(p99, 1)} ms -> ` +
      (r.answered < r.injected ? `NOT met (${r.injected - r.answered} unanswered)` : p99 < 50 ? `met (${fmt(p99 / 50, 2)}x of the limit)` : `NOT met (${fmt(p99 / 50, 2)}x the limit)`) +
      `  (${machineLine()} at the end)`,
  );
  if (o.traceSql) {
    const w = d.poolWait;
    console.log(`\nSQL as the daemon saw it (time from query() to result, queueing on the connection included):`);
    console.log(sqlTable(d.sql));
    const calls = d.sql.reduce((a, st) => a + st.calls, 0);
    const begins = d.sql.find((st) => st.statement.toLowerCase() === 'begin')?.calls ?? 0;
    console.log(
      `  ${fmtInt(calls)} statements (${fmtInt(begins)} transactions) over ${fmtInt(r.answered)} answered replies: ` +
        `${fmt(calls / Math.max(1, r.answered), 1)} statements and ${fmt(begins / Math.max(1, r.answered), 2)} transactions per reply (its answer's submit and receipt included)`,
    );
    for (const line of poolWaitLines(w)) console.log(line);
  }
  if (r.profile) {
    console.log(`\ndaemon profile: ${r.profile}`);
    console.log(
      `(the daemon's CPU over the span, from getrusage: ${fmt(d.cpuMs / 1000, 2)} s; V8 samples are taken on a wall-clock timer, so "busy" time beyond\n` +
        ' that is the thread preempted (off the core) inside whatever it was running, typically the write that woke Postgres)',
    );
    console.log(summarise(r.profile, 25, 'src/', d.windowUs));
  }
  return r;
}

async function main(): Promise<void> {
  const roleAt = process.argv.indexOf('--role');
  if (roleAt >= 0) {
    if (process.argv[roleAt + 1] === 'daemon') await runDaemonChild(JSON.parse(process.argv[roleAt + 2] ?? '{}') as DaemonConfig);
    return;
  }
  const d = TWO_WAY_DEFAULTS;
  await printTwoWay({
    rate: numberFlag('rate', d.rate),
    seconds: numberFlag('seconds', d.seconds),
    drainSeconds: numberFlag('drain', d.drainSeconds),
    warmupSeconds: numberFlag('warmup', d.warmupSeconds),
    binds: numberFlag('binds', d.binds),
    window: numberFlag('window', d.window),
    simWindow: numberFlag('sim-window', d.simWindow),
    tps: numberFlag('tps', d.tps),
    profileDir: process.argv.includes('--profile') ? path.resolve(stringFlag('profile', 'bench-profiles')) : undefined,
    traceSql: booleanFlag('trace-sql'),
  });
}

// Run only as the entry point (outbound.ts imports runTwoWay/printTwoWay).
if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  main().then(
    () => {
      if (!process.argv.includes('--role')) process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
