/**
 * The field kinds of the configuration schema, on zod: each is a zod schema that reads one YAML
 * value (its issues say, in the operator's words, what is wrong) paired with how the value is
 * written back in YAML form for printing (`parley check-config`, start-up logs, redaction).
 *
 * Messages are set on every schema because zod's own ("Invalid input") do not say what to write
 * instead; they are collected by `validate.ts` with their key paths. An absent key reads as
 * `undefined` ("is required"), an empty list item as `null` ("must not be empty").
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.ts';
import { redactUrlCredentials } from '../lib/url-credentials.ts';
import { describeKind, describeValue, didYouMean } from './naming.ts';

export { describeValue, didYouMean, suggestName } from './naming.ts';

export interface WriteOptions {
  /** Replace secrets (passwords, passwords inside URLs) by `"***"`. */
  readonly redact: boolean;
}

/** One kind of value: how it is read (a zod schema) and how it is written back. */
export interface Field<T> {
  readonly schema: z.ZodType<T, unknown>;
  /** The value in the form the YAML file uses (snake_case keys, durations as "10s"). */
  write(value: T, options: WriteOptions): unknown;
}

/** The type a field reads. */
export type ValueOf<F> = F extends Field<infer T> ? T : never;

export function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * A zod error map giving `expected(input)` for a wrong value, and the absent / empty cases their
 * own reasons. Checks without a message of their own fall back to it.
 */
export function reasons(expected: (input: unknown) => string, required = 'is required'): { error: z.core.$ZodErrorMap } {
  return {
    error: (issue) => (issue.input === undefined ? required : issue.input === null ? 'must not be empty' : expected(issue.input)),
  };
}

const identity = <T>(value: T): T => value;

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;
/** Records a problem at the value read (or under it, at `path`); returns INVALID. */
export type Report = (reason: string, ...path: (string | number)[]) => Invalid;

/**
 * A field whose reading is written by hand (values of several shapes, messages zod cannot say):
 * `read` reports problems and returns INVALID, or returns the value.
 */
export function custom<T>(read: (value: unknown, problem: Report) => T | Invalid, write: (value: T, options: WriteOptions) => unknown = identity): Field<T> {
  const schema = z.unknown().transform((value, ctx): T => {
    const problem: Report = (reason, ...path) => {
      ctx.addIssue({ code: 'custom', message: reason, path, input: value });
      return INVALID;
    };
    if (value === undefined) return problem('is required') as never;
    if (value === null) return problem('must not be empty') as never;
    const read_ = read(value, problem);
    return read_ === INVALID ? z.NEVER : read_;
  });
  return { schema, write };
}

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
  let schema = z.string(
    reasons((input) => {
      const quoteHint = typeof input === 'number' || typeof input === 'boolean' ? ' (quote it)' : '';
      return `must be a string, got ${secret ? describeKind(input) : describeValue(input)}${quoteHint}`;
    }),
  );
  // `abort`: the first thing wrong is the one reported, as a person would fix them one at a time.
  if (min > 0) schema = schema.min(min, { error: min === 1 ? 'must not be empty' : `must be at least ${min} characters`, abort: true });
  if (max !== undefined) schema = schema.max(max, { error: (issue) => `must be at most ${max} characters, got ${String(issue.input).length}`, abort: true });
  if (ascii) schema = schema.regex(PRINTABLE_ASCII, { error: 'must be printable ASCII', abort: true });
  if (check !== undefined) {
    schema = schema.superRefine((text, ctx) => {
      const reason = check(text);
      if (reason !== undefined) ctx.addIssue({ code: 'custom', message: secret ? reason : `${reason}, got ${describeValue(text)}`, input: text });
    });
  }
  return { schema, write: (value, { redact }) => (secret && redact && value !== '' ? '***' : value) };
}

/** Accepts YAML numbers and, since `${VAR}` always substitutes text, strings holding a number. */
function asNumber(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value)) return Number(value);
  return value;
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
  let number = z.number(reasons((input) => `must be ${expected}, got ${describeValue(input)}`)).int({ abort: true }).min(min, { abort: true });
  if (max !== undefined) number = number.max(max, { abort: true });
  return { schema: z.preprocess(asNumber, number), write: identity };
}

/** A finite number greater than 0 (fractions allowed). */
export function positiveNumber(): Field<number> {
  const number = z.number(reasons((input) => `must be a positive number, got ${describeValue(input)}`)).positive();
  return { schema: z.preprocess(asNumber, number), write: identity };
}

