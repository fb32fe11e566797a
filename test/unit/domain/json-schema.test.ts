/**
 * The JSON Schemas of the client contract (`parley schema`) against the parser and the event
 * builders: Ajv (draft 2020-12) and parseOutboundPayload agree on a table of payloads, valid and
 * invalid; the schema lists exactly the fields the parser reads; real events validate; and the CLI
 * prints the schemas.
 */
import { spawnSync } from 'node:child_process';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { INBOUND_EVENT_SCHEMA, PAYLOAD_SCHEMA, SCHEMAS, STATUS_EVENT_SCHEMA } from '../../../src/domain/json-schema.ts';
import { PAYLOAD_FIELDS, parseOutboundPayload } from '../../../src/domain/message.ts';
import { statusEvent, type MessageInboundEvent } from '../../../src/domain/events.ts';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
const validatePayload = ajv.compile(PAYLOAD_SCHEMA);
const validateStatus = ajv.compile(STATUS_EVENT_SCHEMA);
const validateInbound = ajv.compile(INBOUND_EVENT_SCHEMA);

const survey = { name: 'csat', questions: [{ kind: 'rating', text: 'How did we do, 1-5?' }, { kind: 'choice', text: 'Which?', options: ['Fast', 'Cheap'] }, { kind: 'text', text: 'Why?' }], done: 'Thanks' };
const campaign = { id: 'spring-sale', variants: [{ name: 'A', text: 'Sale!' }, { name: 'B', text: 'Deals!', weight: 2 }] };

const VALID: [string, Record<string, unknown>][] = [
  ['the minimum', { to: '+14155550101', text: 'hi' }],
  ['digits with spaces and dashes', { to: '(415) 555-0101', text: 'hi' }],
  ['every field', {
    id: 'order-7', to: '+14155550101', from: 'Acme', text: 'Your order shipped', route: 'us', dlr: false, validity: 3600,
    expires_at: '2026-03-01T14:00:00Z', priority: 3, conversation: { ttl: 600, tags: { order: 7 } },
    replies: { YES: { reply: 'Confirmed' }, NO: { webhook: 'orders' } }, metadata: { order: 7, nested: { a: [1, 2] } },
    send_at: '2026-03-10T09:00:00+01:00', time_zone: 'Europe/Paris', survey,
  }],
  ['a numeric sender and Unix seconds', { to: '14155550101', from: '+14155550199', text: 'x', send_at: 1772000000 }],
  ['nulls count as absent', { id: null, to: '+14155550101', from: null, text: 'x', route: null, dlr: null, validity: null, expires_at: null, priority: null, conversation: null, replies: null, metadata: null, send_at: null, time_zone: null, survey: null, campaign: null }],
  ['a campaign gives the text', { to: '+14155550101', campaign }],
  ['an unknown field is a warning, not a refusal', { to: '+14155550101', text: 'x', txt: 'typo' }],
  ['an offset without a colon', { to: '+14155550101', text: 'x', expires_at: '2026-03-01T14:00:00+0100' }],
  ['the longest id and validity', { id: 'i'.repeat(64), to: '+14155550101', text: 'x', validity: 63 * 7 * 86400 }],
];

