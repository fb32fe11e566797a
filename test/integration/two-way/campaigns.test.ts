/**
 * An A/B campaign of 200 messages through the daemon (real Postgres, Redis and SMSC simulator):
 * each recipient gets the variant its number hashes to, scripted customers reply, and the
 * report's figures per variant (sent, delivered, replied, positive intent, rates, median time to
 * reply, p-value) equal the ones computed here from what the test sent and the rows it reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, untilHandled } from '../../support/two-way.ts';
import { pickVariant } from '../../../src/domain/campaign.ts';
import { readInsights, twoProportionPValue } from '../../../src/store/reports-insights.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

const VARIANTS = [
  { name: 'A', text: 'Spring sale: 20% off everything this week. Reply YES for your code.', weight: 1 },
  { name: 'B', text: 'Hi! Want 20% off this week? Reply YES and we will text you a code.', weight: 1 },
];
const N = 200;

/** Who replies what: a script by index, the same for both variants. */
function scripted(i: number): string | undefined {
  if (i % 4 === 0) return ['yes please', 'Yes!', 'yep 👍', 'ok send it'][(i / 4) % 4];
  if (i % 7 === 1) return 'not interested';
  if (i % 11 === 2) return 'what is the code valid for?';
  return undefined;
}

describe('A/B campaigns', () => {
  it('assigns variants deterministically and reports per-variant delivery, reply and positive-intent rates, time to reply and significance', async () => {
    const sim = await h.startSim({ receiptDelayMs: 10 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 2000, burst: 200, default_from: '12345' }],
        numbers: [{ address: '12345' }],
      }),
    );
    const started = new Date(Date.now() - 1000);
    const customers = Array.from({ length: N }, (_, i) => `1415556${String(i).padStart(4, '0')}`);
    await h.send(customers.map((c, i) => ({ id: `ab-${i}`, to: `+${c}`, campaign: { id: 'spring', variants: VARIANTS } })));
    await h.until('all delivered', async () => {
      const rows = await h.schema.db.selectFrom('messages').select('id').where('campaign', '=', 'spring').where('status', '=', 'delivered').execute();
      return rows.length === N;
    }, 30_000);

    // The variant each recipient got is the one its number hashes to, with that variant's text.
    const rows = await h.schema.db.selectFrom('messages').select(['id', 'to_addr', 'variant', 'body']).where('campaign', '=', 'spring').execute();
    const variantOf = new Map(rows.map((r) => [r.to_addr, r.variant]));
    for (const r of rows) {
      const expected = pickVariant('spring', r.to_addr, VARIANTS);
      expect(r.variant).toBe(expected.name);
      expect(r.body).toBe(expected.text);
    }
    const sizes = VARIANTS.map((v) => rows.filter((r) => r.variant === v.name).length);
    // Both variants get a fair share of 200 (a hash, not a coin flip, but spread like one).
    expect(Math.min(...sizes)).toBeGreaterThan(60);

    let replies = 0;
    for (const [i, customer] of customers.entries()) {
      const text = scripted(i);
      if (text === undefined) continue;
      expect(await sim.injectReply({ from: customer, to: '12345', text }).acked).toBe(true);
      replies++;
    }
    await untilHandled(h, replies, 30_000);

    const insights = await readInsights(h.schema.db, { since: started, until: new Date(Date.now() + 60_000), top: 5 });
    const figures = insights.campaigns.filter((c) => c.campaign === 'spring');
    expect(figures.map((f) => f.variant)).toEqual(['A', 'B']);

    // Counts computed from the script and the assignment.
    const expected = VARIANTS.map((v) => {
      const mine = customers.map((c, i) => ({ c, i })).filter(({ c }) => variantOf.get(c) === v.name);
      const replied = mine.filter(({ i }) => scripted(i) !== undefined).length;
      const positive = mine.filter(({ i }) => i % 4 === 0).length;
      return { variant: v.name, sent: mine.length, replied, positive };
    });
    // The median time from submit to first reply, from the rows.
    const timing = await h.schema.db
      .selectFrom('replies')
      .innerJoin('messages', 'messages.id', 'replies.in_reply_to')
      .select(['messages.variant', 'replies.received_at', 'messages.submitted_at'])
      .where('messages.campaign', '=', 'spring')
      .execute();
    const median = (xs: number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length / 2;
      return s.length % 2 === 1 ? s[Math.floor(m)]! : (s[m - 1]! + s[m]!) / 2;
    };
    for (const [k, f] of figures.entries()) {
      const e = expected[k]!;
      expect(f).toMatchObject({ messages: e.sent, sent: e.sent, delivered: e.sent, replied: e.replied, positive: e.positive });
      expect(f.deliveryRate).toBe(1);
      expect(f.replyRate).toBeCloseTo(e.replied / e.sent, 10);
      expect(f.positiveRate).toBeCloseTo(e.positive / e.sent, 10);
      const seconds = timing.filter((t) => t.variant === f.variant).map((t) => Math.max(0, (t.received_at.getTime() - t.submitted_at!.getTime()) / 1000));
      // Postgres keeps microseconds, Date milliseconds: equal to within 5 ms.
      expect(f.medianReplySeconds).toBeCloseTo(median(seconds), 2);
    }
    const [a, b] = expected as [(typeof expected)[0], (typeof expected)[0]];
    expect(figures[0]!.replyRatePValue).toBeNull();
    expect(figures[1]!.replyRatePValue).toBeCloseTo(twoProportionPValue(a.replied, a.sent, b.replied, b.sent)!, 10);
  });
});

describe('twoProportionPValue', () => {
  it('matches textbook values', () => {
    // 45/100 vs 30/100: pooled p = 0.375, z = 0.15 / 0.06847 = 2.1909, two-sided p = 0.0285.
    expect(twoProportionPValue(45, 100, 30, 100)).toBeCloseTo(0.0285, 3);
    expect(twoProportionPValue(10, 100, 10, 100)).toBeCloseTo(1, 6);
    expect(twoProportionPValue(0, 10, 0, 10)).toBe(1);
    expect(twoProportionPValue(1, 0, 1, 10)).toBeNull();
  });
});
