/**
 * The pluggable NLU: a configured webhook (signed like every webhook) gets the inbound event of a
 * reply the built-in reading did not recognise, or read with too little confidence, and answers
 * 2xx with `{ "intent": "yes", "confidence": 0.8 }`, optionally `"choice": 2` or
 * `"at": "2026-03-11T10:00:00Z"`. Intent names are the apps' own; Parley acts on the ones it knows
 * (yes, no, choice, reschedule, ...) and passes the others on in the event.
 * An empty answer means "no idea". Anything malformed is a failure the caller logs; the reply is
 * then handled on the built-in reading.
 */
import { postWebhook, type WebhookTarget } from '../../webhooks/post.ts';
import type { MessageInboundEvent } from '../../domain/events.ts';

export interface NluIntent {
  readonly name: string;
  readonly confidence: number;
  readonly choice?: number;
  readonly at?: Date;
}

export type NluAnswer =
  | { readonly ok: true; readonly intent: NluIntent | undefined; readonly seconds: number }
  | { readonly ok: false; readonly error: string; readonly seconds: number };

export async function askNlu(target: WebhookTarget, event: MessageInboundEvent): Promise<NluAnswer> {
  const started = performance.now();
  const result = await postWebhook(target, event);
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) return { ok: false, error: result.error, seconds };
  if (result.body.trim() === '') return { ok: true, intent: undefined, seconds };
  const read = readNluAnswer(result.body);
  return typeof read === 'string' ? { ok: false, error: read, seconds } : { ok: true, intent: read, seconds };
}

/** The intent in an NLU answer, or the reason it is not one. */
export function readNluAnswer(body: string): NluIntent | undefined | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the answer is not a JSON object';
  const a = parsed as Record<string, unknown>;
  if (a.intent === undefined || a.intent === null || a.intent === '') return undefined;
  if (typeof a.intent !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/i.test(a.intent)) return '"intent" is not a name (letters, digits, _ . -, at most 64)';
  if (typeof a.confidence !== 'number' || !(a.confidence >= 0 && a.confidence <= 1)) return '"confidence" is not a number from 0 to 1';
  if (a.choice !== undefined && (typeof a.choice !== 'number' || !Number.isInteger(a.choice))) return '"choice" is not an integer';
  let at: Date | undefined;
  if (a.at !== undefined) {
    at = typeof a.at === 'string' ? new Date(a.at) : undefined;
    if (at === undefined || Number.isNaN(at.getTime())) return '"at" is not an ISO 8601 time';
  }
  return {
    name: a.intent,
    confidence: a.confidence,
    ...(typeof a.choice === 'number' ? { choice: a.choice } : {}),
    ...(at !== undefined ? { at } : {}),
  };
}
