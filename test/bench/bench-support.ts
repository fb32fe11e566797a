/**
 * Small helpers shared by the benchmarks in test/bench: command-line flags, child processes run
 * through tsx, CPU and memory readings, percentiles and plain-text tables.
 *
 * Benchmarks report what one run measured (rates, CPU, memory, ratios); they never assert timings:
 * the machine is shared and small.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import type { Histogram } from 'prom-client';
import { sql } from 'kysely';
import type { Db } from '../../src/store/db.ts';

// ---------------------------------------------------------------------------------- flags

export function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0, got ${process.argv[i + 1]}`);
  return v;
}

export function stringFlag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

export function booleanFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** A benchmark's opening doc comment (its --help), without the comment's markers and leading stars. */
export function fileHeader(file: string): string {
  const source = readFileSync(file, 'utf8');
  const header = source.slice(source.indexOf('/**') + 3, source.indexOf('*/'));
  return header
    .split('\n')
    .map((l) => l.replace(/^ \* ?/, ''))
    .join('\n')
    .trim();
}

// ------------------------------------------------------------------------ child processes

export interface ChildOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  readonly execArgv?: readonly string[];
  /** Killed (SIGKILL) after this long, whatever it is doing. */
  readonly killAfterMs: number;
  /** Where --cpu-prof writes, when profiling. */
  readonly profileDir?: string;
}

/**
 * Forks `file` under tsx with an IPC channel; the child learns its role from `args`. BENCH_NODE_FLAGS
 * (space-separated) are added to every child's node flags: V8's tracing flags, which NODE_OPTIONS refuses.
 */
