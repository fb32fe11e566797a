/**
 * What reached the simulator: every submit_sm and data_sm, accepted, throttled or rejected, in
 * arrival order. A ring buffer of the last `keep` entries, so a benchmark does not grow memory
 * without bound; `seq` keeps counting so a reader can ask for what came after the last it saw.
 */
export type ArrivalStatus = 'accepted' | 'throttled' | 'rejected';

/** How a part of a long message said so: a concatenation UDH or the sar_* TLVs. */
export interface ArrivalConcat {
  readonly scheme: 'udh8' | 'udh16' | 'sar';
  readonly reference: number;
  readonly total: number;
  readonly seq: number;
}

export interface Arrival {
  /** 1, 2, 3... over the simulator's life (reset by `reset()`). */
  readonly seq: number;
  /** Epoch milliseconds from a monotonic clock (performance.timeOrigin + performance.now()). */
  readonly atMs: number;
  readonly bindId: string;
  readonly systemId: string;
  readonly command: 'submit_sm' | 'data_sm';
  readonly status: ArrivalStatus;
  readonly commandStatus: number;
  /** The id answered in the response; undefined when the submit was not accepted. */
  readonly messageId: string | undefined;
  readonly source: string;
  readonly sourceTon: number;
  readonly sourceNpi: number;
  readonly destination: string;
  readonly destTon: number;
  readonly destNpi: number;
  readonly dataCoding: number;
  readonly esmClass: number;
  readonly registeredDelivery: number;
  readonly concat: ArrivalConcat | undefined;
  /** The text came in message_payload. */
  readonly payload: boolean;
  /** The part's text as decoded with data_coding (best effort), UDH removed. */
  readonly text: string;
}

export class ArrivalLog {
  private ring: (Arrival | undefined)[];
  private start = 0;
  private count = 0;
  private lastSeq = 0;

  constructor(private capacity: number) {
    this.ring = new Array<Arrival | undefined>(capacity);
  }

  /** The seq the next arrival gets. */
  nextSeq(): number {
    return this.lastSeq + 1;
  }

  /** The seq of the last arrival recorded (0 when none). */
  get last(): number {
    return this.lastSeq;
  }

  get size(): number {
    return this.count;
  }

  add(arrival: Arrival): void {
    this.lastSeq = arrival.seq;
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      this.ring[(this.start + this.count) % this.capacity] = arrival;
      this.count++;
    } else {
      this.ring[this.start] = arrival;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Kept arrivals with seq > `since`, oldest first, at most `limit`. */
  since(since = 0, limit = Number.POSITIVE_INFINITY): Arrival[] {
    const out: Arrival[] = [];
    if (this.count === 0) return out;
    const first = this.at(0);
    // Seqs are consecutive inside the ring, so the first wanted entry is found by arithmetic.
    const skip = first === undefined ? 0 : Math.max(0, Math.min(this.count, since - first.seq + 1));
    for (let i = skip; i < this.count && out.length < limit; i++) {
      const a = this.at(i);
      if (a) out.push(a);
    }
    return out;
  }

  clear(): void {
    this.ring = new Array<Arrival | undefined>(this.capacity);
    this.start = 0;
    this.count = 0;
    this.lastSeq = 0;
  }

  /** Changes how many are kept; the newest survive. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const kept = capacity > 0 ? this.since(0).slice(-capacity) : [];
    const last = this.lastSeq;
    this.capacity = capacity;
    this.clear();
    for (const a of kept) this.add(a);
    this.lastSeq = last;
  }

  private at(i: number): Arrival | undefined {
    return this.ring[(this.start + i) % this.capacity];
  }
}
