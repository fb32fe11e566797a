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
  /**
   * Slot i (from 0) is bind number i+1: one transceiver, or a transmitter and a receiver. A slot
   * can be stopped and started again (a bind lease lost and won back under `max_binds`); a
   * stopped bind cannot restart, so a slot gets fresh ones.
   */
  private readonly slotBinds: SmscBind[][] = [];
  private readonly slotRunning: boolean[] = [];
  private flat: SmscBind[] = [];
  private closed = false;

  constructor(private readonly options: SmscPoolOptions) {
    this.smsc = options.smsc;
    for (let i = 0; i < options.binds; i++) {
      this.slotBinds.push(this.makeSlot(i));
      this.slotRunning.push(false);
    }
    this.flat = this.slotBinds.flat();
  }

  private makeSlot(i: number): SmscBind[] {
    const o = this.options;
    if (o.mode === 'transceiver') return [new SmscBind({ ...o, label: `${o.smsc}#${i + 1}`, type: 'transceiver' })];
    return [
      new SmscBind({ ...o, label: `${o.smsc}#${i + 1}/tx`, type: 'transmitter' }),
      new SmscBind({ ...o, label: `${o.smsc}#${i + 1}/rx`, type: 'receiver' }),
    ];
  }

  get binds(): readonly SmscBind[] {
    return this.flat;
  }

  /** How many bind slots this daemon is configured for (`binds`). */
  get slots(): number {
    return this.slotBinds.length;
  }

  /** The SMPP sessions of slot i, by their labels' suffix (`1`, or `1/tx` and `1/rx`). */
  slotSessions(i: number): string[] {
    return this.slotBinds[i]!.map((b) => b.label.slice(this.smsc.length + 1));
  }

  isSlotRunning(i: number): boolean {
    return this.slotRunning[i] === true;
  }

  /** Slots running now. */
  get runningSlots(): number {
    return this.slotRunning.filter(Boolean).length;
  }

  start(): void {
    for (let i = 0; i < this.slotBinds.length; i++) this.startSlot(i);
  }

  startSlot(i: number): void {
    if (this.closed || this.slotRunning[i]) return;
    this.slotRunning[i] = true;
    for (const b of this.slotBinds[i]!) {
      // Fresh binds of a slot started while the pool is held stay held too.
      if (this.heldFor !== undefined) b.hold(this.heldFor);
      b.start();
    }
  }

  /** Unbinds slot i (in-flight submits get `graceMs`) and readies fresh binds for a later start. */
  async stopSlot(i: number, graceMs: number): Promise<void> {
    if (!this.slotRunning[i]) return;
    this.slotRunning[i] = false;
    const old = this.slotBinds[i]!;
    await Promise.allSettled(old.map((b) => b.stop(graceMs)));
    this.slotBinds[i] = this.makeSlot(i);
    this.flat = this.slotBinds.flat();
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
    this.heldFor = reason;
    for (const b of this.binds) b.hold(reason, graceMs);
  }

  release(): void {
    this.heldFor = undefined;
    for (const b of this.binds) b.release();
  }

  private heldFor: string | undefined;

  async stop(graceMs: number): Promise<void> {
    this.closed = true;
    for (let i = 0; i < this.slotRunning.length; i++) this.slotRunning[i] = false;
    await Promise.allSettled(this.binds.map((b) => b.stop(graceMs)));
  }
}
