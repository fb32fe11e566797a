/**
 * Run-time control through the CLI commands (their real code, in-process, plus one run of the
 * `parley` executable), against a daemon on a database of its own, the test Redis and two
 * simulators: pausing a route while messages flow (none sent while paused, all after resume, none
 * twice), pausing an SMSC (the route fails over), queue list/cancel/requeue, dead-letter
 * list/replay, opt-out add/remove/list and check-bind.
 */
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { migrateDatabase } from '../../../src/cli/migrate.ts';
import { checkBindCommand, deadLettersCommand, optOutCommand, purgeCommand, queueCommand, routeCommand, smscCommand } from '../../../src/cli/control.ts';
import { openDb, type Db } from '../../../src/store/db.ts';
import { streamKeys } from '../../../src/queue/keys.ts';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { TEST_REDIS_URL, uniqueName } from '../../support/services.ts';
import { createWorld, runCli, type CliWorld } from '../cli/cli-harness.ts';

let world: CliWorld;
let simA: Simulator;
let simB: Simulator;
let daemon: Daemon;
let db: Db;
let redis: Redis;
let configFile: string;
let raw: Record<string, unknown>;
const keys = (): ReturnType<typeof streamKeys> => streamKeys(world.prefix);

/** Runs a CLI command's code and returns its exit code and what it printed on stdout. */
async function cli<A>(command: { run(args: A): Promise<number> }, args: Omit<A, 'config'>): Promise<{ code: number; out: string }> {
  let printed = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    const code = await command.run({ ...args, config: configFile } as A);
    return { code, out: printed };
  } finally {
    spy.mockRestore();
  }
}

async function send(payloads: readonly object[]): Promise<void> {
  const p = redis.pipeline();
  for (const payload of payloads) p.xadd(keys().outbound, '*', 'payload', JSON.stringify(payload));
  await p.exec();
}

/** How many times the daemon has applied a change of the run-time pauses (it polls them every second). */
let pauseChanges = 0;
const pauseWatcher: Logger = {
  debug: () => {},
  info: (_obj, msg) => {
    if (msg === 'run-time pauses changed') pauseChanges++;
  },
  warn: () => {},
  error: () => {},
  child: () => pauseWatcher,
};

/** Runs a pause/resume command and waits until the daemon has applied it (instead of sleeping past its poll). */
async function applied(run: () => Promise<{ code: number; out: string }>): Promise<{ code: number; out: string }> {
  const before = pauseChanges;
  const result = await run();
  await until('the daemon applied the pause change', () => pauseChanges > before);
  return result;
}

