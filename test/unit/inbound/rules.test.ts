import { describe, expect, it } from 'vitest';
import {
  matchReply,
  type ExpectedReplies,
  type KeywordRule,
  type MatchReplyInput,
  type RuleMatch,
  type Unmatched,
} from '../../../src/inbound/rules.ts';
import type { RuleAction } from '../../../src/domain/rule-action.ts';
import { LinearPattern } from '../../../src/lib/linear-pattern.ts';

const re = (source: string, flags = ''): LinearPattern => LinearPattern.compile(source, flags);

const synonyms = { YES: ['Y', 'YEP', 'OK', 'CONFIRM', '1'], no: ['n', 'nope', '2'] };

const expected: ExpectedReplies = {
  YES: { reply: 'See you then!' },
  No: { reply: 'Reply with a time that suits you.', webhook: 'reschedule' },
  LATER: { webhook: 'reschedule' },
  MAYBE: {},
};

const reply = (text: string): RuleAction => ({ kind: 'reply', text });
const HOURS = [reply('Open 9-5.')];
const YES_WHAT = [reply('Yes to what?')];
const TRACKING = [reply('Tracking.')];

const rules: readonly KeywordRule[] = [
  { name: 'hours', keywords: ['HOURS', 'OPEN', 'opening times'], actions: HOURS },
  { name: 'yes-standing', keywords: ['YES'], actions: YES_WHAT },
  {
    name: 'order',
    pattern: re(String.raw`^ORDER\s+(?<order>\d+)(?:\s+(?<note>.+))?$`, 'i'),
    actions: [{ kind: 'webhook', webhook: 'orders', fallback: 'Order {{ groups.order }}: try again later.' }],
  },
  { name: 'menu', keywords: ['1', '2'], actions: [{ kind: 'set_state', state: 'menu' }, { kind: 'hand_to_apps' }] },
  { name: 'pattern-and-keyword', keywords: ['TRACK'], pattern: re(String.raw`^TRACK\s+(?<parcel>\w+)$`, 'i'), actions: TRACKING },
];

const unmatched: Unmatched = { kind: 'hand_to_apps' };
const NONE: RuleMatch = { kind: 'none', actions: [{ kind: 'hand_to_apps' }] };
const SEE_YOU: RuleMatch = { kind: 'expected_reply', keyword: 'YES', actions: [reply('See you then!')] };
const keywordMatch = (rule: string, keyword: string, actions: RuleAction[]): RuleMatch => ({
  kind: 'keyword',
  rule,
  keyword,
  groups: {},
  actions,
});

function match(text: string, input: Partial<MatchReplyInput> = {}): RuleMatch {
  return matchReply(text, { expected, synonyms, rules, unmatched, ...input });
}

describe('matchReply: expected replies', () => {
  const table: [string, string, Partial<MatchReplyInput>, RuleMatch][] = [
    ['exact key', 'YES', {}, SEE_YOU],
    ['case and punctuation do not count', ' yes! ', {}, SEE_YOU],
    ['full-width', 'ｙｅｓ', {}, SEE_YOU],
    ['a synonym from config', 'y', {}, SEE_YOU],
    ['another synonym', 'Confirm.', {}, SEE_YOU],
    ['a digit synonym', '1', {}, SEE_YOU],
    [
      'key spelled in mixed case, synonyms keyed in lower case',
      'nope',
      {},
      {
        kind: 'expected_reply',
        keyword: 'No',
        actions: [{ kind: 'webhook', webhook: 'reschedule', fallback: 'Reply with a time that suits you.' }],
      },
    ],
    [
      'webhook without a fallback',
      'later',
      {},
      { kind: 'expected_reply', keyword: 'LATER', actions: [{ kind: 'webhook', webhook: 'reschedule' }] },
    ],
    ['neither reply nor webhook: matched, nothing to do', 'maybe', {}, { kind: 'expected_reply', keyword: 'MAYBE', actions: [] }],
    ['a synonym is not a synonym without the config', 'y', { synonyms: undefined }, NONE],
    ['takes precedence over a keyword rule with the same word', 'yes', {}, SEE_YOU],
    [
      'takes precedence over a keyword rule through a synonym',
      '2',
      {},
      {
        kind: 'expected_reply',
        keyword: 'No',
        actions: [{ kind: 'webhook', webhook: 'reschedule', fallback: 'Reply with a time that suits you.' }],
      },
    ],
    [
      'an exact key beats a key the reply is a synonym of',
      '1',
      { expected: { YES: { reply: 'yes' }, '1': { reply: 'one' } } },
      { kind: 'expected_reply', keyword: '1', actions: [reply('one')] },
    ],
    ['without expected replies the rules decide', 'yes', { expected: undefined }, keywordMatch('yes-standing', 'YES', YES_WHAT)],
    ['other words are not the expected reply', 'yes please', { rules: [] }, NONE],
  ];
  it.each(table)('%s', (_name, text, input, result) => {
    expect(match(text, input)).toEqual(result);
  });
});

