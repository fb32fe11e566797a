import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

async function deadLetters(h: Harness): Promise<Record<string, string>[]> {
  const entries = await h.redis.xrange(h.keys.dead, '-', '+');
  return entries.map(([, fields]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
    return o;
  });
}

describe('intake', () => {
  it('sends the same id once, dead-letters each bad entry with its reason, and keeps going', async () => {
    const sim = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
    });
    await h.startDaemon(config);
    const bad: [string | object, string][] = [
      ['{not json', 'invalid_json'],
      [{ text: 'no destination' }, 'invalid_to'],
      [{ to: '+14155550100', text: '' }, 'empty_text'],
      [{ to: '+14155550100', text: '😀'.repeat(255 * 67) }, 'too_many_parts'],
      [{ to: '+14155550100', text: 'hello', route: 'nowhere' }, 'unknown_route'],
      [{ to: '+14155550100', text: 'hello', priority: 7 }, 'invalid_priority'],
      [{ to: '+14155550100', text: 'hello', priority: 'high' }, 'invalid_priority'],
    ];
    await h.send([
      { id: 'dup-1', to: '+14155550101', text: 'first copy' },
      ...bad.map(([p]) => p),
      { id: 'dup-1', to: '+14155550101', text: 'second copy' },
      { id: 'after-bad', to: '+14155550102', text: 'still flowing' },
    ]);
    await h.until('both good messages submitted', async () => (await h.acceptedCount()) === 2);
    // A later duplicate, in another batch, is also not sent again.
    await h.send([{ id: 'dup-1', to: '+14155550101', text: 'third copy' }]);
    await h.until('stream fully acknowledged', async () => {
      const pending = (await h.redis.xpending(h.keys.outbound, 'parley')) as [number];
      const groups = (await h.redis.xinfo('GROUPS', h.keys.outbound)) as unknown[][];
      const lag = groups[0]?.[groups[0].indexOf('lag') + 1];
      return pending[0] === 0 && lag === 0;
    });

    const rows = await h.schema.db.selectFrom('messages').select(['id', 'body']).where('submitted_at', 'is not', null).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'after-bad', body: 'still flowing' },
      { id: 'dup-1', body: 'first copy' },
    ]);
    expect(await h.schema.db.selectFrom('messages').select('id').execute()).toHaveLength(2);
    expect(sim.arrivals.filter((a) => a.destination === '14155550101')).toHaveLength(1);

    const dead = await deadLetters(h);
    expect(dead.map((d) => d.code)).toEqual(bad.map(([, code]) => code));
    for (const [i, d] of dead.entries()) {
      const [payload] = bad[i]!;
      expect(d.payload).toBe(typeof payload === 'string' ? payload : JSON.stringify(payload));
      expect(d.reason?.length).toBeGreaterThan(10);
      expect(d.original_id).toMatch(/^\d+-\d+$/);
    }
  });

  it('an entry without an id gets one derived from its stream entry, so a re-read cannot duplicate it', async () => {
    const sim = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 1000, default_from: '12345' }],
    });
    await h.startDaemon(config);
    const entryId = await h.redis.xadd(h.keys.outbound, '*', 'payload', JSON.stringify({ to: '+14155550103', text: 'no id' }));
    await h.until('submitted', async () => {
      const row = await h.schema.db.selectFrom('messages').select('submitted_at').where('id', '=', `s-${entryId}`).executeTakeFirst();
      return Boolean(row?.submitted_at);
    });
  });

  it('fails a message whose destination no route covers as no_route, with a status event', async () => {
    const sim = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [{ name: 'us', prefixes: ['1'], smscs: ['sim'], tps: 100, default_from: '12345' }],
    });
    await h.startDaemon(config);
    await h.send([{ id: 'uk', to: '+447700900123', text: 'hello' }]);
    await h.until('failed', async () => {
      const row = await h.schema.db.selectFrom('messages').select(['status', 'error_code']).where('id', '=', 'uk').executeTakeFirst();
      return row?.status === 'failed' && row.error_code === 'no_route';
    });
    await h.until('events published', async () => (await h.redis.xlen(h.keys.events)) >= 2);
    const events = (await h.redis.xrange(h.keys.events, '-', '+')).map(([, f]) => JSON.parse(f[1]!));
    expect(events.map((e) => [e.id, e.status, e.previous])).toEqual([
      ['uk', 'queued', null],
      ['uk', 'failed', 'queued'],
    ]);
    expect(events[1].error).toEqual({ code: 'no_route', reason: expect.stringContaining('no route') });
    expect(sim.arrivals).toHaveLength(0);
  });
});
