/**
 * The inbox's segment counter (plain JavaScript, run in the browser) against the SMPP layer's own
 * planning (smpp/text): the same encoding and the same number of parts on a table of texts,
 * around every boundary (160/153 septets, 70/67 UCS-2 units, extension characters and surrogate
 * pairs at part edges).
 */
import { describe, expect, it } from 'vitest';
import { planSegments } from '../../../src/api/inbox/segments.js';
import { gsm7AlphabetModule } from '../../../src/api/inbox-files.ts';
import { GSM7_BASIC_CHARS, GSM7_EXTENSION_CHARS, chooseEncoding, countSegments } from '../../../src/smpp/text/index.ts';

const alphabet = { basic: GSM7_BASIC_CHARS.join(''), extension: GSM7_EXTENSION_CHARS.join('') };

const TEXTS: readonly [string, string][] = [
  ['empty', ''],
  ['one character', 'a'],
  ['plain', 'Your appointment is tomorrow at 10:00. Reply YES to confirm.'],
  ['160 septets', 'a'.repeat(160)],
  ['161 septets', 'a'.repeat(161)],
  ['306 septets', 'a'.repeat(306)],
  ['307 septets', 'a'.repeat(307)],
  ['159 + an extension character', `${'a'.repeat(159)}€`],
  ['158 + an extension character', `${'a'.repeat(158)}€`],
  ['an extension character across a part edge', `${'a'.repeat(152)}{${'a'.repeat(20)}`],
  ['all extension characters', '^{}\\[~]|€'.repeat(20)],
  ['GSM accents', 'Café à Zürich, ÆØÅ æøå ÑñÜü ß'],
  ['an emoji', 'Thanks! 👍'],
  ['70 UCS-2 units', 'ж'.repeat(70)],
  ['71 UCS-2 units', 'ж'.repeat(71)],
  ['134 UCS-2 units', 'ж'.repeat(134)],
  ['135 UCS-2 units', 'ж'.repeat(135)],
  ['a surrogate pair across a part edge', `${'ж'.repeat(66)}😀${'ж'.repeat(10)}`],
  ['emoji only', '😀'.repeat(40)],
  ['Greek capitals (in GSM)', 'ΔΦΓΛΩΠΨΣΘΞ'],
  ['Greek small letters (not in GSM)', 'αβγ'],
  ['a long mixed text', `${'Order 1234 confirmed. '.repeat(30)}ok`],
  ['a curly quote', 'It’s here'],
  ['newlines and form feed', 'line 1\nline 2\r\n\f'],
];

describe('the inbox segment counter agrees with smpp/text', () => {
  it.each(TEXTS)('%s', (_what, text) => {
    const plan = planSegments(text, alphabet);
    expect(plan.segments).toBe(countSegments(text, 'gsm7'));
    if (text !== '') expect(plan.encoding).toBe(chooseEncoding(text, 'gsm7').alphabet === 'gsm7' ? 'GSM-7' : 'UCS-2');
  });

  it('counts units and what is left in the part being written', () => {
    expect(planSegments('a'.repeat(150), alphabet)).toEqual({ encoding: 'GSM-7', units: 150, segments: 1, perSegment: 160, remaining: 10 });
    expect(planSegments('a'.repeat(161), alphabet)).toEqual({ encoding: 'GSM-7', units: 161, segments: 2, perSegment: 153, remaining: 145 });
    expect(planSegments('€', alphabet)).toMatchObject({ units: 2 });
    expect(planSegments('👍', alphabet)).toEqual({ encoding: 'UCS-2', units: 2, segments: 1, perSegment: 70, remaining: 68 });
  });

  it('the page gets the alphabet the SMPP layer encodes with', () => {
    const module = gsm7AlphabetModule();
    const basic = JSON.parse(/GSM7_BASIC = (".*");/.exec(module)![1]!) as string;
    const extension = JSON.parse(/GSM7_EXTENSION = (".*");/.exec(module)![1]!) as string;
    expect({ basic, extension }).toEqual(alphabet);
  });
});
