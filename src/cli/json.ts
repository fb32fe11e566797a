/**
 * JSON printed by the CLI (`--json`) uses snake_case keys, like the event streams and the config
 * file. Parley's own camelCase keys are converted; values that are the app's or the carrier's
 * own data (metadata, tags, TLVs, expected replies, rule actions, event details) are left as they
 * came, and only keys shaped like camelCase identifiers change (so "ESME_RINVDSTADR" or "YES"
 * used as keys stay as they are).
 */
const OPAQUE = new Set(['metadata', 'tags', 'tlvs', 'replies', 'actions', 'detail']);
const CAMEL = /^[a-z][a-zA-Z0-9]*[A-Z][a-zA-Z0-9]*$/;

function snakeKey(key: string): string {
  return CAMEL.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

/** A copy of `value` with snake_case keys (Dates become ISO strings, as JSON.stringify makes them). */
export function snakeCased(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(snakeCased);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const key = snakeKey(k);
    out[key] = OPAQUE.has(k) ? v : snakeCased(v);
  }
  return out;
}

/** The text `--json` prints. */
export function cliJson(value: unknown): string {
  return JSON.stringify(snakeCased(value), null, 2);
}
