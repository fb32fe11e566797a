/**
 * Daemons watching each other through Postgres: each writes a heartbeat; one whose heartbeat is
 * `daemon.takeover` old is dead, and a survivor takes over its stream entries and queued messages.
 * At start a daemon picks up what it held itself before a restart.
 *
 * A daemon is dead when its heartbeat is `daemon.takeover` old; it beats three times in that
 * time, so one slow write does not get it declared dead, and the others look for dead daemons
 * five times in that time, so its work is taken over within about 1.2 × `takeover`.
 */
import os from 'node:os';
import { ParleyError } from '../lib/errors.ts';
import { PeriodicJob } from '../lib/periodic-job.ts';
import type { DispatchJob, Dispatcher } from '../outbound/dispatcher.ts';
import type { Intake } from '../outbound/intake.ts';
import type { Component } from '../service.ts';
import type { Db } from '../store/db.ts';
import * as claims from '../store/claims.ts';
import * as daemons from '../store/daemons.ts';
import type { DaemonContext } from './context.ts';

const HEARTBEATS_PER_TAKEOVER = 3;
const CHECKS_PER_TAKEOVER = 5;
const RECLAIM_BATCH = 1_000;

/**
 * Whether a daemon name's holder is this process or a process of this host that no longer runs
 * (killed, and restarted under the same name): the pid tells two live processes apart.
 */
function isThisOrDeadProcess(host: string, pid: number): boolean {
  if (host !== os.hostname()) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: a process of another user runs under that pid, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LivenessDeps {
  readonly db: Db;
  /** The heartbeat's own connection (see Connections.heartbeatDb); closed by the heartbeat's stop. */
  readonly heartbeatDb: Db;
  readonly intake: Pick<Intake, 'takeOver'>;
  readonly dispatcher: Pick<Dispatcher, 'enqueue'>;
  /** The routes this daemon may send on (undefined: all). */
  servableRoutes(): readonly string[] | undefined;
  /**
   * Whether heartbeats can be trusted now. Right after a Postgres outage every daemon's heartbeat
   * looks stale: wait until the live ones have beaten again, or this daemon would take over (and
   * send again) their work.
   */
  heartbeatsTrusted(): boolean;
}

export interface Liveness {
  /** Live daemons as last counted (at least 1): each one's fallback share of a route is rate ÷ this. */
  liveDaemons(): number;
  readonly components: { readonly heartbeat: Component; readonly recovery: Component };
}

export function wireLiveness(ctx: DaemonContext, deps: LivenessDeps): Liveness {
  const { config, log, metrics, consumer } = ctx;
  const { db, heartbeatDb } = deps;
  const takeoverMs = config.daemon.takeoverMs;
  let liveDaemons = 1;

  const countLive = async (): Promise<void> => {
    liveDaemons = Math.max(1, await daemons.countLiveDaemons(heartbeatDb, takeoverMs));
    metrics.liveDaemons.set(liveDaemons);
  };
  const heartbeat = new PeriodicJob({
    name: 'heartbeat',
    task: 'writing the heartbeat',
    intervalMs: Math.max(50, Math.round(takeoverMs / HEARTBEATS_PER_TAKEOVER)),
    run: async () => {
      const created = await daemons.heartbeat(heartbeatDb, consumer, os.hostname(), process.pid);
      // Declared dead by the others while alive (a heartbeat that could not be written in
      // time): they have taken over its queued messages, some of which this one may send too.
      if (created) log.error({ daemon: consumer }, 'this daemon was declared dead by the others and taken over; check Postgres latency and daemon.takeover');
      await countLive();
    },
    logger: log,
    onFailure: ctx.countFailure,
  });

  /** Claims queued messages nobody live works on and hands them to the dispatcher. */
  const reclaim = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const found = await claims.claimUnfinished(db, consumer, takeoverMs, RECLAIM_BATCH, deps.servableRoutes());
      const jobs: DispatchJob[] = found.map((u) => ({ message: u.message, priorAttempts: u.attempts, acceptedSegments: u.acceptedSegments }));
      deps.dispatcher.enqueue(jobs);
      total += jobs.length;
      if (found.length < RECLAIM_BATCH) return total;
    }
  };
  /**
   * Declares dead the daemons whose heartbeat stopped, takes over the stream entries of those this
   * daemon won (each dead daemon goes to one survivor), then claims every orphaned queued message.
   */
  const takeoverCheck = new PeriodicJob({
    name: 'takeover',
    task: 'taking over the work of stopped daemons',
    intervalMs: Math.max(20, Math.round(takeoverMs / CHECKS_PER_TAKEOVER)),
    run: async () => {
      if (!deps.heartbeatsTrusted()) return;
      for (const dead of await daemons.takeOverDead(db, consumer, takeoverMs)) {
        const entries = await deps.intake.takeOver(dead);
        log.warn({ daemon: dead, entries }, 'took over the work of a daemon whose heartbeat stopped');
        metrics.takeovers.inc();
      }
      const count = await reclaim();
      if (count > 0) log.info({ messages: count }, 'claimed queued messages of a stopped daemon');
    },
    logger: log,
    onFailure: ctx.countFailure,
  });

  return {
    liveDaemons: () => liveDaemons,
    components: {
      heartbeat: {
        name: 'heartbeat',
        start: async () => {
          const holder = await daemons.readDaemon(heartbeatDb, consumer);
          if (holder && holder.heartbeatAgeMs < takeoverMs && !isThisOrDeadProcess(holder.host, holder.pid)) {
            await heartbeatDb.destroy();
            throw new ParleyError(
              'daemon_name_in_use',
              `daemon.name ${JSON.stringify(consumer)} is held by pid ${holder.pid} on ${holder.host} (heartbeat ${Math.round(holder.heartbeatAgeMs)} ms ago): ` +
                `give each daemon its own daemon.name, or stop that process first`,
            );
          }
          await daemons.heartbeat(heartbeatDb, consumer, os.hostname(), process.pid);
          await countLive();
          heartbeat.start();
        },
        stop: async () => {
          // The beat in flight ends first, so it cannot write the row back after it is removed.
          await heartbeat.stop();
          // Gone from the table, this daemon's queued messages can be claimed at once by the next.
          try {
            await daemons.removeDaemon(heartbeatDb, consumer);
          } finally {
            await heartbeatDb.destroy();
          }
        },
      },
      recovery: {
        name: 'recovery',
        start: async () => {
          await claims.releaseOwned(db, consumer);
          const n = await reclaim();
          if (n > 0) log.info({ messages: n }, 'picked up queued messages from Postgres');
          takeoverCheck.start();
        },
        stop: () => takeoverCheck.stop(),
      },
    },
  };
}