const INVALID: [string, unknown][] = [
  ['not an object', [1, 2]],
  ['no to', { text: 'hi' }],
  ['to not a number', { to: 'nobody', text: 'hi' }],
  ['to too short', { to: '12', text: 'hi' }],
  ['to a number type', { to: 14155550101, text: 'hi' }],
  ['no text', { to: '+14155550101' }],
  ['empty text', { to: '+14155550101', text: '' }],
  ['null text', { to: '+14155550101', text: null }],
  ['text not a string', { to: '+14155550101', text: 42 }],
  ['text too long', { to: '+14155550101', text: 'x'.repeat(255 * 160 + 1) }],
  ['id a number', { id: 42, to: '+14155550101', text: 'x' }],
  ['id empty', { id: '', to: '+14155550101', text: 'x' }],
  ['id too long', { id: 'i'.repeat(65), to: '+14155550101', text: 'x' }],
  ['id with NUL', { id: 'a\u0000b', to: '+14155550101', text: 'x' }],
  ['sender id too long', { to: '+14155550101', from: 'AcmeCorporation', text: 'x' }],
  ['sender id without a letter', { to: '+14155550101', from: '12', text: 'x' }],
  ['sender id with a bad character', { to: '+14155550101', from: 'Acme!', text: 'x' }],
  ['empty route', { to: '+14155550101', text: 'x', route: '' }],
  ['dlr a string', { to: '+14155550101', text: 'x', dlr: 'yes' }],
  ['validity zero', { to: '+14155550101', text: 'x', validity: 0 }],
  ['validity fractional', { to: '+14155550101', text: 'x', validity: 1.5 }],
  ['validity over 63 weeks', { to: '+14155550101', text: 'x', validity: 63 * 7 * 86400 + 1 }],
  ['expires_at without a zone', { to: '+14155550101', text: 'x', expires_at: '2026-03-01T14:00:00' }],
  ['expires_at a number', { to: '+14155550101', text: 'x', expires_at: 1772000000 }],
  ['priority 4', { to: '+14155550101', text: 'x', priority: 4 }],
  ['priority a string', { to: '+14155550101', text: 'x', priority: '1' }],
  ['conversation an array', { to: '+14155550101', text: 'x', conversation: [] }],
  ['conversation ttl zero', { to: '+14155550101', text: 'x', conversation: { ttl: 0 } }],
  ['conversation tags null', { to: '+14155550101', text: 'x', conversation: { tags: null } }],
  ['replies an array', { to: '+14155550101', text: 'x', replies: ['YES'] }],
  ['a reply not an object', { to: '+14155550101', text: 'x', replies: { YES: 'ok' } }],
  ['a reply text not a string', { to: '+14155550101', text: 'x', replies: { YES: { reply: 1 } } }],
  ['metadata a string', { to: '+14155550101', text: 'x', metadata: 'order 7' }],
  ['send_at without an offset', { to: '+14155550101', text: 'x', send_at: '2026-03-10T09:00:00' }],
  ['send_at a date only', { to: '+14155550101', text: 'x', send_at: '2026-03-10' }],
  ['time_zone a number', { to: '+14155550101', text: 'x', time_zone: 1 }],
  ['survey without questions', { to: '+14155550101', text: 'x', survey: { name: 'csat', questions: [] } }],
  ['survey with a bad name', { to: '+14155550101', text: 'x', survey: { ...survey, name: 'a b' } }],
  ['survey with an unknown kind', { to: '+14155550101', text: 'x', survey: { name: 'csat', questions: [{ kind: 'scale', text: 'Q?' }] } }],
  ['survey choice with one option', { to: '+14155550101', text: 'x', survey: { name: 'csat', questions: [{ kind: 'choice', text: 'Q?', options: ['A'] }] } }],
  ['survey rating above 10', { to: '+14155550101', text: 'x', survey: { name: 'csat', questions: [{ kind: 'rating', text: 'Q?', max: 11 }] } }],
  ['survey question with blank text', { to: '+14155550101', text: 'x', survey: { name: 'csat', questions: [{ kind: 'text', text: '  ' }] } }],
  ['campaign without variants', { to: '+14155550101', campaign: { id: 'c', variants: [] } }],
  ['campaign variant with empty text', { to: '+14155550101', campaign: { id: 'c', variants: [{ name: 'A', text: '' }] } }],
  ['campaign variant weight zero', { to: '+14155550101', campaign: { id: 'c', variants: [{ name: 'A', text: 'x', weight: 0 }] } }],
  ['campaign null and no text', { to: '+14155550101', campaign: null }],
];

const parse = (v: unknown): ReturnType<typeof parseOutboundPayload> => parseOutboundPayload(JSON.stringify(v), () => 'generated');

