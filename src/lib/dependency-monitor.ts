/**
 * Knows whether the services the daemon stands on (Postgres, Redis) answer, by probing each on a
 * short interval with a timeout of its own. Readiness reads it (so `/readyz` never hangs on a
 * service that does not answer, and names the one that is down), metrics export it, and the
 * outage policy (unbind the SMSCs after a while without Postgres) listens to its transitions.
 *
 * The pipelines do not need it to pause: each one retries a transient fault with backoff on its
 * own. A pipeline that meets a fault can `nudge` the monitor so the state changes at once instead
 * of at the next probe.
 */
import { describeError } from './errors.ts';
import { withTimeout } from './timeout.ts';

export type DependencyName = 'postgres' | 'redis';

export interface DependencyStatus {
  readonly name: DependencyName;
  readonly up: boolean;
  /** Date.now() of the last transition (or of the start). */
  readonly since: number;
  /** Why the last probe failed, while down. */
  readonly reason?: string;
}

export interface DependencyMonitorOptions {
  /** Resolves when the service answers; rejects (or takes longer than timeoutMs) when it does not. */
  readonly probes: Readonly<Record<DependencyName, () => Promise<unknown>>>;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Told of every transition (down, then up again). Must not throw: probes run unawaited on a timer. */
  onChange?(status: DependencyStatus): void;
  readonly now?: () => number;
}

interface State {
  up: boolean;
  since: number;
  reason?: string;
  probing?: Promise<void>;
}

export class DependencyMonitor {
  private readonly states = new Map<DependencyName, State>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: DependencyMonitorOptions) {
    this.now = options.now ?? Date.now;
    for (const name of Object.keys(options.probes) as DependencyName[]) this.states.set(name, { up: true, since: this.now() });
  }

  start(): void {
    if (this.timer) return;
    // probe cannot reject: a failed probe is caught as the dependency's reason, and onChange must not throw.
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
    this.timer = setInterval(() => void this.probeAll(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Probes every dependency now (one probe per dependency at a time). */
  async probeAll(): Promise<void> {
    await Promise.all([...this.states.keys()].map((name) => this.probe(name)));
  }

  /** A pipeline met a fault: probe that dependency now rather than at the next tick. */
  nudge(name: DependencyName): void {
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- probe cannot reject (see start)
    void this.probe(name);
  }

  status(name: DependencyName): DependencyStatus {
    const s = this.states.get(name);
    if (!s) throw new Error(`no probe for ${name}`);
    return { name, up: s.up, since: s.since, reason: s.reason };
  }

  get all(): DependencyStatus[] {
    return [...this.states.keys()].map((name) => this.status(name));
  }

  /** How long the dependency has been down (0 while up). */
  downForMs(name: DependencyName): number {
    const s = this.status(name);
    return s.up ? 0 : this.now() - s.since;
  }

  /** One line per dependency that is down, for the readiness report. */
  problems(): string[] {
    return this.all
      .filter((s) => !s.up)
      .map((s) => `${s.name}: down for ${Math.round((this.now() - s.since) / 1000)} s (${s.reason ?? 'not answering'})`);
  }

  private probe(name: DependencyName): Promise<void> {
    const state = this.states.get(name)!;
    state.probing ??= this.runProbe(name, state).finally(() => {
      state.probing = undefined;
    });
    return state.probing;
  }

  private async runProbe(name: DependencyName, state: State): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? 2000;
    let reason: string | undefined;
    try {
      await withTimeout(this.options.probes[name](), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
    } catch (err) {
      reason = describeError(err);
    }
    const up = reason === undefined;
    state.reason = reason;
    if (up === state.up) return;
    state.up = up;
    state.since = this.now();
    this.options.onChange?.({ name, up, since: state.since, reason });
  }
}
