/**
 * The outbound payload as one zod schema: what an app may put in the "payload" field of a stream
 * entry or POST to the HTTP API. `parseOutboundPayload` (message.ts) validates with it, and the
 * JSON Schema apps get (`parley schema payload`, json-schema.ts) is generated from it, so the two
 * cannot drift apart on a field's name, type, limit or pattern.
 *
 * What JSON Schema cannot say stays in the parser (message.ts): whether a time zone exists, whether
 * a date exists, metadata size and depth (configured), repeated variant names, a rating's min
 * below its max, lone UTF-16 surrogates in `id`, and that `text` is required unless a campaign
 * gives it. Each field's dead-letter code is named beside it.
 */
import { z } from 'zod';

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
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The dead-letter code of a problem with each field (the metric label and the status event's error code). */
export const FIELD_CODES = {
  id: 'invalid_id',
  to: 'invalid_to',
  from: 'invalid_from',
  text: 'invalid_text',
  route: 'invalid_route',
  dlr: 'invalid_dlr',
  validity: 'invalid_validity',
  expires_at: 'invalid_expires_at',
  priority: 'invalid_priority',
  conversation: 'invalid_conversation',
  replies: 'invalid_replies',
  metadata: 'invalid_metadata',
  send_at: 'invalid_send_at',
  time_zone: 'invalid_time_zone',
  survey: 'invalid_survey',
  campaign: 'invalid_campaign',
} as const;

/** One message for every way a field can be wrong: an app reads which field and what it must be. */
const says = (message: string): { error: string } => ({ error: message });
/** A field that may be absent or null (null counts as absent). */
const absentOr = <T extends z.ZodType>(schema: T): z.ZodOptional<z.ZodNullable<T>> => schema.nullable().optional();

const questionText = z.string().regex(/\S/);
const SURVEY_QUESTION = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('rating'),
    text: questionText,
    min: absentOr(z.int().min(0).max(10)),
    max: absentOr(z.int().min(0).max(10)),
  }),
  z.looseObject({ kind: z.literal('choice'), text: questionText, options: z.array(questionText).min(2).max(20) }),
  z.looseObject({ kind: z.literal('text'), text: questionText }),
]);

const SURVEY = z.looseObject({
  name: z.string().regex(NAME),
  questions: z.array(SURVEY_QUESTION).min(1).max(20),
  done: absentOr(z.string()),
});

const CAMPAIGN = z.looseObject({
  id: z.string().regex(NAME),
  variants: z
    .array(z.looseObject({ name: z.string().regex(NAME), text: z.string().min(1).max(MAX_TEXT_CHARS), weight: absentOr(z.number().positive()) }))
    .min(1)
    .max(26),
});

/** Your JSON, kept as given. */
const jsonObject = (message: string): z.ZodRecord<z.ZodString, z.ZodUnknown> => z.record(z.string(), z.unknown(), says(message));

/** `"replies.YES.reply" must be …`: the keyword is only known from the issue's path. */
const replyField = (what: string): { error: z.core.$ZodErrorMap } => ({
  error: (issue) => `"${(issue.path ?? []).map(String).join('.')}" must be ${what}`,
});

