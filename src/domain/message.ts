/**
 * An outbound message as an app submits it on the stream (README "The payload"), validated.
 * Validation is pure: what needs config (routes) or storage (opt-outs) happens in the flow.
 */
import { normaliseNumber, normaliseSender } from './address.ts';
import { toStorableJson, toStorableText, type JsonLimits } from './storable-text.ts';
import { parseSurvey, type Survey } from './survey.ts';
import { parseCampaign, type Campaign } from './campaign.ts';
import { ENDS_WITH_ZONE, ISO_WITH_OFFSET, MAX_ID, MAX_TEXT_CHARS, MAX_VALIDITY_SECONDS, PAYLOAD_FIELDS } from './json-schema.ts';

export type Priority = 0 | 1 | 2 | 3;

export interface ExpectedReplyAction {
  readonly reply?: string;
  readonly webhook?: string;
}

export interface OutboundMessage {
  /** Parley's message id: the app's idempotency key, or one generated at intake. */
  readonly id: string;
  readonly to: string;
  readonly from?: string;
  readonly text: string;
  readonly route?: string;
  readonly dlr: boolean;
  readonly validitySeconds?: number;
  /** Not to be sent after this time: still queued then, it becomes expired (payload `expires_at`). */
  readonly expiresAt?: Date;
  readonly priority: Priority;
  readonly conversation?: { readonly ttlSeconds?: number; readonly tags: Readonly<Record<string, unknown>> };
  readonly replies?: Readonly<Record<string, ExpectedReplyAction>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Not before this instant (payload `send_at`); absent means now. */
  readonly sendAt?: Date;
  /** The recipient's time zone (payload `time_zone`, an IANA name), for quiet hours. */
  readonly timeZone?: string;
  /** Questions asked in the conversation this message starts (`survey.ts`). */
  readonly survey?: Survey;
  /** The A/B campaign and the variant this recipient got (`campaign.ts`); `text` is the variant's. */
  readonly campaign?: Campaign;
}

export type PayloadProblem =
  | 'invalid_json'
  | 'invalid_id'
  | 'invalid_to'
  | 'invalid_from'
  | 'empty_text'
  | 'invalid_text'
  | 'invalid_route'
  | 'invalid_dlr'
  | 'invalid_validity'
  | 'invalid_expires_at'
  | 'invalid_priority'
  | 'invalid_conversation'
  | 'invalid_replies'
  | 'invalid_metadata'
  | 'metadata_too_deep'
  | 'metadata_too_large'
  | 'invalid_send_at'
  | 'invalid_time_zone'
  | 'invalid_survey'
  | 'invalid_campaign';

/** One thing wrong with a payload. */
export interface PayloadIssue {
  readonly code: PayloadProblem;
  readonly reason: string;
}

export type ParsedPayload =
  | {
      readonly ok: true;
      readonly message: OutboundMessage;
      /** NUL and lone surrogates replaced by U+FFFD (domain/storable-text.ts); keep the payload when > 0. */
      readonly replaced: number;
      /** Fields Parley does not know, ignored (a typo such as "txt", or a newer app's field). */
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      /** The first problem's code (the dead letter's code and metric label). */
      readonly code: PayloadProblem;
      /** Every problem's reason, joined: an app fixes them all in one go. */
      readonly reason: string;
      readonly problems: readonly PayloadIssue[];
      /** The app's id when the payload had a usable one: its dead-letter status event carries it. */
      readonly id?: string;
    };

// The field list, limits and patterns are the JSON Schema's (`parley schema payload`): one definition.
export { PAYLOAD_FIELDS } from './json-schema.ts';

function knownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Limits on what an app's opaque JSON (`metadata`, `conversation.tags`) may be: it is copied into every event. */
export interface PayloadLimits {
  readonly metadata: JsonLimits;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { metadata: { maxBytes: 8192, maxDepth: 32 } };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses the `payload` field of an outbound stream entry. `newId` supplies an id when the app gave
 * none. Every problem is reported at once. Unknown fields are ignored (so older daemons accept
 * entries from newer apps) and named in `warnings`.
 */
export function parseOutboundPayload(raw: string | undefined, newId: () => string, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): ParsedPayload {
  const fail = (problems: PayloadIssue[], id?: string): ParsedPayload => ({
    ok: false,
    code: problems[0]!.code,
    reason: problems.map((p) => p.reason).join('; '),
    problems,
    ...(id === undefined ? {} : { id }),
  });
  let replaced = 0;
  const storable = (text: string): string => {
    const r = toStorableText(text);
    replaced += r.replaced;
    return r.text;
  };
  if (raw === undefined) return fail([{ code: 'invalid_json', reason: 'the entry has no "payload" field' }]);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    // V8's message quotes the payload, and with it the customer's text: only the position is kept.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return fail([{ code: 'invalid_json', reason: `payload is not valid JSON${position === undefined ? '' : ` (at character ${position})`}` }]);
  }
  if (!isPlainObject(v)) return fail([{ code: 'invalid_json', reason: 'payload must be a JSON object' }]);

