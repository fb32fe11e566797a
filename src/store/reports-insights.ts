/**
 * What `parley report` says about the conversations themselves (issue 12): the most frequent
 * intents per number and day, the replies nothing matched (their terms are counted by the CLI),
 * survey figures (completion, CSAT, distributions) and A/B campaigns (delivery, reply and
 * positive-intent rates, time to reply, significance against the first variant).
 *
 * Definitions:
 * - CSAT of a rating question: the share of its valid answers in the top two points of the scale
 *   (4 and 5 of 1-5); each run counts with its last valid answer to the question.
 * - A campaign message is counted in the period it was accepted; a reply is one whose in_reply_to
 *   is that message; its rates are per message sent (accepted by the SMSC): replied, delivered,
 *   answered positively (first reply's intent yes, thanks or opt_in); time to reply is from the
 *   submit to the first reply (median).
 * - Significance: a two-sided two-proportion z-test of each variant's reply rate against the
 *   first variant's (by name order), as a p-value; null when either has no message sent.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { SurveyFigures, VariantFigures, Insights } from '../domain/report.ts';

export interface InsightOptions {
  readonly since: Date;
  readonly until: Date;
  readonly top: number;
  /** IANA zone days are counted in. Default UTC. */
  readonly timeZone?: string;
}

/** Unmatched replies read for terms at most: a report is not an export. */
const MAX_UNMATCHED = 20_000;
const POSITIVE = ['yes', 'thanks', 'opt_in'];

export async function readInsights(db: Db, options: InsightOptions): Promise<Insights> {
  const { since, until, top } = options;
  const tz = options.timeZone ?? 'UTC';
  const day = sql<string>`to_char(received_at AT TIME ZONE ${tz}, 'YYYY-MM-DD')`;

  const intents = await sql<{ number: string; day: string; intent: string; replies: number }>`
    SELECT number, day, intent, replies FROM (
      SELECT number, day, intent, count(*)::int AS replies,
        row_number() OVER (PARTITION BY number, day ORDER BY count(*) DESC, intent) AS rank
      FROM (
        SELECT to_addr AS number, ${day} AS day, intent FROM replies
        WHERE received_at >= ${since} AND received_at < ${until} AND intent IS NOT NULL) d
      GROUP BY number, day, intent) t
    WHERE rank <= ${top}
    ORDER BY day, number, replies DESC, intent`.execute(db);

  const unmatched = await sql<{ number: string; day: string; text: string }>`
    SELECT to_addr AS number, ${day} AS day, body AS text FROM replies
    WHERE received_at >= ${since} AND received_at < ${until} AND matched_kind = 'none'
    ORDER BY received_at DESC
    LIMIT ${MAX_UNMATCHED}`.execute(db);

  return {
    intents: intents.rows,
    unmatched: unmatched.rows,
    surveys: await surveyFigures(db, since, until),
    campaigns: await campaignFigures(db, since, until),
  };
}

