/**
 * `parley report` on the data of a real run: a daemon against the simulator with a receipt mix
 * (DELIVRD, UNDELIV, EXPIRED, a submit the SMSC refuses), two routes, a keyword rule, expected
 * replies, compliance and replies nothing matched. Every figure of the report (per day and route,
 * per route, overall, per number) is checked against the same figures computed here from the
 * rows themselves, and a few against what the scenario must have produced.
 *
 * The CLI reads its database from a config file and has no schema option, so this test runs on a
 * database of its own made by `parley migrate` (as test/integration/cli does); the daemon runs in
 * this process on the same database, and `parley report --json` runs once as a subprocess.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { createWorld, runCli, type CliWorld } from '../cli/cli-harness.ts';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { openDb, type Db } from '../../../src/store/db.ts';
import { readAnalyticsReport } from '../../../src/store/reports-analytics.ts';
import type { AnalyticsReport, Counted, ReportFigures } from '../../../src/domain/report.ts';
import { formatReport, formatTable, hourBars, parseBound } from '../../../src/cli/report.ts';
import { readInsights } from '../../../src/store/reports-insights.ts';
import { formatInsights, summariseInsights } from '../../../src/cli/report-insights.ts';
import { describeDatabase } from '../../../src/cli/common.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { snakeCased } from '../../../src/cli/json.ts';

const ESME_RINVDSTADR = 0x0b;
const FINAL_FAILED = new Set(['undeliverable', 'expired', 'rejected', 'failed', 'unknown']);
const TOP = 10;

let h: Harness;
let world: CliWorld;
let db: Db;
let sim: Simulator;
let daemon: Daemon;
let configFile: string;
let since: Date;
let until: Date;
let report: AnalyticsReport;

interface MessageRow {
  id: string;
  route: string;
  status: string;
  error_code: string | null;
  from_addr: string | null;
  created_at: Date;
  submitted_at: Date | null;
  final_at: Date | null;
}

interface ReplyRow {
  id: string;
  to_addr: string;
  received_at: Date;
  status: string;
  in_reply_to: string | null;
  matched_kind: string | null;
  keyword: string | null;
  rule: string | null;
  resolved_automatically: boolean | null;
  answer_message_id: string | null;
}

const daemonConfig = (): Record<string, unknown> => ({
  database: { url: world.databaseUrl, pool_size: 4 },
  store: { batch_delay: '2ms' },
  smscs: [simSmsc('sim', sim)],
  routes: [
    { name: 'uk', prefixes: ['+44'], smscs: ['sim'], tps: 500, default_from: '54321' },
    { name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' },
  ],
  numbers: [
    { address: '12345', rules: [{ name: 'hours', keywords: ['HOURS', 'OPEN'], actions: [{ reply: 'We are open 9-5.' }] }], unmatched: 'hand_to_apps' },
    { address: '54321' },
  ],
});

async function injectReply(from: string, to: string, text: string): Promise<void> {
  expect(await sim.injectReply({ from, to, text }).acked).toBe(true);
}

async function counts(): Promise<{ pending: number; unhandled: number }> {
  const m = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE status IN ('queued', 'submitted')`.execute(db);
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM replies WHERE status <> 'handled'`.execute(db);
  return { pending: m.rows[0]!.n, unhandled: r.rows[0]!.n };
}

/**
 * Waits until exactly `messages` messages and `replies` replies are stored, none of them still
 * queued, submitted or unhandled. The counts matter: right after `h.send` the intake has not
 * stored the messages yet, and "none pending" alone holds at once, so a reply injected then can
 * arrive before the message it answers exists (and is rightly linked to nothing).
 */
async function settled(what: string, messages: number, replies: number): Promise<void> {
  await h.until(
    what,
    async () => {
      const m = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages`.execute(db);
      const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM replies`.execute(db);
      const c = await counts();
      return m.rows[0]!.n === messages && n.rows[0]!.n === replies && c.pending === 0 && c.unhandled === 0;
    },
    20_000,
  );
}