/** A number from 0 to 1 (a confidence). */
export function fraction(): Field<number> {
  const number = z.number(reasons((input) => `must be a number from 0 to 1, got ${describeValue(input)}`)).min(0).max(1);
  return { schema: z.preprocess(asNumber, number), write: identity };
}

export function boolean(): Field<boolean> {
  const schema = z.preprocess(
    (value) => (value === 'true' ? true : value === 'false' ? false : value),
    z.boolean(reasons((input) => `must be true or false, got ${describeValue(input)}`)),
  );
  return { schema, write: identity };
}

export function oneOf<const V extends string>(values: readonly [V, ...V[]]): Field<V> {
  const schema = z.enum(
    values,
    reasons((input) => {
      const hint = typeof input === 'string' ? didYouMean(input, values) : '';
      return `must be one of ${values.join(', ')}, got ${describeValue(input)}${hint}`;
    }),
  );
  return { schema: schema as z.ZodType<V, unknown>, write: identity };
}

/** A duration in milliseconds; see `duration.ts` for the accepted forms. */
export function duration(options: { readonly positive?: boolean } = {}): Field<number> {
  return custom(
    (value, problem) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        return problem(`must be a duration such as "500ms", "10s", "5m" or "1h", or a whole number of milliseconds, got ${describeValue(value)}`);
      }
      if (options.positive === true && ms === 0) return problem('must be longer than 0');
      return ms;
    },
    (value) => formatDuration(value),
  );
}

