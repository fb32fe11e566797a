/**
 * Read-only queries behind `parley report`: delivery, failure, reply and response-time figures
 * per route and day over a period, from the messages, receipts and replies tables. Nothing here
 * writes. Every figure is computed by Postgres (counts, `percentile_cont`) in a handful of
 * GROUPING SETS queries, so a day, a route and the whole period come from the same scan.
 *
 * What each figure means (the README's "parley report" section says the same):
 * - Outbound messages belong to the day (in the report's time zone) and route of their
 *   `created_at`, the moment Parley accepted them from the stream.
 *   `accepted`: messages Parley took in; `sent`: of those, submitted to an SMSC (every part
 *   accepted, `submitted_at` set); `delivered` / `partiallyDelivered`: their final state;
 *   `failed`: final and not delivered at all (undeliverable, expired, rejected, failed, unknown);
 *   `pending`: not final yet (queued or waiting for receipts).
 *   `deliveredRate` = delivered / sent; `failureRate` = failed / messages in a final state.
 *   `failureReasons`: the error codes of failed messages (`receipt_err:<err>`,
 *   `smsc_rejected:<command_status>`, `opted_out`, `no_final_receipt`, …; the status when none).
 *   `receiptLatency`: submitted_at -> final_at of messages whose final state came from a final
 *   receipt (not from the expiry sweep), p50 and p95 by `percentile_cont`, in seconds.
 * - Customer replies belong to the day and hour of their `received_at`, and to the route of the
 *   message they answer (`replies.in_reply_to`, the latest message of ours to that customer from
 *   that number when the reply came). A reply that answers none of our messages has route null.
 *   `replyRate` = replies / sent for the same day and route (replies per message sent; can
 *   exceed 1 when customers write several times). `resolvedRate` = replies resolved
 *   automatically (`replies.resolved_automatically`: a compliance keyword, an expected reply or a
 *   rule answered it, without handing it to apps) / replies handled.
 *   `responseTime`: reply received_at -> submitted_at of the answer Parley sent
 *   (`replies.answer_message_id`), median by `percentile_cont`, in seconds.
 *   `matchedKinds`, `keywords`, `rules`: counts of `matched_kind`, `keyword`, `rule`;
 *   `repliesByHour`: replies per hour of the day (0-23, report time zone).
 * - `numbers`: per number of ours, messages sent from it (`from_addr`, the route's default
 *   filled in) and replies sent to it (`to_addr`); replyRate = replies / sent.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.ts';
import type { Counted, ReportFigures, RouteFigures, DayFigures, AnalyticsReport } from '../domain/report.ts';

export interface ReportOptions {
  /** Start of the period, inclusive. */
  readonly since: Date;
  /** End of the period, exclusive. */
  readonly until: Date;
  /** IANA time zone days and hours are counted in (Postgres checks the name). */
  readonly timeZone: string;
  /** Entries kept in each most-frequent list. Default 5. */
  readonly top?: number;
}

const FAILED = ['undeliverable', 'expired', 'rejected', 'failed', 'unknown'] as const;
const PENDING = ['queued', 'submitted'] as const;

/** The instant a wall-clock time (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]`) names in a time zone. */
export async function localTimeToInstant(db: Db, local: string, timeZone: string): Promise<Date> {
  const { rows } = await sql<{ at: Date }>`SELECT (${local}::timestamp AT TIME ZONE ${timeZone}) AS at`.execute(db);
  return rows[0]!.at;
}

/** Throws Postgres's error (22023, "time zone … not recognized") when the name is not a time zone. */
export async function checkTimeZone(db: Db, timeZone: string): Promise<void> {
  await sql`SELECT now() AT TIME ZONE ${timeZone}`.execute(db);
}

/** Group keys: GROUPING() bits say whether a column was rolled up (all days, all routes). */
interface GroupKey {
  all_days: number;
  all_routes: number;
  day: string | null;
  route: string | null;
}

const keyOf = (r: GroupKey): string => (r.all_days ? (r.all_routes ? 'total' : `route\0${r.route ?? '\u0001'}`) : `day\0${r.day}\0${r.route ?? '\u0001'}`);

interface OutboundRow extends GroupKey {
  accepted: number;
  sent: number;
  delivered: number;
  partially_delivered: number;
  failed: number;
  pending: number;
  latency_count: number;
  p50: number | null;
  p95: number | null;
}

interface ReplyRow extends GroupKey {
  received: number;
  handled: number;
  resolved: number;
  answered: number;
  median_response: number | null;
}

interface CountRow extends GroupKey {
  value: string;
  n: number;
}

interface HourRow extends GroupKey {
  hour: number;
  n: number;
}

