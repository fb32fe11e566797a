/**
 * Issue 9, the pipelines: poison never jams one. Against the real Postgres, Redis and an SMSC on
 * loopback (a scripted SMPP server), each pipeline gets a table of poison values followed by valid
 * traffic: the valid traffic goes through, the poison is set aside with its reason (or made
 * storable, with the original kept), nothing stays pending to be retried forever, and the same
 * holds after a restart of the daemon.
 *
 * Pipelines: intake, receipt capture, reply capture and handling (webhook answers included), the
 * webhook outbox, event publishing; and health (/readyz, parley_pipeline_stalled) when one is stuck.
 *
 * Poison that the boundary cannot clean (a value the store refuses on its own) is induced for real
 * with CHECK constraints on the test schema's tables: Postgres answers 23514 for exactly one item,
 * as it answers 22P05 for a NUL, and the pipeline has to find that item by splitting.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import type { Harness } from '../../support/daemon.ts';
import {
  createTwoWayHarness,
  replyParts,
  scriptedSmscConfig,
  startScriptedSmsc,
  startWebhookReceiver,
  type DeliverSm,
  type ScriptedSmsc,
  type WebhookReceiver,
} from '../../support/two-way.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { StallTracker } from '../../../src/lib/progress.ts';
import { EventStreamPublisher } from '../../../src/queue/event-stream-publisher.ts';
import { TEST_DATABASE_URL } from '../../support/services.ts';

let h: Harness;
let smsc: ScriptedSmsc | undefined;
const receivers: WebhookReceiver[] = [];
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
  await smsc?.close();
  smsc = undefined;
  for (const r of receivers.splice(0)) await r.close();
});

const SECRET = 'a-webhook-secret-long-enough-for-anyone';

function daemonConfig(extra: Record<string, unknown> = {}) {
  return h.config({
    smscs: [scriptedSmscConfig('scripted', smsc!.port)],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['scripted'], tps: 1000, burst: 100, default_from: '12345' }],
    ...extra,
  });
}

/** Restarts the daemon with the same config (the same consumer name, so it re-reads its own pending). */
async function restart(daemon: Daemon, config: ReturnType<typeof daemonConfig>): Promise<Daemon> {
  const bindsBefore = smsc!.binds;
  await daemon.service.stop();
  const next = await h.startDaemon(config);
  await smsc!.session(bindsBefore);
  return next;
}

const ucs2 = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();

function deliverSm(from: string, to: string, body: Buffer, dataCoding: number, esmClass = 0): DeliverSm {
  return { ...shortMessageFields({ source_addr: from, destination_addr: to, esm_class: esmClass, data_coding: dataCoding, short_message: body }) } as DeliverSm;
}