describe('the payload schema and parseOutboundPayload agree', () => {
  it.each(VALID)('valid: %s', (_, payload) => {
    const schemaOk = validatePayload(payload);
    expect(schemaOk, JSON.stringify(validatePayload.errors)).toBe(true);
    const parsed = parse(payload);
    expect(parsed.ok, parsed.ok ? '' : parsed.reason).toBe(true);
  });

  it.each(INVALID)('invalid: %s', (_, payload) => {
    expect(validatePayload(payload)).toBe(false);
    expect(parse(payload).ok).toBe(false);
  });

  it('lists exactly the fields the parser reads (an unknown one is only a warning)', () => {
    expect(Object.keys(PAYLOAD_SCHEMA.properties ?? {})).toEqual([...PAYLOAD_FIELDS]);
    const parsed = parse({ to: '+14155550101', text: 'x', txt: 'typo' });
    expect(parsed.ok && parsed.warnings).toEqual(['unknown field "txt" is ignored']);
    // Each optional field, present (as null, which counts as absent), is known: no warning.
    for (const field of PAYLOAD_FIELDS.filter((f) => f !== 'to' && f !== 'text')) {
      const withField = parse({ to: '+14155550101', text: 'x', [field]: null });
      expect(withField.ok && withField.warnings, field).toEqual([]);
    }
  });

  it('is draft 2020-12', () => {
    for (const schema of Object.values(SCHEMAS)) expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });
});

describe('the event schemas', () => {
  it('accept status events as statusEvent builds them, and refuse one with a key missing or unknown', () => {
    const at = new Date('2026-03-01T14:00:00.123Z');
    const plain = statusEvent({ id: 'm1', status: 'queued', previous: null }, at);
    const full = statusEvent(
      { id: 'm1', status: 'failed', previous: 'submitted', segments: 2, deliveredSegments: 1, errorCode: 'ESME_RTHROTTLED', errorReason: 'throttled', smsc: 'sim', route: 'us', metadata: { order: 7 }, possibleDuplicate: true },
      at,
    );
    for (const event of [plain, full]) expect(validateStatus(event), JSON.stringify(validateStatus.errors)).toBe(true);
    const { possible_duplicate: _, ...missing } = plain;
    expect(validateStatus(missing)).toBe(false);
    expect(validateStatus({ ...plain, extra: 1 })).toBe(false);
    expect(validateStatus({ ...plain, status: 'lost' })).toBe(false);
  });

  it('accept an inbound event with and without its intent', () => {
    const event: MessageInboundEvent = {
      type: 'message.inbound',
      id: 'r1',
      from: '14155550101',
      to: '12345',
      text: 'YES',
      conversation_id: 'c1',
      in_reply_to: 'm1',
      matched: { kind: 'expected_reply', keyword: 'YES', action: 'reply' },
      received_at: '2026-03-01T14:00:00.000Z',
      intent: { name: 'yes', confidence: 1, via: 'keyword', choice: null, at: null, review: false, escalated: false },
    };
    expect(validateInbound(event), JSON.stringify(validateInbound.errors)).toBe(true);
    const { intent: _, ...older } = event;
    expect(validateInbound(older)).toBe(true);
    expect(validateInbound({ ...event, matched: { ...event.matched, kind: 'guess' } })).toBe(false);
  });
});

describe('parley schema', () => {
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'schema', ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('prints the payload schema by default and each event schema by name; refuses an unknown name', () => {
    const payload = cli();
    expect(payload.status, payload.stderr).toBe(0);
    expect(JSON.parse(payload.stdout)).toEqual(JSON.parse(JSON.stringify(PAYLOAD_SCHEMA)));
    const inbound = cli('inbound-event');
    expect(inbound.status, inbound.stderr).toBe(0);
    expect(JSON.parse(inbound.stdout)).toEqual(JSON.parse(JSON.stringify(INBOUND_EVENT_SCHEMA)));
    const wrong = cli('receipt');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('Choices');
  }, 60_000);
});
