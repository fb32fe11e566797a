/**
 * Everything the simulator sends to ESMEs (receipts and customer replies), kept until the ESME
 * answers deliver_sm_resp with ESME_ROK:
 * - sent round-robin over the receiving binds (RX or TRX) of the target system_id, or of any
 *   system when the item has no target, as far as each bind's window allows;
 * - a bind that closes with deliver_sm outstanding (the daemon killed between receipt and commit)
 *   puts them back at the head of the queue, to go on the next receiving bind;
 * - an error status, a generic_nack or no answer within the session's response timeout sends it
 *   again after `retryMs` (through the caller's timeline, `retryLater`).
 * Sending is driven by one flush per event-loop turn, never by a timer per item.
 */
import { ESME_ROK } from '../smpp/command-status.ts';
import type { PduInit } from '../smpp/pdu.ts';
import type { SmppSession, SmppSessionError } from '../smpp/session.ts';
import { Deque } from '../lib/deque.ts';

export type OutKind = 'receipt' | 'reply';

export interface OutItem {
  readonly kind: OutKind;
  /** Receiving binds of this system_id only; any receiving bind when undefined. */
  readonly target: string | undefined;
  readonly fields: PduInit<'deliver_sm'>;
  attempts: number;
  settled: boolean;
  /** The outbox generation it belongs to: a reset drops older items when they come back. */
  generation: number;
  /** Once: true when acknowledged with ESME_ROK, false when discarded (reset, stop, unencodable). */
  readonly settle?: (acked: boolean) => void;
  /** After the first attempt's outcome, whatever it was (receiptBeforeResponse waits for it). */
  onFirstOutcome?: () => void;
}

/** A bound RX/TRX session the outbox may send to. */
export interface Receiver {
  readonly id: string;
  readonly systemId: string;
  readonly session: SmppSession;
}

export type AttemptOutcome = 'acked' | 'refused' | 'unanswered' | 'connection_lost' | 'unencodable';

export interface OutboxHooks {
  /** Put the item back with `requeue` after the retry delay. */
  retryLater(item: OutItem): void;
  onSent(item: OutItem, receiver: Receiver): void;
  onOutcome(item: OutItem, receiver: Receiver, outcome: AttemptOutcome, detail: string): void;
}

const ANY = '\u0000any';

export class Outbox {
  private readonly queues = new Map<string, Deque<OutItem>>();
  private readonly all: Receiver[] = [];
  private readonly bySystem = new Map<string, Receiver[]>();
  private readonly cursor = new Map<string, number>();
  private readonly unsettled: Record<OutKind, number> = { receipt: 0, reply: 0 };
  /** Sent and not answered yet. */
  private readonly inFlight = new Set<OutItem>();
  private flushScheduled = false;
  private generation = 0;
  private closed = false;

  constructor(private readonly hooks: OutboxHooks) {}

  /** Items not yet acknowledged (queued, waiting for a retry, or in flight). */
  pending(kind: OutKind): number {
    return this.unsettled[kind];
  }

  /** Items waiting for a receiving bind with room. */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Items queued or in flight, not yet acknowledged (what a restarted SMSC must still send). Items waiting for a retry are the caller's. */
  unsettledItems(): OutItem[] {
    const out: OutItem[] = [];
    for (const q of this.queues.values()) for (const item of q.toArray()) if (!item.settled) out.push(item);
    for (const item of this.inFlight) if (!item.settled) out.push(item);
    return out;
  }

  get receivers(): readonly Receiver[] {
    return this.all;
  }

  addReceiver(receiver: Receiver): void {
    this.all.push(receiver);
    const list = this.bySystem.get(receiver.systemId);
    if (list) list.push(receiver);
    else this.bySystem.set(receiver.systemId, [receiver]);
    this.scheduleFlush();
  }

  removeReceiver(receiver: Receiver): void {
    const i = this.all.indexOf(receiver);
    if (i >= 0) this.all.splice(i, 1);
    const list = this.bySystem.get(receiver.systemId);
    const j = list ? list.indexOf(receiver) : -1;
    if (list && j >= 0) list.splice(j, 1);
    if (list && list.length === 0) this.bySystem.delete(receiver.systemId);
  }

  /** A new item, sent on the next flush. */
  add(kind: OutKind, target: string | undefined, fields: PduInit<'deliver_sm'>, settle?: (acked: boolean) => void): OutItem {
    const item: OutItem = { kind, target, fields, attempts: 0, settled: false, generation: this.generation, settle };
    if (this.closed) {
      settle?.(false);
      return item;
    }
    this.unsettled[kind]++;
    this.queueOf(target).push(item);
    this.scheduleFlush();
    return item;
  }

