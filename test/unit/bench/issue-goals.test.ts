/**
 * The outbound benchmark's verdict on issue 10 (test/bench/issue-goals.ts): judged on medians of
 * at least 3 runs, each goal against its own limit, and never on a paced (latency) run.
 */
import { describe, expect, it } from 'vitest';
import { issue10Verdict, ISSUE_10_WAL_LIMIT, median, type RunMedians } from '../../bench/issue-goals.ts';

const met: RunMedians = { finalRate: 6_000, rate: 10_000, daemonUs: 100, postgresUs: 100, walBytes: ISSUE_10_WAL_LIMIT };

describe('median', () => {
  it('is the middle value, the mean of the middle two for an even count, NaN for none', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
});

describe('issue10Verdict', () => {
  it('says every goal is met at its limit, with receipts and without', () => {
    expect(issue10Verdict([1], [met], true, 3, false)).toEqual([
      'issue 10 goals, binds 1, medians of 3 runs: final 6,000 msg/s >= 6,000 met; daemon 100 µs <= 100 met; postgres 100 µs <= 100 met; WAL 4,250 B <= 4,250 met -> all met',
    ]);
    expect(issue10Verdict([2], [met], false, 5, false)).toEqual(['issue 10 goals, binds 2, medians of 5 runs: submit 10,000 msg/s >= 10,000 met -> all met']);
  });

  it('names each goal missed, per binds value', () => {
    const lines = issue10Verdict(
      [1, 2],
      [
        { ...met, finalRate: 5_999, postgresUs: 101 },
        { ...met, finalRate: 10_500, walBytes: ISSUE_10_WAL_LIMIT + 1 },
      ],
      true,
      3,
      false,
    );
    expect(lines).toEqual([
      'issue 10 goals, binds 1, medians of 3 runs: final 5,999 msg/s >= 6,000 NOT met; daemon 100 µs <= 100 met; postgres 101 µs <= 100 NOT met; WAL 4,250 B <= 4,250 met -> 2 NOT met',
      'issue 10 goals, binds 2, medians of 3 runs: final 10,500 msg/s >= 6,000 (stretch 10,000 met) met; daemon 100 µs <= 100 met; postgres 100 µs <= 100 met; WAL 4,251 B <= 4,250 NOT met -> 1 NOT met',
    ]);
    expect(issue10Verdict([1], [{ ...met, rate: 9_999 }], false, 3, false)).toEqual(['issue 10 goals, binds 1, medians of 3 runs: submit 9,999 msg/s >= 10,000 NOT met -> 1 NOT met']);
  });

  it('judges nothing on fewer than 3 runs or on a paced feed', () => {
    expect(issue10Verdict([1], [met], true, 2, false)).toEqual(['issue 10 goals are medians of 3 runs: not judged on 2 (--runs 3)']);
    expect(issue10Verdict([1], [met], true, 3, true)).toEqual(['issue 10 goals: not judged (paced feed: a latency run, not a capacity run)']);
  });
});
