/**
 * Tells a transient fault (a service down, restarting or failing over: retry the same work later
 * with backoff, never set it aside) from poison (this item can never be written: set it aside
 * with its reason so the items behind it go on). Every pipeline asks this one function, so a
 * Postgres restart pauses work everywhere and a NUL byte in one message jams nothing.
 *
 * It reads error codes only (SQLSTATE from pg, errno-style codes from node's sockets, ioredis's
 * messages), so `lib/` stays free of the packages themselves.
 */

export type FaultKind = 'transient' | 'poison';

/** Node socket errors: the peer is gone or not there yet. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTCONN',
]);

/**
 * SQLSTATE classes and codes that say "the server, not the item": connection exceptions (08),
 * insufficient resources (53), operator intervention (57: admin shutdown 57P01, crash shutdown
 * 57P02, cannot connect now 57P03 while starting or in recovery), system errors (58), and the
 * retryable transaction outcomes (serialization failure 40001, deadlock 40P01, lock not
 * available 55P03, read-only transaction 25006 on a replica that was just demoted).
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58']);
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '25006']);

/** Messages of errors that carry no code: pg's client and pool, ioredis. */
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /max retries per request/i,
  /LOADING Redis is loading/i,
  /MASTERDOWN/,
  /READONLY You can't write against a read only replica/i,
  /TRYAGAIN/,
  /CLUSTERDOWN/,
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Transient when this error, or any error in its `cause` chain, is a service fault. */
export function classifyFault(err: unknown): FaultKind {
  for (let e: unknown = err, depth = 0; e != null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e);
    if (code !== undefined) {
      if (NETWORK_CODES.has(code)) return 'transient';
      if (/^[0-9A-Z]{5}$/.test(code) && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2)))) {
        return 'transient';
      }
    }
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) return 'transient';
    // AggregateError (pg's connect to several addresses) is transient when all its parts are.
    if (e instanceof AggregateError && e.errors.length > 0 && e.errors.every((part) => classifyFault(part) === 'transient')) {
      return 'transient';
    }
  }
  return 'poison';
}

export function isTransientFault(err: unknown): boolean {
  return classifyFault(err) === 'transient';
}
