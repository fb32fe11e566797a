/**
 * When submit_sm PDUs go on the wire, seen from the sending side, and the sliding-window count the
 * rate tests check.
 *
 * Why the sender's clock: on loopback a socket write hands the octets to the receiver's socket
 * buffer inside the write itself, so the moment Parley writes a submit_sm is the moment it reaches
 * the SMSC's host. The simulator can only stamp a PDU when its event loop reads it; a stall of that
 * process (GC, a busy 2-core machine) stamps everything read after the stall late and crowds a
 * second's worth of earlier arrivals into a later window. The session never lets more than its
 * window of PDUs (100 here, ~10 kB) go unanswered, far less than a loopback socket buffer, so a
 * write never waits in user space for the peer to read: it reaches the peer in the tick it was made
 * (the session corks a tick's writes and flushes them on the next tick).
 */
import net from 'node:net';
import { appendFileSync } from 'node:fs';

const SUBMIT_SM = 0x00000004;
const DATA_SM = 0x00000103;

/** Most stamps in any window of `windowMs` (sliding over every stamp). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** The busiest window of `windowMs`: how many stamps and when it starts. */
export function busiestWindow(times: readonly number[], windowMs: number): { count: number; startMs: number } {
  const t = [...times].sort((a, b) => a - b);
  let best = { count: 0, startMs: t[0] ?? 0 };
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, startMs: t[lo]! };
  }
  return best;
}

export interface SubmitWrites {
  /** Epoch milliseconds (performance.timeOrigin + performance.now()) of each submit_sm/data_sm written. */
  readonly times: number[];
  stop(): void;
}

/**
 * Stamps every submit_sm and data_sm this process writes to any socket (Parley's session writes one
 * encoded PDU per `socket.write`). Test-only instrumentation of net.Socket, undone by `stop()`.
 */
export function recordSubmitWrites(onWrite?: (atMs: number) => void): SubmitWrites {
  const times: number[] = [];
  const proto = net.Socket.prototype as unknown as { write: (...args: unknown[]) => boolean };
  const original = proto.write;
  proto.write = function (this: net.Socket, ...args: unknown[]): boolean {
    const chunk = args[0];
    if (Buffer.isBuffer(chunk) && chunk.length >= 16) {
      const id = chunk.readUInt32BE(4);
      if (id === SUBMIT_SM || id === DATA_SM) {
        const at = performance.timeOrigin + performance.now();
        times.push(at);
        onWrite?.(at);
      }
    }
    return original.apply(this, args);
  };
  return {
    times,
    stop: () => {
      proto.write = original;
    },
  };
}

/**
 * The same in a daemon child process: the stamps are appended to `file` (one per line) every
 * 200 ms and on `flush()`, so the test reads them after the run even if it kills the child.
 */
export function logSubmitWritesTo(file: string): { flush(): void } {
  let pending: number[] = [];
  recordSubmitWrites((at) => pending.push(at));
  const flush = (): void => {
    if (pending.length === 0) return;
    const lines = pending.map((t) => t.toFixed(3)).join('\n') + '\n';
    pending = [];
    appendFileSync(file, lines);
  };
  setInterval(flush, 200).unref();
  return { flush };
}
