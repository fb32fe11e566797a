/**
 * A customer's reply to a survey question: is it an answer, and what value does it carry? Then
 * what to send next: the next question, the question again (once), or the closing text.
 *
 * - rating: the menu number the intent reading found ("4", "5 stars", "4/5", "four"), else the
 *   only whole number in the reply within the scale ("I'd say 4, service was slow").
 * - choice: an option's number, or an option's words ("1", "option 2", "the bags").
 * - text: anything that is not empty.
 * An invalid answer gets the question again, once; a second invalid one is stored as invalid and
 * the survey moves on, so nobody is asked the same thing three times.
 */
import type { Survey, SurveyQuestion } from '../domain/survey.ts';
import type { Intent } from './intent/classify-intent.ts';
import { normaliseReply } from './intent/normalise.ts';
import { NUMBER_WORDS } from './intent/lexicon.ts';

export type ReadAnswer = { readonly valid: true; readonly value: number | null } | { readonly valid: false };

export function readSurveyAnswer(q: SurveyQuestion, text: string, intent: Intent): ReadAnswer {
  const reply = normaliseReply(text);
  switch (q.kind) {
    case 'text':
      return text.trim() === '' ? { valid: false } : { valid: true, value: null };
    case 'rating': {
      const inRange = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n >= q.min && n <= q.max;
      if (intent.name === 'choice' && inRange(intent.choice)) return { valid: true, value: intent.choice };
      const numbers = new Set(reply.tokens.map((t) => (/^\d{1,2}$/.test(t) ? Number(t) : NUMBER_WORDS[t])).filter(inRange));
      const [only] = numbers;
      return numbers.size === 1 && only !== undefined ? { valid: true, value: only } : { valid: false };
    }
    case 'choice': {
      const n = q.options.length;
      if (intent.name === 'choice' && intent.choice !== undefined && intent.choice >= 1 && intent.choice <= n) return { valid: true, value: intent.choice };
      const said = ` ${reply.text} `;
      const named = q.options
        .map((o, i) => ({ i, words: normaliseReply(o).text }))
        .filter((o) => o.words !== '' && said.includes(` ${o.words} `));
      return named.length === 1 ? { valid: true, value: named[0]!.i + 1 } : { valid: false };
    }
  }
}

export type SurveyStep =
  /** Ask `question` (the next one, or the same again when `reasked`). */
  | { readonly kind: 'ask'; readonly position: number; readonly reasked: boolean; readonly text: string }
  | { readonly kind: 'done'; readonly position: number; readonly text: string | undefined };

/** What follows an answer at `position`, given whether it was valid and whether it was asked again already. */
export function nextStep(survey: Survey, position: number, valid: boolean, alreadyReasked: boolean): SurveyStep {
  const question = survey.questions[position]!;
  if (!valid && !alreadyReasked) {
    return { kind: 'ask', position, reasked: true, text: `Sorry, that is not an answer we can read. ${question.text}` };
  }
  const next = position + 1;
  if (next >= survey.questions.length) return { kind: 'done', position: next, text: survey.done };
  return { kind: 'ask', position: next, reasked: false, text: survey.questions[next]!.text };
}
