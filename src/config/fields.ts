/**
 * The building blocks of the configuration schema: field kinds that read one YAML value (reporting
 * what is wrong with it, with its key path) and write it back in YAML form for printing.
 *
 * Reading collects problems instead of stopping at the first. A value read while problems were
 * reported may have holes (invalid fields are left out, invalid list items are `undefined`): it is
 * only a `Loose<T>` for cross-checks, and the caller throws instead of returning it.
 */
import { ParleyError } from '../lib/errors.ts';
import type { ConfigProblem } from './config-error.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { redactUrlCredentials } from '../lib/url-credentials.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** Where a value sits in the file (`smscs[0].port`), and where to report what is wrong with it. */
export class At {
  constructor(
    readonly path: string,
    private readonly problems: ConfigProblem[],
  ) {}

  key(key: string): At {
    return new At(this.path === '' ? key : `${this.path}.${key}`, this.problems);
  }

  index(index: number): At {
    return new At(`${this.path}[${index}]`, this.problems);
  }

  /** Records a problem at this path; returns INVALID so a reader can `return at.problem(…)`. */
  problem(reason: string): Invalid {
    this.problems.push({ path: this.path, reason });
    return INVALID;
  }
}

export interface WriteOptions {
  /** Replace secrets (passwords, passwords inside URLs) by `"***"`. */
  readonly redact: boolean;
}

export interface Field<T> {
  /** Reads a value present in the file (never `undefined` or `null`: absent keys take defaults). */
  read(value: unknown, at: At): T | Invalid;
  /** The value in the form the YAML file uses (snake_case keys, durations as "10s"). */
  write(value: T, options: WriteOptions): unknown;
  /** Reason given when the key is absent and has no default; "is required" otherwise. */
  readonly requiredReason?: string;
}

/** A value read while problems were found: any part may be missing. */
export type Loose<T> = T extends readonly (infer U)[]
  ? readonly (Loose<U> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Loose<T[K]> }
    : T;