async function statusOf(ids: readonly string[]): Promise<Record<string, string | undefined>> {
  const rows = await db.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute();
  const by = new Map(rows.map((r) => [r.id, r.status]));
  return Object.fromEntries(ids.map((id) => [id, by.get(id)]));
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const texts = (sim: Simulator): string[] => sim.arrivals.map((a) => a.text);

beforeAll(async () => {
  world = createWorld();
  simA = await startSimulator({ controlPort: false, receiptDelayMs: 20 });
  simB = await startSimulator({ controlPort: false, receiptDelayMs: 20, credentials: [{ systemId: 'parley', password: 'right' }] });
  const smsc = (name: string, sim: Simulator, password: string): Record<string, unknown> => ({
    name, host: '127.0.0.1', port: sim.port, system_id: 'parley', password, reconnect_min: '50ms', reconnect_max: '500ms',
  });
  raw = {
    database: { url: world.databaseUrl, pool_size: 4 },
    redis: { url: TEST_REDIS_URL, prefix: world.prefix },
    http: { listen: '127.0.0.1:19465' },
    intake: { consumer: uniqueName('c'), block: '100ms', claim_idle: '2s' },
    smscs: [smsc('a', simA, 'secret'), smsc('b', simB, 'right'), smsc('b-wrong', simB, 'wrong')],
    routes: [
      { name: 'flow', prefixes: ['+1777'], smscs: ['a'], tps: 50, burst: 5, default_from: '12345' },
      { name: 'failover', prefixes: ['+1888'], smscs: ['a', 'b'], tps: 100, default_from: '12345' },
      { name: 'default', prefixes: ['*'], smscs: ['a'], tps: 100, default_from: '12345' },
    ],
    numbers: [{ address: '12345' }],
  };
  configFile = world.writeConfig('parley.yaml', stringify(raw));
  await migrateDatabase(world.databaseUrl);
  db = openDb({ url: world.databaseUrl, poolSize: 2 });
  redis = new Redis(TEST_REDIS_URL);
  // b-wrong is never used by a route, but its pool binds all the same: give it nothing to do.
  const config = validateConfig({ ...raw, smscs: (raw.smscs as object[]).slice(0, 2) });
  daemon = buildDaemon(config, { logger: pauseWatcher, schema: 'public', http: false });
  await daemon.service.start();
  await until('bound', () => daemon.pools.get('a')!.canSubmit && daemon.pools.get('b')!.canSubmit);
});

afterAll(async () => {
  await daemon?.service.stop();
  await simA?.stop();
  await simB?.stop();
  redis?.disconnect();
  await db?.destroy();
  await world?.cleanup();
});

describe('parley route pause|resume', () => {
  it('pausing a route while messages flow stops its submits; resuming sends all the rest, none twice', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `flow-${i}`);
    await send(ids.map((id, i) => ({ id, to: `+1777555${String(i).padStart(4, '0')}`, text: `flow message ${i}` })));
    const flowArrivals = (): number => texts(simA).filter((t) => t.startsWith('flow message')).length;
    await until('some sent', () => flowArrivals() >= 20);

    const paused = await applied(() => cli(routeCommand, { action: 'pause', name: 'flow', reason: 'carrier maintenance' }));
    expect(paused.code).toBe(0);
    expect(paused.out).toContain('route flow paused');
    // What was already on the wire may still land: settled when every message is either recorded
    // as sent and arrived, or still queued and not arrived.
    const queuedNow = async (): Promise<number> => Object.values(await statusOf(ids)).filter((s) => s === 'queued').length;
    await until('the submits in flight at the pause settled', async () => flowArrivals() + (await queuedNow()) === 200);
    const atPause = flowArrivals();
    expect(atPause).toBeLessThan(200);

    const list = await cli(routeCommand, { action: 'list', json: true });
    const routes = (JSON.parse(list.out) as { routes: { name: string; paused: boolean; reason: string | null }[] }).routes;
    expect(routes.find((r) => r.name === 'flow')).toMatchObject({ paused: true, reason: 'carrier maintenance' });
    expect(routes.find((r) => r.name === 'default')).toMatchObject({ paused: false });

    // Other routes keep sending meanwhile, and the paused one sent nothing while that went through.
    await send([{ id: 'other-1', to: '+14155550100', text: 'not on the paused route' }]);
    await until('other route sends', () => texts(simA).includes('not on the paused route'));
    expect(flowArrivals(), 'no submit_sm while paused').toBe(atPause);
    expect(await queuedNow()).toBe(200 - atPause);

    expect((await applied(() => cli(routeCommand, { action: 'resume', name: 'flow' }))).code).toBe(0);
    await until('all 200 sent', () => flowArrivals() >= 200, 30_000);
    await until('all submitted', async () => Object.values(await statusOf(ids)).every((s) => s !== 'queued'));
    const sent = texts(simA).filter((t) => t.startsWith('flow message'));
    expect(sent).toHaveLength(200);
    expect(new Set(sent).size).toBe(200);
  }, 60_000);

  it('refuses to pause a route the config does not have', async () => {
    const res = await cli(routeCommand, { action: 'pause', name: 'nope' }).catch((e: Error) => ({ code: -1, out: e.message }));
    expect(res.out).toMatch(/no route named "nope"/);
  });
});

