/**
 * An outbound message as an app submits it on the stream (README "The payload"), validated.
 * Validation is pure: what needs config (routes) or storage (opt-outs) happens in the flow.
 * The shape of each field is the zod schema in payload-schema.ts (also the JSON Schema apps get);
 * here is what a schema cannot say, and the conversion to an `OutboundMessage`.
 */
import type { Mutable } from './mutable.ts';
import { normaliseNumber, normaliseSender } from './address.ts';
import { toStorableJson, toStorableText, type JsonLimits } from './storable-text.ts';
import { parseSurvey, type Survey } from './survey.ts';
import { parseCampaign, type Campaign } from './campaign.ts';
import { FIELD_CODES, MAX_TEXT_CHARS, PAYLOAD, PAYLOAD_FIELDS } from './payload-schema.ts';

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

// The field list, limits and patterns are the schema's (`parley schema payload`): one definition.
export { PAYLOAD_FIELDS } from './payload-schema.ts';

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

type Field = keyof typeof FIELD_CODES;
const isField = (key: PropertyKey | undefined): key is Field => typeof key === 'string' && key in FIELD_CODES;
/** Problems are reported in field order; the campaign comes before the text it gives. */
const ORDER: readonly Field[] = ['id', 'to', 'from', 'campaign', 'text', 'route', 'dlr', 'validity', 'expires_at', 'priority', 'conversation', 'replies', 'metadata', 'send_at', 'time_zone', 'survey'];

/**
 * Parses the `payload` field of an outbound stream entry. `newId` supplies an id when the app gave
 * none. Every problem is reported at once. Unknown fields are ignored (so older daemons accept
 * entries from newer apps) and named in `warnings`.
 */