beforeAll(async () => {
  h = await createHarness();
  world = createWorld();
  sim = await h.startSim({
    receiptDelayMs: [10, 90],
    pickReceiptStat: (a) => (a.text.includes('[undeliv]') ? 'UNDELIV' : a.text.includes('[expired]') ? 'EXPIRED' : undefined),
    rejectSubmit: (a) => (a.text.includes('[reject]') ? ESME_RINVDSTADR : undefined),
  });
  // The CLI's config: this test's database; the SMSC and route only make it valid.
  configFile = world.writeConfig('parley.yaml', world.configYaml({ smscPort: sim.port, httpPort: 1 }));
  const migrated = await runCli(['migrate', '-c', configFile]);
  expect(migrated.code, migrated.stderr).toBe(0);
  db = openDb({ url: world.databaseUrl, poolSize: 2 });

  since = new Date(Date.now() - 60_000);
  daemon = buildDaemon(h.config(daemonConfig()), { logger: silentLogger, http: false });
  await daemon.service.start();

  const reminder = (id: string, to: string) => ({
    id,
    to,
    text: 'Your appointment is tomorrow at 10:00. Reply YES or NO.',
    replies: { YES: { reply: 'See you then!' }, NO: { reply: 'OK, cancelled.' } },
  });
  await h.send([
    ...[1, 2, 3, 4].map((n) => ({ id: `uk-${n}`, to: `+44770090000${n}`, text: `Your parcel ${n} is on its way` })),
    { id: 'uk-5', to: '+447700900005', text: 'Your parcel 5 [undeliv]' },
    { id: 'uk-6', to: '+447700900006', text: 'Your parcel 6 [reject]' },
    reminder('rem-1', '+14155550101'),
    reminder('rem-2', '+14155550102'),
    reminder('rem-3', '+14155550103'),
    { id: 'promo-1', to: '+14155550104', text: 'Spring sale: 20% off' },
    { id: 'promo-2', to: '+14155550105', text: 'Spring sale [undeliv]' },
    { id: 'promo-3', to: '+14155550106', text: 'Spring sale [expired]' },
  ]);
  await settled('outbound messages stored and final', 12, 0);

  await injectReply('14155550101', '12345', 'yes');
  await injectReply('14155550102', '12345', 'No');
  await injectReply('14155550104', '12345', 'hours?');
  await injectReply('14155550103', '12345', 'STOP');
  await injectReply('447700900001', '54321', 'thanks!');
  // Nothing of ours went to this customer: the reply answers no message.
  await injectReply('14155550199', '12345', 'OPEN');
  await settled('first replies handled and their answers final', 12 + 5, 6);
  // Sent after the answer to "hours?": Parley's own answers are left out, so it too answers promo-1.
  await injectReply('14155550104', '12345', 'what is this');
  await settled('all replies handled', 12 + 5, 7);

  await daemon.service.stop();
  until = new Date(Date.now() + 60_000);
  report = await readAnalyticsReport(db, { since, until, timeZone: 'UTC', top: TOP });
}, 60_000);

afterAll(async () => {
  await daemon?.service.stop();
  await db?.destroy();
  await h?.close();
  await world?.cleanup();
});

// ---- The same figures, computed from the rows ----

const dayOf = (d: Date): string => d.toISOString().slice(0, 10);

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function ranked(values: readonly (string | null)[]): Counted[] {
  const m = new Map<string, number>();
  for (const v of values) if (v !== null) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, TOP);
}

const rate = (n: number, d: number): number | null => (d > 0 ? n / d : null);

