import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('outbound: queue to SMSC', () => {
  it('submits 1,000 mixed messages exactly once with correct concatenation, recording every carrier id', async () => {
    const sim = await h.startSim({ idFormat: 'hex', keep: 10_000 });
    const config = h.config({
      smscs: [simSmsc('sim', sim, { window: 100 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 5000, default_from: 'Parley' }],
    });
    await h.startDaemon(config);
    const texts = [
      'Your code is 1234. Reply STOP to opt out.',
      'Prices: {5€} [10€] ~ ^ | \\ and more {curly} extension characters!',
      'Unicode ✓ with emoji 😀🎉 and 中文',
      'x'.repeat(400),
      'ç'.repeat(150) + ' ñ', // ç is not in GSM 03.38 (only Ç is): UCS-2, 152 units, 3 parts
    ];
    const payloads = Array.from({ length: 1000 }, (_, i) => ({ id: `m-${i}`, to: `+1415555${String(i).padStart(4, '0')}`, text: texts[i % texts.length]! }));
    await h.send(payloads);
    await h.until('all messages submitted', async () => (await h.acceptedCount()) === 1000, 60_000);

    const segments = await h.schema.db.selectFrom('segments').selectAll().execute();
    const perMessage = new Map<string, typeof segments>();
    for (const s of segments) perMessage.set(s.message_id, [...(perMessage.get(s.message_id) ?? []), s]);
    expect(perMessage.size).toBe(1000);
    for (const [, segs] of perMessage) {
      for (const s of segs) {
        // Accepted, and by now maybe already receipted by the simulator.
        expect(['accepted', 'delivered']).toContain(s.status);
        expect(s.smsc_message_id).toMatch(/^[0-9a-f]+$/);
        expect(s.possible_duplicate).toBe(false);
      }
    }
    const arrivals = sim.arrivals;
    // Every submit arrived exactly once: one arrival per recorded segment, ids unique.
    expect(arrivals.length).toBe(segments.length);
    expect(new Set(arrivals.map((a) => a.messageId)).size).toBe(arrivals.length);
    const bySmscId = new Map(segments.map((s) => [s.smsc_message_id, s]));
    for (const a of arrivals) {
      const seg = bySmscId.get(a.messageId!)!;
      expect(seg).toBeDefined();
      if (seg.total > 1) {
        expect(a.concat).toMatchObject({ scheme: 'udh8', total: seg.total, seq: seg.seq });
      } else {
        expect(a.concat).toBeUndefined();
      }
    }
    // The texts' parts: 400 GSM chars -> 3 parts; the UCS-2 text -> 1; the extension text -> 1.
    const totals = await sql<{ id: string; segments: number }>`SELECT id, segments FROM messages WHERE id IN ('m-0','m-1','m-2','m-3','m-4')`.execute(h.schema.db);
    expect(Object.fromEntries(totals.rows.map((r) => [r.id, r.segments]))).toEqual({ 'm-0': 1, 'm-1': 1, 'm-2': 1, 'm-3': 3, 'm-4': 3 });
    // Reassembled per message, the parts give back the text.
    const m3 = arrivals.filter((a) => bySmscId.get(a.messageId!)?.message_id === 'm-3').sort((a, b) => a.concat!.seq - b.concat!.seq);
    expect(m3.map((a) => a.text).join('')).toBe('x'.repeat(400));
  });
});