export function parseOutboundPayload(raw: string | undefined, newId: () => string, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): ParsedPayload {
  if (raw === undefined) return failed([{ code: 'invalid_json', reason: 'the entry has no "payload" field' }]);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    // V8's message quotes the payload, and with it the customer's text: only the position is kept.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return failed([{ code: 'invalid_json', reason: `payload is not valid JSON${position === undefined ? '' : ` (at character ${position})`}` }]);
  }
  if (!isPlainObject(v)) return failed([{ code: 'invalid_json', reason: 'payload must be a JSON object' }]);

  // One problem per field: the first thing wrong with it. The helpers are methods and module
  // functions, not closures made again for every entry of the outbound stream.
  const problems = new FieldProblems(v);
  const checked = PAYLOAD.safeParse(v);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = issue.path[0];
      if (!isField(field)) continue;
      // The survey and campaign parsers say which question or variant is wrong, and how.
      const own = field === 'survey' ? parseSurvey(v.survey) : field === 'campaign' ? parseCampaign(v.campaign, '0') : undefined;
      problems.bad(field, typeof own === 'string' ? own : field === 'survey' || field === 'campaign' ? `"${field}" ${issue.message}` : issue.message);
    }
  }
  const p = checked.success ? checked.data : undefined;
  const counted = { replaced: 0 };

  let id: string | undefined;
  // An idempotency key is matched exactly: one that would have to be altered to be stored is refused.
  if (problems.given('id') && typeof v.id === 'string') {
    if (toStorableText(v.id).replaced > 0) problems.bad('id', '"id" must not contain NUL (U+0000) or unpaired UTF-16 surrogates');
    else id = v.id;
  }

  let to: string | undefined;
  if (!problems.found.has('to') && typeof v.to === 'string') {
    to = normaliseNumber(v.to);
    if (to === undefined) problems.bad('to', '"to" is not an E.164 number or 3-20 digits');
  }

  let from: string | undefined;
  if (problems.given('from')) {
    from = typeof v.from === 'string' ? normaliseSender(v.from) : undefined;
    if (from === undefined) problems.bad('from', '"from" must be a number or an alphanumeric sender id of at most 11 characters');
  }

  // A campaign's variants carry the text: the recipient's variant is the message's text.
  let campaign: Campaign | undefined;
  let textGiven: unknown = v.text;
  if (problems.given('campaign') && to !== undefined) {
    const c = parseCampaign(v.campaign, to);
    if (typeof c === 'string') problems.bad('campaign', c);
    else {
      campaign = c.campaign;
      textGiven = c.text;
    }
  }
  const campaignGiven = v.campaign !== undefined && v.campaign !== null;

  let text: string | undefined;
  if (campaignGiven && campaign === undefined) text = undefined; // the campaign's problem is the one to fix
  else if (textGiven === undefined || textGiven === null || textGiven === '') problems.bad('text', '"text" is required and must not be empty', 'empty_text');
  else if (typeof textGiven !== 'string') problems.bad('text', '"text" must be a string');
  else if (textGiven.length > MAX_TEXT_CHARS) problems.bad('text', `"text" is longer than ${MAX_TEXT_CHARS} characters`);
  else text = storableCounted(textGiven, counted);

  let expiresAt: Date | undefined;
  if (problems.given('expires_at') && p?.expires_at != null) {
    const at = new Date(p.expires_at);
    if (Number.isNaN(at.getTime())) problems.bad('expires_at', '"expires_at" must be an ISO 8601 time with a zone, such as "2026-03-01T14:00:00Z"');
    else expiresAt = at;
  }

  let conversation: OutboundMessage['conversation'];
  if (problems.given('conversation') && p?.conversation != null) {
    const c = p.conversation;
    let tags: Record<string, unknown> | undefined = {};
    if (c.tags !== undefined) {
      const json = toStorableJson(c.tags, limits.metadata);
      if (!json.ok) tags = problems.bad('conversation', `"conversation.tags" ${json.reason}`);
      else {
        counted.replaced += json.replaced;
        tags = json.value as Record<string, unknown>;
      }
    }
    if (tags !== undefined) conversation = { ttlSeconds: c.ttl, tags };
  }

  let replies: OutboundMessage['replies'];
  if (problems.given('replies') && p?.replies != null) {
    const out: Record<string, ExpectedReplyAction> = {};
    for (const [keyword, action] of Object.entries(p.replies)) {
      out[storableCounted(keyword, counted)] = { reply: action.reply === undefined ? undefined : storableCounted(action.reply, counted), webhook: action.webhook };
    }
    replies = out;
  }

  let metadata: Record<string, unknown> | undefined;
  if (problems.given('metadata') && p?.metadata != null) {
    const json = toStorableJson(p.metadata, limits.metadata);
    if (!json.ok) problems.bad('metadata', `"metadata" ${json.reason}`, json.problem === 'too_deep' ? 'metadata_too_deep' : 'metadata_too_large');
    else {
      counted.replaced += json.replaced;
      metadata = json.value as Record<string, unknown>;
    }
  }

  // send_at: an ISO 8601 time with its offset ("2026-03-10T09:00:00+01:00", "...Z"), or Unix seconds.
  let sendAt: Date | undefined;
  if (problems.given('send_at') && p?.send_at != null) {
    const at = typeof p.send_at === 'number' ? new Date(p.send_at * 1000) : new Date(p.send_at);
    if (!Number.isFinite(at.getTime())) problems.bad('send_at', '"send_at" must be an ISO 8601 time with a time zone offset (or Z), or Unix seconds');
    else sendAt = at;
  }

  let timeZone: string | undefined;
  if (problems.given('time_zone') && p?.time_zone != null) {
    if (!knownTimeZone(p.time_zone)) problems.bad('time_zone', '"time_zone" must be an IANA time zone name such as "Europe/Paris"');
    else timeZone = p.time_zone;
  }

  let survey: Survey | undefined;
  if (problems.given('survey')) {
    const s = parseSurvey(v.survey);
    if (typeof s === 'string') problems.bad('survey', s);
    else survey = s;
  }

  if (problems.found.size > 0 || p === undefined || to === undefined || text === undefined) {
    const issues = problems.inOrder();
    return failed(issues.length > 0 ? issues : [{ code: 'invalid_json', reason: 'payload is not a valid message' }], id);
  }
  const warnings: string[] = [];
  for (const k of Object.keys(v)) {
    if (!PAYLOAD_FIELDS.includes(k)) warnings.push(`unknown field ${JSON.stringify(k.slice(0, 40))} is ignored`);
  }
  const message: Mutable<OutboundMessage> = {
    id: id ?? newId(),
    to,
    from,
    text,
    route: p.route ?? undefined,
    dlr: p.dlr ?? true,
    validitySeconds: p.validity ?? undefined,
    expiresAt,
    priority: p.priority ?? 0,
    conversation,
    replies,
    metadata,
  };
  // Set where present, rather than spread from an object made for each.
  if (sendAt !== undefined) message.sendAt = sendAt;
  if (timeZone !== undefined) message.timeZone = timeZone;
  if (survey !== undefined) message.survey = survey;
  if (campaign !== undefined) message.campaign = campaign;
  return {
    ok: true,
    message,
    replaced: counted.replaced,
    warnings,
  };
}

/** A failed parse with every problem found, the first one's code leading. */
function failed(problems: PayloadIssue[], id?: string): ParsedPayload {
  return {
    ok: false,
    code: problems[0]!.code,
    reason: problems.map((p) => p.reason).join('; '),
    problems,
    ...(id === undefined ? {} : { id }),
  };
}

/** The first problem of each field of one payload. */
class FieldProblems {
  readonly found = new Map<Field, PayloadIssue>();
  constructor(private readonly payload: Record<string, unknown>) {}

  /** Records the field's problem unless it has one already; undefined, for `x = bad(...)`. */
  bad(field: Field, reason: string, code: PayloadProblem = FIELD_CODES[field]): undefined {
    if (!this.found.has(field)) this.found.set(field, { code, reason });
    return undefined;
  }

  /** Present (not null) and without a problem so far. */
  given(field: Field): boolean {
    return !this.found.has(field) && this.payload[field] !== undefined && this.payload[field] !== null;
  }

  /** The problems in field order (ORDER). */
  inOrder(): PayloadIssue[] {
    const issues: PayloadIssue[] = [];
    for (const field of ORDER) {
      const issue = this.found.get(field);
      if (issue) issues.push(issue);
    }
    return issues;
  }
}

/** The text as it can be stored, counting what had to be replaced in it. */
function storableCounted(text: string, counted: { replaced: number }): string {
  const r = toStorableText(text);
  counted.replaced += r.replaced;
  return r.text;
}
