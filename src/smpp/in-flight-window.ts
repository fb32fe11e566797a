/**
 * The requests a session has sent and not yet seen answered: their sequence numbers, deadlines and
 * callers, and the callers waiting for room in the window. Every request leaves it exactly once:
 * answered (`take`), timed out (`expire`) or failed when the connection ends (`failAll`).
 */
import type { CommandName } from './commands.ts';
import type { Pdu } from './pdu.ts';
import { SmppSessionError } from './session-types.ts';
import { sleep } from '../lib/timeout.ts';

export interface Pending {
  readonly command: CommandName;
  readonly deadline: number;
  resolve(pdu: Pdu): void;
  reject(err: SmppSessionError): void;
}

const MAX_SEQUENCE = 0x7fffffff;

export class InFlightWindow {
  private readonly pending = new Map<number, Pending>();
  private nextSequence = 1;
  private waiters: (() => void)[] = [];

  constructor(private readonly responseTimeoutMs: number) {}

  /** Requests sent and not yet answered. */
  get size(): number {
    return this.pending.size;
  }

  allocateSequence(): number {
    // 1..0x7FFFFFFF, wrapping, skipping any number still awaiting its response.
    for (;;) {
      const seq = this.nextSequence;
      this.nextSequence = seq >= MAX_SEQUENCE ? 1 : seq + 1;
      if (!this.pending.has(seq)) return seq;
    }
  }

  setNextSequence(seq: number): void {
    this.nextSequence = seq;
  }

  track(sequence: number, pending: Pending): void {
    this.pending.set(sequence, pending);
  }

  take(sequence: number): Pending | undefined {
    const pending = this.pending.get(sequence);
    if (!pending) return undefined;
    this.pending.delete(sequence);
    if (this.waiters.length > 0) this.releaseWaiters();
    return pending;
  }

  /** Resolves at the next release (a response, a bind, the end of the session). */
  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Fails every request whose response is overdue. */
  expire(now: number): void {
    for (const [seq, pending] of this.pending) {
      // Insertion order is deadline order (one timeout for all), so stop at the first live one.
      if (pending.deadline > now) break;
      this.take(seq);
      pending.reject(new SmppSessionError('response_timeout', `no ${pending.command}_resp within ${this.responseTimeoutMs} ms`));
    }
  }

  /** The connection ended: every request fails with connection_closed. Returns how many did. */
  failAll(reason: string): number {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.reject(new SmppSessionError('connection_closed', `connection ended before ${p.command}_resp (${reason})`));
    }
    this.releaseWaiters();
    return pending.length;
  }

  /** Waits until no request is outstanding, the session ends or the time is up. Returns what is left. */
  async drain(timeoutMs: number, isClosed: () => boolean): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 && !isClosed() && Date.now() < until) {
      await sleep(Math.min(20, Math.max(1, until - Date.now())));
    }
    return this.pending.size;
  }
}
