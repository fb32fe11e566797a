import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

async function smscOf(h: Harness, id: string): Promise<string | null | undefined> {
  const row = await h.schema.db.selectFrom('messages').select(['smsc', 'submitted_at']).where('id', '=', id).executeTakeFirst();
  return row?.submitted_at ? row.smsc : undefined;
}

describe('routing', () => {
  it('takes the longest matching prefix, and a forced route over any prefix', async () => {
    const a = await h.startSim();
    const b = await h.startSim();
    const c = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('a', a), simSmsc('b', b), simSmsc('c', c)],
      routes: [
        { name: 'all', prefixes: ['*'], smscs: ['a'], tps: 100, default_from: '12345' },
        { name: 'us', prefixes: ['1'], smscs: ['b'], tps: 100, default_from: '12345' },
        { name: 'sf', prefixes: ['+1415'], smscs: ['c'], tps: 100, default_from: '12345' },
      ],
    });
    await h.startDaemon(config);
    await h.send([
      { id: 'uk', to: '+447700900123', text: 'x' },
      { id: 'ny', to: '+12125550100', text: 'x' },
      { id: 'sf', to: '+14155550100', text: 'x' },
      { id: 'forced', to: '+14155550100', text: 'x', route: 'all' },
    ]);
    await h.until('all submitted', async () => (await Promise.all(['uk', 'ny', 'sf', 'forced'].map((id) => smscOf(h, id)))).every(Boolean));
    expect(await Promise.all(['uk', 'ny', 'sf', 'forced'].map((id) => smscOf(h, id)))).toEqual(['a', 'b', 'c', 'a']);
    const routes = await h.schema.db.selectFrom('messages').select(['id', 'route']).orderBy('id').execute();
    expect(Object.fromEntries(routes.map((r) => [r.id, r.route]))).toEqual({ forced: 'all', ny: 'us', sf: 'sf', uk: 'all' });
  });

  it('fails over to the next SMSC while the preferred one is down, and back when it returns', async () => {
    const primary = await h.startSim();
    const backup = await h.startSim();
    const config = h.config({
      smscs: [simSmsc('primary', primary), simSmsc('backup', backup)],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['primary', 'backup'], tps: 500, default_from: '12345' }],
    });
    const daemon = await h.startDaemon(config);
    await h.until('both bound', () => daemon.pools.get('primary')!.canSubmit && daemon.pools.get('backup')!.canSubmit);
    await h.send([{ id: 'p1', to: '+14155550100', text: 'to primary' }]);
    await h.until('p1', async () => (await smscOf(h, 'p1')) !== undefined);
    expect(await smscOf(h, 'p1')).toBe('primary');

    // The primary goes down (abruptly, as a crash) and stays down while the next messages go.
    const restarting = primary.restart({ downMs: 3000, abrupt: true });
    await h.until('primary unbound', () => !daemon.pools.get('primary')!.canSubmit);
    await h.send(Array.from({ length: 20 }, (_, i) => ({ id: `f${i}`, to: '+14155550100', text: `failover ${i} ${'long '.repeat(40)}` })));
    await h.until('failover messages submitted', async () => (await h.acceptedCount('f%')) === 20);
    const smscs = await h.schema.db.selectFrom('messages').select('smsc').where('id', 'like', 'f%').distinct().execute();
    expect(smscs.map((r) => r.smsc)).toEqual(['backup']);
    // Every part of a message went through one SMSC.
    const segs = await h.schema.db.selectFrom('segments').select(['message_id', 'smsc']).where('message_id', 'like', 'f%').execute();
    expect(new Set(segs.map((s) => s.smsc))).toEqual(new Set(['backup']));
    expect(segs.length).toBeGreaterThan(20);

    await restarting;
    await h.until('primary bound again', () => daemon.pools.get('primary')!.canSubmit, 10_000);
    await h.send([{ id: 'p2', to: '+14155550100', text: 'back to primary' }]);
    await h.until('p2', async () => (await smscOf(h, 'p2')) !== undefined);
    expect(await smscOf(h, 'p2')).toBe('primary');
  });
});
