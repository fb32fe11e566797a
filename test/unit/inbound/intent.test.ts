import { describe, expect, it } from 'vitest';
import { collapseRepeats, editDistance, normaliseReply } from '../../../src/inbound/intent/normalise.ts';
import { readOptOut } from '../../../src/inbound/intent/opt-out.ts';
import { readTime } from '../../../src/inbound/intent/when.ts';
import { zoneOffsetMinutes, isTimeZone } from '../../../src/lib/time-zone.ts';
import { classifyIntent, type IntentContext } from '../../../src/inbound/intent/classify-intent.ts';
import { DEFAULT_COMPLIANCE as D } from '../../../src/inbound/compliance.ts';

// Tuesday 10 March 2026, 11:00 in New York (EDT, UTC-4 since 8 March).
const now = new Date('2026-03-10T15:00:00Z');
const context: IntentContext = { optOut: D.optOut, optIn: D.optIn, help: D.help, now, timeZone: 'America/New_York' };
const intent = (text: string, ctx: Partial<IntentContext> = {}) => classifyIntent(text, { ...context, ...ctx });

describe('normaliseReply', () => {
  it.each([
    ['YESSS!!!', 'yes', ['yes']],
    ['Arrêt', 'arret', ['arret']],
    ["Don’t text me", 'dont text me', ['dont', 'text', 'me']],
    ['ＳＴＯＰ', 'stop', ['stop']],
    ['S.T.O.P.', 's t o p', ['s', 't', 'o', 'p']],
    ['see u at 4:30?', 'see u at 4:30', ['see', 'u', 'at', '4:30']],
    ['good', 'good', ['good']],
    ['  ', '', []],
  ])('%j reads %j', (raw, text, tokens) => {
    const r = normaliseReply(raw);
    expect(r.text).toBe(text);
    expect(r.tokens).toEqual(tokens);
    expect(r.compact).toBe(tokens.join(''));
  });

  it('keeps emoji apart, without skin tones or variation selectors, and reads keycaps as digits', () => {
    expect(normaliseReply('Yup 👍🏽').emoji).toEqual(['👍']);
    expect(normaliseReply('Yup 👍🏽').tokens).toEqual(['yup']);
    expect(normaliseReply('❤️').emoji).toEqual(['❤']);
    expect(normaliseReply('2️⃣').tokens).toEqual(['2']);
  });

  it('edit distance counts swaps as one and stops past the bound', () => {
    expect(editDistance('stpo', 'stop')).toBe(1);
    expect(editDistance('unsubscibe', 'unsubscribe')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
    expect(collapseRepeats('yess')).toBe('yes');
  });
});

describe('readOptOut', () => {
  const read = (text: string) => readOptOut(normaliseReply(text), D.optOut);
  it.each([
    ['stop', 'keyword', 'STOP'],
    ['S T O P', 'keyword', 'STOP'],
    // Spellings that compact alike are one keyword: the first one listed names it.
    ['opt out', 'keyword', 'OPTOUT'],
    ['Opt–Out!', 'keyword', 'OPTOUT'],
    ['arrêt', 'keyword', 'ARRET'],
    ['stop please 😡', 'keyword', 'STOP'],
    ['please stop texting me', 'phrase', undefined],
    ['unsubscribe me', 'phrase', undefined],
    ["don't text me again", 'phrase', undefined],
    ['No me envíen más mensajes', 'phrase', undefined],
    ['stpo', 'typo', 'STOP'],
    ['stop it, that\u2019s annoying', 'unclear', undefined],
    ['🛑', 'unclear', undefined],
  ])('%j is %s', (text, verdict, keyword) => {
    const r = read(text);
    expect(r?.verdict).toBe(verdict);
    if (keyword !== undefined) expect(r?.keyword).toBe(keyword);
  });

  it.each(['I will stop by at 4', 'cancel my appointment', 'shop', 'quite', 'the end of the street, blue door', 'see you then'])(
    '%j is not an opt-out',
    (text) => expect(read(text)).toBeUndefined(),
  );

  it('reads the number\'s own list: a configured word opts out, a default one left out only flags', () => {
    const own = ['HALT', 'BASTA'];
    expect(readOptOut(normaliseReply('basta!'), own)?.verdict).toBe('keyword');
    // STOP is not on this number's list, but it is still never ignored: it is flagged for review.
    expect(readOptOut(normaliseReply('STOP'), own)?.verdict).toBe('unclear');
  });
});

describe('readTime', () => {
  it.each([
    ['can we do 4pm?', '2026-03-10T20:00:00.000Z', true],
    ['tomorrow at 10', '2026-03-11T14:00:00.000Z', true],
    ['how about 4 instead', '2026-03-10T20:00:00.000Z', true],
    ['Friday 3:30', '2026-03-13T19:30:00.000Z', true],
    ['mañana a las 10', '2026-03-11T14:00:00.000Z', true],
    ['demain 15h', '2026-03-11T19:00:00.000Z', true],
    ['morgen um 9', '2026-03-11T13:00:00.000Z', true],
  ])('%j is %s in New York', (text, iso, hasTime) => {
    const t = readTime(text, now, 'America/New_York');
    expect(t?.at.toISOString()).toBe(iso);
    expect(t?.hasTime).toBe(hasTime);
  });

  it('reads the same words in the customer\'s own zone', () => {
    expect(readTime('tomorrow at 10', now, 'Europe/Paris')?.at.toISOString()).toBe('2026-03-11T09:00:00.000Z');
    // Already Wednesday 00:00 in Tokyo: tomorrow is Thursday.
    expect(readTime('tomorrow at 10', now, 'Asia/Tokyo')?.at.toISOString()).toBe('2026-03-12T01:00:00.000Z');
  });

  it('reads "4pm" said after 4pm as the next day\'s', () => {
    const evening = new Date('2026-03-10T22:00:00Z'); // 18:00 in New York
    expect(readTime('4pm?', evening, 'America/New_York')?.at.toISOString()).toBe('2026-03-11T20:00:00.000Z');
  });

  it.each(['Thank you so much', 'Wo ist mein Paket?', 'running 10 mins late', 'stop texting me now', 'I have 2 kids'])('%j names no time', (text) => {
    expect(readTime(text, now, 'America/New_York')).toBeUndefined();
  });

  it('knows zone offsets with daylight saving', () => {
    expect(zoneOffsetMinutes('America/New_York', new Date('2026-01-10T12:00:00Z'))).toBe(-300);
    expect(zoneOffsetMinutes('America/New_York', now)).toBe(-240);
    expect(zoneOffsetMinutes('UTC', now)).toBe(0);
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('classifyIntent', () => {
  it.each([
    ['yes please', 'yes'],
    ['Yep 👍', 'yes'],
    ['ok see u then', 'yes'],
    ['👍', 'yes'],
    ['✅', 'yes'],
    ['❌', 'no'],
    ['yse', 'yes'],
    ['Sí', 'yes'],
    ['oui', 'yes'],
    ['nein danke', 'no'],
    ['no problem', 'yes'],
    ['not sure', 'other'],
    ['1', 'choice'],
    ['option 2', 'choice'],
    ['2️⃣', 'choice'],
    ['HELP', 'help'],
    ['START', 'opt_in'],
    ['cancel my appointment', 'cancel'],
    ['thanks 🙏', 'thanks'],
    ['Where is my order?', 'other'],
    ['', 'other'],
  ])('%j is %s', (text, name) => {
    expect(intent(text).name).toBe(name);
  });

  it('carries the menu number', () => {
    expect(intent('option 2').choice).toBe(2);
    expect(intent('5/5').choice).toBe(5);
    expect(intent('two').choice).toBe(2);
  });

  it('reads a reschedule with the proposed time against the injected clock and zone', () => {
    const r = intent('can we do 4pm instead?');
    expect(r.name).toBe('reschedule');
    expect(r.at?.toISOString()).toBe('2026-03-10T20:00:00.000Z');
    expect(r.hasTime).toBe(true);
    const paris = intent('tomorrow at 10', { timeZone: 'Europe/Paris' });
    expect(paris.name).toBe('reschedule');
    expect(paris.at?.toISOString()).toBe('2026-03-11T09:00:00.000Z');
    const noTime = intent('can we reschedule?');
    expect(noTime.name).toBe('reschedule');
    expect(noTime.at).toBeUndefined();
  });

  it('keeps the time of a plain confirmation', () => {
    const r = intent('Yes, see you tomorrow');
    expect(r.name).toBe('yes');
    expect(r.at).toBeDefined();
  });

  it('orders evidence: an exact word above a typo above a phrase in a long message', () => {
    expect(intent('yes').confidence).toBeGreaterThan(intent('yse').confidence);
    expect(intent('yes').confidence).toBeGreaterThan(intent('yes I think that should be fine for us then').confidence);
    expect(intent('STOP').confidence).toBe(1);
    expect(intent('stop it, that is annoying')).toMatchObject({ name: 'opt_out_unclear', confidence: 0.5 });
  });

  it('an opt-out always beats a yes or a time', () => {
    expect(intent('yes stop texting me').name).toBe('opt_out');
    expect(intent('stop texting me tomorrow at 10').name).toBe('opt_out');
  });
});
