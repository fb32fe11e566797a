/**
 * When a message may go: not before its `send_at`, and not inside the quiet hours of the number
 * (or route) it is sent from, in the recipient's local time. A message that may not go yet is held
 * (stored, queued, not dispatched) and released when its time comes; it is never dropped.
 *
 * The recipient's time zone, in order: the payload's `time_zone`; the zones of the country the
 * number belongs to (libphonenumber-js reads the country from the number, countries-and-timezones
 * lists its zones); the quiet hours' own `time_zone`; UTC. A country with several zones (the US,
 * Canada, Brazil, Russia, Australia, ...) is quiet wherever any of its zones is quiet, so the
 * message goes only when it is allowed in all of them: without the exact zone, the conservative
 * choice. The payload's `time_zone` (or the number's country having one zone) gives the exact one.
 *
 * Answers to a customer who just wrote are exempt (`exempt_answers_within`, 0 to hold them too):
 * Parley's own answers and app messages to a customer whose last message came within that time.
 * Compliance confirmations (STOP, START, HELP) are always sent at once.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { getCountry } from 'countries-and-timezones';
import { zoneOffsetMinutes } from '../lib/time-zone.ts';

export interface QuietHours {
  /** Minutes after local midnight when quiet hours begin and end (end exclusive; may wrap midnight). */
  readonly startMinute: number;
  readonly endMinute: number;
  readonly timeZone?: string;
  /** Messages to a customer who wrote within this long are exempt; 0 exempts nothing. */
  readonly exemptAnswersWithinMs: number;
}

export type HoldReason = 'scheduled' | 'quiet_hours';

export interface Hold {
  readonly until: Date;
  readonly reason: HoldReason;
}

/** "21:00" -> 1260; undefined when not a 24-hour HH:MM. */
export function parseClockTime(text: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m === null ? undefined : Number(m[1]) * 60 + Number(m[2]);
}

const zonesByNumber = new Map<string, readonly string[]>();

/** The time zones of the country a number (digits, with its country code) belongs to; [] when unknown. */
export function zonesOfNumber(msisdn: string): readonly string[] {
  const digits = msisdn.replace(/^\+/, '');
  const cached = zonesByNumber.get(digits);
  if (cached !== undefined) return cached;
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const country = parsed?.country ?? parsed?.getPossibleCountries()[0];
  const zones = country === undefined ? [] : [...(getCountry(country)?.timezones ?? [])];
  if (zonesByNumber.size > 10_000) zonesByNumber.clear();
  zonesByNumber.set(digits, zones);
  return zones;
}

function localMinute(at: Date, zone: string): number {
  const local = at.getTime() + zoneOffsetMinutes(zone, at) * 60_000;
  return Math.floor((((local / 60_000) % 1440) + 1440) % 1440);
}

function isQuiet(minute: number, q: QuietHours): boolean {
  return q.startMinute <= q.endMinute ? minute >= q.startMinute && minute < q.endMinute : minute >= q.startMinute || minute < q.endMinute;
}

/**
 * The first instant at or after `at` outside quiet hours in every zone, or undefined when `at`
 * itself is. When the zones leave no common window within two days (quiet hours longer than the
 * spread of the zones allows), the first zone alone decides.
 */
export function quietUntil(at: Date, zones: readonly string[], q: QuietHours): Date | undefined {
  if (q.startMinute === q.endMinute) return undefined;
  let t = at;
  for (let round = 0; round < 64; round++) {
    let latest: Date | undefined;
    for (const zone of zones) {
      const minute = localMinute(t, zone);
      if (!isQuiet(minute, q)) continue;
      const wait = (q.endMinute - minute + 1440) % 1440;
      // The start of the minute quiet hours end in, this zone's clock.
      let end = new Date(Math.floor(t.getTime() / 60_000) * 60_000 + wait * 60_000);
      // A daylight-saving change in between moves the local clock: correct by what it moved.
      const drift = ((localMinute(end, zone) - q.endMinute + 720 + 1440) % 1440) - 720;
      const corrected = new Date(end.getTime() - drift * 60_000);
      if (drift !== 0 && corrected > t) end = corrected;
      if (latest === undefined || end > latest) latest = end;
    }
    if (latest === undefined) return t === at ? undefined : t;
    t = latest;
    if (t.getTime() - at.getTime() > 2 * 86_400_000) break;
  }
  return zones.length > 1 ? quietUntil(at, zones.slice(0, 1), q) : undefined;
}

export interface ReleaseInput {
  readonly to: string;
  readonly sendAt?: Date;
  readonly timeZone?: string;
  /** Parley's own answer to a customer's message. */
  readonly replyTo?: string;
  /** A compliance confirmation (opt-out, opt-in, HELP): always sent at once. */
  readonly bypassOptOut?: boolean;
}

/** When the message must wait, until when and why; undefined when it may go now. */
export function planRelease(m: ReleaseInput, now: Date, quiet: QuietHours | undefined, customerJustWrote: boolean): Hold | undefined {
  const base = m.sendAt !== undefined && m.sendAt > now ? m.sendAt : now;
  const exempt =
    quiet === undefined || m.bypassOptOut === true || (quiet.exemptAnswersWithinMs > 0 && (m.replyTo !== undefined || customerJustWrote));
  if (!exempt) {
    const derived = m.timeZone !== undefined ? [m.timeZone] : zonesOfNumber(m.to);
    const zones = derived.length > 0 ? derived : [quiet.timeZone ?? 'UTC'];
    const until = quietUntil(base, zones, quiet);
    if (until !== undefined) return { until, reason: 'quiet_hours' };
  }
  return base > now ? { until: base, reason: 'scheduled' } : undefined;
}
