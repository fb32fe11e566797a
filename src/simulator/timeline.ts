/**
 * One timer for everything the simulator does later (receipts after their delay, retries,
 * handset replies, delayed responses): items go into buckets of `tickMs`, and a single interval
 * hands each due bucket over in one call. A benchmark with 100,000 receipts pending holds 100,000
 * array entries, not 100,000 timers. The interval runs only while something is scheduled.
 */
export class Timeline<T> {
  private readonly slots = new Map<number, T[]>();
  private nextSlot: number;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly tickMs: number,
    private readonly onDue: (items: T[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.nextSlot = Math.floor(this.now() / tickMs);
  }

  get size(): number {
    return this.count;
  }

  /** Runs `item` at `atMs` (on the `now()` clock) or at the next tick if that has passed. */
  schedule(atMs: number, item: T): void {
    if (this.stopped) return;
    const slot = Math.max(this.nextSlot, Math.floor(atMs / this.tickMs));
    const bucket = this.slots.get(slot);
    if (bucket) bucket.push(item);
    else this.slots.set(slot, [item]);
    this.count++;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  /** Everything scheduled with when it is due (the start of its tick), soonest first; nothing is removed. */
  entries(): { atMs: number; item: T }[] {
    const out: { atMs: number; item: T }[] = [];
    for (const slot of [...this.slots.keys()].sort((a, b) => a - b)) for (const item of this.slots.get(slot) ?? []) out.push({ atMs: slot * this.tickMs, item });
    return out;
  }

  /** Removes everything scheduled and returns it. */
  clear(): T[] {
    const out: T[] = [];
    for (const slot of [...this.slots.keys()].sort((a, b) => a - b)) out.push(...(this.slots.get(slot) ?? []));
    this.slots.clear();
    this.count = 0;
    this.stopTimer();
    return out;
  }

  /** Stops for good and returns what was still scheduled. */
  stop(): T[] {
    this.stopped = true;
    return this.clear();
  }

  private tick(): void {
    const nowSlot = Math.floor(this.now() / this.tickMs);
    if (nowSlot < this.nextSlot) return;
    const due: T[] = [];
    const take = (slot: number): void => {
      const bucket = this.slots.get(slot);
      if (!bucket) return;
      this.slots.delete(slot);
      for (const item of bucket) due.push(item);
    };
    if (nowSlot - this.nextSlot > this.slots.size) {
      // A long stall (debugger, suspended process): visit the buckets that exist, not every slot.
      for (const slot of [...this.slots.keys()].filter((s) => s <= nowSlot).sort((a, b) => a - b)) take(slot);
    } else {
      for (let slot = this.nextSlot; slot <= nowSlot; slot++) take(slot);
    }
    this.nextSlot = nowSlot + 1;
    this.count -= due.length;
    if (this.count === 0) this.stopTimer();
    if (due.length > 0) this.onDue(due);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
