/**
 * Time, in one place: sleeping (waking early on abort) and giving up on a promise after a while.
 * Built on the global setTimeout, looked up at each call, rather than node:timers/promises: the
 * global timers are the ones vitest's fake timers replace, so a test drives every wait here with
 * vi.useFakeTimers() and no injection; code that wants its own time takes a `Clock`.
 */

/** Resolves with `value` after `ms`, or rejects with the signal's reason when it aborts first. */
function delay<T>(ms: number, value: T, options: { signal?: AbortSignal; ref?: boolean }): Promise<T> {
  const { signal } = options;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    }, ms);
    if (options.ref === false) (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface Clock {
  /** Milliseconds since the epoch (Date.now()). */
  now(): number;
  /** Resolves true after `ms`, or false as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

/**
 * Sleeps for `ms`, waking early (resolving false) when the signal aborts. `ref: false` lets the
 * process exit meanwhile (a grace period nobody must wait for).
 */
export async function sleep(ms: number, signal?: AbortSignal, options: { ref?: boolean } = {}): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, { signal, ref: options.ref ?? true });
    return true;
  } catch (err) {
    if (signal?.aborted) return false;
    throw err;
  }
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

/**
 * Settles as `work` does, or resolves with `fallback` when it takes longer than `ms`. The timer
 * does not keep the process alive and is cleared as soon as `work` settles; `work` itself goes on
 * (a timeout abandons it, it cannot cancel it).
 */
export async function orTimeout<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  const timer = new AbortController();
  try {
    return await Promise.race([work, delay(ms, fallback, { signal: timer.signal, ref: false })]);
  } finally {
    timer.abort();
  }
}

const TIMED_OUT: unique symbol = Symbol('timed out');

/** Settles as `work` does, or rejects with `onTimeout()` when it takes longer than `ms` (see orTimeout). */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const result = await orTimeout(work, ms, TIMED_OUT);
  if (result === TIMED_OUT) throw onTimeout();
  return result;
}
