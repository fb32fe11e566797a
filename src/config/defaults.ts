/**
 * The defaults of each section, as written in the YAML file (snake_case keys, durations as text),
 * read off the schema (`schema.ts`), where each key declares its own. For tools and tests that
 * need a default without a configuration (`DEFAULTS.http.listen`).
 */
import { type Entry, deepFreeze } from './fields.ts';
import { CONFIG } from './schema.ts';

type SectionDefaults = Readonly<Record<string, unknown>>;

function defaultsOf(entries: Readonly<Record<string, Entry>>): SectionDefaults {
  const out: Record<string, unknown> = {};
  for (const [yamlKey, entry] of Object.entries(entries)) {
    if (entry.fallback === undefined) continue;
    out[yamlKey] = typeof entry.fallback === 'function' ? (entry.fallback as () => unknown)() : entry.fallback;
  }
  return out;
}

/** Each top-level section's defaults (`DEFAULTS.shutdown.force` is `'30s'`). */
export const DEFAULTS: Readonly<Record<string, SectionDefaults>> = deepFreeze(
  Object.fromEntries(
    Object.entries(CONFIG.entries as Readonly<Record<string, Entry>>).map(([yamlKey, entry]) => {
      const nested = (entry.field as { readonly entries?: Readonly<Record<string, Entry>> }).entries;
      return [yamlKey, nested === undefined ? {} : defaultsOf(nested)];
    }),
  ),
);
