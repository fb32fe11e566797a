/**
 * Whether a pipeline is moving. Each pipeline owns one `Progress`: it says when work starts
 * waiting and when work goes forward (an item written or set aside). A pipeline is stalled when
 * work has been waiting longer than a threshold without any step forward, whatever the cause: a
 * writer retrying a fault, a lock held elsewhere, a poison item being retried forever. `/readyz`
 * and `parley_pipeline_stalled` read it through a `StallTracker`, so health says what the
 * pipelines do rather than whether their dependencies answer a ping.
 */

export class Progress {
  /** When the oldest work still waiting started waiting, or the last step forward if later. */
  private waitingSince: number | undefined;
  private waitingItems = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** `items` more are waiting. */
  waiting(items = 1): void {
    if (this.waitingItems === 0 || this.waitingSince === undefined) this.waitingSince = this.clock();
    this.waitingItems += items;
  }

  /** `items` went forward (written, or set aside with their reason). */
  advanced(items = 1): void {
    this.waitingItems = Math.max(0, this.waitingItems - items);
    this.waitingSince = this.waitingItems > 0 ? this.clock() : undefined;
  }

  /** Everything waiting is gone (given back, or counted again from scratch). */
  idle(): void {
    this.waitingItems = 0;
    this.waitingSince = undefined;
  }

  get pending(): number {
    return this.waitingItems;
  }

  /** How long work has waited without a step forward; 0 while nothing waits. */
  stalledMs(): number {
    return this.waitingSince === undefined ? 0 : Math.max(0, this.clock() - this.waitingSince);
  }
}

export interface PipelineStall {
  readonly pipeline: string;
  readonly stalledMs: number;
  readonly pending: number;
}

/** The pipelines of one daemon, by name, and which of them are stalled. */
export class StallTracker {
  private readonly pipelines = new Map<string, Progress>();

  constructor(
    readonly stallAfterMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The progress of one pipeline (created on first use). */
  progress(pipeline: string): Progress {
    let p = this.pipelines.get(pipeline);
    if (!p) {
      p = new Progress(this.clock);
      this.pipelines.set(pipeline, p);
    }
    return p;
  }

  /** Every pipeline with how long it has gone without progress. */
  report(): PipelineStall[] {
    return [...this.pipelines].map(([pipeline, p]) => ({ pipeline, stalledMs: p.stalledMs(), pending: p.pending }));
  }

  /** Pipelines whose waiting work has not moved for `stallAfterMs` or more. */
  stalled(): PipelineStall[] {
    return this.report().filter((s) => s.stalledMs >= this.stallAfterMs);
  }
}
