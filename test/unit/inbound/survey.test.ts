import { describe, expect, it } from 'vitest';
import { parseSurvey, type Survey } from '../../../src/domain/survey.ts';
import { nextStep, readSurveyAnswer } from '../../../src/inbound/survey.ts';
import { classifyIntent } from '../../../src/inbound/intent/classify-intent.ts';
import { DEFAULT_COMPLIANCE as D } from '../../../src/inbound/compliance.ts';
import { campaignPosition, parseCampaign, pickVariant } from '../../../src/domain/campaign.ts';
import { parseOutboundPayload } from '../../../src/domain/message.ts';
import { commonTerms } from '../../../src/inbound/intent/terms.ts';

const intent = (text: string) => classifyIntent(text, { optOut: D.optOut, optIn: D.optIn, help: D.help, now: new Date('2026-03-10T12:00:00Z'), timeZone: 'UTC' });
const survey = parseSurvey({
  name: 'csat',
  questions: [
    { kind: 'rating', text: 'Rate us 1-5' },
    { kind: 'choice', text: 'Which? 1) Shoes 2) Bags 3) Hats', options: ['Shoes', 'Bags', 'Hats'] },
    { kind: 'text', text: 'Anything else?' },
  ],
  done: 'Thanks!',
}) as Survey;

describe('surveys', () => {
  it('parses a survey and refuses bad ones with the reason', () => {
    expect(survey.questions[0]).toEqual({ kind: 'rating', text: 'Rate us 1-5', min: 1, max: 5 });
    expect(parseSurvey({ name: 'x', questions: [] })).toMatch(/1 to 20 questions/);
    expect(parseSurvey({ name: 'x', questions: [{ kind: 'choice', text: 'q', options: ['only'] }] })).toMatch(/2 to 20/);
    expect(parseSurvey({ name: 'x', questions: [{ kind: 'rating', text: 'q', min: 5, max: 1 }] })).toMatch(/min < max/);
    expect(parseSurvey({ name: 'has space', questions: [{ kind: 'text', text: 'q' }] })).toMatch(/name/);
    expect(parseOutboundPayload(JSON.stringify({ to: '+14155550100', text: 'hi', survey: { name: 'x' } }), () => 'id')).toMatchObject({ ok: false, code: 'invalid_survey' });
  });

  it.each([
    ['4', 4],
    ['5 stars', 5],
    ['4/5', 4],
    ["I'd say 4, the wait was long", 4],
    ['four', 4],
    ['great', undefined],
    ['6', undefined],
    ['3 or 4', undefined],
  ])('rating %j -> %s', (text, value) => {
    const read = readSurveyAnswer(survey.questions[0]!, text, intent(text));
    expect(read).toEqual(value === undefined ? { valid: false } : { valid: true, value });
  });

  it.each([
    ['2', 2],
    ['option 3', 3],
    ['the bags', 2],
    ['Shoes!', 1],
    ['shoes and bags', undefined],
    ['4', undefined],
  ])('choice %j -> %s', (text, value) => {
    const read = readSurveyAnswer(survey.questions[1]!, text, intent(text));
    expect(read).toEqual(value === undefined ? { valid: false } : { valid: true, value });
  });

  it('text takes anything not empty', () => {
    expect(readSurveyAnswer(survey.questions[2]!, 'faster please', intent('faster please'))).toEqual({ valid: true, value: null });
    expect(readSurveyAnswer(survey.questions[2]!, '  ', intent('  '))).toEqual({ valid: false });
  });

  it('asks again once, then moves on; ends with the closing text', () => {
    expect(nextStep(survey, 0, false, false)).toEqual({ kind: 'ask', position: 0, reasked: true, text: 'Sorry, that is not an answer we can read. Rate us 1-5' });
    expect(nextStep(survey, 0, false, true)).toEqual({ kind: 'ask', position: 1, reasked: false, text: 'Which? 1) Shoes 2) Bags 3) Hats' });
    expect(nextStep(survey, 0, true, false)).toMatchObject({ kind: 'ask', position: 1 });
    expect(nextStep(survey, 2, true, false)).toEqual({ kind: 'done', position: 3, text: 'Thanks!' });
  });
});

describe('campaign variants', () => {
  const variants = [
    { name: 'A', text: 'a', weight: 1 },
    { name: 'B', text: 'b', weight: 3 },
  ];
  it('are deterministic per campaign and recipient, and split by weight', () => {
    expect(pickVariant('c1', '14155550100', variants)).toBe(pickVariant('c1', '14155550100', variants));
    const counts = { A: 0, B: 0 };
    for (let i = 0; i < 4000; i++) counts[pickVariant('c1', `1415555${String(i).padStart(4, '0')}`, variants).name as 'A' | 'B']++;
    expect(counts.A / 4000).toBeGreaterThan(0.2);
    expect(counts.A / 4000).toBeLessThan(0.3);
    const p = campaignPosition('c1', '14155550100');
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1);
  });

  it('give the message its text and refuse bad campaigns', () => {
    const parsed = parseOutboundPayload(JSON.stringify({ to: '+14155550100', campaign: { id: 'c1', variants: [{ name: 'A', text: 'hello A' }, { name: 'B', text: 'hello B' }] } }), () => 'id');
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.message.campaign?.id).toBe('c1');
      expect(parsed.message.text).toBe(`hello ${parsed.message.campaign?.variant}`);
    }
    expect(parseCampaign({ id: 'c1', variants: [{ name: 'A', text: 'x' }, { name: 'A', text: 'y' }] }, '1')).toMatch(/repeats/);
    expect(parseCampaign({ id: 'c1', variants: [{ name: 'A', text: 'x', weight: 0 }] }, '1')).toMatch(/weight/);
    expect(parseOutboundPayload(JSON.stringify({ to: '+14155550100', campaign: { id: 'c 1' } }), () => 'id')).toMatchObject({ ok: false, code: 'invalid_campaign' });
  });
});

describe('commonTerms', () => {
  it('counts normalised words once per reply, without stop words or numbers', () => {
    expect(commonTerms(['Where is my PARCEL??', 'parcel not arrived', 'the parcel 123', 'Wo ist mein Paket?', 'parcellll'], 3)).toEqual([
      { term: 'parcel', replies: 4 },
      { term: 'arrived', replies: 1 },
      { term: 'mein', replies: 1 },
    ]);
  });
});
