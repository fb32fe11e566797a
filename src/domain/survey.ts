/**
 * Surveys and polls an outbound message may declare (payload `survey`): questions asked one after
 * the other in the conversation, each answer validated, an invalid one asked again once, every
 * answer stored, and the figures (CSAT, distributions) in `parley report`.
 *
 * The message's own text asks the first question; each question's `text` is what is sent to ask
 * it (and to ask it again). A rating is a whole number from `min` to `max` (1 to 5 by default);
 * a choice is one of `options`, answered by its number or its words; a text question takes any
 * non-empty answer.
 */

export type SurveyQuestion =
  | { readonly kind: 'rating'; readonly text: string; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly text: string; readonly options: readonly string[] }
  | { readonly kind: 'text'; readonly text: string };

export interface Survey {
  /** What the report groups answers by. */
  readonly name: string;
  readonly questions: readonly SurveyQuestion[];
  /** Sent after the last answer; nothing when absent. */
  readonly done?: string;
}

const MAX_QUESTIONS = 20;
const MAX_OPTIONS = 20;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The survey of a payload, or the reason it is not one. */
export function parseSurvey(v: unknown): Survey | string {
  if (!isPlainObject(v)) return '"survey" must be an object';
  if (typeof v.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(v.name)) return '"survey.name" must be a name (letters, digits, _ . -, at most 64)';
  if (!Array.isArray(v.questions) || v.questions.length === 0 || v.questions.length > MAX_QUESTIONS) {
    return `"survey.questions" must be a list of 1 to ${MAX_QUESTIONS} questions`;
  }
  const questions: SurveyQuestion[] = [];
  for (const [i, q] of v.questions.entries()) {
    const at = `"survey.questions[${i}]`;
    if (!isPlainObject(q)) return `${at}" must be an object`;
    if (typeof q.text !== 'string' || q.text.trim() === '') return `${at}.text" must be the question's text`;
    if (q.kind === 'rating') {
      const min = q.min ?? 1;
      const max = q.max ?? 5;
      if (!Number.isInteger(min) || !Number.isInteger(max) || (min as number) < 0 || (max as number) > 10 || (min as number) >= (max as number)) {
        return `${at}" rating needs whole numbers 0 <= min < max <= 10`;
      }
      questions.push({ kind: 'rating', text: q.text, min: min as number, max: max as number });
    } else if (q.kind === 'choice') {
      if (!Array.isArray(q.options) || q.options.length < 2 || q.options.length > MAX_OPTIONS || !q.options.every((o) => typeof o === 'string' && o.trim() !== '')) {
        return `${at}.options" must list 2 to ${MAX_OPTIONS} non-empty options`;
      }
      questions.push({ kind: 'choice', text: q.text, options: q.options as string[] });
    } else if (q.kind === 'text') {
      questions.push({ kind: 'text', text: q.text });
    } else {
      return `${at}.kind" must be rating, choice or text`;
    }
  }
  if (v.done !== undefined && v.done !== null && typeof v.done !== 'string') return '"survey.done" must be a text';
  return { name: v.name, questions, ...(typeof v.done === 'string' && v.done !== '' ? { done: v.done } : {}) };
}
