import { describe, expect, it } from 'vitest';
import { parseClockTime, planRelease, quietUntil, zonesOfNumber, type QuietHours } from '../../../src/outbound/schedule.ts';
import { parseOutboundPayload } from '../../../src/domain/message.ts';

const night: QuietHours = { startMinute: 21 * 60, endMinute: 8 * 60, exemptAnswersWithinMs: 3_600_000 };
const at = (iso: string): Date => new Date(iso);

describe('quiet hours', () => {
  it('reads 24-hour clock times', () => {
    expect(parseClockTime('21:00')).toBe(1260);
    expect(parseClockTime('08:30')).toBe(510);
    expect(parseClockTime('8:30')).toBeUndefined();
    expect(parseClockTime('24:00')).toBeUndefined();
  });

  it('finds the zones of a number\'s country', () => {
    expect(zonesOfNumber('33612345678')).toEqual(['Europe/Paris']);
    expect(zonesOfNumber('+81312345678')).toEqual(['Asia/Tokyo']);
    expect(zonesOfNumber('14155550100')).toContain('America/Los_Angeles');
    expect(zonesOfNumber('14155550100')).toContain('America/New_York');
    expect(zonesOfNumber('999')).toEqual([]);
  });

  it.each([
    ['22:30 in Paris waits for 08:00', '2026-03-10T21:30:00Z', '2026-03-11T07:00:00.000Z'],
    ['07:59:30 in Paris waits half a minute', '2026-03-10T06:59:30Z', '2026-03-10T07:00:00.000Z'],
    ['08:00 in Paris goes', '2026-03-10T07:00:00Z', undefined],
    ['20:59 in Paris goes', '2026-03-10T19:59:00Z', undefined],
    ['21:00 in Paris waits', '2026-03-10T20:00:00Z', '2026-03-11T07:00:00.000Z'],
    // The night the clocks go forward (29 March 2026): 08:00 CEST is 06:00Z.
    ['across the change to summer time', '2026-03-28T22:00:00Z', '2026-03-29T06:00:00.000Z'],
  ])('%s', (_name, now, until) => {
    expect(quietUntil(at(now), ['Europe/Paris'], night)?.toISOString()).toBe(until);
  });

  it('quiet hours within a day (12:00-14:00) and none when start equals end', () => {
    const lunch: QuietHours = { startMinute: 720, endMinute: 840, exemptAnswersWithinMs: 0 };
    expect(quietUntil(at('2026-03-10T12:30:00Z'), ['UTC'], lunch)?.toISOString()).toBe('2026-03-10T14:00:00.000Z');
    expect(quietUntil(at('2026-03-10T15:00:00Z'), ['UTC'], lunch)).toBeUndefined();
    expect(quietUntil(at('2026-03-10T12:30:00Z'), ['UTC'], { ...lunch, endMinute: 720 })).toBeUndefined();
  });

  it('several zones: allowed only where every zone is past its quiet hours', () => {
    // 15:00Z: 11:00 in New York, 05:00 in Honolulu.
    expect(quietUntil(at('2026-03-10T15:00:00Z'), ['America/New_York', 'Pacific/Honolulu'], night)?.toISOString()).toBe('2026-03-10T18:00:00.000Z');
    // Zones too far apart for any common window: the first one decides.
    const long: QuietHours = { startMinute: 12 * 60, endMinute: 11 * 60, exemptAnswersWithinMs: 0 };
    expect(quietUntil(at('2026-03-10T12:30:00Z'), ['UTC', 'Asia/Tokyo'], long)?.toISOString()).toBe('2026-03-11T11:00:00.000Z');
  });
});

describe('planRelease', () => {
  const now = at('2026-03-10T21:30:00Z'); // 22:30 in Paris
  it('holds for quiet hours in the zone the number says, or the payload says', () => {
    expect(planRelease({ to: '33612345678' }, now, night, false)).toEqual({ until: at('2026-03-11T07:00:00Z'), reason: 'quiet_hours' });
    // 14:30 in Los Angeles: the payload's zone wins over the number's country.
    expect(planRelease({ to: '33612345678', timeZone: 'America/Los_Angeles' }, now, night, false)).toBeUndefined();
    // A number of no known country: the quiet hours' own zone, else UTC.
    expect(planRelease({ to: '999' }, now, { ...night, timeZone: 'America/Los_Angeles' }, false)).toBeUndefined();
    expect(planRelease({ to: '999' }, now, night, false)?.until.toISOString()).toBe('2026-03-11T08:00:00.000Z');
  });

  it('holds for send_at, then for quiet hours at that time', () => {
    expect(planRelease({ to: '33612345678', sendAt: at('2026-03-11T10:00:00Z') }, now, night, false)).toEqual({ until: at('2026-03-11T10:00:00Z'), reason: 'scheduled' });
    expect(planRelease({ to: '33612345678', sendAt: at('2026-03-11T05:00:00Z') }, now, night, false)).toEqual({ until: at('2026-03-11T07:00:00Z'), reason: 'quiet_hours' });
    expect(planRelease({ to: '33612345678', sendAt: at('2026-03-10T21:00:00Z') }, at('2026-03-10T12:00:00Z'), undefined, false)).toEqual({ until: at('2026-03-10T21:00:00Z'), reason: 'scheduled' });
    // A send_at in the past goes now.
    expect(planRelease({ to: '33612345678', sendAt: at('2026-03-10T10:00:00Z') }, at('2026-03-10T12:00:00Z'), undefined, false)).toBeUndefined();
  });

  it('answers to a customer who just wrote are exempt, unless the exemption is 0', () => {
    expect(planRelease({ to: '33612345678' }, now, night, true)).toBeUndefined();
    expect(planRelease({ to: '33612345678', replyTo: 'r1' }, now, night, false)).toBeUndefined();
    expect(planRelease({ to: '33612345678', replyTo: 'r1' }, now, { ...night, exemptAnswersWithinMs: 0 }, true)?.reason).toBe('quiet_hours');
    // A STOP confirmation goes at once whatever the settings.
    expect(planRelease({ to: '33612345678', replyTo: 'r1', bypassOptOut: true }, now, { ...night, exemptAnswersWithinMs: 0 }, false)).toBeUndefined();
  });
});

describe('payload send_at and time_zone', () => {
  const parse = (payload: Record<string, unknown>) => parseOutboundPayload(JSON.stringify({ to: '+33612345678', text: 'hi', ...payload }), () => 'id');
  it('reads ISO times with an offset and Unix seconds', () => {
    expect(parse({ send_at: '2026-03-10T09:00:00+01:00' })).toMatchObject({ ok: true, message: { sendAt: at('2026-03-10T08:00:00Z') } });
    expect(parse({ send_at: 1773129600 })).toMatchObject({ ok: true, message: { sendAt: new Date(1773129600 * 1000) } });
    expect(parse({ time_zone: 'Europe/Paris' })).toMatchObject({ ok: true, message: { timeZone: 'Europe/Paris' } });
    const plain = parse({});
    expect(plain.ok && 'sendAt' in plain.message).toBe(false);
  });

  it.each([
    [{ send_at: '2026-03-10T09:00:00' }, 'invalid_send_at'],
    [{ send_at: 'tomorrow' }, 'invalid_send_at'],
    [{ send_at: true }, 'invalid_send_at'],
    [{ time_zone: 'Mars/Olympus' }, 'invalid_time_zone'],
    [{ time_zone: 3 }, 'invalid_time_zone'],
  ])('%j is refused as %s', (payload, code) => {
    expect(parse(payload)).toMatchObject({ ok: false, code });
  });
});
