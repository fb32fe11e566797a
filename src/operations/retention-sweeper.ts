/**
 * The retention sweep: every `intervalMs`, deletes what is past each table's retention in
 * batches of `batchSize` rows with `pauseMs` between them (each batch one short statement: no
 * long locks, and the traffic keeps most of Postgres), then trims the Redis streams. Every daemon
 * runs it; SKIP LOCKED in the deletes lets them share the work instead of waiting on each other.
 */
import type { Logger } from '../lib/logger.ts';
import { PeriodicJob, type JobFailure } from '../lib/periodic-job.ts';
import { sleep } from '../lib/timeout.ts';

/** A table and how long its rows are kept, in the order they are swept. */
export interface Retained<T extends string = string> {
  readonly table: T;
  readonly olderThanMs: number;
}

export interface RetentionDeps<T extends string = string> {
  readonly tables: readonly Retained<T>[];
  deleteBatch(table: T, olderThanMs: number, limit: number): Promise<number>;
  /** Trims the streams; returns the entries deleted per stream. */
  trimStreams(): Promise<Record<string, number>>;
  readonly logger: Logger;
  readonly observer?: {
    onDeleted?(table: T, rows: number): void;
    onTrimmed?(stream: string, entries: number): void;
    /** A sweep failed (logged already); the next interval tries again. */
    onFailure?(failure: JobFailure): void;
  };
}

export interface RetentionOptions {
  readonly batchSize: number;
  readonly pauseMs: number;
  readonly intervalMs: number;
  /** Most batches per table per run, so one run always ends (the next goes on). */
  readonly maxBatchesPerRun?: number;
}

export class RetentionSweeper<T extends string = string> {
  private readonly job: PeriodicJob;
  private readonly log: Logger;

  constructor(
    private readonly deps: RetentionDeps<T>,
    private readonly options: RetentionOptions,
  ) {
    this.log = deps.logger.child({ component: 'retention' });
    this.job = new PeriodicJob({
      name: 'retention',
      task: 'the retention sweep',
      intervalMs: options.intervalMs,
      runAtStart: true,
      run: async (signal) => {
        await this.sweepOnce(signal);
      },
      logger: this.log,
      onFailure: deps.observer?.onFailure,
    });
  }

  start(): void {
    this.job.start();
  }

  /** Stops after the batch in progress. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass over every table and stream; returns the rows deleted per table. */
  async sweepOnce(signal?: AbortSignal): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    const maxBatches = this.options.maxBatchesPerRun ?? 10_000;
    for (const { table, olderThanMs } of this.deps.tables) {
      let total = 0;
      for (let batch = 0; batch < maxBatches && !signal?.aborted; batch++) {
        const n = await this.deps.deleteBatch(table, olderThanMs, this.options.batchSize);
        total += n;
        if (n > 0) this.deps.observer?.onDeleted?.(table, n);
        if (n < this.options.batchSize) break;
        await sleep(this.options.pauseMs, signal);
      }
      deleted[table] = total;
    }
    const trimmed = await this.deps.trimStreams();
    for (const [stream, n] of Object.entries(trimmed)) if (n > 0) this.deps.observer?.onTrimmed?.(stream, n);
    const rows = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (rows > 0) this.log.info({ deleted, trimmed }, 'retention sweep deleted rows past their retention');
    return deleted;
  }
}
