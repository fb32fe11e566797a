/**
 * The gauges behind the "Parley is stuck" alerts, against the real Postgres and Redis: the age of
 * the oldest queued message (ParleyQueuedMessageTooOld; a held one counts from its send time), the age of the oldest outbound entry no
 * daemon has read (ParleyIntakeStalled, which must grow while nobody reads), and
 * parley_build_info naming the version in package.json.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/main.ts';
import { oldestUnreadAgeMs } from '../../../src/queue/streams.ts';
import { createHarness, type Harness } from '../../support/daemon.ts';
import { REPO } from '../../unit/ops/ops-files.ts';

/** A loopback port with nothing listening: the SMSC there never binds, so messages stay queued. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function gauge(text: string, name: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

let h: Harness;
let daemon: Daemon;

beforeAll(async () => {
  h = await createHarness();
  const config = h.config({
    smscs: [{ name: 'nowhere', host: '127.0.0.1', port: await closedPort(), system_id: 'parley', password: 'secret', reconnect_min: '1s', reconnect_max: '5s' }],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['nowhere'], tps: 100, default_from: '12345' }],
  });
  daemon = await h.startDaemon(config);
});

afterAll(async () => {
  await h?.close();
});

describe('alert gauges', () => {
  it('parley_queue_oldest_message_age_seconds follows the oldest queued message', async () => {
    expect(gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds')).toEqual([0]);
    await h.send([{ id: 'stuck-1', to: '+14155550101', text: 'waits for a bind' }]);
    await h.until('message queued', async () => (await h.schema.db.selectFrom('messages').select('id').where('status', '=', 'queued').execute()).length === 1);
    // Backdate it an hour, as if the SMSC had been away that long.
    await h.schema.db.updateTable('messages').set({ created_at: new Date(Date.now() - 3_600_000) }).where('id', '=', 'stuck-1').execute();
    const [age] = gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds');
    expect(age).toBeGreaterThanOrEqual(3_600);
    expect(age).toBeLessThan(3_700);
    // Once nothing is queued, the age is 0 again.
    await h.schema.db.updateTable('messages').set({ status: 'failed' }).where('id', '=', 'stuck-1').execute();
    expect(gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds')).toEqual([0]);
  });

  it('a held message counts from when it may be sent, not from when it was accepted', async () => {
    await h.send([{ id: 'later-1', to: '+14155550103', text: 'goes in an hour', send_at: new Date(Date.now() + 3_600_000).toISOString() }]);
    const queued = async (): Promise<boolean> =>
      (await h.schema.db.selectFrom('messages').select('id').where('id', '=', 'later-1').where('status', '=', 'queued').execute()).length === 1;
    await h.until('message held', queued);
    // Accepted two hours ago and due in an hour: it waits for its time, it is not late.
    await h.schema.db.updateTable('messages').set({ created_at: new Date(Date.now() - 7_200_000) }).where('id', '=', 'later-1').execute();
    expect(gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds')).toEqual([0]);
    // Its time came half an hour ago and it is still queued (the SMSC never binds): late by that.
    await h.schema.db.updateTable('messages').set({ send_at: new Date(Date.now() - 1_800_000) }).where('id', '=', 'later-1').execute();
    expect(await queued()).toBe(true);
    const [age] = gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds');
    expect(age).toBeGreaterThanOrEqual(1_800);
    expect(age).toBeLessThan(1_900);
    await h.schema.db.updateTable('messages').set({ status: 'failed' }).where('id', '=', 'later-1').execute();
    expect(gauge(await daemon.metrics.scrape(), 'parley_queue_oldest_message_age_seconds')).toEqual([0]);
  });

  it('parley_intake_oldest_unread_age_seconds is 0 while the daemon reads', async () => {
    await h.send([{ id: 'read-1', to: '+14155550102', text: 'read at once' }]);
    await h.until('entry read', async () => (await oldestUnreadAgeMs(h.redis, h.keys)) === 0);
    expect(gauge(await daemon.metrics.scrape(), 'parley_intake_oldest_unread_age_seconds')).toEqual([0]);
  });

  it('the oldest unread age grows while no consumer reads, and a read brings it to 0', async () => {
    // A stream of its own with its own group: nobody reads it.
    const keys = { ...h.keys, outbound: `${h.prefix}unread-test`, group: 'parley' };
    const now = Date.now();
    expect(await oldestUnreadAgeMs(h.redis, keys, now)).toBe(0);
    await h.redis.xadd(keys.outbound, `${now - 120_000}-0`, 'payload', '{}');
    await h.redis.xadd(keys.outbound, `${now - 60_000}-0`, 'payload', '{}');
    // No group at all yet (no daemon ever started): every entry counts as unread.
    expect(await oldestUnreadAgeMs(h.redis, keys, now)).toBe(120_000);
    await h.redis.xgroup('CREATE', keys.outbound, keys.group, '0');
    expect(await oldestUnreadAgeMs(h.redis, keys, now)).toBe(120_000);
    expect(await oldestUnreadAgeMs(h.redis, keys, now + 1_000)).toBe(121_000);
    await h.redis.xreadgroup('GROUP', keys.group, 'reader', 'COUNT', 1, 'STREAMS', keys.outbound, '>');
    expect(await oldestUnreadAgeMs(h.redis, keys, now)).toBe(60_000);
    await h.redis.xreadgroup('GROUP', keys.group, 'reader', 'COUNT', 1, 'STREAMS', keys.outbound, '>');
    expect(await oldestUnreadAgeMs(h.redis, keys, now)).toBe(0);
  });

  it('parley_build_info names the package version and the Node.js version', async () => {
    const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    const text = await daemon.metrics.scrape();
    expect(text).toContain(`parley_build_info{version="${version}",node="${process.versions.node}"} 1`);
  });
});
