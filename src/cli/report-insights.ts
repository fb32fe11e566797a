/**
 * The conversation part of `parley report` (issue 12): common topics (the most frequent intents,
 * and the most frequent terms of unmatched replies, per number and day), surveys (completion,
 * CSAT, distributions) and A/B campaigns (per variant: delivery, reply and positive-intent rates,
 * time to reply, p-value of the reply rate against the first variant). Texts of replies never
 * appear, only counted terms.
 */
import type { Insights, IntentCount, SurveyFigures, VariantFigures } from '../domain/report.ts';
import { commonTerms, type TermCount } from '../inbound/intent/terms.ts';
import { formatSeconds, formatTable } from './report.ts';

export interface ConversationReport {
  readonly intents: readonly IntentCount[];
  readonly unmatchedTerms: readonly { readonly number: string; readonly day: string; readonly replies: number; readonly terms: readonly TermCount[] }[];
  readonly surveys: readonly SurveyFigures[];
  readonly campaigns: readonly VariantFigures[];
}

export function summariseInsights(insights: Insights, top: number): ConversationReport {
  const groups = new Map<string, { number: string; day: string; texts: string[] }>();
  for (const u of insights.unmatched) {
    const key = `${u.day}\0${u.number}`;
    const g = groups.get(key) ?? { number: u.number, day: u.day, texts: [] };
    g.texts.push(u.text);
    groups.set(key, g);
  }
  const unmatchedTerms = [...groups.values()]
    .sort((a, b) => a.day.localeCompare(b.day) || a.number.localeCompare(b.number))
    .map((g) => ({ number: g.number, day: g.day, replies: g.texts.length, terms: commonTerms(g.texts, top) }));
  return { intents: insights.intents, unmatchedTerms, surveys: insights.surveys, campaigns: insights.campaigns };
}

const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

export function formatInsights(r: ConversationReport): string[] {
  const lines: string[] = [];
  if (r.intents.length > 0) {
    const byDay = new Map<string, IntentCount[]>();
    for (const i of r.intents) byDay.set(`${i.day}\0${i.number}`, [...(byDay.get(`${i.day}\0${i.number}`) ?? []), i]);
    lines.push('', 'Common topics: most frequent intents (per number and day)');
    lines.push(...formatTable(['day', 'number', 'intents'], [...byDay.values()].map((list) => [list[0]!.day, list[0]!.number, list.map((i) => `${i.intent} ${i.replies}`).join(', ')])));
  }
  if (r.unmatchedTerms.length > 0) {
    lines.push('', 'Common topics: most frequent terms of unmatched replies (replies containing the term)');
    lines.push(...formatTable(['day', 'number', 'unmatched', 'terms'], r.unmatchedTerms.map((u) => [u.day, u.number, String(u.replies), u.terms.map((t) => `${t.term} ${t.replies}`).join(', ') || '-'])));
  }
  for (const s of r.surveys) {
    lines.push('', `Survey ${s.name}: ${s.started} started, ${s.completed} completed (${pct(s.started === 0 ? null : s.completed / s.started)})`);
    lines.push(
      ...formatTable(
        ['question', 'kind', 'answers', 'valid', 'invalid', 'average', 'CSAT', 'distribution'],
        s.questions.map((q) => [
          String(q.position + 1),
          q.kind,
          String(q.answers),
          String(q.valid),
          String(q.invalid),
          q.average === null ? '-' : q.average.toFixed(2),
          pct(q.csat),
          Object.entries(q.distribution).map(([v, n]) => `${v}:${n}`).join(' ') || '-',
        ]),
      ),
    );
  }
  if (r.campaigns.length > 0) {
    lines.push('', 'A/B campaigns (rates per message sent; p = reply rate against the first variant, two-proportion z-test)');
    lines.push(
      ...formatTable(
        ['campaign', 'variant', 'sent', 'delivered', 'replied', 'positive', 'time to reply', 'p'],
        r.campaigns.map((c) => [
          c.campaign,
          c.variant,
          String(c.sent),
          `${c.delivered} (${pct(c.deliveryRate)})`,
          `${c.replied} (${pct(c.replyRate)})`,
          `${c.positive} (${pct(c.positiveRate)})`,
          formatSeconds(c.medianReplySeconds),
          c.replyRatePValue === null ? '-' : c.replyRatePValue.toFixed(3),
        ]),
      ),
    );
  }
  return lines;
}
