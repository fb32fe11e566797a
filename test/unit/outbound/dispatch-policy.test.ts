/**
 * The dispatcher's submit policy end to end on one route: what each answer to a submit_sm leads to
 * (send again at once, slow the route down, back off and resend, give up, report unknown). The SMSC
 * link is the dispatcher's own port, answering from a script; time is vitest's fake clock, so
 * backoff delays are advanced, never waited for.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Dispatcher, type DispatchObserver, type SmscLink } from '../../../src/outbound/dispatcher.ts';
import type { RouteThrottle } from '../../../src/outbound/route-throttle.ts';
import type { RouteConfig, SmscConfig } from '../../../src/config/types.ts';
import type { SubmitResult } from '../../../src/smpp/smsc-bind.ts';
import type { SegmentRecord } from '../../../src/domain/segment.ts';
import type { StatusChange } from '../../../src/domain/events.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const ROK = 0x00;
const RMSGQFUL = 0x14;
const RTHROTTLED = 0x58;
const RSYSERR = 0x08;
const RINVDSTADR = 0x0b;

const ok = (id = 'smsc-1'): SubmitResult => ({ kind: 'response', commandStatus: ROK, smscMessageId: id });
const status = (commandStatus: number): SubmitResult => ({ kind: 'response', commandStatus, smscMessageId: '' });
const session = (code: Extract<SubmitResult, { kind: 'failed' }>['code']): SubmitResult => ({ kind: 'failed', code, reason: code });

function run(script: SubmitResult[], routeOptions: Partial<RouteConfig> = {}, maxSegmentAttempts = 3) {
  const answers = [...script];
  const submits: number[] = [];
  const throttle = { throttled: 0, accepted: 0 };
  const segments: SegmentRecord[] = [];
  const changes: StatusChange[] = [];
  const resends: { reason: string; uncertain: boolean; delayMs: number }[] = [];
  const link: SmscLink = {
    smsc: 'smsc-a',
    canSubmit: true,
    pickBind: () => ({
      label: 'smsc-a#1',
      submit: async () => {
        submits.push(Date.now());
        return answers.shift() ?? ok();
      },
    }),
    waitForWindow: async () => {},
  };
  const routeThrottle: RouteThrottle = {
    acquire: async () => true,
    onThrottled: () => void throttle.throttled++,
    onAccepted: () => void throttle.accepted++,
    currentRate: 10,
  };
  const route: RouteConfig = { name: 'r', prefixes: ['*'], smscs: ['smsc-a'], tps: 10, burst: 10, uncertainSubmit: 'resend', uncertainMaxAttempts: 3, ...routeOptions };
  const observer: DispatchObserver = { onResend: (_r, _s, reason, uncertain, delayMs) => void resends.push({ reason, uncertain, delayMs }) };
  const dispatcher = new Dispatcher({
    routes: [route],
    smscs: new Map([['smsc-a', { link, config: { defaultAlphabet: 'gsm7', concatenation: 'udh8', sourceTon: 'auto', sourceNpi: 'auto', destTon: 'auto', destNpi: 'auto', idFormat: 'hex' } as unknown as SmscConfig }]]),
    throttleFor: () => routeThrottle,
    attempts: { markAttempted: async () => {}, unmarkAttempted: async () => {} },
    recorder: { recordSegment: (s) => void segments.push(s), recordChange: async (c) => void changes.push(c) },
    logger: silentLogger,
    observer,
    maxSegmentAttempts,
    // Jitter at its top: each backoff delay is exactly min * 2^attempt (1 s, 2 s, 4 s...).
    random: () => 1,
  });
  dispatcher.start();
  dispatcher.enqueue([{ message: { id: 'm1', to: '447700900001', from: 'Parley', text: 'hi', route: 'r', priority: 0, dlr: true } as never, priorAttempts: 0, acceptedSegments: new Set() }]);
  return { dispatcher, submits, throttle, segments, changes, resends };
}

/** Advances the fake clock until the message has its final status (at most ten minutes of it). */
async function settle(t: ReturnType<typeof run>): Promise<void> {
  for (let i = 0; i < 6000 && t.changes.length === 0; i++) await vi.advanceTimersByTimeAsync(100);
  await t.dispatcher.stop();
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('dispatcher: what each answer leads to', () => {
  type Row = {
    script: SubmitResult[];
    route?: Partial<RouteConfig>;
    final: string;
    errorCode?: string;
    submits: number;
    throttled?: number;
    resends?: { reason: string; uncertain: boolean; delayMs: number }[];
  };
  const rows: [string, Row][] = [
    ['ESME_ROK: submitted, the throttle told of the success', { script: [ok()], final: 'submitted', submits: 1 }],
    ['ESME_RTHROTTLED: the route slows down and the segment goes again (no backoff, not a resend)', { script: [status(RTHROTTLED), ok()], final: 'submitted', submits: 2, throttled: 1, resends: [] }],
    ['ESME_RMSGQFUL: the same as throttled', { script: [status(RMSGQFUL), ok()], final: 'submitted', submits: 2, throttled: 1, resends: [] }],
    ['ESME_RSYSERR: resent after the backoff (1 s, then 2 s)', {
      script: [status(RSYSERR), status(RSYSERR), ok()], final: 'submitted', submits: 3,
      resends: [{ reason: 'ESME_RSYSERR', uncertain: false, delayMs: 1000 }, { reason: 'ESME_RSYSERR', uncertain: false, delayMs: 2000 }],
    }],
    ['ESME_RSYSERR on every attempt: failed after max attempts (3)', {
      script: [status(RSYSERR), status(RSYSERR), status(RSYSERR)], final: 'failed', errorCode: 'smsc_rejected:ESME_RSYSERR', submits: 3,
    }],
    ['ESME_RINVDSTADR: failed at once, never sent again', { script: [status(RINVDSTADR)], final: 'failed', errorCode: 'smsc_rejected:ESME_RINVDSTADR', submits: 1, resends: [] }],
    ['generic_nack: the SMSC did not take it; resent after the backoff', {
      script: [session('generic_nack'), ok()], final: 'submitted', submits: 2, resends: [{ reason: 'generic_nack', uncertain: false, delayMs: 1000 }],
    }],
    ['not bound / window full: never left, sent again at once without a resend', {
      script: [session('not_bound'), session('window_full'), ok()], final: 'submitted', submits: 3, resends: [],
    }],
    ['encode_failed: failed, the same PDU would fail again', { script: [session('encode_failed')], final: 'failed', errorCode: 'encode_failed', submits: 1 }],
    ['response_timeout, route resends: resent as a possible duplicate', {
      script: [session('response_timeout'), ok()], final: 'submitted', submits: 2, resends: [{ reason: 'response_timeout', uncertain: true, delayMs: 1000 }],
    }],
    ['response_timeout on every attempt: unknown after uncertain_max_attempts (3)', {
      script: [session('response_timeout'), session('response_timeout'), session('response_timeout')], final: 'unknown', errorCode: 'response_timeout', submits: 3,
    }],
    ['response_timeout, route sends at most once: unknown at once', {
      script: [session('response_timeout')], route: { uncertainSubmit: 'unknown' }, final: 'unknown', errorCode: 'response_timeout', submits: 1, resends: [],
    }],
  ];

  it.each(rows)('%s', async (_what, row) => {
    const t = run(row.script, row.route);
    await settle(t);
    expect(t.changes).toEqual([expect.objectContaining({ id: 'm1', status: row.final, previous: 'queued', ...(row.errorCode ? { errorCode: row.errorCode } : {}) })]);
    expect(t.submits).toHaveLength(row.submits);
    expect(t.throttle.throttled).toBe(row.throttled ?? 0);
    expect(t.throttle.accepted).toBe(row.final === 'submitted' ? 1 : 0);
    if (row.resends) expect(t.resends).toEqual(row.resends);
  });

  it('a resend waits its backoff: the second submit leaves 1 s after the first answer, not earlier', async () => {
    const t = run([status(RSYSERR), ok()]);
    await settle(t);
    expect(t.submits).toEqual([t.submits[0], t.submits[0]! + 1000]);
  });

  it('a segment resent after no answer is recorded as a possible duplicate', async () => {
    const t = run([session('response_timeout'), ok('abc')]);
    await settle(t);
    expect(t.segments).toEqual([expect.objectContaining({ status: 'accepted', smscMessageId: 'abc', attempts: 2, possibleDuplicate: true })]);
  });

  it('a permanent refusal is recorded as a failed segment without an SMSC id', async () => {
    const t = run([status(RINVDSTADR)]);
    await settle(t);
    expect(t.segments).toEqual([expect.objectContaining({ status: 'failed', smscMessageId: null, attempts: 1 })]);
  });
});
