/**
 * The client contract as JSON Schema (draft 2020-12): the outbound payload an app puts on the
 * stream and the events it hears back (`parley schema`). The payload's field list, its limits and
 * its patterns are defined here once: `parseOutboundPayload` (message.ts) reads PAYLOAD_FIELDS and
 * the same limits, so the schema and the parser cannot drift apart on what a field is called or
 * how long it may be. The event schemas are typed against the event interfaces (events.ts): a
 * key added to an event and not to its schema does not compile.
 *
 * What JSON Schema cannot say is checked by the parser only and named in `$comment`: whether a
 * time zone exists, whether a date such as 2026-02-30 exists, metadata size and depth, repeated
 * variant names, a rating's min below its max, lone UTF-16 surrogates in `id`.
 */
import type { MessageInboundEvent, MessageStatusEvent, InboundIntent } from './events.ts';
import { MESSAGE_STATUSES } from './status.ts';

/** The JSON Schema keywords Parley's schemas use. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $comment?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly if?: JsonSchema;
  readonly then?: JsonSchema;
  readonly else?: JsonSchema;
}

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** Longest app `id` (the idempotency key). */
export const MAX_ID = 64;
/** Longest text accepted before splitting; the part limit is checked where the SMSC is known. */
export const MAX_TEXT_CHARS = 255 * 160;
/** Longest `validity`: 63 weeks, what SMPP's relative validity period can say. */
export const MAX_VALIDITY_SECONDS = 63 * 7 * 86400;
/** A date and time with an explicit offset (`send_at`): a time without one would depend on the server's zone. */
export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
/** `expires_at` must end in its zone (Z or an offset). */
export const ENDS_WITH_ZONE = /(?:Z|[+-]\d\d:?\d\d)$/i;
/** A phone number as normaliseNumber (address.ts) takes it: 3-20 digits, an optional leading +, spaces, dashes and brackets ignored. */
const NUMBER = '[\\s()-]*\\+?(?:[\\s()-]*[0-9]){3,20}[\\s()-]*';
/** A survey or campaign name. */
const NAME = '^[A-Za-z0-9_.-]{1,64}$';

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const object = (properties: Record<string, JsonSchema>, required: readonly string[] = [], extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});

/** Every field of the payload, in the README's order. A field set to null counts as absent. */
const PAYLOAD_PROPERTIES = {
  id: nullable({
    type: 'string',
    minLength: 1,
    maxLength: MAX_ID,
    pattern: '^[^\\u0000]*$',
    description: 'Your idempotency key: the same id is sent once. Generated when absent.',
  }),
  to: { type: 'string', pattern: `^${NUMBER}$`, description: 'The recipient: an E.164 number (+14155550101) or 3-20 digits.' },
  from: nullable({
    type: 'string',
    pattern: `^(?:${NUMBER}|(?=.*[A-Za-z])[A-Za-z0-9 .\\-_&]{1,11})$`,
    description: "The sender: a number, or an alphanumeric sender id of at most 11 characters. The route's default_from when absent.",
  }),
  text: {
    description: `The message text, at most ${MAX_TEXT_CHARS} characters; required unless a campaign gives it.`,
  },
  route: nullable({ type: 'string', minLength: 1, description: 'A route name; by prefix when absent.' }),
  dlr: nullable({ type: 'boolean', description: 'Ask the SMSC for delivery receipts (default true).' }),
  validity: nullable({ type: 'integer', minimum: 1, maximum: MAX_VALIDITY_SECONDS, description: 'Seconds the SMSC keeps trying after the submit.' }),
  expires_at: nullable({ type: 'string', pattern: ENDS_WITH_ZONE.source.replace('(?:Z|', '(?:[Zz]|'), description: 'Not sent after this ISO 8601 time with a zone: still queued then, it becomes expired.' }),
  priority: { enum: [0, 1, 2, 3, null], description: 'SMPP priority_flag, 0 (default) to 3.' },
  conversation: nullable(
    object({
      ttl: { type: 'integer', minimum: 1, description: 'Seconds the conversation stays open for replies.' },
      tags: { type: 'object', description: 'Your JSON, copied into the conversation (same limits as metadata).' },
    }),
  ),
  replies: nullable({
    type: 'object',
    description: 'Expected replies: keyword -> what to do (an answer text and/or a webhook name).',
    additionalProperties: object({ reply: { type: 'string' }, webhook: { type: 'string' } }),
  }),
  metadata: nullable({ type: 'object', description: 'Your JSON, copied into every event of the message (at most 8192 bytes and 32 levels by default).' }),
  send_at: nullable({
    anyOf: [{ type: 'number' }, { type: 'string', pattern: ISO_WITH_OFFSET.source }],
    description: 'Not before this time: ISO 8601 with an offset (or Z), or Unix seconds.',
  }),
  time_zone: nullable({ type: 'string', description: "The recipient's IANA time zone (Europe/Paris), for quiet hours." }),
  survey: nullable(
    object(
      {
        name: { type: 'string', pattern: NAME },
        questions: {
          type: 'array',
          minItems: 1,
          maxItems: 20,
          items: {
            oneOf: [
              object(
                {
                  kind: { const: 'rating' },
                  text: { type: 'string', pattern: '\\S' },
                  min: nullable({ type: 'integer', minimum: 0, maximum: 10 }),
                  max: nullable({ type: 'integer', minimum: 0, maximum: 10 }),
                },
                ['kind', 'text'],
              ),
              object(
                {
                  kind: { const: 'choice' },
                  text: { type: 'string', pattern: '\\S' },
                  options: { type: 'array', minItems: 2, maxItems: 20, items: { type: 'string', pattern: '\\S' } },
                },
                ['kind', 'text', 'options'],
              ),
              object({ kind: { const: 'text' }, text: { type: 'string', pattern: '\\S' } }, ['kind', 'text']),
            ],
          },
        },
        done: nullable({ type: 'string' }),
      },
      ['name', 'questions'],
    ),
  ),
  campaign: nullable(
    object(
      {
        id: { type: 'string', pattern: NAME },
        variants: {
          type: 'array',
          minItems: 1,
          maxItems: 26,
          items: object({ name: { type: 'string', pattern: NAME }, text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_CHARS }, weight: nullable({ type: 'number', exclusiveMinimum: 0 }) }, ['name', 'text']),
        },
      },
      ['id', 'variants'],
    ),
  ),
} as const satisfies Record<string, JsonSchema>;

