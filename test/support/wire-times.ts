/**
 * When submit_sm PDUs reached the SMSC, bounded from both sides, and the sliding-window count the
 * rate tests check.
 *
 * The simulator stamps a PDU when its event loop reads it; a stall of that process (GC, a busy
 * 2-core machine) stamps everything read after the stall late and crowds earlier arrivals into one
 * later second (234 in a window vs the limit 220). On loopback a PDU reaches the SMSC's socket
 * buffer inside the sender's write call: the session never lets more than its window of PDUs (100,
 * ~10 kB) go unanswered, far less than a loopback socket buffer, so nothing waits in user space for
 * the peer to read; the octets go to the kernel in the write, or, when the socket is corked (the
 * session corks a tick's writes and flushes them on the next tick), in the uncork. So each PDU's
 * arrival lies between a stamp right before that call and the earlier of a stamp right after it
 * and the simulator's read. Neither side alone is exact under load: the OS may run the woken
 * reader before the writer returns from its write (stamps after the call were seen up to 60 ms
 * after the simulator had read the PDU), and the reader may be the one kept waiting.
 * `arrivalUpperBound` takes the earliest evidence that the PDU had arrived: late only when both
 * processes were held up at once.
 */
import net from 'node:net';
import { appendFileSync, readFileSync } from 'node:fs';

/**
 * Milliseconds since the epoch with performance.now()'s resolution, on the same clock in every
 * process. performance.timeOrigin is not that: it was seen up to 14 ms off Date.now() in processes
 * started on a loaded machine, which put a daemon's write after the simulator's read of it.
 * Date.now() counts whole milliseconds, so the offset is the largest Date.now() - performance.now()
 * over a few hundred samples (each is at most 1 ms below the true offset).
 */
const offset = ((): number => {
  let best = -Infinity;
  for (let i = 0; i < 500; i++) best = Math.max(best, Date.now() - performance.now());
  return best;
})();

export function wallClockMs(): number {
  return performance.now() + offset;
}

/** A stamp this process took as performance.timeOrigin + performance.now() (the simulator's arrivals), on `wallClockMs`'s clock. */
export function toWallClockMs(originStampMs: number): number {
  return originStampMs - performance.timeOrigin + offset;
}

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
  /** `wallClockMs()` right after each submit_sm/data_sm was handed to the kernel. */
  readonly times: number[];
  stop(): void;
}

/**
 * Stamps every submit_sm and data_sm this process writes to any socket (Parley's session writes one
 * encoded PDU per `socket.write`), right before and right after the call that hands it to the
 * kernel: the write itself, or the uncork when the socket is corked. Test-only instrumentation of
 * net.Socket, undone by `stop()`.
 */
export function recordSubmitWrites(onWrite?: (beforeMs: number, afterMs: number, pdu: Buffer) => void): SubmitWrites {
  const times: number[] = [];
  const proto = net.Socket.prototype as unknown as { write: (...args: unknown[]) => boolean; uncork: () => void };
  const original = { write: proto.write, uncork: proto.uncork };
  // Submits written while the socket is corked: they reach the kernel when it is uncorked.
  const corked = new WeakMap<net.Socket, Buffer[]>();
  const stamp = (before: number, pdu: Buffer): void => {
    const after = wallClockMs();
    times.push(after);
    onWrite?.(before, after, pdu);
  };
  proto.write = function (this: net.Socket, ...args: unknown[]): boolean {
    const chunk = args[0];
    const isSubmit = Buffer.isBuffer(chunk) && chunk.length >= 16 && [SUBMIT_SM, DATA_SM].includes(chunk.readUInt32BE(4));
    if (isSubmit && this.writableCorked > 0) {
      const held = corked.get(this) ?? [];
      held.push(chunk as Buffer);
      corked.set(this, held);
    }
    const before = wallClockMs();
    const result = original.write.apply(this, args);
    if (isSubmit && this.writableCorked === 0) stamp(before, chunk as Buffer);
    return result;
  };
  proto.uncork = function (this: net.Socket): void {
    const before = wallClockMs();
    original.uncork.apply(this);
    const held = corked.get(this);
    if (this.writableCorked === 0 && held) {
      corked.delete(this);
      for (const pdu of held) stamp(before, pdu);
    }
  };
  return {
    times,
    stop: () => {
      proto.write = original.write;
      proto.uncork = original.uncork;
    },
  };
}

export interface WireWrite {
  /** Right before the call that handed the PDU to the kernel: it cannot have arrived earlier. */
  readonly beforeMs: number;
  /** Right after that call: it had arrived by then (a late stamp if the OS ran the reader first). */
  readonly afterMs: number;
  /** The first match of the tag pattern in the PDU's octets (e.g. the message's own `scale 17`). */
  readonly tag: string;
}

/**
 * The same in a daemon child process: each PDU's stamps, with the first match of `tag` in the PDU
 * (read as latin1, which the unpacked GSM default alphabet of plain ASCII text is), are appended to
 * `file` every 200 ms and on `flush()`, so the test reads them after the run even if it kills the child.
 */
export function logSubmitWritesTo(file: string, tag: RegExp): { flush(): void } {
  let pending: string[] = [];
  recordSubmitWrites((before, after, pdu) => pending.push(`${before.toFixed(3)} ${after.toFixed(3)} ${tag.exec(pdu.toString('latin1'))?.[0] ?? ''}`));
  const flush = (): void => {
    if (pending.length === 0) return;
    const lines = pending.join('\n') + '\n';
    pending = [];
    appendFileSync(file, lines);
  };
  setInterval(flush, 200).unref();
  return { flush };
}

/** The earliest evidence the PDU had reached the SMSC: the sender's stamp after the write, or the simulator's read. */
export function arrivalUpperBound(write: WireWrite, simulatorReadMs: number): number {
  return Math.min(write.afterMs, simulatorReadMs);
}

/** What `logSubmitWritesTo` wrote. */
export function readWireLog(file: string): WireWrite[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [before, after, ...tag] = line.split(' ');
      return { beforeMs: Number(before), afterMs: Number(after), tag: tag.join(' ') };
    });
}
