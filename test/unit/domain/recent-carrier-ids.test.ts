import { describe, expect, it } from 'vitest';
import { RecentCarrierIds } from '../../../src/domain/recent-carrier-ids.ts';

const seg = (messageId: string, seq = 1) => ({ messageId, seq });

describe('RecentCarrierIds', () => {
  it('finds a segment by its SMSC and carrier id key, and only there', () => {
    const ids = new RecentCarrierIds();
    ids.remember('a', 'k1', seg('m1'));
    expect(ids.find('a', 'k1')).toEqual(seg('m1'));
    expect(ids.find('b', 'k1')).toBeUndefined();
    expect(ids.find('a', 'k2')).toBeUndefined();
  });

  it('the latest segment to get a key wins, and forgetting a key drops it', () => {
    const ids = new RecentCarrierIds();
    ids.remember('a', 'k1', seg('m1'));
    ids.remember('a', 'k1', seg('m2', 2));
    expect(ids.find('a', 'k1')).toEqual(seg('m2', 2));
    ids.forget('a', 'k1');
    expect(ids.find('a', 'k1')).toBeUndefined();
    ids.forget('nowhere', 'k1');
    expect(ids.size).toBe(0);
  });

  it('keeps at most its limit of keys per SMSC, forgetting the oldest; a key given again is the newest', () => {
    const ids = new RecentCarrierIds(2);
    ids.remember('a', 'k1', seg('m1'));
    ids.remember('a', 'k2', seg('m2'));
    ids.remember('a', 'k1', seg('m1b'));
    ids.remember('a', 'k3', seg('m3'));
    expect(ids.find('a', 'k2')).toBeUndefined();
    expect(ids.find('a', 'k1')).toEqual(seg('m1b'));
    expect(ids.find('a', 'k3')).toEqual(seg('m3'));
    // Another SMSC has a bound of its own.
    ids.remember('b', 'k1', seg('x'));
    expect(ids.size).toBe(3);
    expect(ids.find('a', 'k1')).toEqual(seg('m1b'));
  });
});