describe('matchReply: keyword rules', () => {
  const noExpected = { expected: undefined };
  const table: [string, string, Partial<MatchReplyInput>, RuleMatch][] = [
    ['a keyword', 'hours', noExpected, keywordMatch('hours', 'HOURS', HOURS)],
    ['a rule synonym', 'Open!', noExpected, keywordMatch('hours', 'OPEN', HOURS)],
    ['a multi-word keyword, spacing does not count', 'Opening   times?', noExpected, keywordMatch('hours', 'opening times', HOURS)],
    ['a synonym from config for a rule keyword', 'yep', noExpected, keywordMatch('yes-standing', 'YES', YES_WHAT)],
    [
      'keyword "1" is the rule listing it, not the rule it is a synonym of',
      '1',
      noExpected,
      {
        kind: 'keyword',
        rule: 'menu',
        keyword: '1',
        groups: {},
        actions: [{ kind: 'set_state', state: 'menu' }, { kind: 'hand_to_apps' }],
      },
    ],
    [
      'keyword "2"',
      ' 2. ',
      noExpected,
      {
        kind: 'keyword',
        rule: 'menu',
        keyword: '2',
        groups: {},
        actions: [{ kind: 'set_state', state: 'menu' }, { kind: 'hand_to_apps' }],
      },
    ],
    [
      'a regex with named groups',
      'order 1234',
      noExpected,
      {
        kind: 'keyword',
        rule: 'order',
        groups: { order: '1234' },
        actions: [{ kind: 'webhook', webhook: 'orders', fallback: 'Order {{ groups.order }}: try again later.' }],
      },
    ],
    [
      'an optional group that took part',
      '  ORDER 77 leave at the door ',
      noExpected,
      {
        kind: 'keyword',
        rule: 'order',
        groups: { order: '77', note: 'leave at the door' },
        actions: [{ kind: 'webhook', webhook: 'orders', fallback: 'Order {{ groups.order }}: try again later.' }],
      },
    ],
    [
      'full-width digits reach the pattern as plain digits',
      'ＯＲＤＥＲ　１２３４',
      noExpected,
      {
        kind: 'keyword',
        rule: 'order',
        groups: { order: '1234' },
        actions: [{ kind: 'webhook', webhook: 'orders', fallback: 'Order {{ groups.order }}: try again later.' }],
      },
    ],
    ['a pattern does not ignore trailing punctuation', 'order 1234.', noExpected, NONE],
    ['a pattern is anchored by itself only', 'my order 1234', noExpected, NONE],
    ['a rule with keywords and a pattern: the keyword', 'track', noExpected, keywordMatch('pattern-and-keyword', 'TRACK', TRACKING)],
    [
      'a rule with keywords and a pattern: the pattern',
      'track AB12',
      noExpected,
      { kind: 'keyword', rule: 'pattern-and-keyword', groups: { parcel: 'AB12' }, actions: TRACKING },
    ],
    ['a keyword inside a longer reply is not a keyword', 'what are your hours', noExpected, NONE],
  ];
  it.each(table)('%s', (_name, text, input, result) => {
    expect(match(text, input)).toEqual(result);
  });

  it('a keyword beats an earlier catch-all pattern; the pattern takes the rest', () => {
    const catchAll: KeywordRule = { name: 'anything', pattern: re(String.raw`^(?<text>.+)$`, 's'), actions: [{ kind: 'hand_to_apps' }] };
    const withCatchAll = [catchAll, ...rules];
    expect(match('hours', { expected: undefined, rules: withCatchAll })).toMatchObject({ kind: 'keyword', rule: 'hours' });
    expect(match('hello\nthere', { expected: undefined, rules: withCatchAll })).toEqual({
      kind: 'keyword',
      rule: 'anything',
      groups: { text: 'hello\nthere' },
      actions: [{ kind: 'hand_to_apps' }],
    });
  });

  it('an exact keyword of a later rule beats a synonym of an earlier one', () => {
    const ok: KeywordRule = { name: 'ok', keywords: ['OK'], actions: [] };
    const input = { expected: undefined, synonyms: { YES: ['OK'] }, rules: [rules[1]!, ok] };
    expect(match('ok', input)).toMatchObject({ kind: 'keyword', rule: 'ok', keyword: 'OK' });
    expect(match('yes', input)).toMatchObject({ kind: 'keyword', rule: 'yes-standing', keyword: 'YES' });
  });

  it('rules are tried in config order', () => {
    const twice: KeywordRule[] = [
      { name: 'first', keywords: ['HI'], actions: [] },
      { name: 'second', keywords: ['hi'], actions: [] },
    ];
    expect(match('hi', { expected: undefined, rules: twice })).toMatchObject({ rule: 'first' });
  });

  it('a case-sensitive pattern stays case-sensitive', () => {
    const strict: KeywordRule[] = [{ name: 'code', pattern: re(String.raw`^CODE (?<code>[A-Z]+)$`), actions: [] }];
    expect(match('CODE AB', { expected: undefined, rules: strict })).toMatchObject({ rule: 'code', groups: { code: 'AB' } });
    expect(match('code ab', { expected: undefined, rules: strict })).toMatchObject({ kind: 'none' });
  });

  it('a pattern matches every reply the same way (no state between matches)', () => {
    const g: KeywordRule[] = [{ name: 'g', pattern: re('^ORDER (?<n>\\d+)$', 'gi'), actions: [] }];
    for (let i = 0; i < 3; i++) {
      expect(match('order 5', { expected: undefined, rules: g })).toMatchObject({ rule: 'g', groups: { n: '5' } });
    }
  });

  it('a catastrophic-for-backtracking pattern answers a long reply at once, with its groups', () => {
    // `^(\w+\s?)*$` backtracks exponentially on V8; RE2 reads the text once.
    const runaway: KeywordRule[] = [{ name: 'runaway', pattern: re(String.raw`^(?<words>(\w+\s?)*)$`), actions: [] }];
    expect(match(`${'a'.repeat(10_000)}!`, { expected: undefined, rules: runaway })).toMatchObject({ kind: 'none' });
    expect(match('ab cd ef', { expected: undefined, rules: runaway })).toMatchObject({ rule: 'runaway', groups: { words: 'ab cd ef' } });
  });

  it('long inner runs of spaces or punctuation are trimmed from the ends only (scanned, not backtracked)', () => {
    const words: KeywordRule[] = [{ name: 'words', pattern: re(String.raw`^(?<first>\w+)\s+(?<last>\w+)$`), actions: [] }];
    expect(match(`  x${' '.repeat(9_998)}y \u200b`, { expected: undefined, rules: words })).toMatchObject({ rule: 'words', groups: { first: 'x', last: 'y' } });
    expect(match(`x${'!'.repeat(9_998)}x`, { expected: undefined, rules: [] })).toEqual(NONE);
    expect(match(`!!!${' '.repeat(5_000)}hours${'!'.repeat(5_000)}`, { expected: undefined })).toMatchObject({ kind: 'keyword', rule: 'hours' });
  });

  it('returns a copy of the actions, not the config', () => {
    const m = match('hours', { expected: undefined });
    expect(m.actions).not.toBe(rules[0]!.actions);
  });
});

