/**
 * Reads the outbound stream in batches and makes each entry durable: valid messages are inserted
 * in Postgres (one transaction per batch) and only then acknowledged; invalid ones go to the
 * dead-letter stream with their reason. Entries left pending by a daemon that died are taken over
 * the moment its heartbeat says so (`takeOver`), and any others after `claimIdleMs`. A batch that
 * cannot be stored is retried, never dropped.
 */
import type { Logger } from '../lib/logger.ts';
import { Backoff } from '../lib/backoff.ts';
import { sleep } from '../lib/timeout.ts';
import { describeError } from '../lib/errors.ts';
import { isTransientFault } from '../lib/faults.ts';
import type { Progress } from '../lib/progress.ts';
import { DEFAULT_PAYLOAD_LIMITS, parseOutboundPayload, type PayloadLimits } from '../domain/message.ts';
import type { DefaultAlphabet } from '../config/types.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import type { StatusChange } from '../domain/events.ts';
import type { Router } from './router.ts';
import type { DispatchJob } from './dispatcher.ts';
import { decideRoutes, type RoutedInput } from './routing-decision.ts';
import { storeReusedIds, storeSplittingPoison, type IntakeStore } from './intake-storage.ts';

export type { RoutedInput } from './routing-decision.ts';
export type { IntakeStore } from './intake-storage.ts';

export interface IntakeEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface IntakeDeadLetter {
  readonly entry: IntakeEntry;
  readonly code: string;
  readonly reason: string;
}

export interface IntakeStream {
  readNew(count: number, blockMs: number): Promise<IntakeEntry[]>;
  readOwnPending(count: number): Promise<IntakeEntry[]>;
  claimStale(minIdleMs: number, count: number): Promise<IntakeEntry[]>;
  /** Takes over the entries a dead daemon (consumer) holds, at once. */
  claimFrom(consumer: string, count: number): Promise<IntakeEntry[]>;
  settle(ackIds: readonly string[], dead: readonly IntakeDeadLetter[]): Promise<void>;
}

export interface IntakeOptions {
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  /** Messages the dispatcher may hold before intake stops reading (Redis keeps the rest). */
  readonly maxBacklog: number;
  /** Limits on metadata (and conversation tags): size in bytes of JSON and nesting depth. */
  readonly payloadLimits?: PayloadLimits;
}

export interface IntakeDeps {
  readonly stream: IntakeStream;
  readonly store: IntakeStore;
  readonly router: Router;
  /** The default alphabet of a route's first SMSC, to count parts the way it will split. */
  alphabetFor(route: string): DefaultAlphabet;
  readonly dispatcher: { enqueue(jobs: readonly DispatchJob[]): void; readonly backlog: number };
  publishCommitted(changes: readonly StatusChange[]): void;
  /**
   * Whether this daemon takes work from the shared stream now: false while it may bind no SMSC at
   * all (every one it knows is capped by `max_binds` and leased to other daemons). Absent: always.
   */
  canTake?(): boolean;
  /**
   * Marks the messages that must wait (payload send_at, quiet hours) with their `hold`; they are
   * stored but not dispatched, and released later (`schedule.ts`). Absent: everything goes now.
   */
  readonly scheduler?: { plan(messages: readonly RoutedMessage[]): Promise<RoutedMessage[]> };
  readonly logger: Logger;
  /** Told of entries read and settled (health: a stalled intake). */
  readonly progress?: Progress;
  readonly observer?: {
    onBatch?(entries: number, inserted: number, duplicates: number, dead: number): void;
    onDeadLetter?(code: string): void;
  };
}

export interface BatchOutcome {
  readonly inserted: number;
  readonly duplicates: number;
  readonly dead: readonly IntakeDeadLetter[];
}

const MAX_BATCHES_IN_FLIGHT = 2;

export class Intake {
  private readonly log: Logger;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  /** Backoff of transient store faults met while a batch is split to find a poison entry. */
  private readonly storeBackoff = new Backoff(100, 10_000);

