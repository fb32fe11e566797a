/**
 * Delivery receipts in: parsed, keyed by the carrier id as this SMSC writes it, and stored in
 * batches. The deliver_sm is answered only once its receipt is committed, so a daemon killed in
 * between gets the same receipt again from the SMSC, and a receipt seen twice changes nothing.
 */
import { Batcher } from '../lib/batcher.ts';
import { sha256 } from '../lib/sha256.ts';
import type { Logger } from '../lib/logger.ts';
import type { Progress } from '../lib/progress.ts';
import { describeError } from '../lib/errors.ts';
import { toStorableText } from '../domain/storable-text.ts';
import { receiptIdKeys, type SmscIdFormat } from '../domain/smsc-message-id.ts';
import type { StatusEventFacts } from '../domain/events.ts';
import type { InboundAnswer, InboundSm } from '../smpp/smsc-bind.ts';
import { decodeText, type DefaultAlphabet } from '../smpp/text/index.ts';
import type { NewReceipt } from '../domain/receipt.ts';
import type { RecentCarrierIds } from '../domain/recent-carrier-ids.ts';
import { mapReceiptState, parseReceipt } from './receipt-text.ts';
import { toQuarantined, type Quarantine } from './quarantine.ts';

export interface ReceiptStore {
  storeReceipts(receipts: readonly NewReceipt[]): Promise<{ stored: number; matched: number; changes: StatusEventFacts[] }>;
}

export interface ReceiptObserver {
  onReceipt?(smsc: string, state: string, outcome: 'stored' | 'duplicate' | 'unreadable' | 'quarantined'): void;
  /** Seconds from deliver_sm arrival to its commit. */
  onCommitted?(latencySeconds: number): void;
}

export interface ReceiptRecorderOptions {
  readonly store: ReceiptStore;
  idFormatOf(smsc: string): SmscIdFormat;
  defaultAlphabetOf(smsc: string): DefaultAlphabet;
  publish(changes: readonly StatusEventFacts[]): void;
  readonly batchSize: number;
  readonly batchDelayMs: number;
  readonly logger: Logger;
  readonly observer?: ReceiptObserver;
  /** Keeps a deliver_sm whose receipt the store refused as poison, so it can be answered. */
  readonly quarantine?: Quarantine;
  readonly progress?: Progress;
  /** The segments this daemon sent lately: a receipt for one names it to the store. */
  readonly carrierIds?: RecentCarrierIds;
}

interface Pending {
  readonly receipt: NewReceipt;
  readonly sm: InboundSm;
  readonly arrivedAt: number;
}

/** Receipt batches being committed at once (see the Batcher's maxWrites). */
const RECEIPT_BATCHES_AT_ONCE = 3;

export class ReceiptRecorder {
  private readonly batches: Batcher<Pending>;
  private readonly log: Logger;

  constructor(private readonly options: ReceiptRecorderOptions) {
    this.log = options.logger.child({ component: 'receipts' });
    this.batches = new Batcher<Pending>({
      maxItems: options.batchSize,
      maxDelayMs: options.batchDelayMs,
      // The deliver_sm waits for this commit: written at once when idle, batched under load.
      flushWhenIdle: true,
      // Three batches commit at once: the SMSC sends the next receipts of its window only as these
      // are answered, so with one at a time they waited for the batch before them as well. Safe
      // in any order: a receipt moves its segment forward only, as from several binds at once.
      // Measured in `npm run bench -- --binds 1 --count 30000 --no-two-way`, 6 alternated pairs:
      // 3 over 2 gave more messages final per second in every pair (medians 3,118 -> 3,404) and a
      // lower receipt commit p99 (98-138 ms against 127-209); 4 was no better than 2 (3 triples).
      maxWrites: RECEIPT_BATCHES_AT_ONCE,
      write: async (items) => {
        const result = await options.store.storeReceipts(items.map((i) => i.receipt));
        const now = performance.now();
        // A final receipt ends its key's use; a resend of it is recognised by its fingerprint.
        for (const { receipt } of items) {
          if (receipt.sentSegment !== undefined && receipt.segmentStatus !== undefined) options.carrierIds?.forget(receipt.smsc, receipt.matchKeys[0]!);
        }
        for (const i of items) options.observer?.onCommitted?.((now - i.arrivedAt) / 1000);
        options.publish(result.changes);
      },
      onError: (err, items, attempt) =>
        this.log.error({ err: describeError(err), items, attempt }, 'storing receipts failed; retried, or split to find the receipt that fails'),
      onPoison: options.quarantine
        ? async (item, err) => {
            await options.quarantine!(toQuarantined(item.sm, 'receipts', err));
            this.log.warn({ smsc: item.sm.smsc, err: describeError(err) }, 'a receipt the store refused was quarantined; its deliver_sm is answered');
          }
        : undefined,
      progress: options.progress,
    });
  }

