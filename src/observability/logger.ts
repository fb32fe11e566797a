/**
 * The pino logger. JSON to stdout; passwords never appear (redacted by path wherever they are
 * logged), and message text only when `log.message_text` is on.
 */
import { pino } from 'pino';
import type { Logger } from '../lib/logger.ts';

export interface LoggerOptions {
  level: string;
  /** Pretty, human-readable lines (the demo) instead of JSON. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'config.smscs[*].password',
  'headers.authorization',
];

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '***' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
  return logger as unknown as Logger;
}
