/**
 * The client contract as JSON Schema (draft 2020-12): the outbound payload an app puts on the
 * stream and the events it hears back (`parley schema`), each generated from a zod schema. The
 * payload's is the one `parseOutboundPayload` validates with (payload-schema.ts), so the schema
 * and the parser cannot drift apart on what a field is called, its type or how long it may be.
 * The events' are checked against the event interfaces (events.ts) both ways: a key added to an
 * event and not to its schema does not compile.
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

/** The same keys and types both ways: an event key added to the interface and not to its schema does not compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const jsonOf = (schema: z.ZodType): JsonSchema => {
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as JsonSchema;
  return rest;
};

const TIME = z.string().regex(ISO_WITH_OFFSET).describe('ISO 8601, UTC');

const STATUS_EVENT = z.strictObject({
  type: z.literal('message.status'),
  id: z.string().min(1),
  status: z.enum(MESSAGE_STATUSES),
  previous: z.enum(MESSAGE_STATUSES).nullable(),
  segments: z.int().min(0).nullable(),
  delivered_segments: z.int().min(0),
  error: z.strictObject({ code: z.string(), reason: z.string() }).nullable(),
  smsc: z.string().nullable(),
  route: z.string().nullable(),
  at: TIME,
  metadata: z.record(z.string(), z.unknown()).nullable(),
  possible_duplicate: z.boolean(),
});
const statusExact: Same<z.output<typeof STATUS_EVENT>, MessageStatusEvent> = true;
void statusExact;

export const STATUS_EVENT_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/status-event.json',
  title: 'Parley message.status event',
  description: 'A message changed status (parley:events stream, message.status webhooks, GET /v1/events).',
  ...jsonOf(STATUS_EVENT),
};

const INTENT = z.strictObject({
  name: z.string(),
  confidence: z.number().min(0).max(1),
  via: z.string(),
  choice: z.int().nullable(),
  at: TIME.nullable(),
  review: z.boolean(),
  escalated: z.boolean(),
});
const intentExact: Same<z.output<typeof INTENT>, InboundIntent> = true;
void intentExact;

const INBOUND_EVENT = z.strictObject({
  type: z.literal('message.inbound'),
  id: z.string().min(1),
  from: z.string(),
  to: z.string(),
  text: z.string(),
  conversation_id: z.string().nullable(),
  in_reply_to: z.string().nullable(),
  matched: z.strictObject({
    kind: z.enum(['compliance', 'expected_reply', 'keyword', 'survey', 'none']),
    keyword: z.string().nullable(),
    action: z.string().nullable(),
  }),
  received_at: TIME,
  // Absent only from events made before intents were read.
  intent: INTENT.optional(),
});
const inboundExact: Same<z.output<typeof INBOUND_EVENT>, MessageInboundEvent> = true;
void inboundExact;

export const INBOUND_EVENT_SCHEMA: JsonSchema = {
  $schema: DRAFT,
  $id: 'https://parley.invalid/schema/inbound-event.json',
  title: 'Parley message.inbound event',
  description: "A customer's reply, after reassembly and handling (parley:inbound stream, message.inbound webhooks, GET /v1/events).",
  ...jsonOf(INBOUND_EVENT),
};

export const SCHEMAS = { payload: PAYLOAD_SCHEMA, 'status-event': STATUS_EVENT_SCHEMA, 'inbound-event': INBOUND_EVENT_SCHEMA } as const;
export type SchemaName = keyof typeof SCHEMAS;