export function forkTs(file: string, args: readonly string[], options: ChildOptions): ChildProcess {
  const execArgv = ['--import', 'tsx', ...(options.execArgv ?? []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
  }
  const child = fork(file, [...args], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  killer.unref();
  child.once('exit', () => clearTimeout(killer));
  return child;
}

/** The first IPC message from `child` for which `pick` returns a value; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess, pick: (m: unknown) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const v = pick(m);
      if (v === undefined) return;
      cleanup();
      resolve(v);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${what}: child exited (${signal ?? code}) before answering`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function typed<T extends { type: string }>(type: T['type']): (m: unknown) => T | undefined {
  return (m) => (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type ? (m as T) : undefined);
}

/** Waits for the child to exit, killing it after `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Sends a message to the parent and resolves once it has left. */
/** A bench child that cannot go on: says why on stderr and exits 1, so the parent reports it. */
export function failChild(err: unknown): never {
  process.stderr.write(`bench child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

export function tellParent(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(message, () => resolve());
  });
}

// ----------------------------------------------------------------------------- readings

/** CPU milliseconds (user + system) since `from`. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function rssMb(): number {
  return process.memoryUsage.rss() / 1024 / 1024;
}

/** Epoch milliseconds from the monotonic clock: comparable across processes on one machine. */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function machineLine(): string {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  return `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), load ${load}`;
}

// ------------------------------------------------------------------------------- tables

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ------------------------------------------------------------ other processes (Linux /proc)

const CLOCK_TICKS_PER_SECOND = 100;

/** user + system CPU milliseconds a process has used in its life, or undefined when it is gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Pids whose command name (/proc/PID/comm) is `comm`. */
export function pidsByName(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Local TCP ports of the sockets a process holds open whose remote port is `remotePort`. */
export function localPortsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const remote = cols[2];
      const inode = cols[9];
      if (!local || !remote || !inode || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) === remotePort) ports.push(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

// ------------------------------------------------------------------ Prometheus histograms

/**
 * A histogram as read from prom-client in the daemon process: cumulative counts per `le`. Plain
 * JSON (it crosses IPC): the +Inf bucket is `count`, not a bucket.
 */
export interface HistogramSnapshot {
  /** [finite upper bound in seconds, cumulative count], ascending. */
  readonly buckets: [number, number][];
  /** Every observation (the +Inf bucket). */
  readonly count: number;
  readonly sumSeconds: number;
}

/** Reads an unlabelled prom-client Histogram (e.g. `daemon.metrics.receiptCommitLatency`). */
export async function snapshotHistogram(h: Pick<Histogram<string>, 'get'>): Promise<HistogramSnapshot> {
  const { values } = await h.get();
  const buckets: [number, number][] = [];
  let count = 0;
  let sumSeconds = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_bucket')) {
      const le = Number(v.labels.le);
      if (Number.isFinite(le)) buckets.push([le, v.value]);
    } else if (v.metricName?.endsWith('_count')) count = v.value;
    else if (v.metricName?.endsWith('_sum')) sumSeconds = v.value;
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, count, sumSeconds };
}

/** Counts observed since `before` (the same histogram read earlier), bucket by bucket. */
export function histogramDelta(after: HistogramSnapshot, before: HistogramSnapshot | undefined): HistogramSnapshot {
  if (!before) return after;
  return {
    buckets: after.buckets.map(([le, n], i) => [le, n - (before.buckets[i]?.[1] ?? 0)]),
    count: after.count - before.count,
    sumSeconds: after.sumSeconds - before.sumSeconds,
  };
}

/**
 * A quantile from bucket counts, in milliseconds, as Prometheus' histogram_quantile computes it
 * (linear within the bucket it falls in), with that bucket's bounds: bucket resolution only.
 */
export function histogramQuantileMs(h: HistogramSnapshot, q: number): { ms: number; fromMs: number; toMs: number } | undefined {
  if (h.count === 0) return undefined;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      const inBucket = cumulative - below;
      const at = inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
      return { ms: at * 1000, fromMs: lower * 1000, toMs: le * 1000 };
    }
    lower = le;
    below = cumulative;
  }
  // Past the last finite bucket: histogram_quantile answers its upper bound.
  return { ms: lower * 1000, fromMs: lower * 1000, toMs: Number.POSITIVE_INFINITY };
}

/** "12.3 (10..25]" : a histogram quantile with the bucket it came from, in ms. */
export function fmtBucketQuantile(h: HistogramSnapshot, q: number): string {
  const v = histogramQuantileMs(h, q);
  if (!v) return '-';
  const to = Number.isFinite(v.toMs) ? fmt(v.toMs, v.toMs < 10 ? 1 : 0) : '+Inf';
  return `${Number.isFinite(v.toMs) ? '' : '>= '}${fmt(v.ms, 1)} (${fmt(v.fromMs, v.fromMs < 10 ? 1 : 0)}..${to}]`;
}

/** p50 / p99 / max of a list of milliseconds (sorted here). */
export interface Spread {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function spread(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: values[values.length - 1] as number };
}

/** The 1-, 5- and 15-minute load averages, e.g. "3.2 2.9 2.5". */
export function loadLine(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ');
}

// ------------------------------------------------------------------------- SQL tracing

export interface SqlStat {
  readonly statement: string;
  calls: number;
  /** Sum of the time from query() to its result, as the process saw it. */
  totalMs: number;
  maxMs: number;
  params: number;
}

export interface SqlTrace {
  /** Per statement shape, the most total time first. */
  statements(): SqlStat[];
  /**
   * Time from pool.connect() to a connection in hand, ms, per acquisition, per pool (in the order
   * each was first waited on) with its size.
   */
  poolWaits(): readonly { readonly poolSize: number; readonly waits: readonly number[] }[];
}

/**
 * Waits for a pooled connection, per pool: a daemon has a pool of pool_size, one of
 * pipeline_pool_size, and two of 1 (the heartbeat's and the submit answers').
 */
export type PoolWaits = readonly (Spread & { readonly poolSize: number })[];

export function poolWaitSpreads(pools: readonly { readonly poolSize: number; readonly waits: readonly number[] }[]): PoolWaits {
  const out: (Spread & { poolSize: number })[] = [];
  for (const { poolSize, waits } of [...pools].sort((a, b) => b.poolSize - a.poolSize)) {
    const s = spread([...waits]);
    if (s) out.push({ poolSize, ...s });
  }
  return out;
}

/** PoolWaits as report lines, one per pool (pools of one size told apart by their order). */
export function poolWaitLines(waits: PoolWaits | undefined): string[] {
  if (!waits || waits.length === 0) return ['  waits for a pooled connection: none'];
  return waits.map((w) => {
    const ofSize = waits.filter((x) => x.poolSize === w.poolSize);
    const which = ofSize.length > 1 ? ` (${ofSize.indexOf(w) + 1} of ${ofSize.length})` : '';
    return `  waits for a connection of a pool of ${w.poolSize}${which}: ${fmtInt(w.n)}, p50 ${fmt(w.p50, 1)} / p95 ${fmt(w.p95, 1)} / p99 ${fmt(w.p99, 1)} / max ${fmt(w.max, 0)} ms`;
  });
}

/**
 * Times every statement the pg clients of this process run, from the call to its result (queueing
 * on the connection included), keyed by its text with placeholders folded, and every wait for a
 * pooled connection. Only while `active()` is true. Call before the pool is built or used.
 */
export async function traceSql(active: () => boolean): Promise<SqlTrace> {
  const pg = (await import('pg')).default;
  const stats = new Map<string, SqlStat>();
  // Per pool object: two pools of one size (the two single connections) stay apart.
  const waits = new Map<object, { poolSize: number; waits: number[] }>();
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const result = query.apply(this, args);
    const first = args[0];
    const text = typeof first === 'string' ? first : typeof first === 'object' && first !== null && typeof (first as { text?: unknown }).text === 'string' ? (first as { text: string }).text : '';
    if (!active() || !(result instanceof Promise) || text === '') return result;
    const started = performance.now();
    const key = text.replace(/\$\d+(, \$\d+)*/g, '$n').replace(/\(\$n\)(, \(\$n\))*/g, '($n)...').replace(/\s+/g, ' ').trim().slice(0, 110);
    const params = Array.isArray(args[1]) ? args[1].length : 0;
    const done = (): void => {
      const ms = performance.now() - started;
      const st = stats.get(key) ?? { statement: key, calls: 0, totalMs: 0, maxMs: 0, params: 0 };
      st.calls++;
      st.totalMs += ms;
      st.maxMs = Math.max(st.maxMs, ms);
      st.params += params;
      stats.set(key, st);
    };
    result.then(done, done);
    return result;
  };
  const poolProto = pg.Pool.prototype as unknown as { connect: (...args: unknown[]) => unknown };
  const connect = poolProto.connect;
  poolProto.connect = function (this: { options?: { max?: number } }, ...args: unknown[]) {
    const result = connect.apply(this, args);
    if (active() && result instanceof Promise) {
      const started = performance.now();
      const pool = waits.get(this) ?? { poolSize: this.options?.max ?? 0, waits: [] };
      waits.set(this, pool);
      result.then(
        () => pool.waits.push(performance.now() - started),
        () => undefined,
      );
    }
    return result;
  };
  return {
    statements: () => [...stats.values()].sort((a, b) => b.totalMs - a.totalMs),
    poolWaits: () => [...waits.values()],
  };
}

export function sqlTable(stats: readonly SqlStat[], top = 15): string {
  return table(
    ['statement', 'calls', 'total ms', 'mean ms', 'max ms', 'params/call'],
    stats.slice(0, top).map((st) => [st.statement, fmtInt(st.calls), fmtInt(st.totalMs), fmt(st.totalMs / st.calls, 1), fmt(st.maxMs, 0), fmtInt(st.params / st.calls)]),
  );
}

// ------------------------------------------------------------------- the machine's CPU

/** CPU time of the whole machine (all cores) from /proc/stat, ms: busy (not idle or iowait) and total. */
export function machineCpuMs(): { busyMs: number; totalMs: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busyMs: ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND, totalMs: (total * 1000) / CLOCK_TICKS_PER_SECOND };
  } catch {
    return { busyMs: Number.NaN, totalMs: Number.NaN };
  }
}

/**
 * Who used the machine over a run: the whole machine's busy CPU against the benchmark's own
 * processes (each in ms of CPU over the same span); the rest is everything else on the machine
 * (other engineers' tests, tsc, the kernel). `cores` is how many cores' worth each is.
 */
export function cpuShareLine(wallMs: number, machineBusyMs: number, ours: Record<string, number>): string {
  const cores = (ms: number): string => fmt(ms / wallMs, 2);
  const oursMs = Object.values(ours).reduce((a, b) => a + b, 0);
  const parts = Object.entries(ours)
    .map(([k, ms]) => `${k} ${cores(ms)}`)
    .join(', ');
  return (
    `machine: ${cores(machineBusyMs)} of ${os.cpus().length} cores busy over ${fmt(wallMs / 1000, 1)} s; this benchmark ${cores(oursMs)} (${parts}); ` +
    `everything else ${cores(Math.max(0, machineBusyMs - oursMs))} (${fmt((Math.max(0, machineBusyMs - oursMs) / Math.max(1, machineBusyMs)) * 100, 0)}% of the busy time)`
  );
}

// ---------------------------------------------------------------------------------- postgres writes

/** Per table: inserted, updated, deleted, and of the updated those HOT (no index touched). */
export type TableCounts = Map<string, [number, number, number, number]>;

/** pg_stat_user_tables of one schema (exact for a run's own schema: nothing else writes it). */
export async function tableCounts(db: Db, schema: string): Promise<TableCounts> {
  await sql`select pg_stat_clear_snapshot()`.execute(db);
  const rows = await sql<{ relname: string; ins: string; upd: string; del: string; hot: string }>`
    select relname, n_tup_ins as ins, n_tup_upd as upd, n_tup_del as del, n_tup_hot_upd as hot
    from pg_stat_user_tables where schemaname = ${schema}`.execute(db);
  return new Map(rows.rows.map((r) => [r.relname, [Number(r.ins), Number(r.upd), Number(r.del), Number(r.hot)]]));
}

/** What changed between two readings, per table with any write, and the rows written in all. */
export function tableWrites(from: TableCounts, to: TableCounts): { byTable: Record<string, [number, number, number, number]>; rowsWritten: number } {
  const byTable: Record<string, [number, number, number, number]> = {};
  let rowsWritten = 0;
  for (const [table, t] of to) {
    const f = from.get(table) ?? [0, 0, 0, 0];
    const d: [number, number, number, number] = [t[0] - f[0], t[1] - f[1], t[2] - f[2], t[3] - f[3]];
    if (d[0] + d[1] + d[2] === 0) continue;
    byTable[table] = d;
    rowsWritten += d[0] + d[1] + d[2];
  }
  return { byTable, rowsWritten };
}

/** `ins/upd (of them HOT)/del` per item, table by table, the most written first. */
export function perItemByTable(byTable: Record<string, [number, number, number, number]>, items: number): string {
  const n = Math.max(1, items);
  return Object.entries(byTable)
    .sort((a, b) => b[1][0] + b[1][1] + b[1][2] - (a[1][0] + a[1][1] + a[1][2]))
    .map(([t, [i, u, d, h]]) => `${t} ${fmt(i / n, 2)}/${fmt(u / n, 2)}${h > 0 ? ` (${fmt(h / n, 2)})` : ''}/${fmt(d / n, 2)}`)
    .join(', ');
}

export async function walLsn(db: Db): Promise<string> {
  const r = await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(db);
  return r.rows[0]!.lsn;
}

/** WAL written since `from`, cluster-wide (whatever else the server wrote meanwhile included). */
export async function walBytesSince(db: Db, from: string): Promise<number> {
  const r = await sql<{ b: string }>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::text as b`.execute(db);
  return Number(r.rows[0]!.b);
}