/** The report over `[since, until)`. */
export async function readAnalyticsReport(db: Db, options: ReportOptions): Promise<AnalyticsReport> {
  const { since, until, timeZone } = options;
  const top = options.top ?? 5;
  const dayOf = (column: RawBuilder<unknown>): RawBuilder<string> => sql<string>`to_char(${column} AT TIME ZONE ${timeZone}, 'YYYY-MM-DD')`;
  const failedList = sql.join(FAILED.map((s) => sql.lit(s)));
  const pendingList = sql.join(PENDING.map((s) => sql.lit(s)));
  const grouping = sql`GROUPING(day) AS all_days, GROUPING(route) AS all_routes, day, route`;

  // Messages of the period, each with its day and whether a final receipt decided it.
  const outboundCte = sql`
    WITH m AS (
      SELECT m.route, m.status, COALESCE(m.error_code, m.status) AS reason, m.submitted_at, m.final_at,
        ${dayOf(sql.ref('m.created_at'))} AS day,
        (fr.message_id IS NOT NULL) AS has_receipt
      FROM messages m
      LEFT JOIN (
        SELECT DISTINCT message_id FROM receipts
        WHERE final AND message_id IS NOT NULL AND received_at >= ${since}
      ) fr ON fr.message_id = m.id
      WHERE m.created_at >= ${since} AND m.created_at < ${until}
    )`;
  const withLatency = sql`has_receipt AND submitted_at IS NOT NULL AND final_at IS NOT NULL`;
  const latency = sql`GREATEST(extract(epoch FROM final_at - submitted_at), 0)::float8`;
  const outbound = sql<OutboundRow>`
    ${outboundCte}
    SELECT ${grouping},
      count(*)::int AS accepted,
      count(*) FILTER (WHERE submitted_at IS NOT NULL)::int AS sent,
      count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
      count(*) FILTER (WHERE status = 'partially_delivered')::int AS partially_delivered,
      count(*) FILTER (WHERE status IN (${failedList}))::int AS failed,
      count(*) FILTER (WHERE status IN (${pendingList}))::int AS pending,
      count(*) FILTER (WHERE ${withLatency})::int AS latency_count,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ${latency}) FILTER (WHERE ${withLatency}) AS p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY ${latency}) FILTER (WHERE ${withLatency}) AS p95
    FROM m
    GROUP BY GROUPING SETS ((day, route), (route), ())`.execute(db);
  const reasons = sql<CountRow>`
    ${outboundCte}
    SELECT ${grouping}, reason AS value, count(*)::int AS n
    FROM m WHERE status IN (${failedList})
    GROUP BY GROUPING SETS ((day, route, reason), (route, reason), (reason))`.execute(db);

  // Replies of the period, each with its day, hour, the route of the message it answers and
  // the time until the answer went out.
  const replyCte = sql`
    WITH r AS (
      SELECT r.status, r.matched_kind, r.keyword, r.rule, r.resolved_automatically,
        ${dayOf(sql.ref('r.received_at'))} AS day,
        extract(hour FROM r.received_at AT TIME ZONE ${timeZone})::int AS hour,
        o.route AS route,
        CASE WHEN a.submitted_at IS NOT NULL THEN GREATEST(extract(epoch FROM a.submitted_at - r.received_at), 0)::float8 END AS response_s
      FROM replies r
      LEFT JOIN messages o ON o.id = r.in_reply_to
      LEFT JOIN messages a ON a.id = r.answer_message_id
      WHERE r.received_at >= ${since} AND r.received_at < ${until}
    )`;
  const replies = sql<ReplyRow>`
    ${replyCte}
    SELECT ${grouping},
      count(*)::int AS received,
      count(*) FILTER (WHERE status = 'handled')::int AS handled,
      count(*) FILTER (WHERE status = 'handled' AND resolved_automatically)::int AS resolved,
      count(response_s)::int AS answered,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s) FILTER (WHERE response_s IS NOT NULL) AS median_response
    FROM r
    GROUP BY GROUPING SETS ((day, route), (route), ())`.execute(db);
  const dimensions = sql<CountRow & { dim: 'kind' | 'keyword' | 'rule' }>`
    ${replyCte}
    SELECT dim, ${grouping}, value, count(*)::int AS n
    FROM (
      SELECT 'kind' AS dim, day, route, matched_kind AS value FROM r WHERE matched_kind IS NOT NULL
      UNION ALL SELECT 'keyword', day, route, keyword FROM r WHERE keyword IS NOT NULL
      UNION ALL SELECT 'rule', day, route, rule FROM r WHERE rule IS NOT NULL
    ) x
    GROUP BY dim, GROUPING SETS ((day, route, value), (route, value), (value))`.execute(db);
  const hours = sql<HourRow>`
    ${replyCte}
    SELECT ${grouping}, hour, count(*)::int AS n
    FROM r
    GROUP BY GROUPING SETS ((day, route, hour), (route, hour), (hour))`.execute(db);
  const numbers = sql<{ number: string; sent: number; replies: number }>`
    SELECT number, sum(sent)::int AS sent, sum(replies)::int AS replies
    FROM (
      SELECT from_addr AS number, count(*) FILTER (WHERE submitted_at IS NOT NULL) AS sent, 0 AS replies
      FROM messages
      WHERE created_at >= ${since} AND created_at < ${until} AND from_addr IS NOT NULL
      GROUP BY from_addr
      UNION ALL
      SELECT to_addr, 0, count(*) FROM replies
      WHERE received_at >= ${since} AND received_at < ${until}
      GROUP BY to_addr
    ) x
    GROUP BY number`.execute(db);

  const [o, rs, rp, dm, hr, nb] = await Promise.all([outbound, reasons, replies, dimensions, hours, numbers]);

  // Everything keyed by group, then assembled.
  const groups = new Map<string, { key: GroupKey; out?: OutboundRow; rep?: ReplyRow; reasons: Counted[]; kind: Counted[]; keyword: Counted[]; rule: Counted[]; hours: number[] }>();
  const group = (k: GroupKey) => {
    const id = keyOf(k);
    let g = groups.get(id);
    if (!g) {
      g = { key: { all_days: k.all_days, all_routes: k.all_routes, day: k.day, route: k.route }, reasons: [], kind: [], keyword: [], rule: [], hours: new Array<number>(24).fill(0) };
      groups.set(id, g);
    }
    return g;
  };
  for (const r of o.rows) group(r).out = r;
  for (const r of rp.rows) group(r).rep = r;
  for (const r of rs.rows) group(r).reasons.push({ value: r.value, count: r.n });
  for (const r of dm.rows) group(r)[r.dim].push({ value: r.value, count: r.n });
  for (const r of hr.rows) {
    const g = group(r);
    if (r.hour >= 0 && r.hour < 24) g.hours[r.hour] = r.n;
  }
  const ranked = (list: Counted[]): Counted[] =>
    [...list].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).slice(0, top);
  const rate = (n: number, d: number): number | null => (d > 0 ? n / d : null);
  const figures = (g: ReturnType<typeof group> | undefined): ReportFigures => {
    const out = g?.out;
    const rep = g?.rep;
    const sent = out?.sent ?? 0;
    const delivered = out?.delivered ?? 0;
    const partiallyDelivered = out?.partially_delivered ?? 0;
    const failed = out?.failed ?? 0;
    const received = rep?.received ?? 0;
    const handled = rep?.handled ?? 0;
    const resolved = rep?.resolved ?? 0;
    return {
      accepted: out?.accepted ?? 0,
      sent,
      delivered,
      partiallyDelivered,
      failed,
      pending: out?.pending ?? 0,
      deliveredRate: rate(delivered, sent),
      failureRate: rate(failed, delivered + partiallyDelivered + failed),
      failureReasons: ranked(g?.reasons ?? []),
      receiptLatency: { count: out?.latency_count ?? 0, p50Seconds: out?.p50 ?? null, p95Seconds: out?.p95 ?? null },
      replies: received,
      handled,
      replyRate: rate(received, sent),
      resolvedAutomatically: resolved,
      resolvedRate: rate(resolved, handled),
      responseTime: { count: rep?.answered ?? 0, medianSeconds: rep?.median_response ?? null },
      matchedKinds: ranked(g?.kind ?? []),
      keywords: ranked(g?.keyword ?? []),
      rules: ranked(g?.rule ?? []),
      repliesByHour: g?.hours ?? new Array<number>(24).fill(0),
    };
  };
  const byRoute = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);
  const all = [...groups.values()];
  const routes = all
    .filter((g) => g.key.all_days && !g.key.all_routes)
    .sort((a, b) => byRoute(a.key.route, b.key.route))
    .map((g): RouteFigures => ({ route: g.key.route, ...figures(g) }));
  const days = all
    .filter((g) => !g.key.all_days)
    .sort((a, b) => (a.key.day! < b.key.day! ? -1 : a.key.day! > b.key.day! ? 1 : byRoute(a.key.route, b.key.route)))
    .map((g): DayFigures => ({ day: g.key.day!, route: g.key.route, ...figures(g) }));
  return {
    period: { since, until, timeZone },
    total: figures(groups.get('total')),
    routes,
    days,
    numbers: nb.rows
      .map((r) => ({ number: r.number, sent: r.sent, replies: r.replies, replyRate: rate(r.replies, r.sent) }))
      .sort((a, b) => b.sent - a.sent || b.replies - a.replies || (a.number < b.number ? -1 : 1)),
  };
}
