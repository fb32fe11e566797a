/**
 * Scheduled sends and quiet hours in the running daemon: `plan` marks the messages intake is about
 * to store that must wait (`schedule.ts` decides until when and why), and a release loop hands
 * them to the dispatcher once their time has come by the daemon's clock (injectable, so tests can
 * stand at 07:59:58 in Paris). Held messages are queued rows without an owner: another daemon may
 * release them just as well, and a stopped daemon leaves nothing behind.
 */
import type { Logger } from '../lib/logger.ts';
import { Backoff } from '../lib/backoff.ts';
import { Wakeup } from '../lib/wakeup.ts';
import { describeError } from '../lib/errors.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import { customerPairKey } from '../domain/conversation.ts';
import type { DispatchJob } from './dispatcher.ts';
import { planRelease, type HoldReason, type QuietHours } from './schedule.ts';

export interface SchedulerDeps {
  /** The quiet hours that apply to a message (its number's, else its route's), if any. */
  quietHoursFor(message: RoutedMessage): QuietHours | undefined;
  /** The pairs (`customer\0ourNumber`) whose customer wrote within `withinMs`. */
  recentWriters(pairs: readonly { customer: string; ourNumber: string }[], withinMs: number): Promise<Set<string>>;
  /** Claims held messages due by `now`. */
  claimDue(now: Date, limit: number): Promise<RoutedMessage[]>;
  enqueue(jobs: readonly DispatchJob[]): void;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly observer?: { onHeld?(reason: HoldReason): void; onReleased?(count: number): void };
  /** How often due messages are looked for. */
  readonly pollMs: number;
}

const RELEASE_BATCH = 500;

export class Scheduler {
  private readonly wakeup = new Wakeup();
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: SchedulerDeps) {
    this.log = deps.logger.child({ component: 'scheduler' });
  }

  /** The messages with a `hold` set on those that must wait. */
  async plan(messages: readonly RoutedMessage[]): Promise<RoutedMessage[]> {
    const now = this.deps.now();
    const quiet = messages.map((m) => this.deps.quietHoursFor(m));
    // Only messages that quiet hours could hold need to know whether their customer just wrote.
    const asks = messages.flatMap((m, i) => {
      const q = quiet[i];
      return q !== undefined && q.exemptAnswersWithinMs > 0 && m.replyTo === undefined && m.from !== undefined
        ? [{ customer: m.to, ourNumber: m.from, withinMs: q.exemptAnswersWithinMs }]
        : [];
    });
    const wrote = new Set<string>();
    for (const withinMs of new Set(asks.map((a) => a.withinMs))) {
      for (const pair of await this.deps.recentWriters(asks.filter((a) => a.withinMs === withinMs), withinMs)) wrote.add(pair);
    }
    return messages.map((m, i) => {
      const hold = planRelease(m, now, quiet[i], wrote.has(customerPairKey(m.to, m.from ?? '')));
      if (hold === undefined) return m;
      this.deps.observer?.onHeld?.(hold.reason);
      return { ...m, hold };
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.wakeup.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const backoff = new Backoff(this.deps.pollMs, 30_000);
    while (!signal.aborted) {
      let wait = this.deps.pollMs;
      try {
        const due = await this.deps.claimDue(this.deps.now(), RELEASE_BATCH);
        if (due.length > 0) {
          this.deps.enqueue(due.map((message) => ({ message, priorAttempts: 0, acceptedSegments: new Set<number>() })));
          this.deps.observer?.onReleased?.(due.length);
        }
        backoff.reset();
        if (due.length === RELEASE_BATCH) wait = 0;
      } catch (err) {
        wait = backoff.next();
        this.log.warn({ err: describeError(err) }, 'releasing held messages failed; retrying');
      }
      if (wait > 0) await this.wakeup.wait(wait, signal);
    }
  }
}
