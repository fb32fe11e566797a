/**
 * The API's JSON: keys in snake_case like the event streams (README "Hearing back"), dates as ISO
 * 8601. Parley's own types are camelCase; they are converted here, except inside values that
 * belong to someone else (an app's metadata, conversation tags, a rule's actions), kept as they are.
 */
const OPAQUE = new Set(['metadata', 'tags', 'detail', 'actions']);

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function toApiJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toApiJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[snake(key)] = OPAQUE.has(key) ? v : toApiJson(v);
    }
    return out;
  }
  return value;
}