/** Every field of the payload, in the README's order. Unknown fields are ignored with a warning. */
export const PAYLOAD = z.looseObject({
  id: absentOr(
    z
      .string(says(`"id" must be a non-empty string of at most ${MAX_ID} characters`))
      .min(1)
      .max(MAX_ID)
      .regex(/^[^\u0000]*$/, says('"id" must not contain NUL (U+0000) or unpaired UTF-16 surrogates'))
      .describe('Your idempotency key: the same id is sent once. Generated when absent.'),
  ),
  // The number itself stays out of the reason: reasons are logged, and a number is personal data.
  to: z
    .string({ error: (issue) => (issue.input === undefined ? '"to" is required: an E.164 number or digits' : '"to" must be a string: an E.164 number or digits') })
    .regex(new RegExp(`^${NUMBER}$`), says('"to" is not an E.164 number or 3-20 digits'))
    .describe('The recipient: an E.164 number (+14155550101) or 3-20 digits.'),
  from: absentOr(
    z
      .string(says('"from" must be a number or an alphanumeric sender id of at most 11 characters'))
      .regex(new RegExp(`^(?:${NUMBER}|(?=.*[A-Za-z])[A-Za-z0-9 .\\-_&]{1,11})$`))
      .describe("The sender: a number, or an alphanumeric sender id of at most 11 characters. The route's default_from when absent."),
  ),
  // Required and a string unless a campaign gives the text: checked by the parser (and an if/else in the JSON Schema).
  text: z.unknown().optional().describe(`The message text, at most ${MAX_TEXT_CHARS} characters; required unless a campaign gives it.`),
  route: absentOr(z.string(says('"route" must be a route name')).min(1).describe('A route name; by prefix when absent.')),
  dlr: absentOr(z.boolean(says('"dlr" must be true or false')).describe('Ask the SMSC for delivery receipts (default true).')),
  validity: absentOr(
    z
      .int(says('"validity" must be a positive whole number of seconds (at most 63 weeks)'))
      .min(1)
      .max(MAX_VALIDITY_SECONDS)
      .describe('Seconds the SMSC keeps trying after the submit.'),
  ),
  expires_at: absentOr(
    z
      .string(says('"expires_at" must be an ISO 8601 time with a zone, such as "2026-03-01T14:00:00Z"'))
      .regex(new RegExp(ENDS_WITH_ZONE.source.replace('(?:Z|', '(?:[Zz]|')))
      .describe('Not sent after this ISO 8601 time with a zone: still queued then, it becomes expired.'),
  ),
  priority: absentOr(
    z.literal([0, 1, 2, 3], { error: (issue) => `"priority" must be 0, 1, 2 or 3, got ${JSON.stringify(issue.input)}` }).describe('SMPP priority_flag, 0 (default) to 3.'),
  ),
  conversation: absentOr(
    z.looseObject(
      {
        ttl: z.int(says('"conversation.ttl" must be a positive whole number of seconds')).min(1).optional().describe('Seconds the conversation stays open for replies.'),
        tags: jsonObject('"conversation.tags" must be an object').optional().describe('Your JSON, copied into the conversation (same limits as metadata).'),
      },
      says('"conversation" must be an object'),
    ),
  ),
  replies: absentOr(
    z
      .record(
        z.string(),
        z.looseObject({ reply: z.string(replyField('a string')).optional(), webhook: z.string(replyField('a webhook name')).optional() }, replyField('an object')),
        says('"replies" must be an object of keyword -> action'),
      )
      .describe('Expected replies: keyword -> what to do (an answer text and/or a webhook name).'),
  ),
  metadata: absentOr(jsonObject('"metadata" must be an object').describe('Your JSON, copied into every event of the message (at most 8192 bytes and 32 levels by default).')),
  send_at: absentOr(
    z
      .union([z.number(), z.string().regex(ISO_WITH_OFFSET)], says('"send_at" must be an ISO 8601 time with a time zone offset (or Z), or Unix seconds'))
      .describe('Not before this time: ISO 8601 with an offset (or Z), or Unix seconds.'),
  ),
  time_zone: absentOr(z.string(says('"time_zone" must be an IANA time zone name such as "Europe/Paris"')).describe("The recipient's IANA time zone (Europe/Paris), for quiet hours.")),
  survey: absentOr(SURVEY.describe('Questions asked one after the other in the conversation this message starts.')),
  campaign: absentOr(CAMPAIGN.describe("A/B variants: each recipient gets one, and the variant's text is the message's.")),
});

/** The payload fields Parley reads; any other is reported as a warning and ignored. */
export const PAYLOAD_FIELDS: readonly string[] = Object.keys(PAYLOAD.shape);

/** A payload as the schema reads it (before the parser's own checks). */
export type PayloadInput = z.output<typeof PAYLOAD>;