  /**
   * A new item sent at once when a receiving bind has room (so that it is written before whatever
   * the caller writes next), queued otherwise. Returns whether it went.
   */
  addNow(
    kind: OutKind,
    target: string | undefined,
    fields: PduInit<'deliver_sm'>,
    onFirstOutcome: () => void,
    settle?: (acked: boolean) => void,
  ): boolean {
    const item: OutItem = { kind, target, fields, attempts: 0, settled: false, generation: this.generation, settle, onFirstOutcome };
    if (this.closed) {
      settle?.(false);
      return false;
    }
    this.unsettled[kind]++;
    const queue = this.queueOf(target);
    const receiver = queue.length === 0 ? this.pick(target) : undefined;
    if (receiver) {
      this.send(item, receiver);
      return true;
    }
    item.onFirstOutcome = undefined;
    queue.push(item);
    this.scheduleFlush();
    return false;
  }

  /** An item back from its retry delay. */
  requeue(item: OutItem): void {
    if (this.closed || item.generation !== this.generation) {
      this.discard(item);
      return;
    }
    this.queueOf(item.target).push(item);
    this.scheduleFlush();
  }

  /** Drops everything not yet acknowledged (items in flight are dropped when they come back). */
  discardAll(): void {
    this.generation++;
    for (const q of this.queues.values()) for (const item of q.drain()) this.settleOnce(item, false);
    this.queues.clear();
  }

  /** Discards everything and refuses new items. */
  close(): void {
    this.closed = true;
    this.discardAll();
  }

  /** Drops an item that was scheduled elsewhere (a retry on the caller's timeline). */
  discard(item: OutItem): void {
    this.settleOnce(item, false);
  }

  flush(): void {
    for (const [key, queue] of this.queues) {
      const target = key === ANY ? undefined : key;
      while (queue.length > 0) {
        const receiver = this.pick(target);
        if (!receiver) break;
        this.send(queue.shift() as OutItem, receiver);
      }
    }
  }

  private queueOf(target: string | undefined): Deque<OutItem> {
    const key = target ?? ANY;
    let q = this.queues.get(key);
    if (!q) {
      q = new Deque<OutItem>();
      this.queues.set(key, q);
    }
    return q;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** The next receiving bind with room, round-robin. */
  private pick(target: string | undefined): Receiver | undefined {
    const key = target ?? ANY;
    const list = target === undefined ? this.all : this.bySystem.get(target);
    if (!list || list.length === 0) return undefined;
    const n = list.length;
    const start = (this.cursor.get(key) ?? 0) % n;
    for (let i = 0; i < n; i++) {
      const r = list[(start + i) % n] as Receiver;
      if (r.session.freeWindow > 0) {
        this.cursor.set(key, (start + i + 1) % n);
        return r;
      }
    }
    return undefined;
  }

  private send(item: OutItem, receiver: Receiver): void {
    item.attempts++;
    this.inFlight.add(item);
    this.hooks.onSent(item, receiver);
    receiver.session.request('deliver_sm', item.fields).then(
      (resp) => {
        if (resp.command_status === ESME_ROK) this.after(item, receiver, 'acked', 'ESME_ROK');
        else this.after(item, receiver, 'refused', `command_status 0x${resp.command_status.toString(16)}`);
      },
      (err: SmppSessionError) => {
        const code = err.code;
        if (code === 'connection_closed' || code === 'not_bound' || code === 'window_full') this.after(item, receiver, 'connection_lost', err.message);
        else if (code === 'encode_failed') this.after(item, receiver, 'unencodable', err.message);
        else this.after(item, receiver, code === 'response_timeout' ? 'unanswered' : 'refused', err.message);
      },
    );
  }

  private after(item: OutItem, receiver: Receiver, outcome: AttemptOutcome, detail: string): void {
    this.inFlight.delete(item);
    const first = item.onFirstOutcome;
    item.onFirstOutcome = undefined;
    first?.();
    this.hooks.onOutcome(item, receiver, outcome, detail);
    if (outcome === 'acked') {
      this.settleOnce(item, true);
    } else if (outcome === 'unencodable' || this.closed || item.generation !== this.generation) {
      this.settleOnce(item, false);
    } else if (outcome === 'connection_lost') {
      this.queueOf(item.target).unshift(item);
    } else {
      this.hooks.retryLater(item);
    }
    this.scheduleFlush();
  }

  private settleOnce(item: OutItem, acked: boolean): void {
    if (item.settled) return;
    item.settled = true;
    this.unsettled[item.kind]--;
    item.settle?.(acked);
  }
}
