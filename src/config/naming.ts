/**
 * How configuration problems name values: a short, safe rendering of what was given ("got …"),
 * and the nearest known name for a misspelt one ("did you mean password?").
 */
/** A short, safe rendering of a value for "got …" in a reason. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 42 ? `${quoted.slice(0, 40)}…"` : quoted;
  }
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Only the kind of a value, for secrets whose value must not be echoed. */
export function describeKind(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("tsp" -> "tps" is 1). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

const normalise = (name: string): string => name.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The candidate closest to `name`, if one is close: within a third of its length in edits
 * (`pasword` -> `password`, `tsp` -> `tps`), the same but for case and separators (`systemId` ->
 * `system_id`), or starting with it (`ca` -> `ca_file`).
 */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  const target = normalise(name);
  const allowed = Math.max(1, Math.ceil(target.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const other = normalise(candidate);
    const distance = editDistance(target, other);
    const close = (distance <= allowed && distance < target.length) || (target.length >= 2 && other.startsWith(target));
    if (close && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export const didYouMean = (name: string, candidates: Iterable<string>): string => {
  const suggestion = suggestName(name, candidates);
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
};