async function surveyFigures(db: Db, since: Date, until: Date): Promise<SurveyFigures[]> {
  const runs = await sql<{ name: string; started: number; completed: number }>`
    SELECT name, count(*)::int AS started, count(*) FILTER (WHERE status = 'completed')::int AS completed
    FROM survey_runs WHERE started_at >= ${since} AND started_at < ${until}
    GROUP BY name ORDER BY name`.execute(db);
  if (runs.rows.length === 0) return [];
  // Every answer counted; each run's last valid answer per question for the figures.
  const all = await sql<{ name: string; position: number; kind: string; answers: number; invalid: number }>`
    SELECT r.name, a.position, a.kind, count(*)::int AS answers, count(*) FILTER (WHERE NOT a.valid)::int AS invalid
    FROM survey_answers a JOIN survey_runs r ON r.id = a.run_id
    WHERE r.started_at >= ${since} AND r.started_at < ${until}
    GROUP BY r.name, a.position, a.kind
    ORDER BY r.name, a.position`.execute(db);
  const last = await sql<{ name: string; position: number; value: number | null; runs: number; definition: Record<string, unknown> }>`
    SELECT name, position, value, count(*)::int AS runs, min(definition::text)::jsonb AS definition FROM (
      SELECT DISTINCT ON (a.run_id, a.position) r.name, a.position, a.value, r.definition
      FROM survey_answers a JOIN survey_runs r ON r.id = a.run_id
      WHERE r.started_at >= ${since} AND r.started_at < ${until} AND a.valid
      ORDER BY a.run_id, a.position, a.answered_at DESC) v
    GROUP BY name, position, value
    ORDER BY name, position, value`.execute(db);
  return runs.rows.map((run) => ({
    name: run.name,
    started: run.started,
    completed: run.completed,
    questions: all.rows
      .filter((q) => q.name === run.name)
      .map((q) => {
        const values = last.rows.filter((v) => v.name === run.name && v.position === q.position);
        const valid = values.reduce((n, v) => n + v.runs, 0);
        const distribution: Record<string, number> = {};
        for (const v of values) if (v.value !== null) distribution[String(v.value)] = v.runs;
        let average: number | null = null;
        let csat: number | null = null;
        if (q.kind === 'rating' && valid > 0) {
          const question = (values[0]?.definition.questions as { max?: number }[] | undefined)?.[q.position];
          const max = question?.max ?? 5;
          const rated = values.filter((v) => v.value !== null);
          average = rated.reduce((n, v) => n + v.value! * v.runs, 0) / valid;
          csat = rated.filter((v) => v.value! >= max - 1).reduce((n, v) => n + v.runs, 0) / valid;
        }
        return { position: q.position, kind: q.kind, answers: q.answers, valid, invalid: q.invalid, distribution, average, csat };
      }),
  }));
}

async function campaignFigures(db: Db, since: Date, until: Date): Promise<VariantFigures[]> {
  const rows = await sql<{
    campaign: string;
    variant: string;
    messages: number;
    sent: number;
    delivered: number;
    replied: number;
    positive: number;
    median_reply: number | null;
  }>`
    WITH m AS (
      SELECT id, campaign, variant, status, submitted_at FROM messages
      WHERE campaign IS NOT NULL AND created_at >= ${since} AND created_at < ${until}
    ), first_reply AS (
      SELECT DISTINCT ON (r.in_reply_to) r.in_reply_to AS message_id, r.received_at, r.intent
      FROM replies r JOIN m ON m.id = r.in_reply_to
      ORDER BY r.in_reply_to, r.received_at, r.id
    )
    SELECT m.campaign, m.variant, count(*)::int AS messages,
      count(*) FILTER (WHERE m.submitted_at IS NOT NULL)::int AS sent,
      count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
      count(f.message_id) FILTER (WHERE m.submitted_at IS NOT NULL)::int AS replied,
      count(f.message_id) FILTER (WHERE m.submitted_at IS NOT NULL AND f.intent = ANY (${POSITIVE}::text[]))::int AS positive,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY GREATEST(extract(epoch FROM f.received_at - m.submitted_at), 0)::float8)
        FILTER (WHERE f.message_id IS NOT NULL AND m.submitted_at IS NOT NULL) AS median_reply
    FROM m LEFT JOIN first_reply f ON f.message_id = m.id
    GROUP BY m.campaign, m.variant
    ORDER BY m.campaign, m.variant`.execute(db);
  const rate = (n: number, of: number): number | null => (of === 0 ? null : n / of);
  return rows.rows.map((r) => {
    const control = rows.rows.find((c) => c.campaign === r.campaign)!;
    return {
      campaign: r.campaign,
      variant: r.variant,
      messages: r.messages,
      sent: r.sent,
      delivered: r.delivered,
      replied: r.replied,
      positive: r.positive,
      deliveryRate: rate(r.delivered, r.sent),
      replyRate: rate(r.replied, r.sent),
      positiveRate: rate(r.positive, r.sent),
      medianReplySeconds: r.median_reply,
      replyRatePValue: control === r ? null : twoProportionPValue(control.replied, control.sent, r.replied, r.sent),
    };
  });
}

/**
 * Two-sided p-value of a two-proportion z-test (pooled standard error); null without data, 1 when
 * both proportions are 0 or 1 alike (no variance to speak of).
 */
export function twoProportionPValue(x1: number, n1: number, x2: number, n2: number): number | null {
  if (n1 === 0 || n2 === 0) return null;
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = Math.abs(x1 / n1 - x2 / n2) / se;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 erf approximation, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
