/**
 * What the CLI commands share: the `-c/--config` option, loading the configuration, exit codes,
 * printing, and turning connection errors into sentences an operator can act on.
 */
import type { Argv } from 'yargs';
import { ConfigError, loadConfig, resolveConfigFile, type ParleyConfig } from '../config/index.ts';
import { ParleyError, describeError } from '../lib/errors.ts';
import { withTimeout } from '../lib/timeout.ts';

/** 0 done, 1 failed (the reason is on stderr), 2 wrong usage or not available yet, 130 interrupted twice. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ConfigArgs {
  readonly config?: string | undefined;
}

export const CONFIG_OPTION = {
  alias: 'c',
  type: 'string',
  requiresArg: true,
  describe: 'configuration file (default: $PARLEY_CONFIG, else config/parley.yaml)',
} as const;

/** One CLI command: its yargs declaration and what it does, resolving to the exit code. */
export interface CliCommand<A = object> {
  readonly command: string;
  readonly describe: string;
  readonly builder: (y: Argv) => Argv<A>;
  run(args: A): Promise<ExitCode>;
}

/** Thrown by a command to stop with a message on stderr and an exit code (1 unless told). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/**
 * Characters that can take over a terminal or disguise text: C0 controls (ESC starts the escape
 * sequences that move the cursor, recolour, retitle the window), DEL, C1 controls (0x9B is a
 * one-byte CSI), and the bidi/format controls that reorder what is shown (U+202E...).
 */
const TERMINAL_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NEWLINE = /\n/g;

/**
 * `s` safe to print: every character above written as `\uXXXX` (the form JSON reads back, so
 * JSON output stays valid). Carrier and customer data (carrier ids, errors, texts, numbers) go
 * through it before `parley status`, `conversation` and `receipts` print them. With
 * `keepNewlines`, line breaks stay (a multi-line block Parley built, such as pretty JSON).
 */
export function escapeTerminal(s: string, keepNewlines = false): string {
  const escaped = s.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return keepNewlines ? escaped : escaped.replace(NEWLINE, '\\u000a');
}

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The configuration named by `-c`, `PARLEY_CONFIG` or the default file; a ConfigError becomes a CliFailure. */
export function loadCliConfig(args: ConfigArgs): ParleyConfig {
  try {
    return loadConfig({ file: args.config });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliFailure(e.message);
    throw e;
  }
}

/** The path of the configuration file a command reads, for messages. */
export function configPath(args: ConfigArgs): string {
  return resolveConfigFile({ file: args.config }).path;
}

/** `name on host:port` of a Postgres URL, without the user or password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `database ${decodeURIComponent(u.pathname.replace(/^\//, '')) || '(none)'} on ${u.host}`;
  } catch {
    return 'the configured database';
  }
}

/** `host:port` of a Redis URL, without credentials. */
export function describeRedis(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the configured Redis';
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
  severity?: string;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** An error from the Postgres server (it carries a SQLSTATE and a severity) or from reaching it. */
export function isDatabaseError(e: unknown): boolean {
  const x = e as PgLikeError | undefined;
  if (typeof x?.code !== 'string') return false;
  return typeof x.severity === 'string' || CONNECT_ERRORS.has(x.code);
}

/**
 * A sentence for an error met while talking to Postgres: an unknown database and an unmigrated
 * one each name the command that fixes them.
 */
export function explainDatabaseError(e: unknown, databaseUrl: string): string {
  const where = describeDatabase(databaseUrl);
  if (e instanceof ParleyError) return e.message;
  const code = (e as PgLikeError | undefined)?.code;
  const message = (e as PgLikeError | undefined)?.message ?? String(e);
  if (code === '3D000') return `${where} does not exist: run \`parley migrate\` (it creates the database and its tables)`;
  if (code === '42P01') return `${where} has no Parley tables: run \`parley migrate\` first`;
  if (code !== undefined && CONNECT_ERRORS.has(code)) {
    return `cannot reach Postgres for ${where}: ${message}`;
  }
  if (code === '28P01' || code === '28000') return `Postgres refused the login for ${where}: ${message}`;
  return `${where}: ${describeError(e)}`;
}

/** Rejects with a CliFailure when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  return withTimeout(promise, ms, () => new CliFailure(what()));
}

/** `12:00:01.234` (local time), for timelines read by a person. */
export function clock(at: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}.${p(at.getMilliseconds(), 3)}`;
}

/** `2025-03-01 12:00:01.234` (local time). */
export function dateTime(at: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${clock(at)}`;
}

/** A text shortened to `max` characters (code points) with an ellipsis, on one line. */
export function preview(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ');
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Installs SIGTERM/SIGINT handlers: the first signal calls `onFirst`; a second one exits at once
 * with 130. Returns a function that removes the handlers.
 */
export function onStopSignals(onFirst: (signal: NodeJS.Signals) => void, onSecond?: (signal: NodeJS.Signals) => void): () => void {
  let received = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (received) {
      onSecond?.(signal);
      process.exit(EXIT.interrupted);
    }
    received = true;
    onFirst(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
