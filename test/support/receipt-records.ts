/**
 * Records the store's receipt and answer tests build by hand: a segment the SMSC accepted (its
 * answer, as the submit recorder hands it over) and a receipt as the receiver parses it.
 */
import type { SegmentRecord } from '../../src/domain/segment.ts';
import type { NewReceipt } from '../../src/domain/receipt.ts';
import { receiptIdKeys, responseIdKey } from '../../src/domain/smsc-message-id.ts';
import type { Db } from '../../src/store/db.ts';
import { insertMessages, recordAnswers, recordSubmits } from '../../src/store/messages.ts';

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

/**
 * The messages of `answers` sent (to 14155550001 from 12345, one per message id, with as many parts
 * as it has answers) and their answers recorded and marked submitted, as the dispatcher and the
 * submit recorder do.
 */
export async function sentAndAnswered(db: Db, answers: readonly SegmentRecord[]): Promise<void> {
  const parts = new Map<string, number>();
  for (const a of answers) parts.set(a.messageId, (parts.get(a.messageId) ?? 0) + 1);
  const ids = [...parts.keys()];
  await insertMessages(
    db,
    'd1',
    ids.map((id) => ({ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 })),
  );
  await recordAnswers(db, answers);
  await recordSubmits(
    db,
    answers,
    ids.map((id) => ({ id, status: 'submitted' as const, previous: 'queued' as const, smsc: 'sim', segments: parts.get(id)!, route: 'default' })),
  );
}
