/** The CLI's JSON casing: Parley's keys snake_case, the app's and carrier's own data untouched. */
import { describe, expect, it } from 'vitest';
import { snakeCased } from '../../../src/cli/json.ts';

describe('snakeCased', () => {
  it("converts Parley's camelCase keys, deeply, and leaves metadata, tags and TLVs as they came", () => {
    const at = new Date('2026-03-01T12:00:00Z');
    expect(
      snakeCased({
        ourNumber: '12345',
        deliveredRate: 0.5,
        topErrors: { 'smsc_rejected:ESME_RINVDSTADR': 1, YES: 2 },
        entries: [{ matchedKind: 'keyword', receivedAt: at, metadata: { orderId: 7, nestedKey: { deepKey: 1 } }, tags: { campaignName: 'x' } }],
        tlvs: { receiptedMessageId: 'abc' },
        skipped: undefined,
      }),
    ).toEqual({
      our_number: '12345',
      delivered_rate: 0.5,
      top_errors: { 'smsc_rejected:ESME_RINVDSTADR': 1, YES: 2 },
      entries: [{ matched_kind: 'keyword', received_at: '2026-03-01T12:00:00.000Z', metadata: { orderId: 7, nestedKey: { deepKey: 1 } }, tags: { campaignName: 'x' } }],
      tlvs: { receiptedMessageId: 'abc' },
    });
  });
});
