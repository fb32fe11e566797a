/**
 * The binds this daemon holds to one SMSC: N transceivers, or N transmitter+receiver pairs.
 * A segment goes to the bound bind with the most free window.
 */
import { SmscBind, type SmscBindOptions } from './smsc-bind.ts';

export type PoolBindMode = 'transceiver' | 'transmitter+receiver';

export interface SmscPoolOptions extends Omit<SmscBindOptions, 'label' | 'type'> {
  readonly mode: PoolBindMode;
  readonly binds: number;
}

export class SmscPool {
  readonly smsc: string;
  readonly binds: readonly SmscBind[];

  constructor(options: SmscPoolOptions) {
    this.smsc = options.smsc;
    const binds: SmscBind[] = [];
    for (let i = 1; i <= options.binds; i++) {
      if (options.mode === 'transceiver') {
        binds.push(new SmscBind({ ...options, label: `${options.smsc}#${i}`, type: 'transceiver' }));
      } else {
        binds.push(new SmscBind({ ...options, label: `${options.smsc}#${i}/tx`, type: 'transmitter' }));
        binds.push(new SmscBind({ ...options, label: `${options.smsc}#${i}/rx`, type: 'receiver' }));
      }
    }
    this.binds = binds;
  }

  start(): void {
    for (const b of this.binds) b.start();
  }

  /** True when at least one bind can carry submit_sm now. */
  get canSubmit(): boolean {
    return this.binds.some((b) => b.canSubmit);
  }

  get freeWindow(): number {
    let n = 0;
    for (const b of this.binds) n += b.freeWindow;
    return n;
  }

  /** The bound bind with the most free window, or undefined when every window is full. */
  pickBind(): SmscBind | undefined {
    let best: SmscBind | undefined;
    for (const b of this.binds) {
      const free = b.freeWindow;
      if (free > 0 && (!best || free > best.freeWindow)) best = b;
    }
    return best;
  }

  /** Resolves when some bind has room, or when none is bound any more (check `canSubmit`). */
  async waitForWindow(): Promise<void> {
    if (this.freeWindow > 0) return;
    const bound = this.binds.filter((b) => b.canSubmit);
    if (bound.length === 0) return;
    await Promise.race(bound.map((b) => b.waitForWindow()));
  }

  /** Unbinds every bind cleanly and holds them unbound, with the reason logged, until `release`. */
  hold(reason: string, graceMs?: number): void {
    for (const b of this.binds) b.hold(reason, graceMs);
  }

  release(): void {
    for (const b of this.binds) b.release();
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.allSettled(this.binds.map((b) => b.stop(graceMs)));
  }
}