async function deadLetters(): Promise<{ id: string; code: string; reason: string; payload: string }[]> {
  const entries = await h.redis.xrange(h.keys.dead, '-', '+');
  return entries.map(([, f]) => {
    const m = new Map<string, string>();
    for (let i = 0; i < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
    let id: string;
    try {
      id = String((JSON.parse(m.get('payload') ?? '{}') as { id?: unknown }).id ?? '');
    } catch {
      id = '';
    }
    return { id, code: m.get('code')!, reason: m.get('reason')!, payload: m.get('payload')! };
  });
}

async function pendingEntries(): Promise<number> {
  const summary = (await h.redis.xpending(h.keys.outbound, h.keys.group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('intake: poison entries are set aside, valid ones behind them are sent', () => {
  /** What each poison entry becomes. */
  type Expect = { dead: string; reason?: RegExp } | { stored: { body?: string; metadata?: unknown }; original: boolean };
  const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  const round = (tag: string): { id: string; payload: string; expect: Expect }[] => [
    { id: `${tag}-nul-text`, payload: JSON.stringify({ id: `${tag}-nul-text`, to: '+14155550101', text: 'hi \u0000 there' }), expect: { stored: { body: 'hi \uFFFD there' }, original: true } },
    { id: `${tag}-nul\u0000id`, payload: JSON.stringify({ id: `${tag}-nul\u0000id`, to: '+14155550101', text: 'hi' }), expect: { dead: 'invalid_id', reason: /NUL/ } },
    { id: `${tag}-nul-meta`, payload: JSON.stringify({ id: `${tag}-nul-meta`, to: '+14155550101', text: 'hi', metadata: { note: 'a\u0000b' } }), expect: { stored: { metadata: { note: 'a\uFFFDb' } }, original: true } },
    { id: `${tag}-surrogate-meta`, payload: `{"id":"${tag}-surrogate-meta","to":"+14155550101","text":"hi","metadata":{"k":"\\udc00"}}`, expect: { stored: { metadata: { k: '\uFFFD' } }, original: true } },
    { id: `${tag}-surrogate-text`, payload: `{"id":"${tag}-surrogate-text","to":"+14155550101","text":"x\\ud800y"}`, expect: { stored: { body: 'x\uFFFDy' }, original: true } },
    { id: `${tag}-deep`, payload: `{"id":"${tag}-deep","to":"+14155550101","text":"hi","metadata":${deep}}`, expect: { dead: 'metadata_too_deep', reason: /nested deeper than 32 levels/ } },
    { id: `${tag}-large`, payload: JSON.stringify({ id: `${tag}-large`, to: '+14155550101', text: 'hi', metadata: { blob: 'x'.repeat(5_000_000) } }), expect: { dead: 'metadata_too_large', reason: /at most 8192/ } },
    // Refused by the store itself (the CHECK constraint below): found by splitting the batch.
    { id: `${tag}-refused`, payload: JSON.stringify({ id: `${tag}-refused`, to: '+14155550101', text: 'POISON' }), expect: { dead: 'unstorable', reason: /23514/ } },
  ];

  it('each poison value, then valid traffic; again after a restart', async () => {
    smsc = await startScriptedSmsc();
    await sql`ALTER TABLE messages ADD CONSTRAINT poison_probe CHECK (body <> 'POISON')`.execute(h.schema.db);
    const config = daemonConfig();
    let daemon = await h.startDaemon(config);
    await smsc.session();

    for (const tag of ['first', 'after-restart']) {
      if (tag === 'after-restart') daemon = await restart(daemon, config);
      const deadBefore = (await deadLetters()).length;
      const cases = round(tag);
      const valid = Array.from({ length: 5 }, (_, i) => ({ id: `${tag}-valid-${i}`, to: '+14155550102', text: `valid ${i}` }));
      // Poison first, valid behind it, all in one read batch.
      await h.send([...cases.map((c) => c.payload), ...valid]);

      await h.until(`${tag}: valid messages submitted`, async () => (await h.acceptedCount(`${tag}-valid-%`)) === valid.length);
      await h.until(`${tag}: nothing pending`, async () => (await pendingEntries()) === 0);
      const dead = (await deadLetters()).slice(deadBefore);
      for (const c of cases) {
        // (An id holding NUL cannot even be looked up: Postgres refuses it as a parameter.)
        const row = c.id.includes('\u0000')
          ? undefined
          : await h.schema.db.selectFrom('messages').select(['body', 'metadata', 'original_payload', 'status']).where('id', '=', c.id).executeTakeFirst();
        const e = c.expect;
        if ('dead' in e) {
          expect(row, c.id).toBeUndefined();
          const letter = dead.filter((d) => d.code === e.dead);
          expect(letter, c.id).toHaveLength(1);
          if (e.reason) expect(letter[0]!.reason, c.id).toMatch(e.reason);
          // The reason never quotes the payload (the customer's text).
          expect(letter[0]!.reason, c.id).not.toContain('there');
        } else {
          expect(row, c.id).toBeDefined();
          if (e.stored.body !== undefined) expect(row!.body, c.id).toBe(e.stored.body);
          if (e.stored.metadata !== undefined) expect(row!.metadata, c.id).toEqual(e.stored.metadata);
          // The payload as sent is kept beside the storable text.
          expect(row!.original_payload?.toString('utf8'), c.id).toBe(c.payload);
        }
      }
      expect(dead).toHaveLength(cases.filter((c) => 'dead' in c.expect).length);
    }
    // Nothing is dead-lettered twice or retried: the restart found nothing of the first round pending.
    expect(await pendingEntries()).toBe(0);
    expect(await deadLetters()).toHaveLength(8);
    // The stored poison-carrying texts went out too: valid traffic was never held behind them.
    expect(smsc.submits.map((s) => s.text)).toEqual(expect.arrayContaining(['hi \uFFFD there', 'x\uFFFDy', 'valid 0', 'valid 4']));
  });
});

describe('receipt capture: poison receipts are stored or quarantined and answered', () => {
  it('each poison receipt, then valid ones; again after a restart', async () => {
    smsc = await startScriptedSmsc();
    await sql`ALTER TABLE receipts ADD CONSTRAINT poison_probe CHECK (body NOT LIKE '%POISON%')`.execute(h.schema.db);
    const config = daemonConfig();
    let daemon = await h.startDaemon(config);
    await smsc.session();
    // One message to receive receipts for.
    await h.send([{ id: 'm1', to: '+14155550101', text: 'hello' }]);
    await h.until('submitted', async () => (await h.acceptedCount('m1')) === 1);
    const carrierId = smsc.submits[0]!.messageId;
    const receiptText = (stat: string, tail = 'x') => `id:${carrierId} sub:001 dlvrd:001 submit date:2611220000 done date:2611220001 stat:${stat} err:000 text:${tail}`;

    for (const round of [1, 2]) {
      if (round === 2) daemon = await restart(daemon, config);
      const table: { name: string; pdu: DeliverSm; expect: 'stored_replaced' | 'quarantined' }[] = [
        { name: 'UCS-2 receipt holding U+0000', pdu: deliverSm('14155550101', '12345', ucs2(receiptText('ENROUTE', `a\u0000b${round}`)), 8, 0x04), expect: 'stored_replaced' },
        { name: 'UCS-2 receipt holding a lone surrogate', pdu: deliverSm('14155550101', '12345', ucs2(receiptText('ENROUTE', `c\udc00d${round}`)), 8, 0x04), expect: 'stored_replaced' },
        { name: 'a receipt the store refuses', pdu: deliverSm('14155550101', '12345', Buffer.from(receiptText('ENROUTE', `POISON${round}`)), 0, 0x04), expect: 'quarantined' },
      ];
      const quarantinedBefore = (await h.schema.db.selectFrom('quarantined_pdus').select('id').execute()).length;
      const sentBefore = smsc.delivered.length;
      for (const c of table) expect(await smsc.deliver(c.pdu), c.name).toBe(0);
      // Valid traffic behind the poison: answered, stored and matched.
      expect(await smsc.deliver(deliverSm('14155550101', '12345', Buffer.from(receiptText('ACCEPTD', `ok${round}`)), 0, 0x04))).toBe(0);

      const rows = await h.schema.db.selectFrom('receipts').select(['body', 'original_body', 'state', 'message_id']).execute();
      expect(rows.find((r) => r.body.endsWith(`text:a\uFFFDb${round}`))).toMatchObject({ state: 'ENROUTE', message_id: 'm1' });
      expect(rows.find((r) => r.body.endsWith(`text:a\uFFFDb${round}`))!.original_body).toEqual(table[0]!.pdu.short_message);
      expect(rows.find((r) => r.body.endsWith(`text:c\uFFFDd${round}`))).toMatchObject({ state: 'ENROUTE', message_id: 'm1' });
      expect(rows.find((r) => r.body.endsWith(`text:ok${round}`))).toMatchObject({ state: 'ACCEPTED', message_id: 'm1', original_body: null });
      const quarantined = await h.schema.db.selectFrom('quarantined_pdus').selectAll().orderBy('id').execute();
      expect(quarantined).toHaveLength(quarantinedBefore + 1);
      expect(quarantined.at(-1)).toMatchObject({ pipeline: 'receipts', smsc: 'scripted', esm_class: 4, data_coding: 0, source_addr: '14155550101' });
      expect(quarantined.at(-1)!.reason).toMatch(/^23514: .*poison_probe/);
      expect(quarantined.at(-1)!.short_message).toEqual(table[2]!.pdu.short_message);
      // The deliver_sm whole, octet for octet as the SMSC wrote it (header, sequence number and all).
      const sent = smsc.delivered[sentBefore + 2]!;
      expect(sent.readUInt32BE(4)).toBe(0x00000005);
      expect(quarantined.at(-1)!.raw_pdu).toEqual(sent);
    }
    expect(daemon.metrics.registry.getSingleMetric('parley_quarantined_pdus_total')).toBeDefined();
  });
});

describe('reply capture and handling: poison customer messages and answers never hold up the others', () => {
  it('each poison customer message, then valid ones answered; again after a restart', async () => {
    smsc = await startScriptedSmsc();
    const hook = await startWebhookReceiver(() => ({ status: 200, body: '{"reply":"hi \\u0000 there"}' }));
    receivers.push(hook);
    // Store-level poison for three stages: a part (capture), a reply's record (handling), an answer (outbound).
    await sql`ALTER TABLE inbound_parts ADD CONSTRAINT poison_probe CHECK (from_addr NOT LIKE '1415555066%')`.execute(h.schema.db);
    await sql`ALTER TABLE replies ADD CONSTRAINT poison_probe CHECK (keyword IS DISTINCT FROM 'JAM')`.execute(h.schema.db);
    await sql`ALTER TABLE messages ADD CONSTRAINT poison_probe CHECK (body <> 'POISON')`.execute(h.schema.db);
    const config = daemonConfig({
      webhooks: [{ name: 'crm', url: hook.url, secret: SECRET, timeout: '2s' }],
      numbers: [
        {
          address: '12345',
          rules: [
            { name: 'ping', keywords: ['PING'], actions: [{ reply: 'PONG' }] },
            { name: 'jam', keywords: ['JAM'], actions: [{ reply: 'jammed' }] },
            { name: 'bad-answer', keywords: ['BAD'], actions: [{ reply: 'POISON' }] },
            { name: 'order', pattern: '^ORDER\\s+(?<order>\\d+)$', actions: [{ webhook: 'crm', fallback: 'Sorry.' }] },
          ],
        },
      ],
    });
    let daemon = await h.startDaemon(config);
    await smsc.session();

    for (const round of [1, 2]) {
      if (round === 2) daemon = await restart(daemon, config);
      // Each customer number is new per round: the same octets within the duplicate window would be a resend.
      const n = (i: number): string => `141555501${round}${i}`;
      const hooksBefore = hook.received.length;
      const submitsBefore = smsc.submits.length;
      const table: { name: string; from: string; pdu: DeliverSm; expect: { body?: string; status?: string; error?: RegExp; quarantined?: boolean } }[] = [
        { name: 'UCS-2 text holding U+0000', from: n(1), pdu: deliverSm(n(1), '12345', ucs2('ab\u0000cd'), 8), expect: { body: 'ab\uFFFDcd', status: 'handled' } },
        { name: 'Latin-1 text holding 0x00', from: n(2), pdu: deliverSm(n(2), '12345', Buffer.from([0x68, 0x69, 0x00, 0x21]), 3), expect: { body: 'hi\uFFFD!', status: 'handled' } },
        { name: 'UCS-2 text holding a lone surrogate', from: n(3), pdu: deliverSm(n(3), '12345', Buffer.from([0x00, 0x61, 0xdc, 0x00, 0x00, 0x62]), 8), expect: { body: 'a\uFFFDb', status: 'handled' } },
        { name: 'a part the store refuses', from: `1415555066${round}`, pdu: deliverSm(`1415555066${round}`, '12345', Buffer.from('hello'), 0), expect: { quarantined: true } },
        { name: 'a reply whose record the store refuses', from: n(4), pdu: deliverSm(n(4), '12345', Buffer.from('JAM'), 0), expect: { status: 'failed', error: /outcome could not be recorded: .*poison_probe/ } },
        { name: 'a reply whose answer the store refuses', from: n(5), pdu: deliverSm(n(5), '12345', Buffer.from('BAD'), 0), expect: { status: 'failed', error: /answer could not be stored: .*poison_probe/ } },
        { name: 'a webhook answering with \\u0000', from: n(6), pdu: deliverSm(n(6), '12345', Buffer.from('ORDER 42'), 0), expect: { body: 'ORDER 42', status: 'handled' } },
      ];
      const sentBefore = smsc.delivered.length;
      for (const c of table) expect(await smsc.deliver(c.pdu), c.name).toBe(0);
      // Valid traffic behind the poison.
      const valid = [7, 8, 9].map((i) => n(i));
      for (const from of valid) expect(await smsc.deliver(replyParts(from, '12345', 'PING')[0]!)).toBe(0);

      await h.until(`round ${round}: valid replies answered`, () => smsc!.submits.slice(submitsBefore).filter((s) => s.text === 'PONG').length === valid.length);
      await h.until(`round ${round}: every reply settled`, async () => {
        const rows = await h.schema.db.selectFrom('replies').select(['from_addr', 'status']).where('from_addr', 'in', [...table.map((c) => c.from), ...valid]).execute();
        return rows.length === table.length - 1 + valid.length && rows.every((r) => r.status !== 'received');
      });
      for (const c of table) {
        const row = await h.schema.db.selectFrom('replies').select(['body', 'status', 'error', 'decode_problem']).where('from_addr', '=', c.from).executeTakeFirst();
        if (c.expect.quarantined) {
          expect(row, c.name).toBeUndefined();
          const q = await h.schema.db.selectFrom('quarantined_pdus').selectAll().where('source_addr', '=', c.from).execute();
          expect(q, c.name).toHaveLength(1);
          expect(q[0]).toMatchObject({ pipeline: 'replies', destination_addr: '12345', data_coding: 0 });
          expect(q[0]!.short_message.toString()).toBe('hello');
          expect(q[0]!.reason).toMatch(/^23514: /);
          // The deliver_sm whole, octet for octet as the SMSC wrote it.
          expect(q[0]!.raw_pdu).toEqual(smsc.delivered[sentBefore + table.indexOf(c)]);
          expect(q[0]!.raw_pdu!.readUInt32BE(0)).toBe(q[0]!.raw_pdu!.length);
          continue;
        }
        expect(row, c.name).toBeDefined();
        if (c.expect.body !== undefined) expect(row!.body, c.name).toBe(c.expect.body);
        expect(row!.status, c.name).toBe(c.expect.status);
        if (c.expect.error) expect(row!.error, c.name).toMatch(c.expect.error);
      }
      // The original octets stay with the parts.
      const part = await h.schema.db.selectFrom('inbound_parts').select('body').where('from_addr', '=', n(1)).executeTakeFirstOrThrow();
      expect(part.body).toEqual(ucs2('ab\u0000cd'));
      // The webhook's answer went out made storable; the webhook was called once, not every lease.
      await h.until(`round ${round}: webhook answer sent`, () => smsc!.submits.slice(submitsBefore).some((s) => s.text === 'hi \uFFFD there'));
      expect(hook.received.length - hooksBefore).toBe(1);
    }
    // Nothing is left to be handled again: no reply is still 'received'.
    const open = await h.schema.db.selectFrom('replies').select('id').where('status', '=', 'received').execute();
    expect(open).toEqual([]);
    void daemon;
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('health that tells the truth', () => {
  it('/readyz turns not-ready naming the pipeline while its writer is stuck on a lock, and ready again after', async () => {
    smsc = await startScriptedSmsc();
    const port = await freePort();
    const config = daemonConfig({ http: { listen: `127.0.0.1:${port}` }, health: { stall_after: '1s' } });
    const daemon = buildDaemon(config, { logger: silentLogger, schema: h.schema.schema, http: true });
    h.daemons.push(daemon);
    await daemon.service.start();
    await smsc.session();
    await h.until('ready', async () => (await get(port, '/readyz')).status === 200);

    // Another session holds the receipts table: the receipt writer waits on the lock, for real.
    const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${h.schema.schema}".receipts IN ACCESS EXCLUSIVE MODE`);
      const text = 'id:nope sub:001 dlvrd:001 submit date:2611220000 done date:2611220001 stat:DELIVRD err:000 text:x';
      const answered = smsc.deliver(deliverSm('14155550101', '12345', Buffer.from(text), 0, 0x04));

      await h.until('not ready', async () => (await get(port, '/readyz')).status === 503, 10_000);
      const ready = await get(port, '/readyz');
      expect(ready.body).toMatch(/pipeline receipts: no progress for \d+ s with 1 item\(s\) waiting/);
      expect(ready.body).not.toMatch(/pipeline (intake|reply_capture|reply_handling|webhook_outbox|events|inbound_events)/);
      const metrics = (await get(port, '/metrics')).body;
      expect(metrics).toMatch(/parley_pipeline_stalled\{pipeline="receipts"\} 1/);
      expect(metrics).toMatch(/parley_pipeline_stalled\{pipeline="intake"\} 0/);

      // A transient fault in the middle: the waiting writer's statement is cancelled as an operator
      // would (57014, class 57: operator intervention). It is retried with backoff, never set
      // aside: the retry waits on the lock again.
      // (pg_stat_activity is read once per transaction unless the snapshot is cleared.)
      const waiting = async (): Promise<{ pid: number; started: string }[]> => {
        await locker.query('SELECT pg_stat_clear_snapshot()');
        const res = await locker.query<{ pid: number; started: string }>(
          `SELECT l.pid, a.query_start::text AS started FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND l.relation = '"${h.schema.schema}".receipts'::regclass`,
        );
        return res.rows;
      };
      const [first] = await waiting();
      expect(first).toBeDefined();
      await locker.query('SELECT pg_cancel_backend($1)', [first!.pid]);
      // The writer waits on the lock again, with a new statement, once its backoff is over.
      await h.until('the writer retried', async () => (await waiting()).some((w) => w.started !== first!.started), 10_000);
      expect((await get(port, '/readyz')).status).toBe(503);

      await locker.query('COMMIT');
      // The writer goes on: the receipt is stored, its deliver_sm answered, and readiness is back.
      expect(await answered).toBe(0);
      await h.until('ready again', async () => (await get(port, '/readyz')).status === 200, 10_000);
      expect((await get(port, '/metrics')).body).toMatch(/parley_pipeline_stalled\{pipeline="receipts"\} 0/);
      expect(await h.schema.db.selectFrom('receipts').select('body').execute()).toEqual([{ body: text }]);
      expect(await h.schema.db.selectFrom('quarantined_pdus').select('id').execute()).toEqual([]);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });
});

describe('webhook outbox: a delivery whose outcome cannot be stored is failed, not POSTed every lease', () => {
  it('poison outcomes set aside, the other webhook delivered; again after a restart', async () => {
    smsc = await startScriptedSmsc();
    const teapot = await startWebhookReceiver(() => ({ status: 418, body: '' }));
    const good = await startWebhookReceiver(() => ({ status: 200, body: '' }));
    receivers.push(teapot, good);
    // The store refuses to record this one outcome: a real constraint, found per delivery.
    await sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT poison_probe CHECK (last_error IS DISTINCT FROM 'HTTP 418')`.execute(h.schema.db);
    const config = daemonConfig({
      webhooks: [
        { name: 'teapot', url: teapot.url, secret: SECRET, subscribe: ['message.status'], max_attempts: 5 },
        { name: 'good', url: good.url, secret: SECRET, subscribe: ['message.status'] },
      ],
    });
    let daemon = await h.startDaemon(config);
    await smsc.session();
    for (const round of [1, 2]) {
      if (round === 2) daemon = await restart(daemon, config);
      await h.send([{ id: `w${round}`, to: '+14155550101', text: 'hello' }]);
      await h.until(`round ${round}: submitted`, async () => (await h.acceptedCount(`w${round}`)) === 1);
      const settled = async () =>
        h.schema.db.selectFrom('webhook_deliveries').select(['webhook', 'status', 'attempts', 'last_error']).where(sql<boolean>`body->>'id' = ${`w${round}`}`).execute();
      await h.until(`round ${round}: deliveries settled`, async () => {
        const rows = await settled();
        return rows.length === 4 && rows.every((r) => r.status !== 'pending');
      });
      const rows = await settled();
      for (const r of rows.filter((x) => x.webhook === 'good')) expect(r).toMatchObject({ status: 'delivered', attempts: 1 });
      for (const r of rows.filter((x) => x.webhook === 'teapot')) {
        expect(r).toMatchObject({ status: 'failed', attempts: 1 });
        expect(r.last_error).toMatch(/^its outcome could not be recorded: .*poison_probe/);
      }
    }
    // Each event was POSTed to the teapot once: nothing is retried forever.
    expect(teapot.received).toHaveLength(4);
    void daemon;
  });
});

describe('event publishing: an event Redis cannot take is dropped and counted, the others published', () => {
  it('poison events between valid ones', async () => {
    const stream = `${h.prefix}poison-events`;
    const dropped: string[] = [];
    const tracker = new StallTracker(60_000);
    const publisher = new EventStreamPublisher(h.redis, stream, {
      batchSize: 100,
      batchDelayMs: 5,
      logger: silentLogger,
      progress: tracker.progress('events'),
      onDropped: (type) => dropped.push(type),
    });
    const circular: Record<string, unknown> = { type: 'circular' };
    circular.self = circular;
    const table: object[] = [{ type: 'ok', n: 1 }, circular, { type: 'ok', n: 2 }, { type: 'bigint', n: 10n }, { type: 'ok', n: 3 }];
    publisher.publish(table);
    await publisher.flush();
    const published = (await h.redis.xrange(stream, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as { n: number });
    expect(published.map((e) => e.n)).toEqual([1, 2, 3]);
    expect(dropped).toEqual(['circular', 'bigint']);
    expect(tracker.report()).toEqual([{ pipeline: 'events', stalledMs: 0, pending: 0 }]);
  });
});
