import { describe, expect, it } from 'vitest';
import { ReceiptRecorder } from '../../../src/inbound/receipts.ts';
import { RecentCarrierIds } from '../../../src/domain/recent-carrier-ids.ts';
import type { NewReceipt } from '../../../src/domain/receipt.ts';
import type { InboundSm } from '../../../src/smpp/bind-types.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { inboundSm } from '../../support/inbound-sm.ts';

/** A deliver_sm carrying an Appendix B receipt for carrier id `id`, from SMSC `sim`. */
function receiptSm(id: string, stat: string): InboundSm {
  return inboundSm({
    smsc: 'sim',
    bind: 'sim#1',
    esmClass: 0x04,
    shortMessage: Buffer.from(`id:${id} sub:001 dlvrd:001 submit date:2612080154 done date:2612080155 stat:${stat} err:000 text:hi`, 'latin1'),
  });
}

function recorderWith(carrierIds: RecentCarrierIds): { recorder: ReceiptRecorder; stored: NewReceipt[] } {
  const stored: NewReceipt[] = [];
  const recorder = new ReceiptRecorder({
    store: {
      storeReceipts: async (receipts) => {
        stored.push(...receipts);
        return { stored: receipts.length, matched: 0, changes: [] };
      },
    },
    idFormatOf: () => 'auto',
    defaultAlphabetOf: () => 'gsm7',
    publish: () => {},
    batchSize: 10,
    batchDelayMs: 0,
    logger: silentLogger,
    carrierIds,
  });
  return { recorder, stored };
}

describe('ReceiptRecorder with the segments this daemon sent lately', () => {
  it('names the segment its best key was given to, and forgets the key once a final receipt is stored', async () => {
    const carrierIds = new RecentCarrierIds();
    carrierIds.remember('sim', 'a1f', { messageId: 'm1', seq: 1 });
    const { recorder, stored } = recorderWith(carrierIds);

    // ENROUTE says "not yet": the key stays for the final receipt.
    await recorder.handle(receiptSm('A1F', 'ENROUTE'));
    expect(stored[0]).toMatchObject({ matchKeys: ['a1f', '2591'], sentSegment: { messageId: 'm1', seq: 1 } });
    expect(carrierIds.find('sim', 'a1f')).toBeDefined();

    await recorder.handle(receiptSm('A1F', 'DELIVRD'));
    expect(stored[1]?.sentSegment).toEqual({ messageId: 'm1', seq: 1 });
    expect(carrierIds.find('sim', 'a1f')).toBeUndefined();
  });

  it('names nothing when only a lesser key is known: Postgres decides which key wins', async () => {
    const carrierIds = new RecentCarrierIds();
    // "1234" is looked up as it is first, then as the hex of its decimal value (4d2): only that is known.
    carrierIds.remember('sim', '4d2', { messageId: 'm2', seq: 1 });
    const { recorder, stored } = recorderWith(carrierIds);
    await recorder.handle(receiptSm('1234', 'DELIVRD'));
    expect(stored[0]?.matchKeys[0]).toBe('1234');
    expect(stored[0]?.sentSegment).toBeUndefined();
    expect(carrierIds.find('sim', '4d2')).toBeDefined();
  });
});
