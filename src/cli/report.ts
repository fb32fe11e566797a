/**
 * `parley report [--since 7d|2025-03-01] [--until …] [--tz Europe/London] [--json]`: delivery,
 * failure, reply and response-time figures from Postgres, per route and day: messages sent,
 * delivered %, top failure reasons, receipt latency p50/p95, replies received, reply rate, %
 * resolved automatically, median response time, top keywords and rules, busiest hours, failure
 * rate by route. The queries and what each figure means are in src/store/reports-analytics.ts.
 *
 * The period is `[since, until)`. Each bound is a duration back from now (`90m`, `24h`, `7d`,
 * `2w`), a date (`2025-03-01`: its midnight in the report's time zone; as --until the whole day
 * is included), a wall-clock time (`2025-03-01 14:00`, in the time zone), an instant with an
 * offset (`2025-03-01T14:00:00Z`), or `now`. Days and hours are counted in `--tz` (default: TZ,
 * else the machine's zone).
 */
import type { AnalyticsReport, Counted, ReportFigures } from '../domain/report.ts';
import { CliFailure, CONFIG_OPTION, EXIT, describeDatabase, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';
import { cliJson } from './json.ts';

export interface ReportArgs extends ConfigArgs {
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly tz?: string | undefined;
  readonly top?: number | undefined;
  readonly json?: boolean | undefined;
}

/** A bound as given: an instant, or a wall-clock time that Postgres places in the time zone. */
export type PeriodBound = { readonly at: Date } | { readonly local: string };

const UNIT_MS = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE = /^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Reads a --since/--until value. `endOfDay` (for --until) turns a plain date into the start of
 * the next day, so that the date itself is included. Undefined when the value is none of the forms.
 */
export function parseBound(value: string, now: Date, endOfDay = false): PeriodBound | undefined {
  const text = value.trim();
  if (text === 'now') return { at: now };
  const rel = RELATIVE.exec(text);
  if (rel) return { at: new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]) };
  const date = DATE.exec(text);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
    if (endOfDay) check.setUTCDate(check.getUTCDate() + 1);
    return { local: `${check.toISOString().slice(0, 10)} 00:00:00` };
  }
  if (INSTANT.test(text)) {
    const at = new Date(text);
    return Number.isNaN(at.getTime()) ? undefined : { at };
  }
  const local = LOCAL_TIME.exec(text);
  if (local) return { local: `${local[1]} ${local[2]}` };
  return undefined;
}

