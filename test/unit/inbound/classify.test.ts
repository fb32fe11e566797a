import { describe, expect, it } from 'vitest';
import { classifyInbound, looksLikeReceiptText, type ClassifyInput, type InboundKind } from '../../../src/inbound/classify.ts';

const RECEIPT_TEXT = 'id:123 sub:001 dlvrd:001 submit date:2301010000 done date:2301010001 stat:DELIVRD err:000 text:hi';

describe('classifyInbound', () => {
  const table: [string, ClassifyInput, InboundKind][] = [
    ['esm_class 0x04 SMSC delivery receipt', { esmClass: 0x04, hasReceiptedMessageId: false }, 'receipt'],
    ['esm_class 0x08 SME delivery acknowledgement', { esmClass: 0x08, hasReceiptedMessageId: false }, 'receipt'],
    ['esm_class 0x10 SME manual/user acknowledgement', { esmClass: 0x10, hasReceiptedMessageId: false }, 'receipt'],
    ['esm_class 0x20 intermediate delivery notification', { esmClass: 0x20, hasReceiptedMessageId: false }, 'receipt'],
    ['receipt type with UDHI and reply path bits set (0xC4)', { esmClass: 0xc4, hasReceiptedMessageId: false }, 'receipt'],
    ['receipt type with messaging mode bits set (0x07)', { esmClass: 0x07, hasReceiptedMessageId: false }, 'receipt'],
    // esm_class decides: a stray TLV does not turn a customer's message into a receipt (drive_smpp).
    ['esm_class 0 with a stray receipted_message_id TLV: a customer message', { esmClass: 0x00, hasReceiptedMessageId: true, text: 'hello' }, 'reply'],
    ['esm_class 0 with receipted_message_id and message_state: still a customer message by default', { esmClass: 0x00, hasReceiptedMessageId: true, hasMessageState: true }, 'reply'],
    [
      'esm_class 0 with receipted_message_id and message_state, detection on: a receipt',
      { esmClass: 0x00, hasReceiptedMessageId: true, hasMessageState: true, detectReceiptText: true },
      'receipt',
    ],
    ['esm_class 0 with receipted_message_id alone, detection on: a customer message', { esmClass: 0x00, hasReceiptedMessageId: true, text: 'hello', detectReceiptText: true }, 'reply'],
    ['esm_class 0x04 with the TLV: a receipt', { esmClass: 0x04, hasReceiptedMessageId: true }, 'receipt'],
    ['esm_class 0: a reply', { esmClass: 0x00, hasReceiptedMessageId: false, text: 'YES' }, 'reply'],
    ['UDHI only (a concatenated reply part)', { esmClass: 0x40, hasReceiptedMessageId: false }, 'reply'],
    ['conversation abort (0x18) is not a receipt', { esmClass: 0x18, hasReceiptedMessageId: false }, 'reply'],
    ['undefined message type 0x0C', { esmClass: 0x0c, hasReceiptedMessageId: false }, 'reply'],
    ['undefined message type 0x3C', { esmClass: 0x3c, hasReceiptedMessageId: false }, 'reply'],
    ['receipt text in esm_class 0: a reply by default', { esmClass: 0, hasReceiptedMessageId: false, text: RECEIPT_TEXT }, 'reply'],
    [
      'receipt text in esm_class 0 with detection off',
      { esmClass: 0, hasReceiptedMessageId: false, text: RECEIPT_TEXT, detectReceiptText: false },
      'reply',
    ],
    [
      'receipt text in esm_class 0 with detection on',
      { esmClass: 0, hasReceiptedMessageId: false, text: RECEIPT_TEXT, detectReceiptText: true },
      'receipt',
    ],
    ['detection on, ordinary text', { esmClass: 0, hasReceiptedMessageId: false, text: 'STOP', detectReceiptText: true }, 'reply'],
    ['detection on, no text', { esmClass: 0, hasReceiptedMessageId: false, detectReceiptText: true }, 'reply'],
  ];
  it.each(table)('%s -> %s', (_name, input, kind) => {
    expect(classifyInbound(input)).toBe(kind);
  });
});

describe('looksLikeReceiptText', () => {
  const table: [string, boolean][] = [
    [RECEIPT_TEXT, true],
    ['ID:ABC SUB:001 DLVRD:000 STAT:UNDELIV ERR:001', true],
    ['id:1 stat:DELIVRD err:0', true],
    ['id:1 done date:2301010000 stat:EXPIRED', true],
    ['stat:DELIVRD id:1 dlvrd:001', true],
    ['id:1 stat:DELIVRD', false],
    ['my id: 5, status: delivered', false],
    ['id:1 sub:001 dlvrd:001 stat:PENDING', false],
    ['sub:001 dlvrd:001 stat:DELIVRD err:000', false],
    ['Your parcel was delivered', false],
    ['STOP', false],
    ['', false],
  ];
  it.each(table)('%j -> %s', (text, expected) => {
    expect(looksLikeReceiptText(text)).toBe(expected);
  });
});
