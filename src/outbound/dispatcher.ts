/**
 * Sends each route's messages: priority order, the route's throttle right before each submit_sm,
 * the first SMSC of the route that has a bound bind, the bind with the most free window, and one
 * decision per result (submit-outcome.ts). One loop per route owns that route's queue.
 *
 * Before a message's first submit leaves, its dispatch attempt is counted in Postgres (in batches),
 * so after a crash the messages that may already have reached the SMSC are known and flagged.
 */
import { RouteDispatcher } from './route-dispatcher.ts';
import type { DispatchJob, DispatcherDeps } from './dispatch-ports.ts';

export type { AttemptLedger, DispatchControls, DispatchJob, DispatchObserver, DispatcherDeps, SmscLink, SubmitRecording } from './dispatch-ports.ts';

export class Dispatcher {
  private readonly routes = new Map<string, RouteDispatcher>();
  private readonly controller = new AbortController();

  constructor(private readonly deps: DispatcherDeps) {
    for (const route of deps.routes) {
      this.routes.set(route.name, new RouteDispatcher(route, deps.throttleFor(route), deps, this.controller.signal));
    }
  }

  start(): void {
    for (const r of this.routes.values()) r.start();
  }

  /** Re-checks the binds at once (a bind came up or went down) instead of at the next poll. */
  wake(): void {
    for (const r of this.routes.values()) r.wake();
  }

  /** Messages taken up and not yet finished, across routes (intake's back-pressure). */
  get backlog(): number {
    let n = 0;
    for (const r of this.routes.values()) n += r.jobs;
    return n;
  }

  enqueue(jobs: readonly DispatchJob[]): void {
    for (const job of jobs) {
      const route = this.routes.get(job.message.route);
      if (!route) {
        this.deps.logger.error({ route: job.message.route, id: job.message.id }, 'message names a route this daemon does not have; left queued');
        continue;
      }
      route.enqueue(job);
    }
  }

  /** Stops sending new segments; results of those in flight are still recorded. */
  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.all([...this.routes.values()].map((r) => r.stopped()));
    const unsent = [...this.routes.values()].flatMap((r) => r.unsentJobIds());
    if (unsent.length > 0) {
      try {
        await this.deps.attempts.unmarkAttempted(unsent);
      } catch (err) {
        this.deps.logger.warn({ err, messages: unsent.length }, 'could not take back unsent attempts; they will be flagged as possible duplicates');
      }
    }
  }
}
