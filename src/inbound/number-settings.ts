/**
 * A number's inbound settings, as the steps use them: compliance keywords and confirmations,
 * synonyms, keyword rules with their patterns compiled, the unmatched policy and intents.
 */
import type { IntentsConfig, NumberConfig } from '../config/types.ts';
import { helpReplyOf } from '../config/warnings.ts';
import type { RuleAction } from '../domain/rule-action.ts';
import { LinearPattern } from '../lib/linear-pattern.ts';
import { DEFAULT_COMPLIANCE, type ComplianceSettings } from './compliance.ts';
import type { KeywordRule, Unmatched } from './rules.ts';

export interface NumberSettings {
  readonly compliance: ComplianceSettings;
  readonly synonyms: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly KeywordRule[];
  readonly unmatched: Unmatched;
  readonly intents: IntentsConfig;
}

/** For a reply to a number the config does not list: compliance only, everything else to the apps. */
export const DEFAULT_SETTINGS: NumberSettings = {
  compliance: DEFAULT_COMPLIANCE,
  synonyms: {},
  rules: [],
  unmatched: { kind: 'hand_to_apps' },
  intents: { threshold: 0.6, timeZone: 'UTC' },
};

export function settingsOf(n: NumberConfig): NumberSettings {
  const c = n.compliance;
  return {
    compliance: {
      ...DEFAULT_COMPLIANCE,
      scope: c.scope,
      optOut: c.optOut ?? DEFAULT_COMPLIANCE.optOut,
      optIn: c.optIn ?? DEFAULT_COMPLIANCE.optIn,
      help: c.help ?? DEFAULT_COMPLIANCE.help,
      optOutReply: c.optOutReply ?? DEFAULT_COMPLIANCE.optOutReply,
      optInReply: c.optInReply ?? DEFAULT_COMPLIANCE.optInReply,
      helpReply: helpReplyOf(n),
    },
    synonyms: n.synonyms,
    rules: n.rules.map((r) => ({
      name: r.name,
      keywords: r.keywords,
      pattern: r.pattern === undefined ? undefined : LinearPattern.compile(r.pattern, 'i'),
      actions: r.actions as readonly RuleAction[],
    })),
    unmatched: n.unmatched,
    intents: n.intents,
  };
}
