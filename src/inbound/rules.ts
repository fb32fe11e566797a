/**
 * What a customer's reply should set off, once compliance has had its say (ARCHITECTURE.md
 * "Conversations"; issue 5, "Rules"). In order:
 *
 * 1. The replies the answered message said it expects (`replies` in its payload, README "The
 *    payload"). Keys match like keywords (`keyword.ts`: case, width, spacing and surrounding
 *    punctuation do not count), with the number's synonyms: "y" answers `YES` when the config says
 *    `YES: [Y, ...]`. A key the reply is exactly beats a key it is a synonym of, so with
 *    `{ YES, "1" }` expected and `YES: [..., 1]`, "1" answers "1".
 *    When the reply is none of the keys, its intent (given by the caller only when read with
 *    enough confidence, `intent/expected.ts`) picks the key that stands for the same meaning:
 *    "yes please" answers `YES`, "option 2" answers `2`. Keyword rules still come first.
 * 2. The number's keyword rules, in three passes, each in config order: a rule listing the reply as
 *    a keyword, then a rule listing a keyword the reply is a synonym of, then a rule whose pattern
 *    matches. A word is the most specific thing a reply can match, so a catch-all pattern placed
 *    first does not swallow the keywords of the rules after it.
 * 3. The number's policy for everything else: silent, a fixed answer, or hand to apps.
 *
 * Patterns are tested against the reply NFKC-normalised and trimmed of whitespace and invisible
 * format characters (so `\d` reads the full-width digits of an IME as digits and the groups carry
 * plain ones); case-insensitivity is the pattern's own `i` flag, set from config. Patterns run on
 * RE2 (`lib/linear-pattern.ts`), never on V8's backtracking engine. Trailing
 * punctuation is not stripped for patterns: a pattern that should accept "ORDER 1234." says so. A
 * reply that is empty or only whitespace matches nothing but the unmatched policy.
 *
 * Pure: the actions are returned, not run; templates in them are rendered by whoever runs them.
 */
import type { ExpectedReplyAction } from '../domain/message.ts';
import type { RuleAction } from '../domain/rule-action.ts';
import type { LinearPattern } from '../lib/linear-pattern.ts';
import { indexKeywords, normaliseKeyword, trimEdges } from './keyword.ts';
import { keyForMeaning, type ReplyMeaning } from './intent/expected.ts';

export interface KeywordRule {
  readonly name: string;
  /** The keyword and its synonyms, matched like compliance keywords. */
  readonly keywords?: readonly string[];
  /**
   * Tested against the trimmed reply; named groups become `groups` for templates. A linear-time
   * (RE2) pattern: no reply, however crafted, can make matching it stall the daemon.
   */
  readonly pattern?: LinearPattern;
  readonly actions: readonly RuleAction[];
}

/** The `replies` of the message being answered: key -> what to do. */
export type ExpectedReplies = Readonly<Record<string, ExpectedReplyAction>>;

export type Unmatched =
  | { readonly kind: 'silent' }
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'hand_to_apps' };

export type RuleMatch =
  /** `keyword`: the expected key as the message spelled it. */
  | { readonly kind: 'expected_reply'; readonly keyword: string; readonly actions: RuleAction[] }
  /** `keyword`: the rule's keyword as configured, absent when its pattern matched. */
  | {
      readonly kind: 'keyword';
      readonly rule: string;
      readonly keyword?: string;
      readonly groups: Record<string, string>;
      readonly actions: RuleAction[];
    }
  | { readonly kind: 'none'; readonly actions: RuleAction[] };

export interface MatchReplyInput {
  readonly expected?: ExpectedReplies;
  /** Per keyword, the words that mean the same: `{ YES: ['Y', 'YEP', 'OK', 'CONFIRM', '1'] }`. */
  readonly synonyms?: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly KeywordRule[];
  readonly unmatched: Unmatched;
  /** The reply's intent, when confident enough to answer an expected reply by meaning. */
  readonly intent?: ReplyMeaning;
}

export function matchReply(text: string, input: MatchReplyInput): RuleMatch {
  const trimmed = trimEdges(text.normalize('NFKC'), EDGE_SPACE);
  const key = normaliseKeyword(trimmed);
  const match =
    (key === '' ? undefined : (matchExpected(key, input) ?? matchRuleKeyword(key, input))) ??
    matchExpectedByIntent(input) ??
    (trimmed === '' ? undefined : matchPattern(trimmed, input.rules));
  return match ?? { kind: 'none', actions: unmatchedActions(input.unmatched) };
}