describe('matchReply: unmatched', () => {
  const table: [Unmatched, RuleAction[]][] = [
    [{ kind: 'silent' }, []],
    [{ kind: 'reply', text: 'Sorry, we did not understand.' }, [reply('Sorry, we did not understand.')]],
    [{ kind: 'hand_to_apps' }, [{ kind: 'hand_to_apps' }]],
  ];
  it.each(table)('%j', (policy, actions) => {
    expect(match('what is this about?', { unmatched: policy })).toEqual({ kind: 'none', actions });
  });

  it.each(['', '   ', '\n\t', '\u200b'])('empty or whitespace text %j is unmatched, even by a catch-all', (text) => {
    const catchAll: KeywordRule[] = [{ name: 'anything', pattern: re(String.raw`^.*$`), actions: [] }];
    const expectedEmpty = { '': { reply: 'never' }, '?': { reply: 'never' } };
    const empty = { expected: expectedEmpty, rules: catchAll, unmatched: { kind: 'silent' } as const };
    expect(match(text, empty)).toEqual({ kind: 'none', actions: [] });
  });

  it('punctuation alone is no keyword but can match a pattern', () => {
    const input = {
      expected: { '?': { reply: 'never' } },
      rules: [{ name: 'question', keywords: ['?'], pattern: re(String.raw`^\?+$`), actions: [reply('Reply HELP.')] }],
    };
    expect(match('??', input)).toEqual({ kind: 'keyword', rule: 'question', groups: {}, actions: [reply('Reply HELP.')] });
  });

  it('no rules, no expected replies', () => {
    expect(matchReply('YES', { rules: [], unmatched: { kind: 'silent' } })).toEqual({ kind: 'none', actions: [] });
  });
});