describe('parley smsc pause|resume', () => {
  it("a paused SMSC is skipped: the route's next SMSC carries its messages", async () => {
    expect((await applied(() => cli(smscCommand, { action: 'pause', name: 'a' }))).code).toBe(0);
    await send([{ id: 'fo-1', to: '+18885550101', text: 'carried by b' }]);
    await until('sent via b', () => texts(simB).includes('carried by b'));
    expect(texts(simA)).not.toContain('carried by b');
    expect((await applied(() => cli(smscCommand, { action: 'resume', name: 'a' }))).code).toBe(0);
    await send([{ id: 'fo-2', to: '+18885550102', text: 'carried by a again' }]);
    await until('sent via a', () => texts(simA).includes('carried by a again'));
  });
});

describe('parley queue list|cancel|requeue', () => {
  it('lists queued messages, cancels one (never sent, with its event), and requeues it under a new id', async () => {
    await applied(() => cli(routeCommand, { action: 'pause', name: 'flow' }));
    await send(['q-1', 'q-2', 'q-3'].map((id, i) => ({ id, to: `+177755510${i}`, text: `queue test ${id}` })));
    await until('queued', async () => Object.values(await statusOf(['q-1', 'q-2', 'q-3'])).every((s) => s === 'queued'));

    const list = await cli(queueCommand, { action: 'list', route: 'flow', json: true });
    const listed = JSON.parse(list.out) as { count: number; messages: { id: string; route: string; text_length: number }[] };
    // Oldest first by acceptance time: intake stores two batches at once, so three entries sent
    // together may be accepted in either order; the listing holds exactly them.
    expect(listed.messages.map((m) => m.id).sort()).toEqual(['q-1', 'q-2', 'q-3']);
    expect(listed.messages.find((m) => m.id === 'q-1')).toMatchObject({ route: 'flow', text_length: 'queue test q-1'.length });
    expect(list.out).not.toContain('queue test');

    const cancelled = await cli(queueCommand, { action: 'cancel', ids: ['q-2', 'flow-0'] });
    expect(cancelled.code).toBe(1); // flow-0 was sent long ago
    expect(cancelled.out).toContain('q-2: cancelled');
    expect(cancelled.out).toContain('flow-0: not cancelled');
    expect(await statusOf(['q-2'])).toEqual({ 'q-2': 'failed' });
    const events = ((await redis.xrange(keys().events, '-', '+')) as [string, string[]][]).map(([, f]) => JSON.parse(f[1]!) as { id: string; status: string; error: { code: string } | null });
    expect(events.filter((e) => e.id === 'q-2' && e.status === 'failed').map((e) => e.error?.code)).toEqual(['cancelled']);

    await applied(() => cli(routeCommand, { action: 'resume', name: 'flow' }));
    await until('q-1 and q-3 sent', () => texts(simA).includes('queue test q-1') && texts(simA).includes('queue test q-3'));
    // A message sent on the same route after them has gone too: q-2 had its turn and was not sent.
    await send([{ id: 'q-after', to: '+17775551099', text: 'queue test after' }]);
    await until('the later message sent', () => texts(simA).includes('queue test after'));
    expect(texts(simA)).not.toContain('queue test q-2');

    const requeued = await cli(queueCommand, { action: 'requeue', ids: ['q-2'] });
    expect(requeued.code).toBe(0);
    const newId = /requeued as (\S+)/.exec(requeued.out)![1]!;
    await until('requeued copy sent', () => texts(simA).includes('queue test q-2'));
    const copy = await db.selectFrom('messages').select(['status', 'metadata']).where('id', '=', newId).executeTakeFirstOrThrow();
    expect(copy.metadata).toMatchObject({ requeued_from: 'q-2' });
    const refused = await cli(queueCommand, { action: 'requeue', ids: ['q-1'] });
    expect(refused.out).toMatch(/q-1: not requeued: it is (submitted|delivered)/);
  }, 40_000);
});