/** The zone days are counted in when --tz is not given: TZ, else the machine's, else UTC. */
export function defaultTimeZone(env: NodeJS.ProcessEnv = process.env): string {
  const tz = env['TZ']?.replace(/^:/, '').trim();
  if (tz) return tz;
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

const BOUND_FORMS = 'a duration back from now (90m, 24h, 7d, 2w), a date (2025-03-01), a time (2025-03-01 14:00), an ISO instant or now';

export async function runReport(args: ReportArgs): Promise<ExitCode> {
  const now = new Date();
  const since = parseBound(args.since ?? '7d', now);
  if (!since) throw new CliFailure(`--since ${JSON.stringify(args.since)} is not ${BOUND_FORMS}`, EXIT.usage);
  const until = parseBound(args.until ?? 'now', now, true);
  if (!until) throw new CliFailure(`--until ${JSON.stringify(args.until)} is not ${BOUND_FORMS}`, EXIT.usage);
  const top = args.top ?? 5;
  if (!Number.isSafeInteger(top) || top < 1) throw new CliFailure('--top must be a whole number of at least 1', EXIT.usage);
  const timeZone = args.tz ?? defaultTimeZone();
  const config = loadCliConfig(args);
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const [{ openDb }, analytics, insightStore, { summariseInsights, formatInsights }] = await Promise.all([
    import('../store/db.ts'),
    import('../store/reports-analytics.ts'),
    import('../store/reports-insights.ts'),
    import('./report-insights.ts'),
  ]);
  const db = openDb({ url: config.database.url, poolSize: 6 });
  let report: AnalyticsReport;
  let conversations: ReturnType<typeof summariseInsights>;
  try {
    try {
      await analytics.checkTimeZone(db, timeZone);
    } catch (e) {
      if ((e as { code?: string }).code === '22023') throw new CliFailure(`--tz ${JSON.stringify(timeZone)} is not a time zone Postgres knows (e.g. UTC, Europe/London)`, EXIT.usage);
      throw e;
    }
    const resolve = async (b: PeriodBound): Promise<Date> => ('at' in b ? b.at : analytics.localTimeToInstant(db, b.local, timeZone));
    const [from, to] = await Promise.all([resolve(since), resolve(until)]);
    if (from.getTime() >= to.getTime()) {
      throw new CliFailure(`the period is empty: --since (${from.toISOString()}) is not before --until (${to.toISOString()})`, EXIT.usage);
    }
    report = await analytics.readAnalyticsReport(db, { since: from, until: to, timeZone, top });
    conversations = summariseInsights(await insightStore.readInsights(db, { since: from, until: to, timeZone, top }), top);
  } catch (e) {
    if (e instanceof CliFailure) throw e;
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
  if (args.json) out(cliJson({ ...report, conversations }));
  else for (const line of [...formatReport(report, describeDatabase(config.database.url)), ...formatInsights(conversations)]) out(line);
  return EXIT.ok;
}

// ---- The readable form ----

const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/** `850 ms`, `1.25 s`, `2.5 min`, `1.2 h`. */
export function formatSeconds(s: number | null): string {
  if (s === null) return '-';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(2)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const counted = (list: readonly Counted[]): string => (list.length === 0 ? '-' : list.map((c) => `${c.value} ×${c.count}`).join(', '));
const routeName = (route: string | null): string => (route === null ? '(no message)' : route === '' ? '(none)' : route);

/** Columns padded to their widest cell; numbers (and `-`) right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const right = header.map((_, i) => i > 0 && rows.every((r) => /^[-\d.,%()× a-z]*$/i.test(r[i] ?? '') && /^[-\d]/.test(r[i] ?? '-')));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...c].length));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const BARS = ' ▁▂▃▄▅▆▇█';

/** 24 hours as one line of bars, highest = █. */
export function hourBars(hours: readonly number[]): string {
  const max = Math.max(0, ...hours);
  return hours.map((n) => (n === 0 || max === 0 ? '·' : BARS[Math.max(1, Math.round((n / max) * 8))]!)).join('');
}

function busiest(hours: readonly number[], n = 3): string {
  const ranked = hours
    .map((count, hour) => ({ hour, count }))
    .filter((h) => h.count > 0)
    .sort((a, b) => b.count - a.count || a.hour - b.hour)
    .slice(0, n);
  return ranked.length === 0 ? '-' : ranked.map((h) => `${String(h.hour).padStart(2, '0')}:00 ×${h.count}`).join(', ');
}

const stamp = (d: Date, timeZone: string): string => {
  try {
    return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(d);
  } catch {
    return d.toISOString();
  }
};

/** The report as lines a person reads. */
export function formatReport(report: AnalyticsReport, where = ''): string[] {
  const { since, until, timeZone } = report.period;
  const lines: string[] = [];
  const add = (...l: string[]): void => {
    lines.push(...l);
  };
  const t = report.total;
  add(`Parley report ${stamp(since, timeZone)} → ${stamp(until, timeZone)} (${timeZone})${where ? `, ${where}` : ''}`);
  if (t.accepted === 0 && t.replies === 0) {
    add('', '  no messages and no replies in this period');
    return lines;
  }
  const outboundRoutes = report.routes.filter((r) => r.route !== null);
  const all = (f: ReportFigures): ReportFigures & { route: string } => ({ ...f, route: 'all' });

  add('', 'Delivery by route (messages by the day Parley accepted them)');
  add(
    ...formatTable(
      ['route', 'accepted', 'sent', 'delivered', 'partial', 'failed', 'failure rate', 'pending', 'receipt p50', 'receipt p95'],
      [...outboundRoutes, all(t)].map((r) => [
        routeName(r.route),
        String(r.accepted),
        String(r.sent),
        `${r.delivered} (${pct(r.deliveredRate)})`,
        String(r.partiallyDelivered),
        String(r.failed),
        pct(r.failureRate),
        String(r.pending),
        formatSeconds(r.receiptLatency.p50Seconds),
        formatSeconds(r.receiptLatency.p95Seconds),
      ]),
    ),
  );
  if (t.failed > 0) {
    add('', 'Top failure reasons');
    add(...formatTable(['route', 'reasons'], [...outboundRoutes.filter((r) => r.failed > 0), all(t)].map((r) => [routeName(r.route), counted(r.failureReasons)])));
  }

  add('', 'Replies by route (the route of the message each reply answers)');
  add(
    ...formatTable(
      ['route', 'replies', 'reply rate', 'handled', 'resolved automatically', 'answered', 'median response'],
      [...report.routes.filter((r) => r.replies > 0 || r.sent > 0), all(t)].map((r) => [
        routeName(r.route),
        String(r.replies),
        pct(r.replyRate),
        String(r.handled),
        `${r.resolvedAutomatically} (${pct(r.resolvedRate)})`,
        String(r.responseTime.count),
        formatSeconds(r.responseTime.medianSeconds),
      ]),
    ),
  );
  if (t.replies > 0) {
    add('', `  matched:       ${counted(t.matchedKinds)}`);
    add(`  top keywords:  ${counted(t.keywords)}`);
    add(`  top rules:     ${counted(t.rules)}`);
    add(`  busiest hours: ${busiest(t.repliesByHour)}`);
    add(`  by hour:       ${hourBars(t.repliesByHour)}  (00 → 23, ${timeZone})`);
  }

  if (report.numbers.length > 0) {
    add('', 'By our number');
    add(...formatTable(['number', 'sent', 'replies', 'reply rate'], report.numbers.map((n) => [n.number, String(n.sent), String(n.replies), pct(n.replyRate)])));
  }

  add('', 'By day');
  add(
    ...formatTable(
      ['day', 'route', 'sent', 'delivered', 'failure rate', 'receipt p50/p95', 'top failure', 'replies', 'reply rate', 'resolved', 'median response', 'top keyword', 'busiest hour'],
      report.days.map((d) => [
        d.day,
        routeName(d.route),
        String(d.sent),
        pct(d.deliveredRate),
        pct(d.failureRate),
        d.receiptLatency.count === 0 ? '-' : `${formatSeconds(d.receiptLatency.p50Seconds)} / ${formatSeconds(d.receiptLatency.p95Seconds)}`,
        counted(d.failureReasons.slice(0, 1)),
        String(d.replies),
        pct(d.replyRate),
        pct(d.resolvedRate),
        formatSeconds(d.responseTime.medianSeconds),
        counted(d.keywords.slice(0, 1)),
        busiest(d.repliesByHour, 1),
      ]),
    ),
  );
  add(
    '',
    'delivered % = delivered / sent; failure rate = failed / final; reply rate = replies / sent; resolved = resolved automatically / handled;',
    'response = reply received -> answer submitted. --json for every figure.',
  );
  return lines;
}

export const reportCommand: CliCommand<ReportArgs> = {
  command: 'report',
  describe: 'delivery, failure, reply and response-time figures from Postgres, per route and day (--json for JSON)',
  builder: (y) =>
    y
      .option('config', CONFIG_OPTION)
      .option('since', { type: 'string', requiresArg: true, describe: 'start of the period: 7d, 24h, 2025-03-01, 2025-03-01 14:00 (default 7d)' })
      .option('until', { type: 'string', requiresArg: true, describe: 'end of the period (exclusive; a date includes that day) (default now)' })
      .option('tz', { type: 'string', requiresArg: true, describe: 'time zone days and hours are counted in (default: TZ, else the machine\'s)' })
      .option('top', { type: 'number', requiresArg: true, describe: 'entries in each most-frequent list (default 5)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of tables' })
      .example('$0 report --since 24h', 'the last day')
      .example('$0 report --since 2025-03-01 --until 2025-03-07 --tz Europe/London --json', 'one week, in London days, as JSON'),
  run: runReport,
};
