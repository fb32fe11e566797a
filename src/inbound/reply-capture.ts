/**
 * Customer messages in: each deliver_sm's part is stored, and complete messages assembled
 * (`reassembly.ts`), in batches; the deliver_sm is answered once that is committed.
 */
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { Progress } from '../lib/progress.ts';
import { describeError } from '../lib/errors.ts';
import type { InboundAnswer, InboundSm } from '../smpp/smsc-bind.ts';
import type { DefaultAlphabet } from '../smpp/text/index.ts';
import type { AssembledReply, NewPart, PendingReply, StoredPart } from '../domain/reply.ts';
import { assembleParts, partOf } from './reassembly.ts';
import { toQuarantined, type Quarantine } from './quarantine.ts';

export interface PartStore {
  /** Parts identical to one stored within the duplicate window are the SMSC resending it. */
  /** Returns the replies completed, already claimed for this daemon to handle. */
  storeParts(parts: readonly NewPart[], assemble: (parts: readonly StoredPart[], incomplete: boolean) => AssembledReply): Promise<PendingReply[]>;
}

export interface ReplyCaptureOptions {
  readonly store: PartStore;
  defaultAlphabetOf(smsc: string): DefaultAlphabet;
  /** Told of replies committed, to handle them at once. */
  onReplies(replies: readonly PendingReply[], arrivedAt: number): void;
  readonly batchSize: number;
  readonly batchDelayMs: number;
  readonly logger: Logger;
  /** Keeps a deliver_sm whose part the store refused as poison, so it can be answered. */
  readonly quarantine?: Quarantine;
  readonly progress?: Progress;
  /** Told of each deliver_sm quarantined. */
  onQuarantined?(smsc: string): void;
}

export class ReplyCapture {
  private readonly batches: Batcher<{ part: NewPart; sm: InboundSm; arrivedAt: number }>;
  readonly assemble: (parts: readonly StoredPart[], incomplete: boolean) => AssembledReply;

  constructor(private readonly options: ReplyCaptureOptions) {
    const log = options.logger.child({ component: 'replies' });
    this.assemble = (parts, incomplete) => assembleParts(parts, incomplete, options.defaultAlphabetOf);
    this.batches = new Batcher({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      // The deliver_sm waits for this commit: written at once when idle, batched under load.
      flushWhenIdle: true,
      write: async (items) => {
        const replies = await options.store.storeParts(
          items.map((i) => i.part),
          this.assemble,
        );
        if (replies.length > 0) options.onReplies(replies, Math.min(...items.map((i) => i.arrivedAt)));
      },
      onError: (err, items, attempt) =>
        log.error({ err: describeError(err), items, attempt }, 'storing reply parts failed; retried, or split to find the part that fails'),
      onPoison: options.quarantine
        ? async (item, err) => {
            await options.quarantine!(toQuarantined(item.sm, 'replies', err));
            options.onQuarantined?.(item.sm.smsc);
            log.warn({ smsc: item.sm.smsc, err: describeError(err) }, 'a customer message the store refused was quarantined; its deliver_sm is answered');
          }
        : undefined,
      progress: options.progress,
    });
  }

  async handle(sm: InboundSm): Promise<InboundAnswer> {
    await this.batches.add({ part: partOf(sm), sm, arrivedAt: performance.now() });
    return 'ok';
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }
}