describe('parley dead-letters list|replay', () => {
  it('lists dead letters with their reasons and replays them: a corrected one is sent, a still-broken one is dead again', async () => {
    await send([
      { id: 'dl-route', to: '+14155550120', text: 'to a route that does not exist', route: 'promo' },
      { id: 'dl-to', to: 'not a number', text: 'fix my number' },
    ]);
    await until('two dead letters', async () => (await redis.xlen(keys().dead)) >= 2);
    const list = await cli(deadLettersCommand, { action: 'list', json: true });
    const letters = (JSON.parse(list.out) as { dead_letters: { id: string; code: string; payload: string }[] }).dead_letters;
    const byCode = new Map(letters.map((l) => [l.code, l]));
    expect([...byCode.keys()]).toEqual(expect.arrayContaining(['unknown_route', 'invalid_to']));

    const fixed = await cli(deadLettersCommand, {
      action: 'replay',
      ids: [byCode.get('invalid_to')!.id],
      payload: JSON.stringify({ id: 'dl-to', to: '+14155550121', text: 'fix my number' }),
    });
    expect(fixed.code).toBe(0);
    await until('corrected letter sent', () => texts(simA).includes('fix my number'));

    const again = await cli(deadLettersCommand, { action: 'replay', ids: [byCode.get('unknown_route')!.id] });
    expect(again.code).toBe(0);
    await until('dead again', async () => {
      const now = JSON.parse((await cli(deadLettersCommand, { action: 'list', json: true })).out) as { dead_letters: { id: string; code: string }[] };
      return now.dead_letters.length === 1 && now.dead_letters[0]!.code === 'unknown_route' && now.dead_letters[0]!.id !== byCode.get('unknown_route')!.id;
    });
    expect(texts(simA)).not.toContain('to a route that does not exist');
  });
});

describe('parley opt-out add|remove|list', () => {
  it('an operator opt-out refuses messages as opted_out until it is removed', async () => {
    expect((await cli(optOutCommand, { action: 'add', number: '+1 415 555 0130' })).out).toContain('14155550130 opted out of every number');
    const list = JSON.parse((await cli(optOutCommand, { action: 'list', json: true })).out) as { opt_outs: { customer: string; scope: string; keyword: string }[] };
    expect(list.opt_outs).toContainEqual(expect.objectContaining({ customer: '14155550130', scope: 'global', keyword: 'operator' }));
    await send([{ id: 'oo-1', to: '+14155550130', text: 'blocked' }]);
    await until('refused', async () => (await statusOf(['oo-1']))['oo-1'] === 'failed');
    expect((await db.selectFrom('messages').select('error_code').where('id', '=', 'oo-1').executeTakeFirstOrThrow()).error_code).toBe('opted_out');
    expect((await cli(optOutCommand, { action: 'remove', number: '+14155550130' })).out).toContain('opted in again');
    await send([{ id: 'oo-2', to: '+14155550130', text: 'allowed again' }]);
    await until('sent', () => texts(simA).includes('allowed again'));
    expect(texts(simA)).not.toContain('blocked');
  });
});

describe('parley purge --customer', () => {
  it('erases the customer from Postgres and from every Redis stream; asks for --yes first', async () => {
    const customer = '14155550140';
    await send([
      { id: 'pg-1', to: `+${customer}`, text: 'purge-me-one' },
      { id: 'pg-2', to: 'not-a-number', text: `dead letter for +${customer}` },
    ]);
    await until('sent', () => texts(simA).includes('purge-me-one'));
    const injected = simA.injectReply({ from: customer, to: '12345', text: 'purge-me-reply' });
    expect(await injected.acked).toBe(true);
    const streamText = async (): Promise<string> =>
      JSON.stringify(await Promise.all([keys().outbound, keys().dead, keys().events, keys().inbound].map((k) => redis.xrange(k, '-', '+'))));
    await until('reply on the inbound stream', async () => (await streamText()).includes('purge-me-reply'));
    expect(await streamText()).toContain(customer);

    await expect(cli(purgeCommand, { customer: `+${customer}` })).rejects.toThrow(/--yes/);
    const purged = await cli(purgeCommand, { customer: `+${customer}`, yes: true, json: true });
    expect(purged.code).toBe(0);
    const report = JSON.parse(purged.out) as { tables: Record<string, number>; streams: Record<string, number> };
    expect(report.tables.messages).toBe(1);
    // Both outbound entries name them: the message, and the broken one that was dead-lettered.
    expect(report.streams.outbound).toBe(2);
    expect(report.streams.inbound).toBe(1);
    expect(report.streams.dead).toBe(1);
    expect(report.streams.events).toBeGreaterThanOrEqual(2);
    const left = await streamText();
    expect(left).not.toContain(customer);
    expect(left).not.toContain('purge-me');
    expect(await statusOf(['pg-1'])).toEqual({ 'pg-1': undefined });
  });
});