  const problems: PayloadIssue[] = [];
  const bad = (code: PayloadProblem, reason: string): undefined => {
    problems.push({ code, reason });
    return undefined;
  };

  let id: string | undefined;
  if (v.id === undefined || v.id === null) id = undefined;
  else if (typeof v.id !== 'string' || v.id.length === 0 || v.id.length > MAX_ID) bad('invalid_id', `"id" must be a non-empty string of at most ${MAX_ID} characters`);
  // An idempotency key is matched exactly: one that would have to be altered to be stored is refused.
  else if (toStorableText(v.id).replaced > 0) bad('invalid_id', '"id" must not contain NUL (U+0000) or unpaired UTF-16 surrogates');
  else id = v.id;

  let to: string | undefined;
  if (typeof v.to !== 'string') bad('invalid_to', '"to" is required: an E.164 number or digits');
  else {
    to = normaliseNumber(v.to);
    // The number itself stays out of the reason: reasons are logged, and a number is personal data.
    if (to === undefined) bad('invalid_to', '"to" is not an E.164 number or 3-20 digits');
  }

  let from: string | undefined;
  if (v.from !== undefined && v.from !== null) {
    from = typeof v.from === 'string' ? normaliseSender(v.from) : undefined;
    if (from === undefined) bad('invalid_from', '"from" must be a number or an alphanumeric sender id of at most 11 characters');
  }

  // A campaign's variants carry the text: the recipient's variant is the message's text.
  let campaign: Campaign | undefined;
  if (v.campaign !== undefined && v.campaign !== null && to !== undefined) {
    const c = parseCampaign(v.campaign, to);
    if (typeof c === 'string') bad('invalid_campaign', c);
    else {
      campaign = c.campaign;
      v.text = c.text;
    }
  }

  let text: string | undefined;
  if (v.text === undefined || v.text === null || v.text === '') bad('empty_text', '"text" is required and must not be empty');
  else if (typeof v.text !== 'string') bad('invalid_text', '"text" must be a string');
  else if (v.text.length > MAX_TEXT_CHARS) bad('invalid_text', `"text" is longer than ${MAX_TEXT_CHARS} characters`);
  else text = storable(v.text);

  let route: string | undefined;
  if (v.route !== undefined && v.route !== null) {
    if (typeof v.route !== 'string' || v.route === '') bad('invalid_route', '"route" must be a route name');
    else route = v.route;
  }

  let dlr = true;
  if (v.dlr !== undefined && v.dlr !== null) {
    if (typeof v.dlr !== 'boolean') bad('invalid_dlr', '"dlr" must be true or false');
    else dlr = v.dlr;
  }

  let validitySeconds: number | undefined;
  if (v.validity !== undefined && v.validity !== null) {
    if (typeof v.validity !== 'number' || !Number.isInteger(v.validity) || v.validity <= 0 || v.validity > MAX_VALIDITY_SECONDS) {
      bad('invalid_validity', '"validity" must be a positive whole number of seconds (at most 63 weeks)');
    } else validitySeconds = v.validity;
  }

  let expiresAt: Date | undefined;
  if (v.expires_at !== undefined && v.expires_at !== null) {
    // An explicit offset is required: a time without one would be read in the daemon's zone.
    const at = typeof v.expires_at === 'string' && ENDS_WITH_ZONE.test(v.expires_at) ? new Date(v.expires_at) : undefined;
    if (at === undefined || Number.isNaN(at.getTime())) bad('invalid_expires_at', '"expires_at" must be an ISO 8601 time with a zone, such as "2026-03-01T14:00:00Z"');
    else expiresAt = at;
  }

  let priority: Priority = 0;
  if (v.priority !== undefined && v.priority !== null) {
    if (v.priority !== 0 && v.priority !== 1 && v.priority !== 2 && v.priority !== 3) {
      bad('invalid_priority', `"priority" must be 0, 1, 2 or 3, got ${JSON.stringify(v.priority)}`);
    } else priority = v.priority;
  }

