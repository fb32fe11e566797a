/**
 * The outbound payload: every problem is reported at once (the first one's code is the dead
 * letter's code), unknown fields are warnings and never refuse a message, and a refused payload
 * keeps the app's id for its status event.
 */
import { describe, expect, it } from 'vitest';
import { PAYLOAD_FIELDS, parseOutboundPayload } from '../../../src/domain/message.ts';

const parse = (v: unknown): ReturnType<typeof parseOutboundPayload> => parseOutboundPayload(typeof v === 'string' ? v : JSON.stringify(v), () => 'generated');

describe('parseOutboundPayload', () => {
  it('reports every problem of a payload at once, in field order, with the first code', () => {
    const res = parse({ id: 'app-7', to: 'nobody', text: '', priority: 9, validity: -1, dlr: 'yes', expires_at: 'tomorrow', metadata: [] });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems.map((p) => p.code)).toEqual(['invalid_to', 'empty_text', 'invalid_dlr', 'invalid_validity', 'invalid_expires_at', 'invalid_priority', 'invalid_metadata']);
    expect(res.code).toBe('invalid_to');
    expect(res.reason.split('; ')).toHaveLength(7);
    expect(res.id).toBe('app-7');
    // The number stays out of the reasons (they are logged).
    expect(res.reason).not.toContain('nobody');
  });

  it('has no id to report when the payload had none or a bad one', () => {
    const none = parse({ to: '+14155550101' });
    const badId = parse({ id: 42, to: '+14155550101', text: 'x' });
    expect(none.ok || none.id).toBeUndefined();
    expect(badId.ok).toBe(false);
    if (!badId.ok) expect([badId.code, badId.id]).toEqual(['invalid_id', undefined]);
  });

  it('accepts a payload with unknown fields and names each in a warning', () => {
    const res = parse({ to: '+14155550101', text: 'hi', txt: 'typo', colour: 'blue' });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.warnings).toEqual(['unknown field "txt" is ignored', 'unknown field "colour" is ignored']);
    expect(res.message).toMatchObject({ id: 'generated', to: '14155550101', text: 'hi' });
  });

  it('knows every field it reads (no warning for a payload using them all)', () => {
    const res = parse({
      id: 'all-1', to: '+14155550101', from: '12345', text: 'hi', route: 'default', dlr: false, validity: 600,
      expires_at: '2030-01-01T00:00:00Z', priority: 2, conversation: { ttl: 60, tags: { a: 1 } }, replies: { YES: { reply: 'ok' } }, metadata: { order: 1 },
      send_at: '2029-12-31T09:00:00+01:00', time_zone: 'Europe/Paris',
      survey: { name: 'visit', questions: [{ kind: 'rating', text: 'Rate us 1-5' }] },
      campaign: { id: 'spring', variants: [{ name: 'A', text: 'hi A' }, { name: 'B', text: 'hi B' }] },
    });
    expect(res.ok, res.ok ? '' : res.reason).toBe(true);
    expect(res.ok && res.warnings).toEqual([]);
    expect(PAYLOAD_FIELDS).toHaveLength(16);
  });

  it('invalid JSON is one problem, without the text', () => {
    const res = parse('{"to": "+1415", "text": "secret');
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.problems).toHaveLength(1);
      expect(res.code).toBe('invalid_json');
      expect(res.reason).not.toContain('secret');
    }
  });
});