  constructor(
    private readonly deps: IntakeDeps,
    private readonly options: IntakeOptions,
  ) {
    this.log = deps.logger.child({ component: 'intake' });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading; the batch being stored is finished and acknowledged first. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    // Capped at 5 s: after Postgres or Redis comes back, intake resumes within seconds.
    const backoff = new Backoff(100, 5_000);
    let nextClaim = 0;
    let ownPendingDone = false;
    let retrying = false;
    // Two batches may be in flight: the next is read and validated while the last is written.
    const inFlight = new Set<Promise<void>>();
    let failed = false;
    while (!signal.aborted) {
      try {
        if (failed) {
          failed = false;
          const delay = backoff.next();
          await sleep(delay, signal);
          // Whatever this consumer read and did not settle is re-read from its own pending list.
          ownPendingDone = false;
          retrying = true;
          continue;
        }
        if (this.deps.canTake && !this.deps.canTake()) {
          await sleep(200, signal);
          continue;
        }
        if (inFlight.size >= MAX_BATCHES_IN_FLIGHT || this.deps.dispatcher.backlog >= this.options.maxBacklog) {
          if (inFlight.size > 0) await Promise.race(inFlight);
          else await sleep(20, signal);
          continue;
        }
        let entries: IntakeEntry[];
        if (!ownPendingDone) {
          await Promise.all(inFlight);
          entries = await this.deps.stream.readOwnPending(this.options.batchSize);
          if (entries.length === 0) {
            ownPendingDone = true;
            retrying = false;
          }
        } else if (Date.now() >= nextClaim) {
          entries = await this.deps.stream.claimStale(this.options.claimIdleMs, this.options.batchSize);
          if (entries.length < this.options.batchSize) nextClaim = Date.now() + Math.max(1000, this.options.claimIdleMs / 2);
        } else {
          entries = await this.deps.stream.readNew(this.options.batchSize, this.options.blockMs);
        }
        if (entries.length === 0) {
          // The stream has nothing new and no batch is being written: nothing waits on intake.
          if (ownPendingDone && inFlight.size === 0 && !failed) this.deps.progress?.idle();
          continue;
        }
        // Entries re-read after a failure are the same wait, not new work.
        if (!retrying) this.deps.progress?.waiting(entries.length);
        const work: Promise<void> = this.processBatch(entries).then(
          () => {
            backoff.reset();
            this.deps.progress?.advanced(entries.length);
          },
          (err: unknown) => {
            failed = true;
            if (isTransientFault(err)) this.log.warn({ err: describeError(err) }, 'intake paused by a service fault; entries stay pending and are retried');
            else this.log.error({ err: describeError(err) }, 'intake batch failed; entries stay pending and are retried');
          },
        );
        inFlight.add(work);
        // work cannot reject: both its outcomes are handled above.
        // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
        void work.finally(() => inFlight.delete(work));
      } catch (err) {
        failed = true;
        if (isTransientFault(err)) this.log.warn({ err: describeError(err) }, 'reading the outbound stream paused by a service fault; retrying');
        else this.log.error({ err: describeError(err) }, 'reading the outbound stream failed; retrying');
      }
    }
    await Promise.all(inFlight);
  }

  /**
   * Stores and settles every entry a dead daemon read and never acknowledged, at once (not after
   * `claimIdleMs`). Entries whose messages it had already stored are only acknowledged: those
   * messages are claimed from Postgres like the rest of its work. Returns the entries taken over.
   */
  async takeOver(consumer: string): Promise<number> {
    let total = 0;
    for (;;) {
      const entries = await this.deps.stream.claimFrom(consumer, this.options.batchSize);
      if (entries.length === 0) return total;
      await this.processBatch(entries);
      total += entries.length;
    }
  }

