/**
 * The pino logger: one JSON object per line on stdout (or readable lines for the demo), with
 * context from child loggers (`component`, `smsc`, `bind`, `route`).
 *
 * What never reaches the output, whoever logs it and however deep it sits in the logged object:
 * - secrets: the value of any key named like a secret (`password`, `passwd`, `secret`,
 *   `*_secret`, `authorization`, `cookie`, `api_key`, `token`, `private_key`; see SECRET_KEY),
 *   in log objects, child bindings and errors alike, replaced by "***";
 * - credentials inside URLs (`postgres://user:pw@host`, `redis://:pw@host`, `https://tok@host`,
 *   `?token=`, `?key=`...), in any string value, error message or stack, and in the message
 *   itself, replaced by "***";
 * - message text, unless `log.message_text` is on: the values of the keys that carry it (`text`,
 *   `body`, `short_message`, `message_payload`, `payload`; see TEXT_KEY) become "[text hidden]".
 *   Numbers and booleans under those keys (a `payload: true` flag) stay.
 * Text that code writes into a free-form string (a message, a reason) cannot be told apart from
 * any other words; such call sites must not put it there.
 *
 * The level comes from `PARLEY_LOG_LEVEL`, else `LOG_LEVEL`, else the config (`log.level`): the
 * environment wins so that an operator can turn on debug without editing the file, the way
 * DATABASE_URL overrides database.url. `PARLEY_LOG_FORMAT=pretty` (or `json`) picks the output
 * when the caller does not; pino-pretty is not a dependency, the readable form is `formatLine`.
 */
import { pino, type DestinationStream, type LevelWithSilent } from 'pino';
import type { Logger } from '../lib/logger.ts';
import { redactUrlsInText } from '../lib/url-credentials.ts';

export interface LoggerOptions {
  /** The configured level (`log.level`); the environment may override it. */
  level: string;
  /** `log.message_text`: whether message texts may appear in logs. Default false. */
  messageText?: boolean;
  /** Readable lines (the demo) instead of JSON. Default: PARLEY_LOG_FORMAT=pretty, else JSON. */
  pretty?: boolean;
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream;
  /** Where PARLEY_LOG_LEVEL, LOG_LEVEL and PARLEY_LOG_FORMAT are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

const LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Keys whose values are secrets wherever they appear (case-insensitive, whole key). */
export const SECRET_KEY =
  /^(?:password|passwd|pwd|passphrase|secret|\w*[_-]?secret|authorization|proxy-authorization|cookie|set-cookie|api[_-]?key|token|access[_-]?token|refresh[_-]?token|private[_-]?key)$/i;

/** Keys whose values are message text (an outbound text, a customer's reply, a receipt's body, a raw payload). */
export const TEXT_KEY = /^(?:text|body|short_?message|shortMessage|message_?payload|messagePayload|payload|message_?text|messageText)$/i;

export const SECRET_CENSOR = '***';
export const TEXT_CENSOR = '[text hidden]';

/**
 * Hides the credentials of every URL in the string: passwords, an http(s) user name alone (a
 * token), query parameters like `?token=` or `?key=` (lib/url-credentials.ts, the one rule).
 */
export function scrubUrls(s: string): string {
  return redactUrlsInText(s);
}

const MAX_DEPTH = 12;

/**
 * A copy of `value` with secrets and (unless `messageText`) message text hidden. Errors become
 * plain objects in pino's shape (type, message, stack, code, cause). Cycles and depth are bounded.
 */
export function scrub(value: unknown, messageText = false): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubUrls(v);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[Circular]';
    if (depth > MAX_DEPTH) return '[too deep]';
    if (v instanceof Date) return v;
    seen.add(v);
    try {
      if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return v;
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (v instanceof Map) return walk(Object.fromEntries(v), depth);
      if (v instanceof Set) return walk([...v], depth);
      const out: Record<string, unknown> = {};
      if (v instanceof Error) {
        out.type = v.name;
        out.message = scrubUrls(v.message);
        if (v.stack) out.stack = scrubUrls(v.stack);
        if (v.cause !== undefined) out.cause = walk(v.cause, depth + 1);
      }
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function') continue;
        out[k] = hideByKey(k, x, messageText) ?? walk(x, depth + 1);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}

/** The censored value when the key says the value must not be logged, else undefined. */
function hideByKey(key: string, value: unknown, messageText: boolean): string | undefined {
  if (value === null || value === '') return undefined;
  if (SECRET_KEY.test(key)) return SECRET_CENSOR;
  if (!messageText && TEXT_KEY.test(key) && typeof value !== 'number' && typeof value !== 'boolean') return TEXT_CENSOR;
  return undefined;
}

/** The level to use: PARLEY_LOG_LEVEL, else LOG_LEVEL, else the configured one; unknown names are skipped. */
export function resolveLogLevel(configured: string, env: Readonly<Record<string, string | undefined>> = process.env): { level: LevelWithSilent; ignored: string[] } {
  const ignored: string[] = [];
  for (const [name, raw] of [
    ['PARLEY_LOG_LEVEL', env['PARLEY_LOG_LEVEL']],
    ['LOG_LEVEL', env['LOG_LEVEL']],
  ] as const) {
    const v = raw?.trim().toLowerCase();
    if (!v) continue;
    if ((LEVELS as readonly string[]).includes(v)) return { level: v as LevelWithSilent, ignored };
    ignored.push(`${name}=${JSON.stringify(raw)}`);
  }
  const c = configured.trim().toLowerCase();
  return { level: (LEVELS as readonly string[]).includes(c) ? (c as LevelWithSilent) : 'info', ignored };
}

export function createLogger(options: LoggerOptions): Logger {
  const env = options.env ?? process.env;
  const messageText = options.messageText ?? false;
  const { level, ignored } = resolveLogLevel(options.level, env);
  const format = env['PARLEY_LOG_FORMAT']?.trim().toLowerCase();
  const pretty = options.pretty ?? format === 'pretty';
  const target = options.destination ?? process.stdout;
  const destination: DestinationStream = pretty ? prettyStream(target) : (target as DestinationStream);
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `scrub` already turned errors into plain objects (type, message, stack, code, cause);
      // pino's own serializer would call them `Object`.
      serializers: { err: (e: unknown) => e },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => scrub(bindings, messageText) as Record<string, unknown>,
        log: (obj) => scrub(obj, messageText) as Record<string, unknown>,
      },
      hooks: {
        // The message itself (and any printf-style arguments): passwords inside URLs.
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? scrubUrls(a) : a)) as typeof args;
          method.apply(this, clean);
        },
      },
    },
    destination,
  );
  // pino applies `formatters.bindings` to the root's bindings only, not to a child's: every
  // child (children inherit this property from the root) scrubs its bindings itself.
  const pinoChild = logger.child;
  logger.child = function child(this: typeof logger, bindings, childOptions) {
    return pinoChild.call(this, scrub(bindings, messageText) as typeof bindings, childOptions);
  } as typeof logger.child;
  if (ignored.length > 0) logger.warn({ ignored, using: level }, 'unknown log level in the environment ignored');
  return logger as unknown as Logger;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<string, string> = { TRACE: '90', DEBUG: '36', INFO: '32', WARN: '33', ERROR: '31', FATAL: '35' };
