import { describe, expect, it } from 'vitest';
import { intentOfKey, keyForMeaning } from '../../../src/inbound/intent/expected.ts';
import { readNluAnswer } from '../../../src/inbound/intent/nlu.ts';
import { readReply, intentMetricName } from '../../../src/inbound/intent/reading.ts';
import { matchReply } from '../../../src/inbound/rules.ts';
import { DEFAULT_COMPLIANCE } from '../../../src/inbound/compliance.ts';

const now = new Date('2026-03-10T15:00:00Z');
const read = (text: string, threshold = 0.6) => readReply(text, now, DEFAULT_COMPLIANCE, { threshold, timeZone: 'UTC' });

describe('expected replies by intent', () => {
  it('reads what keys stand for', () => {
    expect(intentOfKey('YES')).toEqual({ name: 'yes' });
    expect(intentOfKey('Confirm')).toEqual({ name: 'yes' });
    expect(intentOfKey('NO')).toEqual({ name: 'no' });
    expect(intentOfKey('2')).toEqual({ name: 'choice', choice: 2 });
    expect(intentOfKey('RESCHEDULE')).toEqual({ name: 'reschedule' });
    expect(intentOfKey('ORDER')).toBeUndefined();
    expect(keyForMeaning(['ORDER', '1', '2'], { name: 'choice', choice: 2 })).toBe('2');
    expect(keyForMeaning(['1', '2'], { name: 'choice', choice: 3 })).toBeUndefined();
  });

  const expected = { YES: { reply: 'Confirmed.' }, NO: { reply: 'Cancelled.' } };
  const base = { expected, rules: [], unmatched: { kind: 'hand_to_apps' } as const };

  it('"yes please" and "Yep 👍" answer a YES expectation through a confident intent', () => {
    for (const text of ['yes please', 'Yep 👍', 'Sí claro', '✅']) {
      const r = read(text);
      expect(r.confident, text).toBe(true);
      expect(matchReply(text, { ...base, ...r.meaning }), text).toMatchObject({ kind: 'expected_reply', keyword: 'YES', actions: [{ kind: 'reply', text: 'Confirmed.' }] });
    }
    expect(matchReply('nah sorry', { ...base, ...read('nah sorry').meaning })).toMatchObject({ kind: 'expected_reply', keyword: 'NO' });
  });

  it('an intent below the threshold answers nothing; an exact key or a keyword rule still wins over an intent', () => {
    const unsure = read('yes but I might be a few minutes late', 0.85);
    expect(unsure.confident).toBe(false);
    expect(unsure.escalate).toBe(true);
    expect(matchReply('yes but I might be a few minutes late', { ...base, ...unsure.meaning }).kind).toBe('none');
    const rules = [{ name: 'yep-rule', keywords: ['YEP'], actions: [{ kind: 'reply' as const, text: 'rule' }] }];
    expect(matchReply('yep', { ...base, rules, ...read('yep').meaning })).toMatchObject({ kind: 'keyword', rule: 'yep-rule' });
  });
});

describe('readReply', () => {
  it('turns a confident opt-out phrase into a compliance opt-out with the number\'s confirmation', () => {
    const r = read('please stop texting me');
    expect(r.compliance).toEqual({ kind: 'opt_out', keyword: 'stop texting', reply: DEFAULT_COMPLIANCE.optOutReply });
    expect(r.event).toMatchObject({ name: 'opt_out', review: false });
  });

  it('flags an unclear opt-out, and an opt-out read below the threshold, for review; never as compliance', () => {
    expect(read("stop it, that's annoying")).toMatchObject({ compliance: undefined, event: { name: 'opt_out_unclear', review: true } });
    const typo = read('stpo', 0.9);
    expect(typo).toMatchObject({ compliance: undefined, event: { name: 'opt_out', confidence: 0.85, review: true } });
    expect(read('stpo').compliance?.kind).toBe('opt_out');
  });

  it('an opt-out reported by the NLU is flagged for review, not acted on', () => {
    const r = read('meh').withNlu({ name: 'opt_out', confidence: 0.99 });
    expect(r.compliance).toBeUndefined();
    expect(r.event).toMatchObject({ name: 'opt_out', via: 'nlu', review: true });
  });

  it('stores what decided it; "other" is never escalated (the unmatched policy answers it)', () => {
    expect(read('option 2').stored).toEqual({ name: 'choice', confidence: 0.9, detail: { via: 'menu', evidence: '2', choice: 2, review: false, escalated: false } });
    expect(read('what colour is it?').escalate).toBe(false);
    expect(read('tomorrow at 10').stored.detail.at).toBe('2026-03-11T10:00:00.000Z');
    expect(read('yes').escalated().event.escalated).toBe(true);
  });

  it('bounds metric labels', () => {
    expect(intentMetricName('yes')).toBe('yes');
    expect(intentMetricName('pets_question')).toBe('custom');
  });
});

describe('readNluAnswer', () => {
  it.each([
    ['{"intent":"yes","confidence":0.8}', { name: 'yes', confidence: 0.8 }],
    ['{"intent":"choice","confidence":1,"choice":2}', { name: 'choice', confidence: 1, choice: 2 }],
    ['{"intent":"reschedule","confidence":0.7,"at":"2026-03-11T10:00:00Z"}', { name: 'reschedule', confidence: 0.7, at: new Date('2026-03-11T10:00:00Z') }],
    ['{}', undefined],
    ['{"intent":null}', undefined],
  ])('%s', (body, expected) => {
    expect(readNluAnswer(body)).toEqual(expected);
  });

  it.each([
    ['not json', 'not JSON'],
    ['[1]', 'not a JSON object'],
    ['{"intent":"yes"}', '"confidence"'],
    ['{"intent":"yes","confidence":2}', '"confidence"'],
    ['{"intent":"has spaces","confidence":0.5}', '"intent"'],
    ['{"intent":"yes","confidence":0.5,"choice":"two"}', '"choice"'],
    ['{"intent":"yes","confidence":0.5,"at":"someday"}', '"at"'],
  ])('%s is refused with a reason', (body, reason) => {
    const r = readNluAnswer(body);
    expect(typeof r).toBe('string');
    expect(r).toContain(reason);
  });
});
