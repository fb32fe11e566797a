/**
 * Dates and times in a reply ("can we do 4pm?", "tomorrow at 10", "mañana a las 10", "demain 15h",
 * "morgen um 9"), read with chrono-node, relative to an injected clock and in the customer's time
 * zone. chrono is a maintained natural-language date parser with English, Spanish, French, German,
 * Portuguese and Dutch grammars; writing our own would mean re-learning all of them.
 *
 * Choices made on top of chrono:
 * - Times are read forward: "4pm" said at 5pm is tomorrow's 4pm; "Friday" is the coming Friday.
 * - An hour from 1 to 6 with no am/pm ("Friday 3:30", "at 5") is the afternoon: people reschedule
 *   appointments in business hours, not before dawn.
 * - English is read first; another language's reading wins only when it covers at least a whole
 *   extra word more ("demain 15h" over "15h"), not a stray abbreviation (German "Do" for
 *   Donnerstag would turn "can we do 4pm" into Thursday).
 */
import * as chrono from 'chrono-node';
import { zoneOffsetMinutes } from '../../lib/time-zone.ts';

export interface ReadTime {
  /** The instant meant, in UTC. A date without a time is that day's noon in the time zone. */
  readonly at: Date;
  /** Whether the reply named a time of day, not only a day. */
  readonly hasTime: boolean;
  /** The words chrono read it from. */
  readonly text: string;
}

const PARSERS: readonly chrono.Chrono[] = [chrono.en.casual, chrono.es.casual, chrono.fr.casual, chrono.de.casual, chrono.pt.casual, chrono.nl.casual];

/** Characters a later language's reading must add to win: a word, not an abbreviation. */
const EXTRA_WORD = 4;

export function readTime(text: string, now: Date, timeZone: string): ReadTime | undefined {
  const reference = { instant: now, timezone: zoneOffsetMinutes(timeZone, now) };
  let best: chrono.ParsedResult | undefined;
  for (const parser of PARSERS) {
    for (const result of parser.parse(text, reference, { forwardDate: true })) {
      if (!meaningful(result)) continue;
      if (best === undefined || result.text.length >= best.text.length + EXTRA_WORD) best = result;
    }
  }
  if (best === undefined) {
    // "how about 4", "can we do 4:30": chrono wants "at" before a bare hour; say it for them.
    const atHour = text.replace(/\b(about|do|say|around|make it|maybe|like)\s+(\d{1,2}(?::\d{2})?)\b(?!\s*(?:%|\$|stars?|out|people|of|x\b))/giu, '$1 at $2');
    if (atHour === text) return undefined;
    return readTime(atHour, now, timeZone);
  }
  const start = best.start;
  const hasTime = start.isCertain('hour');
  let at = start.date();
  if (hasTime && !start.isCertain('meridiem')) {
    const hour = start.get('hour') ?? 0;
    if (hour >= 1 && hour <= 6) {
      at = new Date(at.getTime() + 12 * 3_600_000);
      // chrono moved "4" to tomorrow because 4am had passed; 4pm today may not have.
      const sameDay = new Date(at.getTime() - 24 * 3_600_000);
      if (!start.isCertain('day') && !start.isCertain('weekday') && sameDay.getTime() > now.getTime()) at = sameDay;
    }
  }
  if (at.getTime() < now.getTime() && hasTime && !start.isCertain('day')) at = new Date(at.getTime() + 24 * 3_600_000);
  return { at, hasTime, text: best.text };
}

/**
 * A reading worth acting on: it names a day or an hour. chrono also reads bare words like "now"
 * or "today" alone as an instant; "stop texting me now" is not a proposed time.
 */
function meaningful(result: chrono.ParsedResult): boolean {
  const words = result.text.trim().toLowerCase();
  // Two- and three-letter weekday abbreviations are everyday words elsewhere: German "so", "do",
  // Dutch "ma", "wo", English "mon" (French "my"). Alone, with no digit, they are not a day.
  if (words.length <= 3 && !/\d/.test(words)) return false;
  // A bare duration ("10 mins" in "running 10 mins late") is not a time proposed; "in 2 hours" is.
  if (/^(?:(?:a|an|a few|few|a couple of|a couple|couple of)\s+|\d+\s*)(?:m|min|mins|minutes?|h|hr|hrs|hours?|sec|secs|seconds?)$/.test(words)) return false;
  if (/^(?:now|ahora|maintenant|jetzt|agora|nu|right now|today|hoy|aujourdhui|heute|hoje|vandaag)$/.test(words)) return false;
  return result.start.isCertain('hour') || result.start.isCertain('weekday') || result.start.isCertain('day');
}
