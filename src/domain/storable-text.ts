/**
 * Text that Postgres can store, decided in one place. Postgres refuses U+0000 in `text` and
 * `jsonb`, and a lone UTF-16 surrogate in `jsonb` (and turns one into garbage in `text`), so a
 * single such character used to jam a whole batch. At every boundary where text enters Parley
 * (an outbound entry's payload, the decoded text of a customer message or a receipt, a webhook's
 * answer) it goes through here:
 *
 * - U+0000 becomes U+FFFD (the replacement character): visible, so the defect can be seen where
 *   the text is read, rather than silently shortening it;
 * - a lone surrogate (half of a pair, with no other half) becomes U+FFFD, as `toWellFormed` does;
 * - everything else is kept as it is.
 *
 * The caller keeps the original octets beside the stored text when anything was replaced (the
 * outbound payload as bytea, a receipt's body as bytea; a customer message's parts are stored as
 * octets already), so nothing the sender wrote is lost for the record.
 */

export const REPLACEMENT_CHARACTER = '\uFFFD';

export interface StorableText {
  readonly text: string;
  /** Characters replaced (0: the text was storable as it was). */
  readonly replaced: number;
}

// Either a NUL, or a surrogate not part of a well-formed pair.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with NUL and lone surrogates replaced by U+FFFD, and how many were. */
export function toStorableText(text: string): StorableText {
  let replaced = 0;
  const out = text.replace(UNSTORABLE, () => {
    replaced++;
    return REPLACEMENT_CHARACTER;
  });
  return { text: replaced === 0 ? text : out, replaced };
}

export interface JsonLimits {
  /** Bytes of the value as UTF-8 JSON. */
  readonly maxBytes: number;
  /** Nesting levels: `{}` is 1, `{"a":{}}` is 2. */
  readonly maxDepth: number;
}

export type StorableJson =
  | { readonly ok: true; readonly value: unknown; readonly replaced: number; readonly bytes: number }
  | { readonly ok: false; readonly problem: 'too_deep' | 'too_large'; readonly reason: string };

/**
 * A JSON value (as JSON.parse returns it) checked against the limits and with every string and
 * key made storable. The depth is measured without recursion, before anything recursive
 * (JSON.stringify, pg's serialisation) touches the value, so 5,000 levels are refused with a
 * reason instead of overflowing the stack.
 */
export function toStorableJson(value: unknown, limits: JsonLimits): StorableJson {
  // Depth first, iteratively: one stack entry per container, no recursion.
  const pending: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (pending.length > 0) {
    const { v, depth } = pending.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > limits.maxDepth) {
      return { ok: false, problem: 'too_deep', reason: `is nested deeper than ${limits.maxDepth} levels` };
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) pending.push({ v: child, depth: depth + 1 });
    }
  }
  let replaced = 0;
  const clean = (s: string): string => {
    const r = toStorableText(s);
    replaced += r.replaced;
    return r.text;
  };
  // Bounded by maxDepth now, so recursion is safe.
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v);
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) out[clean(k)] = walk(child);
    return out;
  };
  const storable = walk(value);
  const bytes = Buffer.byteLength(JSON.stringify(storable) ?? '', 'utf8');
  if (bytes > limits.maxBytes) {
    return { ok: false, problem: 'too_large', reason: `is ${bytes} bytes of JSON; at most ${limits.maxBytes} are accepted` };
  }
  return { ok: true, value: storable, replaced, bytes };
}
