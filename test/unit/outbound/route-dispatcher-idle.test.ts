/**
 * A route that cannot send (paused, or no SMSC of it can take a submit) with a few segments ready
 * and more messages waiting sleeps until something changes: it does not spin on microtasks.
 *
 * It used to: each turn of the loop began a batch preparation that returned at once (paused, or
 * no SMSC), and the preparation's end woke the send that had just gone to sleep for the same
 * reason, so the loop went round again without ever yielding to the event loop. Timers, sockets
 * and SIGTERM all stopped; runs of the control test hung that way (pausing a route in flight).
 * With no SMSC able to submit, the send happened to go to sleep after that wake-up and escaped;
 * the case is kept so that it stays so.
 *
 * The dispatcher's ports are Parley's own interfaces, given here in memory: what is under test is
 * the loop's scheduling, not the wire or the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RouteDispatcher } from '../../../src/outbound/route-dispatcher.ts';
import { AdaptiveThrottle } from '../../../src/outbound/route-throttle.ts';
import type { DispatcherDeps, SmscLink } from '../../../src/outbound/dispatch-ports.ts';
import type { SubmitRequest, SubmitResult } from '../../../src/smpp/smsc-bind.ts';
import { validateConfig } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

/** Far more checks than a sleeping loop makes in the test's 300 ms: one that spins makes millions. */
const SPINNING = 20_000;

function world(stopWhen: 'paused' | 'unbound') {
  const config = validateConfig({
    database: { url: 'postgres://127.0.0.1/unused' },
    redis: { url: 'redis://127.0.0.1:6379', prefix: 'unused:' },
    smscs: [{ name: 'a', host: '127.0.0.1', port: 2775, system_id: 'parley', password: 'secret' }],
    // 100/s: batches of 20, the next prepared when fewer than 10 are ready.
    routes: [{ name: 'r', prefixes: ['*'], smscs: ['a'], tps: 100, burst: 100, default_from: '12345' }],
    numbers: [{ address: '12345' }],
  });
  const route = config.routes[0]!;
  let submits = 0;
  let stopped = false;
  let checks = 0;
  /** Whether the route cannot send for `why` now; a spinning loop is let go after SPINNING checks. */
  const stoppedBy = (why: typeof stopWhen): boolean => {
    if (stopWhen === why && stopped && ++checks > SPINNING) stopped = false;
    return stopWhen === why && stopped;
  };
  const link: SmscLink = {
    smsc: 'a',
    get canSubmit() {
      return !stoppedBy('unbound');
    },
    waitForWindow: () => Promise.resolve(),
    pickBind: () => ({
      label: 'a#1',
      submit: (_req: SubmitRequest): Promise<SubmitResult> => {
        submits++;
        // The 12th leaves 8 ready (fewer than 10) with most messages still waiting.
        if (submits === 12) stopped = true;
        return Promise.resolve<SubmitResult>({ kind: 'response', commandStatus: 0, smscMessageId: `id-${submits}` });
      },
    }),
  };
  let attemptCalls = 0;
  const deps: DispatcherDeps = {
    routes: config.routes,
    smscs: new Map([['a', { link, config: config.smscs[0]! }]]),
    throttleFor: () => new AdaptiveThrottle(100, 100),
    attempts: {
      // The second batch's count fails, so its messages stay waiting behind the 8 ready.
      markAttempted: () => (++attemptCalls === 2 ? Promise.reject(new Error('Postgres is restarting')) : Promise.resolve()),
      unmarkAttempted: () => Promise.resolve(),
    },
    recorder: { recordSegment: () => undefined, recordChange: () => Promise.resolve() },
    logger: silentLogger,
    controls: {
      routePaused: () => stoppedBy('paused'),
      smscPaused: () => false,
      cancelled: () => false,
    },
  };
  const abort = new AbortController();
  const dispatcher = new RouteDispatcher(route, deps.throttleFor(route), deps, abort.signal);
  for (let i = 0; i < 100; i++) {
    dispatcher.enqueue({
      message: { id: `m-${i}`, to: '+14155550100', text: `message ${i}`, route: 'r', dlr: false, priority: 0 } as never,
      priorAttempts: 0,
      acceptedSegments: new Set(),
    });
  }
  return { dispatcher, abort, submits: () => submits, checks: () => checks, stopped: () => stopped };
}

describe('a route that cannot send sleeps', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
  });

  it.each(['paused', 'unbound'] as const)('%s with segments ready and messages waiting: no spin, and timers still run', async (why) => {
    const w = world(why);
    stop = async () => {
      w.abort.abort();
      await w.dispatcher.stopped();
    };
    w.dispatcher.start();
    // A spinning loop never lets this timer fire until it has made SPINNING checks.
    await new Promise((r) => setTimeout(r, 300));
    expect(w.submits()).toBe(12);
    expect(w.stopped()).toBe(true);
    expect(w.checks()).toBeLessThan(100);
  });
});