function expectedFigures(messages: readonly MessageRow[], receipted: ReadonlySet<string>, replies: readonly ReplyRow[], byId: ReadonlyMap<string, MessageRow>): ReportFigures {
  const failed = messages.filter((m) => FINAL_FAILED.has(m.status));
  const delivered = messages.filter((m) => m.status === 'delivered').length;
  const partial = messages.filter((m) => m.status === 'partially_delivered').length;
  const sent = messages.filter((m) => m.submitted_at !== null).length;
  const latencies = messages
    .filter((m) => receipted.has(m.id) && m.submitted_at && m.final_at)
    .map((m) => Math.max(0, (m.final_at!.getTime() - m.submitted_at!.getTime()) / 1000));
  const handled = replies.filter((r) => r.status === 'handled');
  const resolved = handled.filter((r) => r.resolved_automatically === true).length;
  const responses = replies
    .map((r) => (r.answer_message_id ? byId.get(r.answer_message_id)?.submitted_at : undefined))
    .map((at, i) => (at ? Math.max(0, (at.getTime() - replies[i]!.received_at.getTime()) / 1000) : undefined))
    .filter((s): s is number => s !== undefined);
  const hours = new Array<number>(24).fill(0);
  for (const r of replies) hours[r.received_at.getUTCHours()]!++;
  return {
    accepted: messages.length,
    sent,
    delivered,
    partiallyDelivered: partial,
    failed: failed.length,
    pending: messages.filter((m) => m.status === 'queued' || m.status === 'submitted').length,
    deliveredRate: rate(delivered, sent),
    failureRate: rate(failed.length, delivered + partial + failed.length),
    failureReasons: ranked(failed.map((m) => m.error_code ?? m.status)),
    receiptLatency: { count: latencies.length, p50Seconds: percentile(latencies, 0.5), p95Seconds: percentile(latencies, 0.95) },
    replies: replies.length,
    handled: handled.length,
    replyRate: rate(replies.length, sent),
    resolvedAutomatically: resolved,
    resolvedRate: rate(resolved, handled.length),
    responseTime: { count: responses.length, medianSeconds: percentile(responses, 0.5) },
    matchedKinds: ranked(replies.map((r) => r.matched_kind)),
    keywords: ranked(replies.map((r) => r.keyword)),
    rules: ranked(replies.map((r) => r.rule)),
    repliesByHour: hours,
  };
}

/** Compares figures; seconds within 2 ms (Postgres keeps microseconds, JavaScript milliseconds). */
function expectSameFigures(actual: ReportFigures, expected: ReportFigures, what: string): void {
  const close = (a: number | null, b: number | null, label: string): void => {
    if (b === null) expect(a, `${what}: ${label}`).toBeNull();
    else {
      expect(a, `${what}: ${label}`).not.toBeNull();
      expect(Math.abs(a! - b), `${what}: ${label} ${a} vs ${b}`).toBeLessThan(0.002);
    }
  };
  const { receiptLatency, responseTime, ...rest } = actual;
  const { route: _route, day: _day, ...counts } = rest as typeof rest & { route?: unknown; day?: unknown };
  const { receiptLatency: eLatency, responseTime: eResponse, ...eCounts } = expected;
  expect(counts, what).toEqual(eCounts);
  expect(receiptLatency.count, `${what}: receipt latency count`).toBe(eLatency.count);
  close(receiptLatency.p50Seconds, eLatency.p50Seconds, 'receipt p50');
  close(receiptLatency.p95Seconds, eLatency.p95Seconds, 'receipt p95');
  expect(responseTime.count, `${what}: response count`).toBe(eResponse.count);
  close(responseTime.medianSeconds, eResponse.medianSeconds, 'median response');
}

async function rows(): Promise<{ messages: MessageRow[]; replies: ReplyRow[]; receipted: Set<string> }> {
  const messages = (await sql<MessageRow>`SELECT id, route, status, error_code, from_addr, created_at, submitted_at, final_at FROM messages`.execute(db)).rows;
  const replies = (
    await sql<ReplyRow>`SELECT id, to_addr, received_at, status, in_reply_to, matched_kind, keyword, rule, resolved_automatically, answer_message_id FROM replies`.execute(db)
  ).rows;
  const receipted = new Set(
    (await sql<{ message_id: string }>`SELECT DISTINCT message_id FROM receipts WHERE final AND message_id IS NOT NULL`.execute(db)).rows.map((r) => r.message_id),
  );
  return { messages, replies, receipted };
}

