/**
 * Is an inbound deliver_sm (or data_sm) a delivery receipt or a customer's reply?
 *
 * By the specification it says so itself: the message type bits of esm_class (mask 0x3C, SMPP 3.4
 * section 5.2.12) mark SMSC delivery receipts (0x04), SME delivery acknowledgements (0x08), SME
 * manual/user acknowledgements (0x10) and intermediate delivery notifications (0x20). Anything
 * else, including conversation aborts (0x18) and undefined type values, is a customer's message.
 *
 * esm_class decides, not a TLV: a customer message with esm_class 0 that carries a stray
 * receipted_message_id (Kannel's drive_smpp sends exactly that) is a customer message. Filing it
 * as a receipt lost 1,100 customer messages as unreadable receipts (issue 9).
 *
 * Some carriers send receipts with esm_class 0. Guessing by default would turn a customer who
 * types "id:1 stat:DELIVRD" into a receipt, so it is opt-in per SMSC: with `detectReceiptText`, a
 * message whose text reads as a complete receipt on its own (`looksLikeReceiptText`), or that
 * carries both receipted_message_id and message_state TLVs, is a receipt too.
 */
import { ESM_CLASS } from '../smpp/pdu.ts';
import { parseReceipt } from './receipt-text.ts';

export type InboundKind = 'receipt' | 'reply';

export interface ClassifyInput {
  readonly esmClass: number;
  readonly hasReceiptedMessageId: boolean;
  /** A message_state TLV came with it; read only with `detectReceiptText`. */
  readonly hasMessageState?: boolean;
  /** The decoded short_message or message_payload; read only with `detectReceiptText`. */
  readonly text?: string;
  /** The SMSC's opt-in to read receipts sent as ordinary messages (esm_class 0, no TLV). */
  readonly detectReceiptText?: boolean;
}

const RECEIPT_TYPES: ReadonlySet<number> = new Set([
  ESM_CLASS.TYPE_DELIVERY_RECEIPT,
  ESM_CLASS.TYPE_SME_DELIVERY_ACK,
  ESM_CLASS.TYPE_SME_MANUAL_ACK,
  ESM_CLASS.TYPE_INTERMEDIATE_NOTIFICATION,
]);

export function classifyInbound(input: ClassifyInput): InboundKind {
  if (RECEIPT_TYPES.has(input.esmClass & ESM_CLASS.MESSAGE_TYPE_MASK)) return 'receipt';
  if (input.detectReceiptText !== true) return 'reply';
  if (input.hasReceiptedMessageId && input.hasMessageState === true) return 'receipt';
  if (input.text !== undefined && looksLikeReceiptText(input.text)) return 'receipt';
  return 'reply';
}

/**
 * True when the text alone parses as a receipt in the Appendix B style (any case, any order): an
 * `id:` field, a `stat:` field naming a known state, and at least one more receipt field (`sub:`,
 * `dlvrd:`, a valid `submit date:` or `done date:`, `err:`). A text that merely mentions a
 * delivery ("Your parcel was delivered", "id: 5, status: delivered") is not one.
 */
export function looksLikeReceiptText(text: string): boolean {
  const r = parseReceipt({ text });
  return (
    r.ok &&
    (r.submitted !== undefined ||
      r.delivered !== undefined ||
      r.submitDate !== undefined ||
      r.doneDate !== undefined ||
      r.errorCode !== undefined)
  );
}
