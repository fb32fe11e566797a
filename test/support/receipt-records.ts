/**
 * Records the store's receipt and answer tests build by hand: a segment the SMSC accepted (its
 * answer, as the submit recorder hands it over) and a receipt as the receiver parses it.
 */
import type { SegmentRecord } from '../../src/domain/segment.ts';
import type { NewReceipt } from '../../src/domain/receipt.ts';
import { receiptIdKeys, responseIdKey } from '../../src/domain/smsc-message-id.ts';

/** Segment `seq` (of one) of `messageId`, accepted on SMSC `sim` with carrier id `smscMessageId`. */
export function acceptedSegment(
  messageId: string,
  smscMessageId: string,
  options: { seq?: number; attempts?: number; possibleDuplicate?: boolean; matchKey?: string } = {},
): SegmentRecord {
  return {
    messageId,
    seq: options.seq ?? 1,
    total: 1,
    smsc: 'sim',
    bind: 'sim#1',
    smscMessageId,
    matchKey: options.matchKey ?? responseIdKey(smscMessageId, 'auto'),
    commandStatus: 0,
    status: 'accepted',
    attempts: options.attempts ?? 1,
    possibleDuplicate: options.possibleDuplicate ?? false,
    submittedAt: new Date(),
    respondedAt: new Date(),
  };
}

/** A receipt from SMSC `sim` for carrier id `smscMessageId`, from customer 14155550001 to 12345. */
export function carrierReceipt(smscMessageId: string, state: string, segmentStatus: NewReceipt['segmentStatus']): NewReceipt {
  return {
    fingerprint: `${smscMessageId}-${state}`,
    smsc: 'sim',
    bind: 'sim#1',
    smscMessageId,
    matchKeys: receiptIdKeys(smscMessageId, 'auto'),
    state,
    segmentStatus,
    errorCode: segmentStatus === 'delivered' ? '000' : '001',
    networkError: null,
    submitDate: null,
    doneDate: null,
    body: `id:${smscMessageId} stat:${state}`,
    tlvs: null,
    sourceAddr: '14155550001',
    destAddr: '12345',
  };
}