  /** Resolves 'ok' once the receipt is durable (the deliver_sm may then be answered). */
  async handle(sm: InboundSm): Promise<InboundAnswer> {
    const arrivedAt = performance.now();
    const receipt = this.toReceipt(sm);
    const outcome = await this.batches.add({ receipt, sm, arrivedAt });
    const seen = outcome === 'set_aside' ? 'quarantined' : receipt.state === 'UNREADABLE' ? 'unreadable' : 'stored';
    this.options.observer?.onReceipt?.(sm.smsc, receipt.state, seen);
    return 'ok';
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }

  private toReceipt(sm: InboundSm): NewReceipt {
    const body = sm.messagePayload ?? sm.shortMessage;
    // Receipt texts are ASCII in practice; decoding by data_coding keeps a UCS-2 one readable.
    const decoded = decodeText(body, sm.dataCoding, this.options.defaultAlphabetOf(sm.smsc));
    // A UCS-2 receipt may hold U+0000, which Postgres cannot store: replaced, octets kept.
    const storable = toStorableText(decoded.text);
    const text = storable.text;
    const originalBody = storable.replaced > 0 ? Buffer.from(body) : null;
    const parsed = parseReceipt({
      text,
      receiptedMessageId: sm.receiptedMessageId,
      messageState: sm.messageState,
      networkErrorCode: sm.networkErrorCode,
    });
    const tlvs: Record<string, unknown> = {};
    if (sm.receiptedMessageId !== undefined) tlvs.receipted_message_id = sm.receiptedMessageId;
    if (sm.messageState !== undefined) tlvs.message_state = sm.messageState;
    if (sm.networkErrorCode !== undefined) tlvs.network_error_code = sm.networkErrorCode;
    // 22 base64url characters of the SHA-256 (132 bits): a resend is recognised as surely as by the
    // whole hash in hex, and the row and its unique index hold 42 bytes fewer (about 90 bytes of WAL
    // a receipt). Fingerprints stored in hex before are never equal to these: a receipt resent across
    // that upgrade is stored twice, and its second copy changes no status.
    const fingerprint = sha256([`${sm.smsc}\0${sm.source.address}\0${sm.destination.address}\0${JSON.stringify(tlvs)}\0`, body], 'base64url').slice(0, 22);
    if (!parsed.ok) {
      // Kept, so that nothing the carrier said is lost, but it can match nothing.
      this.log.warn({ smsc: sm.smsc, reason: parsed.reason }, 'unreadable delivery receipt stored unmatched');
      return {
        fingerprint,
        smsc: sm.smsc,
        bind: sm.bind,
        smscMessageId: '',
        matchKeys: [],
        state: 'UNREADABLE',
        segmentStatus: undefined,
        errorCode: null,
        networkError: null,
        submitDate: null,
        doneDate: null,
        body: text,
        originalBody,
        tlvs: Object.keys(tlvs).length ? tlvs : null,
      };
    }
    const network = parsed.networkError;
    const matchKeys = receiptIdKeys(parsed.smscMessageId, this.options.idFormatOf(sm.smsc));
    const sentSegment = matchKeys.length > 0 ? this.options.carrierIds?.find(sm.smsc, matchKeys[0]!) : undefined;
    return {
      fingerprint,
      smsc: sm.smsc,
      bind: sm.bind,
      smscMessageId: parsed.smscMessageId,
      matchKeys,
      state: parsed.state,
      segmentStatus: mapReceiptState(parsed.state),
      errorCode: parsed.errorCode ?? null,
      networkError: network ? `${network.networkType}:${network.errorCode}` : null,
      submitDate: parsed.submitDate ?? null,
      doneDate: parsed.doneDate ?? null,
      body: text,
      originalBody,
      tlvs: Object.keys(tlvs).length ? tlvs : null,
      sourceAddr: sm.source.address,
      destAddr: sm.destination.address,
      sentSegment,
    };
  }
}