/** Whitespace or an invisible format character (zero-width space, BOM, bidi marks): trimmed from the ends. */
const EDGE_SPACE = /^[\s\p{Cf}]$/u;

function matchExpected(key: string, input: MatchReplyInput): RuleMatch | undefined {
  if (input.expected === undefined) return undefined;
  const entries = Object.entries(input.expected);
  const found =
    entries.find(([name]) => normaliseKeyword(name) === key) ??
    entries.find(([name]) => synonymsOf(normaliseKeyword(name), input.synonyms).has(key));
  if (found === undefined) return undefined;
  return expectedMatch(found);
}

function matchExpectedByIntent(input: MatchReplyInput): RuleMatch | undefined {
  if (input.expected === undefined || input.intent === undefined) return undefined;
  const key = keyForMeaning(Object.keys(input.expected), input.intent);
  return key === undefined ? undefined : expectedMatch([key, input.expected[key]!]);
}

function expectedMatch([keyword, { reply, webhook }]: [string, ExpectedReplyAction]): RuleMatch {
  const actions: RuleAction[] =
    webhook !== undefined
      ? [reply !== undefined ? { kind: 'webhook', webhook, fallback: reply } : { kind: 'webhook', webhook }]
      : reply !== undefined
        ? [{ kind: 'reply', text: reply }]
        : [];
  return { kind: 'expected_reply', keyword, actions };
}

function matchRuleKeyword(key: string, input: MatchReplyInput): RuleMatch | undefined {
  for (const rule of input.rules) {
    const keyword = indexKeywords(rule.keywords ?? []).get(key);
    if (keyword !== undefined) return keywordMatch(rule, keyword, {});
  }
  if (input.synonyms === undefined) return undefined;
  for (const rule of input.rules) {
    for (const [normalised, keyword] of indexKeywords(rule.keywords ?? [])) {
      if (synonymsOf(normalised, input.synonyms).has(key)) return keywordMatch(rule, keyword, {});
    }
  }
  return undefined;
}

function matchPattern(trimmed: string, rules: readonly KeywordRule[]): RuleMatch | undefined {
  for (const rule of rules) {
    if (rule.pattern === undefined) continue;
    const m = rule.pattern.exec(trimmed);
    if (m === null) continue;
    return keywordMatch(rule, undefined, { ...m.groups });
  }
  return undefined;
}

function keywordMatch(rule: KeywordRule, keyword: string | undefined, groups: Record<string, string>): RuleMatch {
  const actions = [...rule.actions];
  return keyword === undefined
    ? { kind: 'keyword', rule: rule.name, groups, actions }
    : { kind: 'keyword', rule: rule.name, keyword, groups, actions };
}

function unmatchedActions(unmatched: Unmatched): RuleAction[] {
  switch (unmatched.kind) {
    case 'silent':
      return [];
    case 'reply':
      return [{ kind: 'reply', text: unmatched.text }];
    case 'hand_to_apps':
      return [{ kind: 'hand_to_apps' }];
  }
}

const NO_SYNONYMS: ReadonlySet<string> = new Set();

/**
 * The normalised synonyms of a normalised keyword. The config's map is indexed once per object
 * (like keyword lists, it is treated as immutable); its keys match like keywords too.
 */
function synonymsOf(key: string, synonyms: MatchReplyInput['synonyms']): ReadonlySet<string> {
  if (synonyms === undefined) return NO_SYNONYMS;
  let index = synonymIndexes.get(synonyms);
  if (index === undefined) {
    index = new Map();
    for (const [name, words] of Object.entries(synonyms)) {
      const k = normaliseKeyword(name);
      const set = index.get(k) ?? new Set<string>();
      for (const word of words) {
        const w = normaliseKeyword(word);
        if (w !== '') set.add(w);
      }
      index.set(k, set);
    }
    synonymIndexes.set(synonyms, index);
  }
  return index.get(key) ?? NO_SYNONYMS;
}

const synonymIndexes = new WeakMap<object, Map<string, Set<string>>>();
