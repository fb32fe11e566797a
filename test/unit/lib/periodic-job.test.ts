import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from '../../../src/lib/errors.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { PeriodicJob, failureCode, type JobFailure, type PeriodicJobOptions } from '../../../src/lib/periodic-job.ts';

interface Logged {
  readonly level: string;
  readonly obj: object;
  readonly msg?: string;
}

function recordingLogger(lines: Logged[]): Logger {
  const logger: Logger = {
    debug: (obj, msg) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
    child: () => logger,
  };
  return logger;
}

/** A run the test ends by hand, so "in flight" is a state the test controls, not a duration. */
function heldRun(): { run: PeriodicJobOptions['run']; release(): void; readonly started: number; readonly signals: AbortSignal[] } {
  const waiting: (() => void)[] = [];
  const signals: AbortSignal[] = [];
  return {
    run: (signal) =>
      new Promise<void>((resolve) => {
        signals.push(signal);
        waiting.push(resolve);
      }),
    release: () => waiting.shift()?.(),
    get started() {
      return signals.length;
    },
    signals,
  };
}

describe('PeriodicJob', () => {
  let lines: Logged[];
  let failures: JobFailure[];
  const job = (run: PeriodicJobOptions['run'], extra: Partial<PeriodicJobOptions> = {}): PeriodicJob =>
    new PeriodicJob({ name: 'sweep', task: 'the test sweep', intervalMs: 1000, run, logger: recordingLogger(lines), onFailure: (f) => void failures.push(f), ...extra });

  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    failures = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one interval after start, then every interval', async () => {
    let runs = 0;
    const j = job(async () => void runs++);
    j.start();
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toBe(4);
    await j.stop();
  });

  it('runs at once when told to run at start', async () => {
    let runs = 0;
    const j = job(async () => void runs++, { runAtStart: true });
    j.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    await j.stop();
  });

  it('never starts a run while one is in flight, and starts the next as soon as a long one ends', async () => {
    const held = heldRun();
    const j = job(held.run);
    j.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(held.started).toBe(1);
    // Five intervals pass while the first run hangs: none joins it.
    await vi.advanceTimersByTimeAsync(5000);
    expect(held.started).toBe(1);
    held.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(held.started).toBe(2);
    const stopping = j.stop();
    held.release();
    await stopping;
  });

  it('logs a failure with its reason, counts it by code, and runs again at the next interval', async () => {
    const outcomes: (Error | undefined)[] = [new ParleyError('postgres_slow', 'Postgres did not answer within 1 s'), new Error('socket hang up'), undefined];
    const j = job(async () => {
      const next = outcomes.shift();
      if (next) throw next;
    });
    j.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(outcomes).toEqual([]);
    expect(j.failures).toBe(2);
    expect(failures).toEqual([
      { job: 'sweep', code: 'postgres_slow', reason: 'postgres_slow: Postgres did not answer within 1 s' },
      { job: 'sweep', code: 'error', reason: 'socket hang up' },
    ]);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', obj: { job: 'sweep', err: 'postgres_slow: Postgres did not answer within 1 s' }, msg: 'the test sweep failed; trying again in 1 s' },
      { level: 'warn', obj: { job: 'sweep', err: 'socket hang up' }, msg: 'the test sweep failed; trying again in 1 s' },
    ]);
    await j.stop();
  });

  it('stop aborts the run in flight, waits for it to end and runs nothing after', async () => {
    const held = heldRun();
    const j = job(held.run);
    j.start();
    await vi.advanceTimersByTimeAsync(1000);
    let stopped = false;
    const stopping = j.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(held.signals[0]!.aborted).toBe(true);
    expect(stopped).toBe(false);
    expect(j.state).toBe('stopping');
    held.release();
    await stopping;
    expect(j.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(held.started).toBe(1);
  });

  it('stops idempotently, also before it started, and does not start once stopped', async () => {
    let runs = 0;
    const j = job(async () => void runs++);
    await j.stop();
    await j.stop();
    j.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(0);
    expect(j.state).toBe('stopped');
  });

  it('keeps running when the failure observer itself throws', async () => {
    let runs = 0;
    const j = job(
      async () => {
        runs++;
        throw new Error('down');
      },
      {
        onFailure: () => {
          throw new Error('counter broken');
        },
      },
    );
    j.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs).toBe(2);
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['counting a periodic job failure failed', 'counting a periodic job failure failed']);
    await j.stop();
  });
});

describe('failureCode', () => {
  it.each([
    [new ParleyError('redis_slow', 'x'), 'redis_slow'],
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    [Object.assign(new Error('admin shutdown'), { code: '57P01' }), '57P01'],
    [Object.assign(new Error('odd'), { code: 'not a code: has spaces' }), 'error'],
    [new Error('plain'), 'error'],
    ['a string', 'error'],
    [null, 'error'],
  ])('%s -> %s', (err, code) => {
    expect(failureCode(err)).toBe(code);
  });
});
