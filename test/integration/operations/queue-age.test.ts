/**
 * The maximum queue age: a message that could not be sent by its route's max_queue_age or its
 * own expires_at becomes `expired` with a status event (error max_queue_age) and the SMSC never
 * sees a submit_sm for it, while messages without one still go out when the SMSC is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/main.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { statusEvents, statuses, submittedTexts } from '../../support/ops.ts';

let h: Harness;
let sim: Simulator;
let daemon: Daemon;

beforeAll(async () => {
  h = await createHarness();
  sim = await h.startSim({ receiptDelayMs: 20 });
  daemon = await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [
        // One-time codes: worthless after a second in the queue.
        { name: 'otp', prefixes: ['+1555'], smscs: ['sim'], tps: 100, default_from: '12345', max_queue_age: '1s' },
        { name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' },
      ],
    }),
  );
  await h.until('bound', () => daemon.pools.get('sim')!.canSubmit);
});

afterAll(async () => {
  await h?.close();
});

describe('max_queue_age and expires_at', () => {
  it('during an SMSC outage, messages past their queue age expire without a submit_sm; the others go out when it is back', async () => {
    const outage = sim.restart({ downMs: 4_000 });
    await h.until('bind lost', () => !daemon.pools.get('sim')!.canSubmit);
    const soon = new Date(Date.now() + 1_000).toISOString();
    await h.send([
      { id: 'otp-1', to: '+15550100001', text: 'code 111111' },
      { id: 'otp-2', to: '+15550100002', text: 'code 222222' },
      { id: 'own-1', to: '+14155550103', text: 'sale ends soon', expires_at: soon },
      { id: 'late-1', to: '+14155550104', text: 'your statement is ready' },
    ]);
    await outage;
    await h.until('bound again', () => daemon.pools.get('sim')!.canSubmit);
    await h.until('late-1 sent', async () => (await statuses(h, ['late-1']))['late-1'] !== 'queued', 20_000);
    await h.until('otp and own expired', async () => Object.values(await statuses(h, ['otp-1', 'otp-2', 'own-1'])).every((s) => s === 'expired'), 20_000);

    const texts = submittedTexts(sim);
    expect(texts).toContain('your statement is ready');
    for (const t of ['code 111111', 'code 222222', 'sale ends soon']) expect(texts).not.toContain(t);
    const segments = await h.schema.db.selectFrom('segments').select('message_id').where('message_id', 'in', ['otp-1', 'otp-2', 'own-1']).execute();
    expect(segments).toEqual([]);

    const events = await statusEvents(h);
    for (const id of ['otp-1', 'otp-2', 'own-1']) {
      const expired = events.filter((e) => e.id === id && e.status === 'expired');
      expect(expired, id).toHaveLength(1);
      expect(expired[0]).toMatchObject({ previous: 'queued', error: { code: 'max_queue_age' } });
    }
  }, 60_000);

  it('a message whose expires_at has already passed is expired at intake, with its event, and never submitted', async () => {
    await h.send([
      { id: 'past-1', to: '+14155550105', text: 'too late already', expires_at: new Date(Date.now() - 60_000).toISOString() },
      { id: 'fresh-1', to: '+14155550106', text: 'in good time', expires_at: new Date(Date.now() + 600_000).toISOString() },
    ]);
    await h.until('both settled', async () => Object.values(await statuses(h, ['past-1', 'fresh-1'])).every((s) => s !== undefined && s !== 'queued'));
    expect(await statuses(h, ['past-1'])).toEqual({ 'past-1': 'expired' });
    await h.until('fresh-1 on the wire', () => submittedTexts(sim).includes('in good time'));
    expect(submittedTexts(sim)).not.toContain('too late already');
    const events = (await statusEvents(h)).filter((e) => e.id === 'past-1');
    expect(events.map((e) => e.status)).toEqual(['queued', 'expired']);
    expect(events[1]!.error?.code).toBe('max_queue_age');
  });

  it('an expires_at without a zone or not a time is refused with its reason', async () => {
    await h.send([{ id: 'bad-exp', to: '+14155550107', text: 'x', expires_at: '2030-01-01 10:00' }]);
    await h.until('dead-lettered', async () => (await h.redis.xlen(h.keys.dead)) > 0);
    const dead = (await h.redis.xrange(h.keys.dead, '-', '+')) as [string, string[]][];
    const last = dead.at(-1)![1];
    expect(last[last.indexOf('code') + 1]).toBe('invalid_expires_at');
  });
});