// ---------------------------------------------------------------------------------------------
// Describing values and suggesting names

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
function describeKind(value: unknown): string {
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

const didYouMean = (name: string, candidates: Iterable<string>): string => {
  const suggestion = suggestName(name, candidates);
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
};

// ---------------------------------------------------------------------------------------------
// Scalars

export interface StringOptions {
  /** Smallest length; 0 allows "". Default 1. */
  readonly min?: number;
  readonly max?: number;
  /** Printable ASCII only (SMPP C-Octet strings). */
  readonly ascii?: boolean;
  /** A further check on the text; returns the reason when it fails. */
  readonly check?: (text: string) => string | undefined;
  /** Never echoed in reasons; written as "***" when redacting. */
  readonly secret?: boolean;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function string(options: StringOptions = {}): Field<string> {
  const { min = 1, max, ascii = false, check, secret = false } = options;
  return {
    read(value, at) {
      if (typeof value !== 'string') {
        const quoteHint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : '';
        return at.problem(`must be a string, got ${secret ? describeKind(value) : describeValue(value)}${quoteHint}`);
      }
      if (value.length < min) return at.problem(min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
      if (max !== undefined && value.length > max) {
        return at.problem(`must be at most ${max} characters, got ${value.length}`);
      }
      if (ascii && !PRINTABLE_ASCII.test(value)) return at.problem('must be printable ASCII');
      const reason = check?.(value);
      return reason === undefined ? value : at.problem(secret ? reason : `${reason}, got ${describeValue(value)}`);
    },
    write: (value, { redact }) => (secret && redact && value !== '' ? '***' : value),
  };
}

/** Accepts YAML numbers and, since `${VAR}` always substitutes text, strings holding a number. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value)) return Number(value);
  return undefined;
}

export function integer(options: { readonly min: number; readonly max?: number }): Field<number> {
  const { min, max } = options;
  const expected =
    max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 1
        ? 'a positive integer'
        : min === 0
          ? 'a non-negative integer'
          : `an integer of at least ${min}`;
  return {
    read(value, at) {
      const n = asNumber(value);
      if (n === undefined || !Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
        return at.problem(`must be ${expected}, got ${describeValue(value)}`);
      }
      return n;
    },
    write: (value) => value,
  };
}

/** A finite number greater than 0 (fractions allowed). */
export function positiveNumber(): Field<number> {
  return {
    read(value, at) {
      const n = asNumber(value);
      if (n === undefined || !Number.isFinite(n) || n <= 0) return at.problem(`must be a positive number, got ${describeValue(value)}`);
      return n;
    },
    write: (value) => value,
  };
}

export function boolean(): Field<boolean> {
  return {
    read(value, at) {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return at.problem(`must be true or false, got ${describeValue(value)}`);
    },
    write: (value) => value,
  };
}

export function oneOf<const V extends string>(values: readonly V[]): Field<V> {
  const allowed = new Set<string>(values);
  return {
    read(value, at) {
      if (typeof value === 'string' && allowed.has(value)) return value as V;
      const hint = typeof value === 'string' ? didYouMean(value, values) : '';
      return at.problem(`must be one of ${values.join(', ')}, got ${describeValue(value)}${hint}`);
    },
    write: (value) => value,
  };
}

/** A duration in milliseconds; see `duration.ts` for the accepted forms. */
export function duration(options: { readonly positive?: boolean } = {}): Field<number> {
  return {
    read(value, at) {
      const ms = parseDuration(value);
      if (ms === undefined) {
        return at.problem(
          `must be a duration such as "500ms", "10s", "5m" or "1h", or a whole number of milliseconds, got ${describeValue(value)}`,
        );
      }
      if (options.positive === true && ms === 0) return at.problem('must be longer than 0');
      return ms;
    },
    write: (value) => formatDuration(value),
  };
}

/** Either `'auto'` or an integer in `min..max`. */
export function autoOr(inner: { readonly min: number; readonly max: number }): Field<number | 'auto'> {
  return {
    read(value, at) {
      if (value === 'auto') return 'auto';
      const n = asNumber(value);
      if (n === undefined || !Number.isSafeInteger(n) || n < inner.min || n > inner.max) {
        return at.problem(`must be "auto" or an integer from ${inner.min} to ${inner.max}, got ${describeValue(value)}`);
      }
      return n;
    },
    write: (value) => value,
  };
}

// ---------------------------------------------------------------------------------------------
// URLs and addresses

/**
 * Hides the credentials of a URL: the password of `scheme://user:password@host…`, an http(s) user
 * name alone (a token), and query parameters named like one (`password=`, `token=`, `key=`...).
 */
export function redactUrl(url: string): string {
  return redactUrlCredentials(url);
}

/** A URL with one of the given schemes (`['postgres:', 'postgresql:']`); its password is a secret. */
export function url(protocols: readonly string[]): Field<string> {
  const expected = protocols.map((p) => `${p}//`).join(' or ');
  return {
    read(value, at) {
      if (typeof value !== 'string' || value === '') {
        return at.problem(`must be a URL starting with ${expected}, got ${typeof value === 'string' ? '""' : describeKind(value)}`);
      }
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        return at.problem(`must be a URL starting with ${expected}, got ${describeValue(redactUrl(value))}`);
      }
      if (!protocols.includes(parsed.protocol)) {
        return at.problem(`must be a URL starting with ${expected}, got ${describeValue(redactUrl(value))}`);
      }
      return value;
    },
    write: (value, { redact }) => (redact ? redactUrl(value) : value),
  };
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[ipv6]:port`; the host comes back without brackets. */
export function hostPort(): Field<HostPort> {
  const shape = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d+)$/;
  return {
    read(value, at) {
      const match = typeof value === 'string' ? shape.exec(value.trim()) : null;
      if (match === null) return at.problem(`must be host:port (such as 127.0.0.1:9464), got ${describeValue(value)}`);
      const port = Number(match[3]);
      if (port < 1 || port > 65535) return at.problem(`port must be from 1 to 65535, got ${describeValue(value)}`);
      return { host: match[1] ?? match[2] ?? '', port };
    },
    write: (value) => (value.host.includes(':') ? `[${value.host}]:${value.port}` : `${value.host}:${value.port}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Lists and sections

export function list<T>(
  item: Field<T>,
  options: { readonly min?: number; readonly what?: string } = {},
): Field<readonly T[]> {
  const { min = 0, what = 'entry' } = options;
  const atLeast = `at least ${min === 1 ? `one ${what}` : `${min} ${what}s`}`;
  return {
    requiredReason: min > 0 ? `is required: list ${atLeast}` : undefined,
    read(value, at) {
      if (!Array.isArray(value)) return at.problem(`must be a list, got ${describeValue(value)}`);
      if (value.length < min) return at.problem(`must list ${atLeast}`);
      // Invalid items stay as holes (undefined) so cross-checks keep the right indexes.
      return value.map((v: unknown, i) => {
        const read = v === null || v === undefined ? at.index(i).problem('must not be empty') : item.read(v, at.index(i));
        return read === INVALID ? undefined : read;
      }) as T[];
    },
    write: (value, options) => value.map((v) => item.write(v, options)),
  };
}

export interface Entry<V> {
  /** The snake_case key in the YAML file. */
  readonly key: string;
  readonly field: Field<V>;
}

/**
 * How each field of `T` is read: its YAML key and kind. Fields optional in `T` must say so
 * (`optional: true`), so that an absent key without a default is not "required".
 */
export type Schema<T> = {
  readonly [K in keyof T]-?: Entry<Exclude<T[K], undefined>> &
    (undefined extends T[K] ? { readonly optional: true } : { readonly optional?: never });
};

/** A default: a value as it would be written in the YAML file, or computed from the fields already read. */
export type DefaultValue = unknown;
export type DerivedDefault = (section: Readonly<Record<string, unknown>>) => unknown;
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- names both kinds of default for the reader
export type SectionDefaults = Readonly<Record<string, DefaultValue | DerivedDefault>>;

export function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A mapping with known keys. Unknown keys are problems (with the nearest known key suggested);
 * absent keys (or `null`) take their default from `defaults` (plain values first, then derived
 * ones, which see the fields read so far); absent keys with no default are required unless optional.
 */
export function section<T>(
  schema: Schema<T>,
  defaults: SectionDefaults,
  check?: (value: Loose<T>, at: At) => void,
): Field<T> & { readonly schema: Schema<T> } {
  const entries = Object.entries(schema) as [string, Entry<unknown> & { optional?: true }][];
  const keys = entries.map(([, entry]) => entry.key);
  for (const key of Object.keys(defaults)) {
    if (!keys.includes(key)) {
      throw new ParleyError('config_schema', `a default is given for ${key}, which is not a key of its section (${keys.join(', ')})`);
    }
  }
  const known = new Set(keys);

  return {
    schema,
    read(value, at) {
      if (!isPlainMapping(value)) return at.problem(`must be a mapping, got ${describeValue(value)}`);
      for (const key of Object.keys(value)) {
        if (!known.has(key)) at.key(key).problem(`unknown key${didYouMean(key, keys)}`);
      }
      const out: Record<string, unknown> = {};
      const derived: [string, Entry<unknown>, DerivedDefault][] = [];
      for (const [name, entry] of entries) {
        const given = value[entry.key];
        let raw: unknown = given;
        if (given === undefined || given === null) {
          const fallback = defaults[entry.key];
          if (typeof fallback === 'function') {
            derived.push([name, entry, fallback as DerivedDefault]);
            continue;
          }
          if (fallback === undefined) {
            if (entry.optional !== true) at.key(entry.key).problem(entry.field.requiredReason ?? 'is required');
            continue;
          }
          raw = fallback;
        }
        const read = entry.field.read(raw, at.key(entry.key));
        if (read !== INVALID) out[name] = read;
      }
      for (const [name, entry, compute] of derived) {
        const raw = compute(out);
        if (raw === undefined) continue; // what it derives from was invalid, and is reported
        const read = entry.field.read(raw, at.key(entry.key));
        if (read !== INVALID) out[name] = read;
      }
      // In schema order, derived defaults included.
      const ordered: Record<string, unknown> = {};
      for (const [name] of entries) if (name in out) ordered[name] = out[name];
      check?.(ordered as Loose<T>, at);
      return ordered as T;
    },
    write(value, options) {
      const out: Record<string, unknown> = {};
      for (const [name, entry] of entries) {
        const v = (value as Record<string, unknown>)[name];
        if (v !== undefined) out[entry.key] = entry.field.write(v, options);
      }
      return out;
    },
  };
}

/** Freezes a value and everything reachable from it (a tree: configuration values share nothing). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
