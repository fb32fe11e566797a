import { describe, expect, it } from 'vitest';
import { ArrivalLog, type Arrival } from '../../../src/simulator/arrival-log.ts';
import { Handset, Reassembler } from '../../../src/simulator/handset.ts';
import { formatReceiptId } from '../../../src/simulator/message-ids.ts';
import { createRandom } from '../../../src/simulator/random.ts';
import { compileReceiptMix, formatReceiptDate, formatReceiptText, pickReceiptStat, receiptTextSnippet } from '../../../src/simulator/receipts.ts';
import { Timeline } from '../../../src/simulator/timeline.ts';
import { TokenBucket } from '../../../src/lib/token-bucket.ts';

const arrival = (seq: number): Arrival => ({ seq, text: `m${seq}` }) as unknown as Arrival;

describe('simulator building blocks', () => {
  it('ArrivalLog keeps the newest `capacity` and pages by seq', () => {
    const log = new ArrivalLog(3);
    for (let i = 1; i <= 7; i++) log.add(arrival(i));
    expect(log.since(0).map((a) => a.seq)).toEqual([5, 6, 7]);
    expect(log.since(5).map((a) => a.seq)).toEqual([6, 7]);
    expect(log.since(2, 1).map((a) => a.seq)).toEqual([5]);
    expect(log.last).toBe(7);
    log.resize(5);
    log.add(arrival(8));
    expect(log.since(0).map((a) => a.seq)).toEqual([5, 6, 7, 8]);
    const none = new ArrivalLog(0);
    none.add(arrival(1));
    expect(none.since(0)).toEqual([]);
    expect(none.last).toBe(1);
  });

  it('Timeline hands due items over in one call per tick, in time order', () => {
    let now = 1000;
    const batches: string[][] = [];
    const t = new Timeline<string>(10, (items) => batches.push(items), () => now);
    t.schedule(1050, 'c');
    t.schedule(1005, 'a');
    t.schedule(900, 'late');
    t.schedule(1009, 'b');
    expect(t.size).toBe(4);
    now = 1012;
    (t as unknown as { tick(): void }).tick();
    expect(batches).toEqual([['a', 'late', 'b']]);
    now = 5000;
    (t as unknown as { tick(): void }).tick();
    expect(batches[1]).toEqual(['c']);
    expect(t.size).toBe(0);
    t.schedule(6000, 'x');
    expect(t.stop()).toEqual(['x']);
  });

  it('TokenBucket allows the burst, then the rate', () => {
    const b = new TokenBucket(10, 5, 0);
    let ok = 0;
    for (let i = 0; i < 20; i++) {
      if (!b.available(0)) continue;
      b.take();
      ok++;
    }
    expect(ok).toBe(5);
    expect(b.available(50)).toBe(false);
    expect(b.available(100)).toBe(true);
  });

  it.each([
    ['1f3a9c04b2', 'hex', 'decimal', '134127289522'],
    ['68719476736', 'decimal', 'hex', '1000000000'],
    ['1f3a9c04b2', 'decimal', 'decimal', '1f3a9c04b2'],
    ['1f3a9c04b2', 'hex', 'leading_zeros', '00000000001f3a9c04b2'],
    ['1f3a9c04b2', 'hex', 'uppercase', '1F3A9C04B2'],
  ] as const)('formatReceiptId(%s, %s, %s) = %s', (id, idFormat, receiptIdFormat, expected) => {
    expect(formatReceiptId(id, idFormat, receiptIdFormat)).toBe(expected);
  });

  it('formats the Appendix B receipt text', () => {
    const at = Date.UTC(2024, 0, 31, 23, 59, 30);
    expect(formatReceiptDate(at)).toBe('2401312359');
    expect(
      formatReceiptText({ receiptId: 'abc', stat: 'UNDELIV', submitAtMs: at, doneAtMs: at + 60_000, snippet: receiptTextSnippet('Héllo_wörld, this is long') }),
    ).toBe('id:abc sub:001 dlvrd:000 submit date:2401312359 done date:2402010000 stat:UNDELIV err:003 text:H?llo?w?rld, this is');
  });

  it('draws stats in proportion to the mix', () => {
    const mix = compileReceiptMix({ DELIVRD: 3, UNDELIV: 1 });
    const random = createRandom(1);
    const n = { DELIVRD: 0, UNDELIV: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) n[pickReceiptStat(mix, random)]! += 1;
    expect(n.DELIVRD! / 4000).toBeGreaterThan(0.72);
    expect(n.DELIVRD! / 4000).toBeLessThan(0.78);
  });

  it('Handset matches RegExps, /literal/ strings and substrings, in rule order', () => {
    const h = new Handset({
      rules: [{ match: /^yes$/i, reply: 'A' }, { match: '/^n(o|ope)$/i', reply: 'B', delayMs: 5 }, { match: 'Help', reply: (m) => `C ${m.to}` }],
    });
    const msg = (text: string) => ({ text, from: '1', to: '2', systemId: 's' });
    expect(h.answer(msg('YES'))).toEqual({ text: 'A', delayMs: 0 });
    expect(h.answer(msg('nope'))).toEqual({ text: 'B', delayMs: 5 });
    expect(h.answer(msg('please help me'))).toEqual({ text: 'C 2', delayMs: 0 });
    expect(h.answer(msg('something'))).toBeUndefined();
  });

  it('Reassembler completes a message from parts in any order and forgets old partials', () => {
    const r = new Reassembler(1000, 10);
    const part = (seq: number) => ({ scheme: 'udh8' as const, reference: 7, total: 3, seq });
    expect(r.add('k', part(3), 'c', 0)).toBeUndefined();
    expect(r.add('k', part(1), 'a', 1)).toBeUndefined();
    expect(r.add('k', part(2), 'b', 2)).toBe('abc');
    expect(r.add('k', undefined, 'single', 3)).toBe('single');
    expect(r.add('k', part(1), 'a', 10)).toBeUndefined();
    expect(r.add('k', part(2), 'b', 5000)).toBeUndefined();
  });
});
