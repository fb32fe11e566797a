/**
 * Records what the SMSC answered, in two steps:
 * - the answers themselves (each segment's carrier id or refusal) are written as they arrive, in
 *   short transactions that take no lock: an answer that finds the writer idle is written at the
 *   end of the current turn of the event loop (with whatever came in the same socket read), and
 *   under load the next batch fills while one is written. Once committed, a `kill -9` does not
 *   send that segment again, so the crash window is the submits in flight plus the answers of
 *   one short write (ARCHITECTURE.md "The crash window"). A message whose every answer is in that
 *   write, first sent and accepted, becomes `submitted` by the same statement when no receipt
 *   came before its answers (store/messages.ts recordAnswers): nearly every message, so most
 *   batches need nothing more;
 * - then, in batches, the other status changes with the receipts that came early, in one
 *   transaction per batch. Committed changes are handed to `published` (the event stream).
 * A status change is written only after the answers recorded before it, so its transaction sees
 * them (receipt matching relies on it).
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { SegmentRecord } from '../domain/segment.ts';
import type { StatusChange } from '../domain/events.ts';
import type { RecentCarrierIds } from '../domain/recent-carrier-ids.ts';

export interface SubmitStore {
  /**
   * Writes the answers and, with them, those of `submitted` that need nothing more (see
   * store/messages.ts recordAnswers); returns the changes it applied.
   */
  recordAnswers(segments: readonly SegmentRecord[], submitted: readonly StatusChange[]): Promise<StatusChange[]>;
  /**
   * `answeredBefore`: messages among `changes` whose answers went through this batch or an earlier
   * one of this recorder (their early receipts were matched then), so they need no lookup of their
   * carrier ids.
   */
  recordSubmits(segments: readonly SegmentRecord[], changes: readonly StatusChange[], answeredBefore: ReadonlySet<string>): Promise<StatusChange[]>;
}

type Item = { readonly segment: SegmentRecord } | { readonly change: StatusChange; readonly answeredBefore: boolean };
type Answer = { readonly segment: SegmentRecord } | { readonly change: StatusChange };

/**
 * Most messages whose answers are waiting for their change held in memory; past it the set starts
 * afresh (a message not in it only costs its change a lookup of its carrier ids).
 */
const MAX_TRACKED_ANSWERS = 100_000;

export interface SubmitRecorderOptions {
  store: SubmitStore;
  /** Told of every change committed. */
  published(changes: readonly StatusChange[]): void;
  batchSize: number;
  batchDelayMs: number;
  logger: Logger;
  /** Told of every accepted answer once it is committed, so that its receipt can name its segment. */
  carrierIds?: RecentCarrierIds;
}

export class SubmitRecorder {
  private readonly answers: Batcher<Answer>;
  private readonly writes: Batcher<Item>;
  /**
   * Messages whose answers are queued in `writes` and whose change is not yet: a change that
   * finds its message here has its answers in its own batch or an earlier one (FIFO), whose
   * transaction matched the receipts that came early for them. A message sent back to the queue
   * without a change stays until the set is renewed.
   */
  private readonly handedOver = new Set<string>();

  constructor(private readonly options: SubmitRecorderOptions) {
    this.writes = new Batcher<Item>({
      // A single-part message is two items (its segment and its change): a batch covers batchSize messages.
      maxItems: options.batchSize * 2,
      maxDelayMs: options.batchDelayMs,
      write: async (items) => {
        const segments: SegmentRecord[] = [];
        const changes: StatusChange[] = [];
        const answeredBefore = new Set<string>();
        for (const item of items) {
          if ('segment' in item) segments.push(item.segment);
          else {
            changes.push(item.change);
            if (item.answeredBefore) answeredBefore.add(item.change.id);
          }
        }
        const applied = await options.store.recordSubmits(segments, changes, answeredBefore);
        if (applied.length > 0) options.published(applied);
      },
      onError: (err, items, attempt) => options.logger.error({ err, items, attempt }, 'recording submit results failed; retrying'),
    });
    // Changes go through this batcher too, behind the answers recorded before them (FIFO): one
    // finds its answers in its own batch (applied with them) or in an earlier one.
    this.answers = new Batcher<Answer>({
      maxItems: options.batchSize * 2,
      maxDelayMs: 0,
      write: (items) => this.writeAnswers(items),
      onError: (err, items, attempt) => options.logger.error({ err, items, attempt }, 'recording submit answers failed; retrying'),
    });
  }

  /** Items not yet committed. */
  get pending(): number {
    return this.answers.pending + this.writes.pending;
  }

  recordSegment(segment: SegmentRecord): void {
    this.answers.addAll([{ segment }]);
  }

  /** Resolves once the change is committed, or handed on behind its answers (`writes`). */
  async recordChange(change: StatusChange): Promise<void> {
    await this.answers.add({ change });
  }

  async flush(): Promise<void> {
    await this.answers.flush();
    await this.writes.flush();
  }

  private async writeAnswers(items: readonly Answer[]): Promise<void> {
    const segments: SegmentRecord[] = [];
    const changes: StatusChange[] = [];
    const parts = new Map<string, number>();
    for (const item of items) {
      if ('segment' in item) {
        segments.push(item.segment);
        parts.set(item.segment.messageId, (parts.get(item.segment.messageId) ?? 0) + 1);
      } else changes.push(item.change);
    }
    // A change to submitted whose every part was answered in this batch may be applied with the
    // answers; the store decides which can (store/messages.ts recordAnswers).
    const withAnswers = new Map<string, StatusChange>();
    for (const c of changes) {
      if (c.status === 'submitted' && c.segments != null && parts.get(c.id) === c.segments && !withAnswers.has(c.id)) withAnswers.set(c.id, c);
    }
    const applied = await this.options.store.recordAnswers(segments, [...withAnswers.values()]);
    const carrierIds = this.options.carrierIds;
    if (carrierIds !== undefined) {
      for (const s of segments) {
        if (s.status === 'accepted' && s.matchKey !== null) carrierIds.remember(s.smsc, s.matchKey, { messageId: s.messageId, seq: s.seq });
      }
    }
    if (applied.length > 0) this.options.published(applied);
    const done = new Set(applied.map((c) => c.id));
    // The rest, committed already, are passed on: the segments for matching the receipts that came
    // early, the changes to apply. A write is retried until it lands (lib/batcher.ts), so nobody
    // waits on these items.
    if (this.handedOver.size > MAX_TRACKED_ANSWERS) this.handedOver.clear();
    const next: Item[] = [];
    for (const segment of segments) {
      if (done.has(segment.messageId)) continue;
      this.handedOver.add(segment.messageId);
      next.push({ segment });
    }
    for (const change of changes) {
      if (done.has(change.id) && withAnswers.get(change.id) === change) continue;
      next.push({ change, answeredBefore: this.handedOver.delete(change.id) });
    }
    this.writes.addAll(next);
  }
}