  /** Validates, stores and settles one batch. Throws (settling nothing) when storing fails. */
  async processBatch(entries: readonly IntakeEntry[]): Promise<BatchOutcome> {
    const dead: IntakeDeadLetter[] = [];
    const generated = new Set<string>();
    const candidates: RoutedInput[] = [];
    const ackOnly: string[] = [];
    const entryOf = new Map<string, string>();
    /** The app's id of each dead-lettered entry that had one: it gets a status event. */
    const appIdOf = new Map<string, string>();
    const warned: { entry: string; warnings: readonly string[] }[] = [];
    for (const entry of entries) {
      if (Object.keys(entry.fields).length === 0) {
        // Deleted from the stream while pending: nothing to send, but it must leave the PEL.
        ackOnly.push(entry.id);
        continue;
      }
      // Without an app id, the stream entry id is the idempotency key: a re-read after a crash
      // yields the same id, so the message is not stored twice.
      let generatedId: string | undefined;
      const parsed = parseOutboundPayload(
        entry.fields.payload,
        () => (generatedId = `s-${entry.id}`),
        this.options.payloadLimits ?? DEFAULT_PAYLOAD_LIMITS,
      );
      if (parsed.ok && generatedId !== undefined) generated.add(generatedId);
      if (!parsed.ok) {
        dead.push({ entry, code: parsed.code, reason: parsed.reason });
        if (parsed.id !== undefined) appIdOf.set(entry.id, parsed.id);
        continue;
      }
      if (parsed.warnings.length > 0) warned.push({ entry: entry.id, warnings: parsed.warnings });
      if (entryOf.has(parsed.message.id)) {
        ackOnly.push(entry.id);
        continue;
      }
      entryOf.set(parsed.message.id, entry.id);
      // NUL or lone surrogates were replaced: the payload as sent is kept with the message.
      candidates.push(parsed.replaced > 0 ? { ...parsed.message, originalPayload: Buffer.from(entry.fields.payload!, 'utf8') } : parsed.message);
    }
    const { queued, refused, rejected } = decideRoutes(candidates, this.deps.router, (route) => this.deps.alphabetFor(route));
    for (const r of rejected) {
      const entryId = entryOf.get(r.message.id)!;
      entryOf.delete(r.message.id);
      dead.push({ entry: entries.find((e) => e.id === entryId)!, code: r.code, reason: r.reason });
      // Only an id the app chose is announced: a generated one (s-<entry>) means nothing to it.
      if (!r.message.id.startsWith('s-')) appIdOf.set(entryId, r.message.id);
    }

    // Messages that must wait (send_at, quiet hours) are marked with their hold before storing.
    const planned = await this.plan(queued);
    const { inserted, changes, unstorable } = await storeSplittingPoison(this.deps.store, planned, refused, {
      log: this.log,
      backoff: this.storeBackoff,
      signal: this.controller.signal,
    });
    for (const u of unstorable) {
      const entryId = entryOf.get(u.id)!;
      entryOf.delete(u.id);
      dead.push({ entry: entries.find((e) => e.id === entryId)!, code: 'unstorable', reason: u.reason });
      if (!u.id.startsWith('s-')) appIdOf.set(entryId, u.id);
    }

    // Dead letters keep the order of the stream, whichever check refused them.
    const position = new Map(entries.map((e, i) => [e.id, i]));
    dead.sort((a, b) => position.get(a.entry.id)! - position.get(b.entry.id)!);

    const rekeyed = await storeReusedIds(this.deps.store, this.log, planned, generated, inserted);
    await this.deps.stream.settle([...ackOnly, ...entryOf.values()], dead);
    this.hand(planned, inserted, changes);
    if (rekeyed) this.hand(rekeyed.queued, rekeyed.inserted, rekeyed.changes);
    // An app that set an id hears about its dead-lettered entry where it hears about the others:
    // a status event, failed with the dead letter's code and reasons (no message is stored).
    const deadEvents: StatusChange[] = dead
      .filter((d) => appIdOf.has(d.entry.id))
      .map((d) => ({ id: appIdOf.get(d.entry.id)!, status: 'failed', previous: null, errorCode: d.code, errorReason: d.reason, route: '', metadata: null }));
    if (deadEvents.length > 0) this.deps.publishCommitted(deadEvents);
    if (warned.length > 0) {
      this.log.warn({ entries: warned.length, first: warned[0] }, 'outbound entries with fields Parley does not know; they were ignored');
    }

    const insertedCount = inserted.size + (rekeyed?.inserted.size ?? 0);
    const duplicates = queued.length + refused.length - insertedCount + ackOnly.length;
    for (const d of dead) {
      this.deps.observer?.onDeadLetter?.(d.code);
      this.log.warn({ entry: d.entry.id, code: d.code, reason: d.reason }, 'outbound entry dead-lettered');
    }
    this.deps.observer?.onBatch?.(entries.length, insertedCount, duplicates, dead.length);
    return { inserted: insertedCount, duplicates, dead };
  }

  /**
   * Messages Parley sends itself (auto-replies, confirmations): the same routing, storage and
   * dispatch as entries from the stream, without the round trip through Redis. Returns the ids
   * stored now (an id already stored is not sent again) and those refused with their reason.
   */
  async admit(messages: readonly RoutedInput[]): Promise<{ inserted: Set<string>; rejected: { id: string; code: string; reason: string }[] }> {
    const { queued, refused, rejected } = decideRoutes(messages, this.deps.router, (route) => this.deps.alphabetFor(route));
    const planned = await this.plan(queued);
    const { inserted, changes } = await this.deps.store.insertMessages(planned, refused);
    this.hand(planned, inserted, changes);
    return { inserted, rejected: rejected.map((r) => ({ id: r.message.id, code: r.code, reason: r.reason })) };
  }

  private async plan(queued: RoutedMessage[]): Promise<RoutedMessage[]> {
    return this.deps.scheduler === undefined || queued.length === 0 ? queued : this.deps.scheduler.plan(queued);
  }

  private hand(queued: readonly RoutedMessage[], inserted: ReadonlySet<string>, changes: readonly StatusChange[]): void {
    const failed = new Set(changes.filter((c) => c.status !== 'queued').map((c) => c.id));
    // Held messages are stored and wait for their release (`claimDue`), not for the dispatcher.
    const fresh = queued.filter((m) => inserted.has(m.id) && !failed.has(m.id) && m.hold === undefined);
    this.deps.dispatcher.enqueue(
      fresh.map((message) => ({
        message,
        priorAttempts: 0,
        acceptedSegments: new Set<number>(),
        answerTo: (message as RoutedInput).answerTo,
      })),
    );
    this.deps.publishCommitted(changes);
  }
}
