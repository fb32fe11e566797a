/**
 * A job the daemon runs every so often (heartbeat, sweeps, polls): one timer, one run at a time,
 * every failure logged with its reason and counted, and a stop that waits for the run in flight so
 * nothing the job writes races the close of Postgres or Redis behind it.
 *
 * Runs start `intervalMs` apart; a run that takes longer than that is followed by the next at once
 * rather than joined by it (a slow sweep must not pile up copies of itself on a slow database).
 */
import type { Logger } from './logger.ts';
import { describeError } from './errors.ts';

export type PeriodicJobState = 'idle' | 'running' | 'stopping' | 'stopped';

export interface PeriodicJobOptions {
  /** Names the job in logs and in the failure counter (snake_case, e.g. `receipt_sweep`). */
  readonly name: string;
  /** What a run does, as the failure log says it: "taking over the work of stopped daemons". */
  readonly task: string;
  readonly intervalMs: number;
  /** The first run at start() rather than one interval later. */
  readonly runAtStart?: boolean;
  /** One run; the signal aborts when the job stops, so a long run can end early. */
  run(signal: AbortSignal): Promise<void>;
  readonly logger: Logger;
  /** Told of every failed run (after it is logged), e.g. to count it. */
  onFailure?(failure: JobFailure): void;
}

export interface JobFailure {
  readonly job: string;
  /** A short stable code for counting: the ParleyError's code, a system or Postgres error code, else `error`. */
  readonly code: string;
  /** The reason as logged. */
  readonly reason: string;
}

/** The code a failure is counted under: bounded, so it can be a metric label. */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code) ? code : 'error';
}

export class PeriodicJob {
  readonly name: string;
  private stateValue: PeriodicJobState = 'idle';
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly controller = new AbortController();
  private failuresValue = 0;

  constructor(private readonly options: PeriodicJobOptions) {
    this.name = options.name;
  }

  get state(): PeriodicJobState {
    return this.stateValue;
  }

  /** Failed runs since start. */
  get failures(): number {
    return this.failuresValue;
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'running';
    this.schedule(this.options.runAtStart ? 0 : this.options.intervalMs);
  }

  /** Stops the timer, aborts the run in flight and waits for it to end. Idempotent. */
  async stop(): Promise<void> {
    if (this.stateValue === 'idle') this.stateValue = 'stopped';
    if (this.stateValue === 'running') {
      this.stateValue = 'stopping';
      clearTimeout(this.timer);
      this.timer = undefined;
      this.controller.abort();
    }
    await this.inFlight;
    this.stateValue = 'stopped';
  }

  private schedule(delayMs: number): void {
    // Unref'd: a job never keeps the process alive on its own; the service's stop ends it.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.runOnce();
    }, delayMs);
    this.timer.unref();
  }

  /** Never rejects: a failure is logged and counted, and the next run goes ahead as planned. */
  private async runOnce(): Promise<void> {
    const startedAt = performance.now();
    try {
      await this.options.run(this.controller.signal);
    } catch (err) {
      this.failuresValue++;
      const reason = describeError(err);
      this.options.logger.warn({ job: this.name, err: reason }, `${this.options.task} failed; trying again in ${formatInterval(this.options.intervalMs)}`);
      try {
        this.options.onFailure?.({ job: this.name, code: failureCode(err), reason });
      } catch (observerErr) {
        this.options.logger.error({ job: this.name, err: describeError(observerErr) }, 'counting a periodic job failure failed');
      }
    } finally {
      this.inFlight = undefined;
      if (this.stateValue === 'running') this.schedule(Math.max(0, this.options.intervalMs - (performance.now() - startedAt)));
    }
  }
}

function formatInterval(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}