/** The payload fields Parley reads; any other is reported as a warning and ignored. */
export const PAYLOAD_FIELDS: readonly string[] = Object.keys(PAYLOAD_PROPERTIES);

export const PAYLOAD_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/payload.json',
  title: 'Parley outbound payload',
  description: 'The JSON in the "payload" field of an entry on the outbound stream. Unknown fields are ignored with a warning.',
  $comment:
    'Parley also checks what JSON Schema cannot: time_zone names a real zone; send_at and expires_at name real dates; metadata and conversation.tags fit the size and depth limits; variant names do not repeat; a rating min is below its max; id has no lone UTF-16 surrogates. maxLength counts code points, Parley counts UTF-16 units.',
  type: 'object',
  properties: PAYLOAD_PROPERTIES,
  required: ['to'],
  // The campaign's variant is the text; without a campaign, text is a non-empty string.
  if: { properties: { campaign: { type: 'object' } }, required: ['campaign'] },
  else: { properties: { text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_CHARS } }, required: ['text'] },
};

/** One schema per key of `T`, no more and no fewer (a key added to an event must be added here). */
type SchemaOf<T> = { readonly [K in keyof T]-?: JsonSchema };

const TIME: JsonSchema = { type: 'string', pattern: ISO_WITH_OFFSET.source, description: 'ISO 8601, UTC' };

const STATUS_EVENT_PROPERTIES: SchemaOf<MessageStatusEvent> = {
  type: { const: 'message.status' },
  id: { type: 'string', minLength: 1 },
  status: { enum: [...MESSAGE_STATUSES] },
  previous: { enum: [...MESSAGE_STATUSES, null] },
  segments: nullable({ type: 'integer', minimum: 0 }),
  delivered_segments: { type: 'integer', minimum: 0 },
  error: nullable(object({ code: { type: 'string' }, reason: { type: 'string' } }, ['code', 'reason'], { additionalProperties: false })),
  smsc: nullable({ type: 'string' }),
  route: nullable({ type: 'string' }),
  at: TIME,
  metadata: nullable({ type: 'object' }),
  possible_duplicate: { type: 'boolean' },
};

export const STATUS_EVENT_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/status-event.json',
  title: 'Parley message.status event',
  description: 'A message changed status (parley:events stream, message.status webhooks, GET /v1/events).',
  type: 'object',
  properties: STATUS_EVENT_PROPERTIES,
  required: Object.keys(STATUS_EVENT_PROPERTIES),
  additionalProperties: false,
};

const MATCH_KINDS = ['compliance', 'expected_reply', 'keyword', 'survey', 'none'] as const;
// Both ways: every kind the event type allows is listed, and nothing else.
const matchKindsExact: MessageInboundEvent['matched']['kind'] extends (typeof MATCH_KINDS)[number] ? true : never = true;
void matchKindsExact;

const INTENT_PROPERTIES: SchemaOf<InboundIntent> = {
  name: { type: 'string' },
  confidence: { type: 'number', minimum: 0, maximum: 1 },
  via: { type: 'string' },
  choice: nullable({ type: 'integer' }),
  at: nullable(TIME),
  review: { type: 'boolean' },
  escalated: { type: 'boolean' },
};

const INBOUND_EVENT_PROPERTIES: SchemaOf<MessageInboundEvent> = {
  type: { const: 'message.inbound' },
  id: { type: 'string', minLength: 1 },
  from: { type: 'string' },
  to: { type: 'string' },
  text: { type: 'string' },
  conversation_id: nullable({ type: 'string' }),
  in_reply_to: nullable({ type: 'string' }),
  matched: object(
    { kind: { enum: [...MATCH_KINDS] }, keyword: nullable({ type: 'string' }), action: nullable({ type: 'string' }) },
    ['kind', 'keyword', 'action'],
    { additionalProperties: false },
  ),
  received_at: TIME,
  intent: object(INTENT_PROPERTIES, Object.keys(INTENT_PROPERTIES), { additionalProperties: false }),
};

export const INBOUND_EVENT_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/inbound-event.json',
  title: 'Parley message.inbound event',
  description: "A customer's reply, after reassembly and handling (parley:inbound stream, message.inbound webhooks, GET /v1/events).",
  type: 'object',
  properties: INBOUND_EVENT_PROPERTIES,
  // `intent` is absent only from events made before intents were read.
  required: Object.keys(INBOUND_EVENT_PROPERTIES).filter((k) => k !== 'intent'),
  additionalProperties: false,
};

export const SCHEMAS = { payload: PAYLOAD_SCHEMA, 'status-event': STATUS_EVENT_SCHEMA, 'inbound-event': INBOUND_EVENT_SCHEMA } as const;
export type SchemaName = keyof typeof SCHEMAS;
