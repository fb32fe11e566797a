/**
 * The virtual handset's script used by `parley demo` and `parley smsc-sim --handset`: the customer
 * confirms an appointment reminder and thanks for a results notice. Kept here, next to the demo's
 * messages, so the two stay in step.
 */
import type { HandsetOptions } from '../simulator/index.ts';

export const DEMO_REMINDER_TEXT = 'Hi Sam, your appointment is tomorrow at 10:00. Reply YES to confirm or NO to cancel.';

/** 189 UTF-16 units in Latin, Chinese, Cyrillic and Devanagari script with emoji: UCS-2 in 3 parts. */
export const DEMO_UNICODE_TEXT =
  'Hi Sam 👋 your test results are ready. Vos résultats sont prêts. 您的检查结果已经出来了。Ваши результаты готовы. ' +
  'नतीजे तैयार हैं। Open the clinic app to read them, or reply CALL and we will ring you 📞';

export const HANDSET_CONFIRM_REPLY = 'YES';
export const HANDSET_THANKS_REPLY = 'Спасибо! Thanks 👍';

/** Answers "Reply YES" with YES and a results notice with thanks, each after a short pause. */
export function demoHandset(defaultReply?: string): HandsetOptions {
  return {
    rules: [
      { match: /reply yes/i, reply: HANDSET_CONFIRM_REPLY, delayMs: 600 },
      { match: /results/i, reply: HANDSET_THANKS_REPLY, delayMs: 900 },
    ],
    ...(defaultReply === undefined ? {} : { default: defaultReply }),
  };
}
