/**
 * The simulator's receipts read by Parley's own receipt parser and matched with its id keys, for
 * every receiptIdFormat and each receipt form: the simulator option and the SMSC `id_format` that
 * undoes it must agree.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SmscIdFormat } from '../../../src/config/types.ts';
import { receiptIdKeys, responseIdKey } from '../../../src/domain/smsc-message-id.ts';
import { parseReceipt } from '../../../src/inbound/receipt-text.ts';
import { readTlv } from '../../../src/smpp/tlv.ts';
import { startSimulator, type IdFormat, type ReceiptForm, type ReceiptIdFormat } from '../../../src/simulator/index.ts';
import { openSimClient, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const CASES: [IdFormat, ReceiptIdFormat, SmscIdFormat][] = [
  ['hex', 'same', 'exact'],
  ['hex', 'decimal', 'hex_to_decimal'],
  ['decimal', 'hex', 'decimal_to_hex'],
  ['decimal', 'leading_zeros', 'leading_zeros'],
  ['hex', 'uppercase', 'case'],
  ['alnum', 'uppercase', 'case'],
  ['hex', 'decimal', 'auto'],
  ['decimal', 'hex', 'auto'],
  ['hex', 'leading_zeros', 'auto'],
  ['alnum', 'uppercase', 'auto'],
];

describe('simulator receipts through Parley receipt parsing and id matching', () => {
  for (const form of ['text', 'tlv', 'both'] as ReceiptForm[]) {
    it.each(CASES)(`${form}: responses %s, receipts %s, matched with id_format %s`, async (idFormat, receiptIdFormat, smscIdFormat) => {
      const sim = await startSimulator({
        controlPort: false,
        idFormat,
        receiptIdFormat,
        receiptForm: form,
        receiptDelayMs: 0,
        seed: 5,
        receiptMix: { DELIVRD: 2, UNDELIV: 1, EXPIRED: 1 },
      });
      cleanups.push(() => sim.stop());
      const c = await openSimClient({ port: sim.port }, cleanups);
      const resps = await c.submitMany(12);
      await waitFor(() => c.delivered.length === 12, 3000, 'receipts');
      const byKey = new Map(resps.map((r) => [responseIdKey(r.message_id, smscIdFormat), r.message_id]));
      const matched = new Set<string>();
      for (const pdu of c.delivered) {
        const parsed = parseReceipt({
          text: pdu.short_message.toString('latin1'),
          receiptedMessageId: readTlv(pdu.tlvs, 'receipted_message_id'),
          messageState: readTlv(pdu.tlvs, 'message_state'),
        });
        if (!parsed.ok) throw new Error(parsed.reason);
        expect(parsed.final).toBe(true);
        const hit = receiptIdKeys(parsed.smscMessageId, smscIdFormat).find((k) => byKey.has(k));
        expect(hit, `receipt id ${parsed.smscMessageId}`).toBeDefined();
        matched.add(byKey.get(hit!)!);
      }
      expect(matched.size).toBe(12);
    });
  }
});