const CONTEXT_KEYS = ['component', 'smsc', 'bind', 'route'];
const SKIPPED_KEYS = new Set(['time', 'level', 'msg', 'pid', 'hostname', ...CONTEXT_KEYS]);

/**
 * One readable line for a JSON log line: `12:00:01.234 INFO  [smsc carrier-a bind tx-1] msg key=value`.
 * Lines that are not JSON pass through unchanged.
 */
export function formatLine(line: string, colour = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const levelName = typeof o.level === 'number' ? (LEVEL_NAMES[o.level] ?? String(o.level)) : String(o.level ?? '').toUpperCase();
  const levelText = levelName.padEnd(5);
  const context = CONTEXT_KEYS.filter((k) => o[k] !== undefined)
    .map((k) => (k === 'component' ? String(o[k]) : `${k} ${String(o[k])}`))
    .join(' ');
  const fields = Object.entries(o)
    .filter(([k]) => !SKIPPED_KEYS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s|=|"/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const paint = (code: string | undefined, s: string): string => (colour && code ? `\u001b[${code}m${s}\u001b[0m` : s);
  return [paint('90', time), paint(COLOURS[levelName], levelText), context ? paint('90', `[${context}]`) : '', String(o.msg ?? ''), fields]
    .filter((s) => s !== '')
    .join(' ');
}

/** A pino destination that writes `formatLine` of each line to `target`. */
function prettyStream(target: NodeJS.WritableStream): DestinationStream {
  const colour = (target as { isTTY?: boolean }).isTTY === true && !process.env['NO_COLOR'];
  let pending = '';
  return {
    write(chunk: string): void {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line !== '') target.write(`${formatLine(line, colour)}\n`);
        nl = pending.indexOf('\n');
      }
    },
  };
}