  let conversation: OutboundMessage['conversation'];
  if (v.conversation !== undefined && v.conversation !== null) {
    const c = v.conversation;
    if (!isPlainObject(c)) bad('invalid_conversation', '"conversation" must be an object');
    else {
      const ttlOk = c.ttl === undefined || (typeof c.ttl === 'number' && Number.isInteger(c.ttl) && c.ttl > 0);
      if (!ttlOk) bad('invalid_conversation', '"conversation.ttl" must be a positive whole number of seconds');
      let tags: Record<string, unknown> | undefined = {};
      if (c.tags !== undefined && !isPlainObject(c.tags)) tags = bad('invalid_conversation', '"conversation.tags" must be an object');
      else if (c.tags !== undefined) {
        const checked = toStorableJson(c.tags, limits.metadata);
        if (!checked.ok) tags = bad('invalid_conversation', `"conversation.tags" ${checked.reason}`);
        else {
          replaced += checked.replaced;
          tags = checked.value as Record<string, unknown>;
        }
      }
      if (ttlOk && tags !== undefined) conversation = { ttlSeconds: c.ttl as number | undefined, tags };
    }
  }

  let replies: OutboundMessage['replies'];
  if (v.replies !== undefined && v.replies !== null) {
    if (!isPlainObject(v.replies)) bad('invalid_replies', '"replies" must be an object of keyword -> action');
    else {
      const out: Record<string, ExpectedReplyAction> = {};
      const before = problems.length;
      for (const [keyword, action] of Object.entries(v.replies)) {
        if (!isPlainObject(action)) {
          bad('invalid_replies', `"replies.${keyword}" must be an object`);
          continue;
        }
        if (action.reply !== undefined && typeof action.reply !== 'string') bad('invalid_replies', `"replies.${keyword}.reply" must be a string`);
        if (action.webhook !== undefined && typeof action.webhook !== 'string') bad('invalid_replies', `"replies.${keyword}.webhook" must be a webhook name`);
        if (problems.length > before) continue;
        out[storable(keyword)] = {
          reply: action.reply === undefined ? undefined : storable(action.reply as string),
          webhook: action.webhook as string | undefined,
        };
      }
      if (problems.length === before) replies = out;
    }
  }

  let metadata: Record<string, unknown> | undefined;
  if (v.metadata !== undefined && v.metadata !== null) {
    if (!isPlainObject(v.metadata)) bad('invalid_metadata', '"metadata" must be an object');
    else {
      const checked = toStorableJson(v.metadata, limits.metadata);
      if (!checked.ok) bad(checked.problem === 'too_deep' ? 'metadata_too_deep' : 'metadata_too_large', `"metadata" ${checked.reason}`);
      else {
        replaced += checked.replaced;
        metadata = checked.value as Record<string, unknown>;
      }
    }
  }

  // send_at: an ISO 8601 time with its offset ("2026-03-10T09:00:00+01:00", "...Z"), or Unix seconds.
  let sendAt: Date | undefined;
  if (v.send_at !== undefined && v.send_at !== null) {
    const at =
      typeof v.send_at === 'number' && Number.isFinite(v.send_at)
        ? new Date(v.send_at * 1000)
        : typeof v.send_at === 'string' && ISO_WITH_OFFSET.test(v.send_at)
          ? new Date(v.send_at)
          : undefined;
    if (at === undefined || Number.isNaN(at.getTime())) {
      bad('invalid_send_at', '"send_at" must be an ISO 8601 time with a time zone offset (or Z), or Unix seconds');
    } else sendAt = at;
  }

  let timeZone: string | undefined;
  if (v.time_zone !== undefined && v.time_zone !== null) {
    if (typeof v.time_zone !== 'string' || !knownTimeZone(v.time_zone)) {
      bad('invalid_time_zone', '"time_zone" must be an IANA time zone name such as "Europe/Paris"');
    } else timeZone = v.time_zone;
  }

  let survey: Survey | undefined;
  if (v.survey !== undefined && v.survey !== null) {
    const s = parseSurvey(v.survey);
    if (typeof s === 'string') bad('invalid_survey', s);
    else survey = s;
  }

  if (problems.length > 0 || to === undefined || text === undefined) return fail(problems, id);
  const warnings = Object.keys(v)
    .filter((k) => !PAYLOAD_FIELDS.includes(k))
    .map((k) => `unknown field ${JSON.stringify(k.slice(0, 40))} is ignored`);
  return {
    ok: true,
    message: {
      id: id ?? newId(), to, from, text, route, dlr, validitySeconds, expiresAt, priority, conversation, replies, metadata,
      ...(sendAt === undefined ? {} : { sendAt }),
      ...(timeZone === undefined ? {} : { timeZone }),
      ...(survey === undefined ? {} : { survey }),
      ...(campaign === undefined ? {} : { campaign }),
    },
    replaced,
    warnings,
  };
}