describe('the payload contract', () => {
  it('a dead-lettered entry with an app id gets a failed status event naming every problem; unknown fields only warn', async () => {
    await send([
      { id: 'app-bad-1', to: 'nowhere', text: '', priority: 9 },
      { id: 'app-route-1', to: '+14155550150', text: 'x', route: 'promo' },
      { id: 'app-extra-1', to: '+14155550151', text: 'extra fields are fine', colour: 'blue' },
    ]);
    await until('extra sent', () => texts(simA).includes('extra fields are fine'));
    const events = async (): Promise<{ id: string; status: string; previous: string | null; error: { code: string; reason: string } | null }[]> =>
      ((await redis.xrange(keys().events, '-', '+')) as [string, string[]][]).map(([, f]) => JSON.parse(f[1]!) as never);
    await until('dead-letter events', async () => (await events()).filter((e) => e.id.startsWith('app-') && e.status === 'failed').length === 2);
    const bad = (await events()).find((e) => e.id === 'app-bad-1')!;
    expect(bad).toMatchObject({ status: 'failed', previous: null, error: { code: 'invalid_to' } });
    expect(bad.error!.reason.split('; ')).toHaveLength(3);
    expect((await events()).find((e) => e.id === 'app-route-1')).toMatchObject({ status: 'failed', error: { code: 'unknown_route' } });
    expect(await statusOf(['app-extra-1'])).not.toEqual({ 'app-extra-1': undefined });
  });

  it('`parley send` takes every payload field', async () => {
    const res = await runCli([
      'send', '-c', configFile, '--to', '+14155550160', '--text', 'all the fields', '--id', 'send-all-1', '--from', '12345', '--route', 'default',
      '--priority', '2', '--no-dlr', '--validity', '600', '--expires-at', '2030-01-01T00:00:00Z', '--metadata', '{"order":1042}',
      '--replies', '{"YES":{"reply":"See you then!"}}', '--conversation', '{"ttl":3600,"tags":{"campaign":"spring"}}',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe('send-all-1');
    await until('stored', async () => (await statusOf(['send-all-1']))['send-all-1'] !== undefined);
    const row = await db.selectFrom('messages').selectAll().where('id', '=', 'send-all-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ priority: 2, dlr: false, validity_seconds: 600, metadata: { order: 1042 }, replies: { YES: { reply: 'See you then!' } } });
    expect(row.expires_at?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(row.conversation).toMatchObject({ ttlSeconds: 3600, tags: { campaign: 'spring' } });

    const bad = await runCli(['send', '-c', configFile, '--to', 'x', '--text', 'y', '--validity', '-5', '--expires-at', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"to" is not');
    expect(bad.stderr).toContain('"validity"');
    expect(bad.stderr).toContain('"expires_at"');
  }, 30_000);
});

describe('parley check-bind', () => {
  it('binds, enquires and unbinds with good credentials; names ESME_RINVPASWD with bad ones', async () => {
    const good = await cli(checkBindCommand, { smsc: 'b', json: true });
    expect(good.code).toBe(0);
    const report = JSON.parse(good.out) as { ok: boolean; steps: { step: string; ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual(['connect', 'bind', 'enquire_link', 'unbind']);
    const bad = await cli(checkBindCommand, { smsc: 'b-wrong' });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('ESME_RINVPASWD');
    expect(bad.out).toContain('check system_id and password');
  });

  it('the parley executable runs these commands (yargs wiring)', async () => {
    const res = await runCli(['route', 'list', '--json', '-c', configFile]);
    expect(res.code, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as { routes: { name: string }[] }).routes.map((r) => r.name)).toEqual(['flow', 'failover', 'default']);
  });
});
