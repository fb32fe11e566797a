/**
 * Every deliver_sm and data_sm from every bind comes in here: a delivery receipt goes to the
 * receipt path, a customer's message to the reply path. The answer to the SMSC waits for the
 * chosen path to make it durable.
 */
import type { Logger } from '../lib/logger.ts';
import type { InboundAnswer, InboundSm } from '../smpp/smsc-bind.ts';
import { decodeText } from '../smpp/text/index.ts';
import { classifyInbound, type InboundKind } from './classify.ts';

export interface InboundPath {
  handle(sm: InboundSm): Promise<InboundAnswer>;
}

export interface ReceiverOptions {
  readonly receipts: InboundPath;
  readonly replies: InboundPath;
  /** SMSCs that send receipts with esm_class 0: their texts are recognised as receipts. */
  readonly detectReceiptText?: (smsc: string) => boolean;
  /** Told what each deliver_sm was read as, before its path stores it (for the per-SMSC counts). */
  readonly onClassified?: (smsc: string, kind: InboundKind) => void;
  readonly logger: Logger;
}

export class InboundReceiver implements InboundPath {
  constructor(private readonly options: ReceiverOptions) {}

  handle(sm: InboundSm): Promise<InboundAnswer> {
    const detect = this.options.detectReceiptText?.(sm.smsc) ?? false;
    const kind = classifyInbound({
      esmClass: sm.esmClass,
      hasReceiptedMessageId: sm.receiptedMessageId !== undefined,
      hasMessageState: sm.messageState !== undefined,
      text: detect ? decodeText(sm.shortMessage, sm.dataCoding, 'gsm7').text : undefined,
      detectReceiptText: detect,
    });
    this.options.onClassified?.(sm.smsc, kind);
    return kind === 'receipt' ? this.options.receipts.handle(sm) : this.options.replies.handle(sm);
  }
}
