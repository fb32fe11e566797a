/**
 * A 3-question survey through the daemon (real Postgres, Redis and SMSC simulator): a 1-5 rating,
 * a choice and free text, asked one after the other in the conversation; one invalid answer is
 * asked again once; every answer is stored; a second customer answers everything at once right;
 * `parley report`'s survey figures (CSAT, distribution) match what the customers said.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simSmsc, type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness, inboundEvents, replyRows, untilHandled } from '../../support/two-way.ts';
import { readInsights } from '../../../src/store/reports-insights.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

let h: Harness;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
});

const textsTo = (sim: Simulator, customer: string): string[] => sim.arrivals.filter((a) => a.destination === customer).map((a) => a.text);

const SURVEY = {
  name: 'visit-feedback',
  questions: [
    { kind: 'rating', text: 'How was your visit? Reply 1 (bad) to 5 (great).' },
    { kind: 'choice', text: 'What did you come for? 1) Cleaning 2) Check-up 3) Treatment', options: ['Cleaning', 'Check-up', 'Treatment'] },
    { kind: 'text', text: 'Anything we could do better?' },
  ],
  done: 'Thank you for your feedback!',
};

describe('surveys', () => {
  it('asks three questions in turn, asks an invalid answer again once, stores every answer, and reports CSAT and distributions', async () => {
    const sim = await h.startSim({ receiptDelayMs: 20 });
    const daemon = await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, burst: 100, default_from: '12345' }],
        numbers: [{ address: '12345' }],
      }),
    );
    const customers = ['14155550201', '14155550202'];
    await h.send(customers.map((c, i) => ({ id: `fb-${i}`, to: `+${c}`, text: `Thanks for visiting! ${SURVEY.questions[0]!.text}`, survey: SURVEY })));
    for (const i of [0, 1]) await h.until('survey sent', async () => (await h.acceptedCount(`fb-${i}`)) === 1);

    const [first, second] = customers as [string, string];
    // The first customer: "great" is no rating (asked again), then 4; "a check-up"; free text.
    const script: [string, string, number][] = [
      [first, 'great', 2],
      [first, "I'd say 4", 3],
      [first, 'a check-up', 4],
      [first, 'Shorter waiting time please', 5],
      [second, '5 stars', 2],
      [second, '1', 3],
      [second, 'nothing, all good 👍', 4],
    ];
    let handled = 0;
    for (const [customer, text, expectedTexts] of script) {
      expect(await sim.injectReply({ from: customer, to: '12345', text }).acked).toBe(true);
      await untilHandled(h, ++handled);
      await h.until(`answer to "${text}"`, () => textsTo(sim, customer).length === expectedTexts);
    }

    expect(textsTo(sim, first)).toEqual([
      'Thanks for visiting! How was your visit? Reply 1 (bad) to 5 (great).',
      'Sorry, that is not an answer we can read. How was your visit? Reply 1 (bad) to 5 (great).',
      'What did you come for? 1) Cleaning 2) Check-up 3) Treatment',
      'Anything we could do better?',
      'Thank you for your feedback!',
    ]);
    expect(textsTo(sim, second).slice(1)).toEqual(['What did you come for? 1) Cleaning 2) Check-up 3) Treatment', 'Anything we could do better?', 'Thank you for your feedback!']);

    // Stored: every answer, valid or not, in order; both runs completed.
    const answers = await h.schema.db
      .selectFrom('survey_answers')
      .innerJoin('survey_runs', 'survey_runs.id', 'survey_answers.run_id')
      .select(['survey_runs.customer', 'survey_answers.position', 'survey_answers.kind', 'survey_answers.valid', 'survey_answers.value', 'survey_answers.answer'])
      .orderBy('survey_answers.answered_at')
      .execute();
    expect(answers.map((a) => [a.customer, a.position, a.kind, a.valid, a.value, a.answer])).toEqual([
      [first, 0, 'rating', false, null, 'great'],
      [first, 0, 'rating', true, 4, "I'd say 4"],
      [first, 1, 'choice', true, 2, 'a check-up'],
      [first, 2, 'text', true, null, 'Shorter waiting time please'],
      [second, 0, 'rating', true, 5, '5 stars'],
      [second, 1, 'choice', true, 1, '1'],
      [second, 2, 'text', true, null, 'nothing, all good 👍'],
    ]);
    const runs = await h.schema.db.selectFrom('survey_runs').select(['customer', 'status', 'position']).orderBy('customer').execute();
    expect(runs).toEqual([
      { customer: first, status: 'completed', position: 3 },
      { customer: second, status: 'completed', position: 3 },
    ]);
    const rows = await replyRows(h);
    expect(rows.every((r) => r.matched_kind === 'survey' && r.keyword === 'visit-feedback' && r.resolved_automatically)).toBe(true);
    const events = await inboundEvents(h);
    expect(events.filter((e) => e.from === first).map((e) => (e.matched as { action: string }).action)).toEqual(['reask', 'next', 'next', 'done']);

    const counted = (await daemon.metrics.surveyAnswers.get()).values.map((v) => [v.labels.kind, v.labels.valid, v.labels.value, v.value]);
    expect(counted).toEqual(
      expect.arrayContaining([
        ['rating', 'false', '', 1],
        ['rating', 'true', '4', 1],
        ['rating', 'true', '5', 1],
        ['choice', 'true', '1', 1],
        ['choice', 'true', '2', 1],
        ['text', 'true', '', 2],
      ]),
    );

    // A reply after the survey is done is an ordinary reply again.
    expect(await sim.injectReply({ from: second, to: '12345', text: 'bye' }).acked).toBe(true);
    await untilHandled(h, handled + 1);
    expect((await replyRows(h)).at(-1)).toMatchObject({ from_addr: second, matched_kind: 'none' });

    // The report: CSAT is the share of 4s and 5s among valid ratings; distributions by value.
    const insights = await readInsights(h.schema.db, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000), top: 5 });
    const survey = insights.surveys.find((s) => s.name === 'visit-feedback')!;
    expect(survey).toMatchObject({ started: 2, completed: 2 });
    expect(survey.questions[0]).toMatchObject({ position: 0, kind: 'rating', answers: 3, valid: 2, invalid: 1, csat: 1, average: 4.5 });
    expect(survey.questions[0]!.distribution).toEqual({ '4': 1, '5': 1 });
    expect(survey.questions[1]).toMatchObject({ kind: 'choice', valid: 2, distribution: { '1': 1, '2': 1 } });
    expect(survey.questions[2]).toMatchObject({ kind: 'text', valid: 2 });
  });
});
