/**
 * Durations in the configuration: `"500ms"`, `"10s"`, `"1.5s"`, `"5m"`, `"1h"`, or a whole number
 * of milliseconds (`500` or `"500"`). Inside Parley every duration is a number of milliseconds.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
// Days for retention periods ("90d"); written back as hours by formatDuration.
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const WHOLE_MS = /^\d+$/;

/** Milliseconds, or `undefined` when `value` is not a duration (negative numbers are not). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (WHOLE_MS.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact form: 3_600_000 -> "1h", 90_000 -> "90s", 1_500 -> "1500ms", 0 -> "0ms". */
export function formatDuration(ms: number): string {
  if (ms > 0) {
    for (const unit of ['h', 'm', 's'] as const) {
      if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
    }
  }
  return `${ms}ms`;
}
