/**
 * Customer messages in: each deliver_sm's part is stored, and complete messages assembled, in
 * batches; the deliver_sm is answered once that is committed. Parts come concatenated by UDH
 * (8- or 16-bit references), by SAR TLVs or whole in message_payload, in any order, and are keyed
 * by SMSC, sender, recipient, reference and total, so two senders using one reference never mix.
 */
import { createHash } from 'node:crypto';
import { Batcher } from '../lib/batcher.ts';
import type { Logger } from '../lib/logger.ts';
import type { Progress } from '../lib/progress.ts';
import { describeError } from '../lib/errors.ts';
import { toStorableText } from '../domain/storable-text.ts';
import { normaliseAddress } from '../domain/address.ts';
import type { InboundAnswer, InboundSm } from '../smpp/smsc-bind.ts';
import { decodeText, parseUdh, type DefaultAlphabet } from '../smpp/text/index.ts';
import type { AssembledReply, NewPart, PendingReply, StoredPart } from '../domain/reply.ts';
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
    this.assemble = (parts, incomplete) => this.assembleParts(parts, incomplete);
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
    await this.batches.add({ part: this.toPart(sm), sm, arrivedAt: performance.now() });
    return 'ok';
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }

  private toPart(sm: InboundSm): NewPart {
    let body = sm.messagePayload ?? sm.shortMessage;
    let concat: { scheme: string; reference: number; total: number; seq: number } | undefined;
    if (sm.udhi && !sm.messagePayload) {
      const udh = parseUdh(sm.shortMessage);
      if (udh.ok) {
        body = udh.payload;
        if (udh.concat) concat = { scheme: `udh${udh.concat.referenceBits}`, ...udh.concat };
      }
      // A UDH that cannot be read is kept as part of the text rather than dropped: nothing the
      // customer sent is lost, and the flag on the reply says why it reads oddly.
    }
    if (!concat && sm.sar && sm.sar.total > 1) concat = { scheme: 'sar', ...sm.sar };
    const fingerprint = createHash('sha256')
      .update(`${sm.smsc}\0${sm.source.address}\0${sm.destination.address}\0${sm.esmClass}\0${sm.dataCoding}\0`)
      .update(JSON.stringify(sm.sar ?? null))
      .update(sm.messagePayload ?? sm.shortMessage)
      .digest('hex');
    return {
      fingerprint,
      smsc: sm.smsc,
      bind: sm.bind,
      // Numbers are kept as outbound messages keep them, so threads line up.
      from: normaliseAddress(sm.source.address),
      to: normaliseAddress(sm.destination.address),
      concatKey: concat && concat.total > 1 ? `${concat.scheme}:${concat.reference}` : null,
      total: concat && concat.total > 1 ? concat.total : 1,
      seq: concat && concat.total > 1 ? concat.seq : 1,
      dataCoding: sm.dataCoding,
      body: Buffer.from(body),
    };
  }

  /**
   * Joins the parts' octets before decoding, so an escape sequence or a surrogate pair split
   * across two parts still reads right. The id derives from the stored parts (their rows, not
   * only their content): the same parts assembled twice are the same reply, while a customer
   * sending the same text again after the duplicate window (STOP, START, STOP) is a new reply.
   */
  private assembleParts(parts: readonly StoredPart[], incomplete: boolean): AssembledReply {
    const sorted = [...parts].sort((a, b) => a.seq - b.seq);
    const first = sorted[0]!;
    const decoded = decodeText(Buffer.concat(sorted.map((p) => p.body)), first.dataCoding, this.options.defaultAlphabetOf(first.smsc));
    // UCS-2 or Latin-1 text may hold U+0000 (or a UCS-2 lone surrogate), which Postgres cannot
    // store: replaced here, while the parts keep the carrier's octets.
    const storable = toStorableText(decoded.text);
    const id = `r-${createHash('sha256')
      .update(sorted.map((p) => `${p.fingerprint}:${p.partId}`).sort().join('\0'))
      .digest('hex')
      .slice(0, 30)}`;
    return {
      id,
      smsc: first.smsc,
      from: first.from,
      to: first.to,
      text: storable.text,
      parts: sorted.length,
      incomplete,
      dataCoding: first.dataCoding,
      decodeProblem: decoded.ok ? (storable.replaced > 0 ? 'unstorable_characters_replaced' : null) : decoded.code,
      receivedAt: new Date(Math.min(...sorted.map((p) => p.receivedAt.getTime()))),
    };
  }
}
