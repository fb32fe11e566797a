/**
 * What a valid configuration may still get wrong: things carriers or the law ask for that Parley
 * cannot enforce, reported by `parley check-config` and logged at start-up, never refused.
 *
 * The HELP answer (CTIA Messaging Principles and Best Practices, 5.1.4; carriers' short-code
 * handbooks): it must say who is texting (the brand), how to reach them (a phone number, an
 * e-mail or a web address) and how to stop (an opt-out keyword).
 */
import type { NumberConfig, ParleyConfig } from './types.ts';

export interface ConfigWarning {
  /** The key path, as in validation errors: `numbers[0].compliance.help_reply`. */
  readonly path: string;
  readonly message: string;
}

/** Used when a number sets no help_reply (the same text as the compliance default). */
export const STANDARD_HELP_REPLY = 'Reply STOP to unsubscribe, START to resubscribe.';

const PHONE = /\+?\d[\d\s().-]{6,}\d/;
const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const WEB = /\b(?:https?:\/\/|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|us|ca|uk|de|fr|es|eu|app|info|biz|example)\b/i;

/** The HELP text a number answers with: its own, the one built from brand and contact, or the standard one. */
export function helpReplyOf(n: NumberConfig): string {
  const c = n.compliance;
  if (c.helpReply !== undefined) return c.helpReply;
  if (c.brand !== undefined && c.contact !== undefined) return `${c.brand}: help at ${c.contact}. Reply STOP to unsubscribe.`;
  return STANDARD_HELP_REPLY;
}

export function configWarnings(config: ParleyConfig): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  config.numbers.forEach((n, i) => {
    const path = `numbers[${i}].compliance.help_reply`;
    const text = helpReplyOf(n);
    if (text.trim() === '') {
      warnings.push({ path, message: 'is empty: HELP and INFO get no answer, and carriers require one (brand, contact, how to stop)' });
      return;
    }
    const brand = n.compliance.brand;
    if (brand === undefined) {
      warnings.push({ path: `numbers[${i}].compliance.brand`, message: 'is not set: carriers require the HELP answer to name who is texting' });
    } else if (!text.toLowerCase().includes(brand.toLowerCase())) {
      warnings.push({ path, message: `does not name the brand (${brand}): carriers require the HELP answer to say who is texting` });
    }
    if (!PHONE.test(text) && !EMAIL.test(text) && !WEB.test(text)) {
      warnings.push({ path, message: 'has no contact (phone number, e-mail or web address): carriers require one in the HELP answer' });
    }
    const stopWords = n.compliance.optOut ?? ['STOP'];
    const upper = text.toUpperCase();
    if (!stopWords.some((w) => new RegExp(`(?:^|[^\\p{L}])${escape(w.toUpperCase())}(?:$|[^\\p{L}])`, 'u').test(upper))) {
      warnings.push({ path, message: 'does not say how to stop (an opt-out keyword such as STOP): carriers require it in the HELP answer' });
    }
  });
  return warnings;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
