/**
 * The demo's watcher: polls Postgres, the simulator's arrival log, the inbound stream and the
 * order-status service about the demo's customer, and prints what is new in time order; and the
 * tests on what it saw that decide when an act has played out.
 */
import type { ParleyConfig, SmscConfig } from '../../config/index.ts';
import type { StreamKeys } from '../../queue/keys.ts';
import type { RedisClient } from '../../queue/redis.ts';
import type { Simulator } from '../../simulator/index.ts';
import type { Db } from '../../store/db.ts';
import type { CustomerThread, ThreadInbound } from '../../domain/customer-thread.ts';
import type { MessageTimeline } from '../../domain/timeline.ts';
import { isFinalStatus } from '../../domain/status.ts';
import { Narrator, describeArrival, describeHandled, describeInboundEntry, describeOrderCall, describePart, describeStatusChange, type Happening } from './narration.ts';
import type { OrderService } from './order-service.ts';

const POLL_MS = 100;
/** Lines are held this long before printing, so that lines from different sources come out in time order. */
const SETTLE_MS = 250;

export interface Snapshot {
  readonly thread: CustomerThread;
  readonly timelines: ReadonlyMap<string, MessageTimeline>;
}

export interface WatcherOptions {
  readonly n: Narrator;
  readonly db: Db;
  readonly redis: RedisClient;
  readonly keys: StreamKeys;
  readonly sim: Simulator;
  readonly smsc: SmscConfig;
  readonly config: ParleyConfig;
  /** The customer, digits as stored. */
  readonly customer: string;
  readonly orders: OrderService | undefined;
  readonly read: Readers;
  stopped(): boolean;
}

/** The read-only queries the watcher polls (loaded lazily with the rest of the demo). */
export interface Readers {
  thread: typeof import('../../store/reports-conversation.ts').readCustomerThread;
  parts: typeof import('../../store/reports-conversation.ts').readCustomerParts;
  timelines: typeof import('../../store/timeline.ts').readMessageTimelines;
}

/**
 * Polls every source about the demo's customer and prints what is new, in time order: lines are
 * held for SETTLE_MS so that a slower source (a Postgres commit) still comes out before what it
 * caused (a PDU a moment later).
 */
export class Watcher {
  private readonly held: Happening[] = [];
  private readonly seen = new Set<string>();
  private lastArrival: number;
  private lastInbound = '0-0';
  private lastPart: string | undefined;
  private ordersSeen = 0;
  private snap: Snapshot | undefined;
  private wake = (): void => {};

  constructor(private readonly o: WatcherOptions) {
    this.lastArrival = o.sim.arrivalsSince(0).last;
  }

