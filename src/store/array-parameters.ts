/**
 * Array parameters written as Postgres array literals by Parley instead of by pg. Every batch of
 * the hot path binds its rows as arrays (`unnest($1::text[], …)`), about seventy elements per
 * message, and pg writes each element through `prepareValue` and `escapeElement` (two regex
 * replaces, a new string each) into a literal grown by `+=`. The daemon's heap profile over
 * `npm run bench -- --binds 1 --count 30000 --no-two-way --heap-profile DIR` put 22% of all bytes
 * it allocates in pg's `arrayString` alone, and another 3% in its date formatting; the scavenges
 * that collect them are the daemon's biggest single cost.
 *
 * Here a literal is one `join` when every element is a string that needs no escaping (ids,
 * numbers, most texts), or numbers; otherwise a loop that escapes only the elements that need it.
 * The literal means what pg's means, element for element: strings quoted and escaped the same
 * way, NULL for null and undefined, numbers and booleans as pg writes them, dates as their UTC
 * instant (pg writes local time with its offset: the same instant for timestamptz, the only
 * date type Parley binds). Anything else in an array (a Buffer, a nested array, an object, an
 * invalid or out-of-range date) leaves the whole array to pg, as before.
 */
import type pg from 'pg';

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the years toISOString writes as four
// digits that Postgres reads (it has no year 0; pg writes BC years its own way).
const FIRST_ISO_MS = -62_135_596_800_000;
const LAST_ISO_MS = 253_402_300_799_999;

/** One element as pg would write it, or undefined when pg's own conversion must do it. */
function element(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? `"${value.replace(ESCAPED, '\\$&')}"` : `"${value}"`;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default: {
      if (value instanceof Date) {
        const ms = value.getTime();
        if (ms >= FIRST_ISO_MS && ms <= LAST_ISO_MS) return `"${value.toISOString()}"`;
      }
      return undefined;
    }
  }
}

/** The array as a Postgres array literal, or undefined when it holds what pg must convert itself. */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  const n = values.length;
  if (n === 0) return '{}';
  let strings = true;
  let numbers = true;
  for (let i = 0; i < n && (strings || numbers); i++) {
    const v = values[i];
    if (typeof v === 'string') {
      numbers = false;
      if (NEEDS_ESCAPE.test(v)) strings = false;
    } else {
      strings = false;
      if (typeof v !== 'number') numbers = false;
    }
  }
  if (strings) return `{"${values.join('","')}"}`;
  if (numbers) return `{${values.join(',')}}`;
  let literal = '{';
  for (let i = 0; i < n; i++) {
    const e = element(values[i]);
    if (e === undefined) return undefined;
    literal += i === 0 ? e : `,${e}`;
  }
  return `${literal}}`;
}

/**
 * Wraps `client.query` so that the array parameters of a `query(text, values)` call go as
 * literals written here (see above); every other form of call, and every other parameter, goes
 * through as it came. Call once per client, when the pool connects it.
 */
export function writeArrayParameters(client: pg.ClientBase): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const withLiterals = (...args: unknown[]): unknown => {
    const values = args[1];
    if (args.length === 2 && Array.isArray(values)) {
      let written: unknown[] | undefined;
      for (let i = 0; i < values.length; i++) {
        const v: unknown = values[i];
        if (!Array.isArray(v)) continue;
        const literal = arrayLiteral(v);
        if (literal === undefined) continue;
        written ??= values.slice();
        written[i] = literal;
      }
      if (written) return query(args[0], written);
    }
    return query(...args);
  };
  (client as unknown as { query: typeof withLiterals }).query = withLiterals;
}