/** Either `'auto'` or an integer in `min..max`. */
export function autoOr(inner: { readonly min: number; readonly max: number }): Field<number | 'auto'> {
  return custom((value, problem) => {
    if (value === 'auto') return 'auto';
    const n = asNumber(value);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < inner.min || n > inner.max) {
      return problem(`must be "auto" or an integer from ${inner.min} to ${inner.max}, got ${describeValue(value)}`);
    }
    return n;
  });
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
  return custom(
    (value, problem) => {
      if (typeof value !== 'string' || value === '') {
        return problem(`must be a URL starting with ${expected}, got ${typeof value === 'string' ? '""' : describeKind(value)}`);
      }
      let parsed: URL | undefined;
      try {
        parsed = new URL(value);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || !protocols.includes(parsed.protocol)) {
        return problem(`must be a URL starting with ${expected}, got ${describeValue(redactUrl(value))}`);
      }
      return value;
    },
    (value, { redact }) => (redact ? redactUrl(value) : value),
  );
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[ipv6]:port`; the host comes back without brackets. */
export function hostPort(): Field<HostPort> {
  const shape = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d+)$/;
  return custom(
    (value, problem) => {
      const match = typeof value === 'string' ? shape.exec(value.trim()) : null;
      if (match === null) return problem(`must be host:port (such as 127.0.0.1:9464), got ${describeValue(value)}`);
      const port = Number(match[3]);
      if (port < 1 || port > 65535) return problem(`port must be from 1 to 65535, got ${describeValue(value)}`);
      return { host: match[1] ?? match[2] ?? '', port };
    },
    (value) => (value.host.includes(':') ? `[${value.host}]:${value.port}` : `${value.host}:${value.port}`),
  );
}

// ---------------------------------------------------------------------------------------------
// Lists and sections

export function list<T>(item: Field<T>, options: { readonly min?: number; readonly what?: string } = {}): Field<readonly T[]> {
  const { min = 0, what = 'entry' } = options;
  const atLeast = `at least ${min === 1 ? `one ${what}` : `${min} ${what}s`}`;
  let schema = z.array(item.schema, reasons((input) => `must be a list, got ${describeValue(input)}`, min > 0 ? `is required: list ${atLeast}` : 'is required'));
  if (min > 0) schema = schema.min(min, { error: `must list ${atLeast}` });
  return { schema, write: (value, options) => value.map((v) => item.write(v, options)) };
}

/** One key of a section: its name in the TypeScript value, its kind, and its default (as written in YAML). */
export interface Entry<N extends string = string, T = unknown, Optional extends boolean = boolean> {
  readonly name: N;
  readonly field: Field<T>;
  readonly optional: Optional;
  /** As it would be written in the YAML file; a function is called for each read (a host name). */
  readonly fallback?: unknown;
}

/** A key that must be given, or takes `fallback` (written as in the YAML file) when absent. */
export function key<const N extends string, T>(name: N, field: Field<T>, fallback?: unknown): Entry<N, T, false> {
  return { name, field, optional: false, fallback };
}

/** A key that may be left out: the value then has no such field. */
export function optional<const N extends string, T>(name: N, field: Field<T>): Entry<N, T, true> {
  return { name, field, optional: true };
}

// Entries are read through `Entry<N, infer T>`, so their fields' `write` must stay a method (bivariant).
type Entries = Readonly<Record<string, Entry<string, never, boolean> | Entry<string, unknown, boolean>>>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type EntryValue<E> = E extends Entry<string, infer T, boolean> ? T : never;

/** The value a section reads: each entry under its TypeScript name, optional entries optional. */
export type SectionValue<E extends Entries> = Flatten<
  { readonly [K in keyof E as E[K] extends Entry<infer N, unknown, false> ? N : never]: EntryValue<E[K]> } & {
    readonly [K in keyof E as E[K] extends Entry<infer N, unknown, true> ? N : never]?: EntryValue<E[K]>;
  }
>;

/** What a section's check sees: the keys (YAML names) whose values were read without a problem. */
export type Readable = Readonly<Record<string, unknown>>;
/** Reports a problem at a key path under the section (`['reconnect_min']`). */
export type SectionReport = (path: readonly (string | number)[], reason: string) => void;

export interface SectionOptions<V, D> {
  /** A check across keys, run even when some keys are wrong (those are left out of what it sees). */
  readonly check?: (value: Readable, report: SectionReport) => void;
  /** Defaults computed from other keys once all were read (a route's burst from its tps). */
  readonly derive?: (value: V) => D;
  /** What to say when the value is not a mapping ("must be a mapping"); ", got …" follows. */
  readonly expected?: string;
}

/**
 * A mapping with known keys. Unknown keys are problems (with the nearest known key suggested);
 * absent keys (or `null`) take their default; absent keys with no default are required unless
 * optional. Reads YAML names, gives TypeScript names.
 */
export function section<const E extends Entries>(
  entries: E,
  options?: Omit<SectionOptions<SectionValue<E>, never>, 'derive'>,
): Field<SectionValue<E>> & { readonly entries: E };
export function section<const E extends Entries, D>(
  entries: E,
  options: SectionOptions<SectionValue<E>, D> & { readonly derive: (value: SectionValue<E>) => D },
): Field<D> & { readonly entries: E };
export function section<const E extends Entries, D>(
  entries: E,
  options: SectionOptions<SectionValue<E>, D> = {},
): Field<D> & { readonly entries: E } {
  const keys = Object.keys(entries);
  const shape: Record<string, z.ZodType> = {};
  for (const [yamlKey, entry] of Object.entries(entries)) {
    const schema = entry.field.schema as z.ZodType;
    shape[yamlKey] = entry.optional ? schema.optional() : entry.fallback === undefined ? schema : schema.prefault(entry.fallback);
  }
  const { check } = options;
  // A loose object keeps unknown keys so that each is reported at its own path, with a suggestion.
  const object = z.looseObject(shape, reasons((input) => `${options.expected ?? 'must be a mapping'}, got ${describeValue(input)}`)).superRefine(
    (value, ctx) => {
      const report: SectionReport = (path, reason) => ctx.addIssue({ code: 'custom', message: reason, path: [...path], input: value });
      for (const k of Object.keys(value)) if (!(k in shape)) report([k], `unknown key${didYouMean(k, keys)}`);
      if (check === undefined) return;
      // Keys with a problem of their own are left out: the check judges only what was read.
      const wrong = new Set(ctx.issues.map((issue) => issue.path?.[0]));
      check(Object.fromEntries(Object.entries(value).filter(([k]) => !wrong.has(k) && k in shape)), report);
    },
    { when: (payload) => isPlainMapping(payload.value) },
  );
  const renamed = object.transform((value) => {
    const out: Record<string, unknown> = {};
    for (const [yamlKey, entry] of Object.entries(entries)) {
      const v = value[yamlKey];
      if (v !== undefined) out[entry.name] = v;
    }
    const read = out as SectionValue<E>;
    return options.derive === undefined ? (read as D) : options.derive(read);
  });
  // `null` keys are absent keys (an empty `database:` in YAML).
  const schema = z.preprocess((value) => (isPlainMapping(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) : value), renamed);
  return {
    entries,
    schema: schema as z.ZodType<D, unknown>,
    write(value, options) {
      const out: Record<string, unknown> = {};
      for (const [yamlKey, entry] of Object.entries(entries)) {
        const v = (value as Record<string, unknown>)[entry.name];
        if (v !== undefined) out[yamlKey] = (entry.field as Field<unknown>).write(v, options);
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
