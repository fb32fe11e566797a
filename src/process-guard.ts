/**
 * The last line: an error nothing handled (a rejection nobody awaited, an exception thrown from a
 * callback, an 'error' event without a listener) never ends the process abruptly mid-batch.
 *
 * Each one is logged and counted. A transient service fault (a connection that died: see
 * lib/faults.ts) leaves nothing half-done that its owner does not retry, so the daemon runs on.
 * Anything else may have left memory inconsistent: the daemon is stopped through the orderly
 * stop (intake first, windows drained, writers flushed) and exits non-zero so the supervisor
 * restarts it from what Postgres holds.
 */
import type { Logger } from './lib/logger.ts';
import { describeError } from './lib/errors.ts';
import { classifyFault } from './lib/faults.ts';

export type InternalErrorKind = 'unhandled_rejection' | 'uncaught_exception';

export interface ProcessGuardOptions {
  readonly logger: Logger;
  /** Counts the error (parley_internal_errors_total). */
  count(kind: InternalErrorKind): void;
  /** Starts the orderly stop with a non-zero exit; called at most once. */
  stopFailed(reason: string): void;
  /** The process to guard; tests pass an EventEmitter of their own. */
  readonly target?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard(options: ProcessGuardOptions): () => void {
  const target = options.target ?? process;
  const log = options.logger.child({ component: 'process-guard' });
  let stopping = false;
  const seen = (kind: InternalErrorKind, err: unknown): void => {
    options.count(kind);
    const stack = err instanceof Error ? err.stack : undefined;
    if (classifyFault(err) === 'transient') {
      log.error({ kind, err: describeError(err), stack }, 'unhandled service fault; its owner retries the work, the daemon runs on');
      return;
    }
    if (stopping) {
      log.error({ kind, err: describeError(err), stack }, 'unhandled error while stopping');
      return;
    }
    stopping = true;
    log.error({ kind, err: describeError(err), stack }, 'unhandled error: state may be inconsistent; stopping in order and exiting non-zero');
    options.stopFailed(`${kind}: ${describeError(err)}`);
  };
  const onRejection = (reason: unknown): void => seen('unhandled_rejection', reason);
  const onException = (err: unknown): void => seen('uncaught_exception', err);
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}