  /** Starts reading the inbound stream from now (entries of earlier runs are not this run's). */
  async start(): Promise<void> {
    const last = (await this.o.redis.xrevrange(this.o.keys.inbound, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.lastInbound = last[0]?.[0] ?? '0-0';
  }

  interrupt(): void {
    this.wake();
  }

  get snapshot(): Snapshot | undefined {
    return this.snap;
  }

  /** Polls and prints until `done` holds (then prints what is held) or the time runs out. */
  async until(done: (s: Snapshot) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let met = false;
    for (;;) {
      const s = await this.poll();
      this.print(false);
      if (done(s)) {
        met = true;
        break;
      }
      if (this.o.stopped() || Date.now() >= deadline) break;
      await this.pause(POLL_MS);
    }
    // What was just written may reach Postgres a moment later: one more look before printing all.
    await this.pause(SETTLE_MS);
    await this.poll();
    this.print(true);
    return met;
  }

  /** Watches for `ms` more (to show that nothing else happens), printing what does. */
  async watch(ms: number): Promise<void> {
    await this.until(() => false, ms);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private print(all: boolean): void {
    const cutoff = Date.now() - SETTLE_MS;
    const ready = all ? this.held.splice(0) : this.held.filter((h) => h.atMs <= cutoff);
    if (!all) {
      const rest = this.held.filter((h) => h.atMs > cutoff);
      this.held.length = 0;
      this.held.push(...rest);
    }
    this.o.n.happen(ready);
  }

  private once(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  async poll(): Promise<Snapshot> {
    const o = this.o;
    const [thread, parts] = await Promise.all([o.read.thread(o.db, o.customer, 1000), o.read.parts(o.db, o.customer, this.lastPart)]);
    const outIds = thread.entries.filter((e) => e.direction === 'out').map((e) => e.id);
    const timelines = new Map((await o.read.timelines(o.db, outIds)).map((t) => [t.message.id, t]));
    const snap: Snapshot = { thread, timelines };
    this.snap = snap;
    const items: Happening[] = [];

    for (const t of timelines.values()) {
      for (const h of t.history) {
        // Keyed by message too: every message's first event (queued) has event id 0.
        if (this.once(`event:${t.message.id}:${h.eventId}`)) items.push({ atMs: h.at.getTime(), line: describeStatusChange(t, h.status, h.previous, o.config), rank: 1 });
      }
      for (const r of t.receipts) {
        if (!this.once(`receipt:${r.receiptId}`)) continue;
        const total = t.segments.find((s) => s.seq === r.seq)?.total ?? 1;
        const part = r.seq === null || total === 1 ? '' : ` part ${r.seq}/${total} of`;
        items.push({
          atMs: r.receivedAt.getTime(),
          line: `<- deliver_sm (delivery receipt): carrier id ${r.smscMessageId}, ${r.state}${r.errorCode ? ` err ${r.errorCode}` : ''}; stored, matched to${part} ${t.message.id}`,
        });
      }
    }

    for (const p of parts) {
      this.lastPart = p.id;
      items.push({ atMs: p.receivedAt.getTime(), line: describePart(p, o.smsc) });
    }

    for (const e of thread.entries) {
      if (e.direction !== 'in' || e.status !== 'handled' || !this.once(`reply:${e.id}`)) continue;
      const answer = e.answerMessageId ? timelines.get(e.answerMessageId) : undefined;
      const queuedAt = answer?.history[0]?.at.getTime();
      const handledAt = e.handledAt?.getTime() ?? Date.now();
      items.push({ atMs: Math.min(handledAt, queuedAt ?? handledAt), line: describeHandled(e, answer, o.config) });
    }

    const { arrivals, last } = o.sim.arrivalsSince(this.lastArrival);
    this.lastArrival = last;
    for (const a of arrivals) items.push({ atMs: a.atMs, line: describeArrival(a, o.smsc, o.customer) });

    const entries = (await o.redis.xrange(o.keys.inbound, `(${this.lastInbound}`, '+')) as [string, string[]][];
    for (const [entryId, fields] of entries) {
      this.lastInbound = entryId;
      const line = describeInboundEntry(entryId, fields, o.keys.inbound, o.customer);
      if (line) items.push({ atMs: Number(entryId.split('-')[0]), line, rank: 1 });
    }

    if (o.orders) {
      for (; this.ordersSeen < o.orders.calls.length; this.ordersSeen++) {
        const c = o.orders.calls[this.ordersSeen];
        if (c) items.push({ atMs: c.atMs, line: describeOrderCall(c) });
      }
    }
    this.held.push(...items);
    return snap;
  }
}


export const isFinal = (t: MessageTimeline | undefined): boolean => t !== undefined && isFinalStatus(t.message.status);

/** Customer messages that arrived since the act began (not in `before`). */
export function newReplies(s: Snapshot, before: ReadonlySet<string>): ThreadInbound[] {
  return s.thread.entries.filter((e): e is ThreadInbound => e.direction === 'in' && !before.has(e.id));
}

/** `count` new customer messages are handled, and every answer they got has reached a final state. */
export function repliesSettled(s: Snapshot, before: ReadonlySet<string>, count: number): boolean {
  const replies = newReplies(s, before);
  return replies.length >= count && replies.every((r) => r.status === 'handled' && (r.answerMessageId === null || isFinal(s.timelines.get(r.answerMessageId))));
}

export function replyIds(s: Snapshot | undefined): Set<string> {
  return new Set((s?.thread.entries ?? []).filter((e) => e.direction === 'in').map((e) => e.id));
}

