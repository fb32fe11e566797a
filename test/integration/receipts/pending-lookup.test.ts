/**
 * Receipts that came before their submit's answer wait pending, among every receipt that never
 * matched (kept, counted unmatched), and are matched when the answer is recorded
 * (matchPendingLocking): each by its best key, however many pending receipts there are. A batch of
 * new receipts that matched nothing as stored is matched again by its own rows (matchReceipts),
 * not by reading every pending receipt.
 */
import { describe, expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { insertReceipts, matchPendingLocking, matchReceiptsQuery, pendingMatch } from '../../../src/store/receipts.ts';
import { carrierReceipt } from '../../support/receipt-records.ts';
import { statementPlan, rowsWorked, scansOf } from '../../support/plans.ts';

const s = freshSchemaPerTest();

describe('matching receipts that came before their answers', () => {
  it('matches each pending receipt its answers name, by its best key, among many that never match', async () => {
    await insertReceipts(
      s.db,
      Array.from({ length: 2000 }, (_, i) => carrierReceipt(`NEVER${i}`, 'DELIVRD', 'delivered')),
    );
    // Two spellings of one carrier id, the first the best; and a receipt for another SMSC.
    await insertReceipts(s.db, [
      { ...carrierReceipt('X1', 'DELIVRD', 'delivered'), matchKeys: ['k1', 'k2'] },
      { ...carrierReceipt('X2', 'DELIVRD', 'delivered'), matchKeys: ['k3'] },
      { ...carrierReceipt('X3', 'DELIVRD', 'delivered'), smsc: 'other', matchKeys: ['k3'] },
    ]);
    await insertMessages(
      s.db,
      'd1',
      ['mA', 'mB', 'mC'].map((id) => ({ id, to: '+14155550001', from: '12345', text: 'hi', route: 'default', dlr: true, priority: 0 })),
    );
    const matched = await s.db.transaction().execute((tx) =>
      matchPendingLocking(
        tx,
        [
          { smsc: 'sim', matchKey: 'k2', messageId: 'mA', seq: 1 },
          { smsc: 'sim', matchKey: 'k1', messageId: 'mB', seq: 1 },
          { smsc: 'sim', matchKey: 'k3', messageId: 'mC', seq: 1 },
        ],
        [],
      ),
    );
    expect(matched.map((m) => m.messageId).sort()).toEqual(['mB', 'mC']);
    const rows = await sql<{ smsc_message_id: string; message_id: string | null }>`
      SELECT smsc_message_id, message_id FROM receipts WHERE smsc_message_id IN ('X1', 'X2', 'X3') ORDER BY 1`.execute(s.db);
    expect(rows.rows).toEqual([
      { smsc_message_id: 'X1', message_id: 'mB' },
      { smsc_message_id: 'X2', message_id: 'mC' },
      { smsc_message_id: 'X3', message_id: null },
    ]);
    const fastUpdate = await sql<{ options: string[] | null }>`SELECT reloptions AS options FROM pg_class WHERE oid = to_regclass('receipts_pending_keys')`.execute(s.db);
    expect(fastUpdate.rows[0]?.options).toEqual(['fastupdate=off']);
  });

  it('matches a batch of new receipts, or the receipts answers name, without reading every pending receipt, planned custom or generic', async () => {
    // The daemon analyzed the table (planner-statistics.ts) while nearly every receipt had matched;
    // receipts that never match came after, fewer than would make it analyze again.
    await insertReceipts(
      s.db,
      Array.from({ length: 4000 }, (_, i) => carrierReceipt(`MATCHED${i}`, 'DELIVRD', 'delivered')),
    );
    await sql`UPDATE receipts SET message_id = 'm-' || id, seq = 1, matched_at = now(), match_keys = '{}'`.execute(s.db);
    await sql`ANALYZE receipts`.execute(s.db);
    await insertReceipts(
      s.db,
      Array.from({ length: 3000 }, (_, i) => carrierReceipt(`NEVER${i}`, 'DELIVRD', 'delivered')),
    );
    const batch = await insertReceipts(s.db, [
      { ...carrierReceipt('NEW1', 'DELIVRD', 'delivered'), matchKeys: ['k1'] },
      { ...carrierReceipt('NEW2', 'DELIVRD', 'delivered'), matchKeys: ['k2'] },
    ]);
    expect(batch).toHaveLength(2);
    const early = [
      { smsc: 'sim', matchKey: 'k1', messageId: 'mA', seq: 1 },
      { smsc: 'sim', matchKey: 'k2', messageId: 'mB', seq: 1 },
    ];
    const unknown = [{ smsc: 'sim', matchKey: 'k9', messageId: 'mC', seq: 1 }];

    const rowsRead = async (query: RawBuilder<unknown>, generic: boolean): Promise<number> =>
      rowsWorked(await statementPlan(s.db, query, generic), scansOf('receipts'));
    for (const generic of [false, true]) {
      // New receipts that matched nothing as stored, matched again by their ids (matchReceipts).
      expect(await rowsRead(matchReceiptsQuery(batch), generic)).toBeLessThanOrEqual(10);
      // Receipts the answers of a submit batch name (matchPendingLocking), and none: each key looked
      // up in receipts_pending_keys, the receipts updated found by id.
      expect(await rowsRead(pendingMatch(early), generic)).toBeLessThanOrEqual(10);
      expect(await rowsRead(pendingMatch(unknown), generic)).toBeLessThanOrEqual(10);
    }
  });
});
