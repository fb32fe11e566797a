/**
 * Two builds' outbound benchmark figures compared pair by pair (test/bench/ab.ts): the median of
 * each side, their ratio, and in how many pairs the build under test did better. On this machine
 * one build's runs differ by up to a third, so a change is read from runs alternated in the same
 * minutes, and a figure counts only where most pairs agree.
 */
import { median } from './issue-goals.ts';
import type { OutboundResult } from './outbound.ts';

/** One run's headline figures, per message where they are costs. */
export interface RunFigures {
  readonly finalRate: number | undefined;
  readonly submitRate: number;
  readonly daemonUs: number;
  readonly postgresUs: number;
  /** Undefined for a build whose result file did not have it yet. */
  readonly walBytes: number | undefined;
}

export function figuresOf(r: OutboundResult): RunFigures {
  const per = Math.max(1, r.count);
  return {
    finalRate: r.finalRate,
    submitRate: r.submitRate,
    daemonUs: (r.daemonCpuMs * 1000) / per,
    postgresUs: (r.postgresCpuMs * 1000) / per,
    walBytes: typeof r.walBytes === 'number' ? r.walBytes / per : undefined,
  };
}

const FIGURES = [
  { label: 'final msg/s', of: (f: RunFigures) => f.finalRate, better: 'higher' },
  { label: 'submit msg/s', of: (f: RunFigures) => f.submitRate, better: 'higher' },
  { label: 'daemon µs/msg', of: (f: RunFigures) => f.daemonUs, better: 'lower' },
  { label: 'postgres µs/msg', of: (f: RunFigures) => f.postgresUs, better: 'lower' },
  { label: 'WAL B/msg', of: (f: RunFigures) => f.walBytes, better: 'lower' },
] as const;

export interface FigureComparison {
  readonly label: string;
  readonly base: number;
  readonly head: number;
  /** head / base. */
  readonly ratio: number;
  /** Pairs in which the build under test did better (higher rate, lower cost); equal is not better. */
  readonly better: number;
  readonly pairs: number;
}

/** Each figure both runs of a pair have, compared over the pairs. */
export function comparePairs(pairs: readonly { readonly base: RunFigures; readonly head: RunFigures }[]): FigureComparison[] {
  return FIGURES.flatMap(({ label, of, better }) => {
    const had = pairs.flatMap((p) => {
      const [b, h] = [of(p.base), of(p.head)];
      return b === undefined || h === undefined ? [] : [{ b, h }];
    });
    if (had.length === 0) return [];
    const base = median(had.map((x) => x.b));
    const head = median(had.map((x) => x.h));
    return [{
      label,
      base,
      head,
      ratio: head / base,
      better: had.filter((x) => (better === 'higher' ? x.h > x.b : x.h < x.b)).length,
      pairs: had.length,
    }];
  });
}
