/**
 * The client contract as JSON Schema (draft 2020-12): the outbound payload an app puts on the
 * stream and the events it hears back (`parley schema`). The payload's is generated from the zod
 * schema `parseOutboundPayload` validates with (payload-schema.ts), so the schema and the parser
 * cannot drift apart on what a field is called, its type or how long it may be. The event schemas are typed against the event interfaces (events.ts): a
 * key added to an event and not to its schema does not compile.
 *
 * What JSON Schema cannot say is checked by the parser only and named in `$comment`: whether a
 * time zone exists, whether a date such as 2026-02-30 exists, metadata size and depth, repeated
 * variant names, a rating's min below its max, lone UTF-16 surrogates in `id`.
 */
import type { MessageInboundEvent, MessageStatusEvent, InboundIntent } from './events.ts';
import { z } from 'zod';
import { MESSAGE_STATUSES } from './status.ts';
import { ISO_WITH_OFFSET, MAX_TEXT_CHARS, PAYLOAD } from './payload-schema.ts';

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

export { ENDS_WITH_ZONE, ISO_WITH_OFFSET, MAX_ID, MAX_TEXT_CHARS, MAX_VALIDITY_SECONDS, PAYLOAD_FIELDS } from './payload-schema.ts';

const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
const object = (properties: Record<string, JsonSchema>, required: readonly string[] = [], extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});

/** Generated from the zod schema the parser validates with; what a schema cannot say is in `$comment`. */
const { $schema: _draft, ...generated } = z.toJSONSchema(PAYLOAD, { target: 'draft-2020-12', io: 'input' }) as JsonSchema;

export const PAYLOAD_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/payload.json',
  title: 'Parley outbound payload',
  description: 'The JSON in the "payload" field of an entry on the outbound stream. Unknown fields are ignored with a warning.',
  $comment:
    'Parley also checks what JSON Schema cannot: time_zone names a real zone; send_at and expires_at name real dates; metadata and conversation.tags fit the size and depth limits; variant names do not repeat; a rating min is below its max; id has no lone UTF-16 surrogates. maxLength counts code points, Parley counts UTF-16 units.',
  ...generated,
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