describe('parley report', () => {
  it('the run produced what the scenario says (so the comparisons below compare something)', async () => {
    const { messages, replies } = await rows();
    const status = (id: string) => messages.find((m) => m.id === id);
    expect(status('uk-1')).toMatchObject({ status: 'delivered', route: 'uk', from_addr: '54321' });
    expect(status('uk-5')).toMatchObject({ status: 'undeliverable', error_code: 'receipt_err:003' });
    expect(status('uk-6')).toMatchObject({ status: 'failed', error_code: 'smsc_rejected:ESME_RINVDSTADR', submitted_at: null });
    expect(status('promo-3')).toMatchObject({ status: 'expired', route: 'default' });
    expect(replies).toHaveLength(7);
    expect(replies.filter((r) => r.in_reply_to === null)).toHaveLength(1);
    // Answers: YES, NO, HOURS, STOP's confirmation, OPEN (the unlinked customer).
    expect(replies.filter((r) => r.answer_message_id !== null)).toHaveLength(5);
    expect(report.total.accepted).toBe(12 + 5);
    expect(report.total.sent).toBe(11 + 5);
    expect(report.total.failureReasons).toEqual(
      expect.arrayContaining([
        { value: 'receipt_err:003', count: 2 },
        { value: 'receipt_err:001', count: 1 },
        { value: 'smsc_rejected:ESME_RINVDSTADR', count: 1 },
      ]),
    );
    expect(report.total.matchedKinds).toEqual([
      { value: 'expected_reply', count: 2 },
      { value: 'keyword', count: 2 },
      { value: 'none', count: 2 },
      { value: 'compliance', count: 1 },
    ]);
    expect(report.total.rules).toEqual([{ value: 'hours', count: 2 }]);
    expect(report.total.resolvedAutomatically).toBe(5);
    const uk = report.routes.find((r) => r.route === 'uk')!;
    expect(uk).toMatchObject({ accepted: 6, sent: 5, delivered: 4, failed: 2, replies: 1 });
    expect(uk.failureRate).toBeCloseTo(2 / 6);
    expect(report.routes.find((r) => r.route === null)).toMatchObject({ replies: 1, sent: 0, replyRate: null });
    expect(report.total.receiptLatency.count).toBe(report.total.delivered + 3);
    expect(report.total.receiptLatency.p50Seconds).toBeGreaterThan(0);
    expect(report.total.responseTime.medianSeconds).toBeGreaterThan(0);
  });

  it('each figure, per day and route, per route, overall and per number, equals the one computed from the rows', async () => {
    const { messages, replies, receipted } = await rows();
    const byId = new Map(messages.map((m) => [m.id, m]));
    const routeOf = (r: ReplyRow): string | null => (r.in_reply_to ? (byId.get(r.in_reply_to)?.route ?? null) : null);

    expectSameFigures(report.total, expectedFigures(messages, receipted, replies, byId), 'total');

    const routes = new Set<string | null>([...messages.map((m) => m.route), ...replies.map(routeOf)]);
    expect(new Set(report.routes.map((r) => r.route))).toEqual(routes);
    for (const route of routes) {
      const actual = report.routes.find((r) => r.route === route)!;
      const expected = expectedFigures(
        messages.filter((m) => m.route === route),
        receipted,
        replies.filter((r) => routeOf(r) === route),
        byId,
      );
      expectSameFigures(actual, expected, `route ${route}`);
    }

    const keys = new Set([...messages.map((m) => `${dayOf(m.created_at)}|${m.route}`), ...replies.map((r) => `${dayOf(r.received_at)}|${routeOf(r)}`)]);
    expect(report.days).toHaveLength(keys.size);
    for (const d of report.days) {
      const expected = expectedFigures(
        messages.filter((m) => dayOf(m.created_at) === d.day && m.route === d.route),
        receipted,
        replies.filter((r) => dayOf(r.received_at) === d.day && routeOf(r) === d.route),
        byId,
      );
      expectSameFigures(d, expected, `day ${d.day} route ${d.route}`);
    }

    const numbers = new Set([...messages.map((m) => m.from_addr).filter((n): n is string => n !== null), ...replies.map((r) => r.to_addr)]);
    expect(report.numbers.map((n) => n.number).sort()).toEqual([...numbers].sort());
    for (const n of report.numbers) {
      const sent = messages.filter((m) => m.from_addr === n.number && m.submitted_at !== null).length;
      const got = replies.filter((r) => r.to_addr === n.number).length;
      expect(n, `number ${n.number}`).toEqual({ number: n.number, sent, replies: got, replyRate: rate(got, sent) });
    }
  });

  it('an empty period reports zeros, not errors', async () => {
    const empty = await readAnalyticsReport(db, { since: new Date('2001-01-01T00:00:00Z'), until: new Date('2001-01-02T00:00:00Z'), timeZone: 'UTC' });
    expect(empty.days).toEqual([]);
    expect(empty.routes).toEqual([]);
    expect(empty.total).toMatchObject({ accepted: 0, sent: 0, deliveredRate: null, failureRate: null, replies: 0, replyRate: null });
    expect(formatReport(empty).join('\n')).toContain('no messages and no replies');
  });

  it('the CLI prints the same report as JSON, and as tables', async () => {
    const args = ['-c', configFile, '--since', since.toISOString(), '--until', until.toISOString(), '--tz', 'UTC', '--top', String(TOP)];
    const json = await runCli(['report', '--json', ...args]);
    expect(json.code, json.stderr).toBe(0);
    // The same figures, with snake_case keys like every JSON Parley prints; the conversation part
    // (intents, unmatched terms, surveys, campaigns) rides along.
    const conversations = summariseInsights(await readInsights(db, { since, until, timeZone: 'UTC', top: TOP }), TOP);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(snakeCased({ ...report, conversations }))));
    expect(json.stdout).toContain('"delivered_rate"');
    expect(json.stdout).not.toMatch(/"[a-z]+[A-Z]\w*":/);

    const text = await runCli(['report', ...args]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toEqual(`${[...formatReport(report, describeDatabase(world.databaseUrl)), ...formatInsights(conversations)].join('\n')}\n`);
    expect(text.stdout).toMatch(/Delivery by route/);
    expect(text.stdout).toMatch(/^ {2}uk +6 +5 +4 \(80\.0%\)/m);
    expect(text.stdout).toContain('smsc_rejected:ESME_RINVDSTADR ×1');
    expect(text.stdout).toContain('(no message)');

    const bad = await runCli(['report', '-c', configFile, '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "last tuesday" is not');
    const badTz = await runCli(['report', '-c', configFile, '--tz', 'Mars/Olympus']);
    expect(badTz.code).toBe(2);
    expect(badTz.stderr).toContain('not a time zone');
  }, 30_000);

  it('a date names the day in the report time zone; as --until it includes that day', async () => {
    const now = new Date('2026-11-05T12:00:00Z');
    expect(parseBound('7d', now)).toEqual({ at: new Date('2026-10-29T12:00:00Z') });
    expect(parseBound('90m', now)).toEqual({ at: new Date('2026-11-05T10:30:00Z') });
    expect(parseBound('2026-11-01', now)).toEqual({ local: '2026-11-01 00:00:00' });
    expect(parseBound('2026-11-30', now, true)).toEqual({ local: '2026-12-01 00:00:00' });
    expect(parseBound('2026-11-01 14:30', now)).toEqual({ local: '2026-11-01 14:30' });
    expect(parseBound('2026-11-01T14:30:00+01:00', now)).toEqual({ at: new Date('2026-11-01T13:30:00Z') });
    expect(parseBound('2026-02-30', now)).toBeUndefined();
    expect(parseBound('yesterday', now)).toBeUndefined();
    const { localTimeToInstant } = await import('../../../src/store/reports-analytics.ts');
    expect(await localTimeToInstant(db, '2026-07-01 00:00:00', 'Europe/London')).toEqual(new Date('2026-06-30T23:00:00Z'));
    expect(hourBars([0, 1, 2, 4, ...new Array<number>(20).fill(0)])).toBe('·▂▄█····················');
    expect(formatTable(['route', 'sent'], [['uk', '5'], ['default', '12']])).toEqual(['  route    sent', '  uk          5', '  default    12']);
  });
});
