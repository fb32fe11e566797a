/**
 * The daemon's lifecycle: components start in order and stop in reverse (courier's
 * cmd/service.go), every cleanup runs even when one fails, and a watchdog caps the whole stop at
 * the force time. `stop()` is idempotent: a second call returns the same promise.
 */
import type { Logger } from './lib/logger.ts';
import { describeError } from './lib/errors.ts';
import { orTimeout } from './lib/timeout.ts';

export interface Component {
  readonly name: string;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export type ServiceState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export type StopResult = 'clean' | 'errors' | 'forced';

export class Service {
  private stateValue: ServiceState = 'created';
  private started: Component[] = [];
  private stopping: Promise<StopResult> | undefined;
  readonly states: ServiceState[] = ['created'];

  constructor(
    private readonly components: readonly Component[],
    private readonly log: Logger,
    private readonly forceMs: number,
  ) {}

  get state(): ServiceState {
    return this.stateValue;
  }

  private setState(next: ServiceState): void {
    this.log.info({ from: this.stateValue, to: next }, 'service state');
    this.stateValue = next;
    this.states.push(next);
  }

  /** Starts every component in order; if one fails, those started are stopped and it throws. */
  async start(): Promise<void> {
    if (this.stateValue !== 'created') throw new Error(`cannot start a service that is ${this.stateValue}`);
    this.setState('starting');
    this.startRun = this.startAll();
    const failure = await this.startRun;
    if (failure) {
      await this.stop();
      throw failure.err;
    }
    if (!this.stopping) this.setState('running');
  }

  /** Never rejects: a failure comes back as a value, so a stop can wait for it safely. */
  private async startAll(): Promise<{ err: unknown } | undefined> {
    for (const c of this.components) {
      // A stop requested while starting: start nothing more; stop() stops what was started.
      if (this.stopping) return undefined;
      try {
        await c.start?.();
        this.started.push(c);
      } catch (err) {
        this.log.error({ component: c.name, err: describeError(err) }, 'component failed to start');
        return { err };
      }
    }
    return undefined;
  }

  private startRun: Promise<{ err: unknown } | undefined> | undefined;

  stop(): Promise<StopResult> {
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  private async runStop(): Promise<StopResult> {
    this.setState('stopping');
    const orderly = (async (): Promise<StopResult> => {
      // A component still starting finishes first, so that it is stopped too.
      await this.startRun;
      let result: StopResult = 'clean';
      for (const c of [...this.started].reverse()) {
        const t0 = Date.now();
        try {
          await c.stop?.();
          this.log.info({ component: c.name, ms: Date.now() - t0 }, 'component stopped');
        } catch (err) {
          result = 'errors';
          this.log.error({ component: c.name, err: describeError(err) }, 'component failed to stop cleanly');
        }
      }
      return result;
    })();
    const result = await orTimeout(orderly, this.forceMs, 'forced' as const);
    if (result === 'forced') this.log.error({ forceMs: this.forceMs }, 'shutdown did not finish within the force time');
    this.setState('stopped');
    return result;
  }
}
