/**
 * The one rule of every pipeline, for a write of several items: on a transient fault
 * (`classifyFault`), wait with backoff and write the same items again; on poison, split the items
 * in halves until the failing one is alone, set it aside with the error, and write the rest. A
 * fault met while splitting retries only the chunk it hit, so nothing already written is written
 * twice. `Batcher` writes this way; pipelines that batch on their own (intake, reply handling)
 * call it directly.
 */
import type { Backoff } from './backoff.ts';
import { classifyFault, type FaultKind } from './faults.ts';
import { sleep } from './timeout.ts';

export interface SplitOptions<T> {
  write(items: T[]): Promise<void>;
  /** A chunk written (in order: earlier items first). */
  onWritten?(items: readonly T[]): void;
  /** Sets one poison item aside; retried with backoff when it throws, so the item is never dropped. */
  setAside(item: T, err: unknown): Promise<void>;
  /** Told of every failure, before the retry or the split. */
  onError?(err: unknown, items: number, attempt: number): void;
  classify?(err: unknown): FaultKind;
  readonly backoff: Backoff;
  /** When aborted, a transient fault is thrown instead of waited out (the caller stops). */
  readonly signal?: AbortSignal;
}

export async function writeSplittingPoison<T>(items: readonly T[], o: SplitOptions<T>): Promise<void> {
  const classify = o.classify ?? classifyFault;
  // Chunks still to write, the next on top: a split pushes the second half, then the first.
  const stack: T[][] = items.length > 0 ? [[...items]] : [];
  let attempt = 0;
  const pause = async (err: unknown): Promise<void> => {
    // Stopping: the caller gives up on the rest (it stays pending at its source) instead of waiting.
    if (o.signal?.aborted || !(await sleep(o.backoff.next(), o.signal))) throw err;
  };
  while (stack.length > 0) {
    const chunk = stack[stack.length - 1]!;
    try {
      await o.write(chunk);
      stack.pop();
      o.backoff.reset();
      attempt = 0;
      o.onWritten?.(chunk);
      continue;
    } catch (err) {
      attempt++;
      o.onError?.(err, chunk.length, attempt);
      if (classify(err) === 'transient') {
        await pause(err);
        continue;
      }
      stack.pop();
      attempt = 0;
      if (chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        stack.push(chunk.slice(half), chunk.slice(0, half));
        continue;
      }
      for (let asideAttempt = 1; ; asideAttempt++) {
        try {
          await o.setAside(chunk[0]!, err);
          o.backoff.reset();
          break;
        } catch (asideErr) {
          o.onError?.(asideErr, 1, asideAttempt);
          await pause(asideErr);
        }
      }
    }
  }
}
