/**
 * Issue 10's goals for the outbound benchmark, judged on the medians of several runs
 * (`npm run bench -- --runs 3`): this machine's runs of one build differ by up to a third, so the
 * issue states its figures as medians of 3 runs.
 */
import { fmt, fmtInt } from './bench-support.ts';

/** The headline figures of one binds value, each the median over its runs (per message of the count). */
export interface RunMedians {
  readonly finalRate: number;
  readonly rate: number;
  readonly daemonUs: number;
  readonly postgresUs: number;
  readonly walBytes: number;
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** WAL per message with receipts when issue 10 was written: 8,500-9,300 bytes; its goal is half the lower figure. */
export const ISSUE_10_WAL_LIMIT = 4_250;

/**
 * Issue 10's goals, judged on medians of at least 3 runs: with receipts, >= 6,000 msg/s until every
 * message is final (stretch 10,000), daemon and Postgres CPU <= 100 µs a message each, WAL at most
 * half of what it was; submit only (--no-dlr), >= 10,000 msg/s.
 */
export function issue10Verdict(bindsList: readonly number[], medians: readonly RunMedians[], dlr: boolean, runs: number, paced: boolean): string[] {
  if (paced) return ['issue 10 goals: not judged (paced feed: a latency run, not a capacity run)'];
  if (runs < 3) return [`issue 10 goals are medians of 3 runs: not judged on ${runs} (--runs 3)`];
  return bindsList.map((binds, i) => {
    const m = medians[i]!;
    const checks = dlr
      ? [
          [`final ${fmtInt(m.finalRate)} msg/s >= 6,000${m.finalRate >= 10_000 ? ' (stretch 10,000 met)' : ''}`, m.finalRate >= 6_000],
          [`daemon ${fmt(m.daemonUs, 0)} µs <= 100`, m.daemonUs <= 100],
          [`postgres ${fmt(m.postgresUs, 0)} µs <= 100`, m.postgresUs <= 100],
          [`WAL ${fmtInt(m.walBytes)} B <= ${fmtInt(ISSUE_10_WAL_LIMIT)}`, m.walBytes <= ISSUE_10_WAL_LIMIT],
        ] as const
      : ([[`submit ${fmtInt(m.rate)} msg/s >= 10,000`, m.rate >= 10_000]] as const);
    const missed = checks.filter(([, ok]) => !ok).length;
    return `issue 10 goals, binds ${binds}, medians of ${runs} runs: ${checks.map(([what, ok]) => `${what} ${ok ? 'met' : 'NOT met'}`).join('; ')} -> ${missed === 0 ? 'all met' : `${missed} NOT met`}`;
  });
}

