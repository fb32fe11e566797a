/**
 * Issue 9: the webhook outbox sends each webhook's deliveries under its own concurrency limit, so
 * a slow webhook never delays the events of another. Two receivers on loopback, a real daemon on
 * the test Postgres and Redis, and the simulator as SMSC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';

let h: Harness;
const servers: http.Server[] = [];
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

interface Receiver {
  readonly url: string;
  /** Bodies received, in order of arrival. */
  readonly received: string[];
  /** Requests answered so far. */
  answered: number;
  /** Requests held (arrived, not answered yet) now, and at most. */
  holding: number;
  maxHolding: number;
  /** Answers every request held now and every later one at once. */
  release(): void;
}

/**
 * A webhook receiver on loopback. A slow one holds each answer until `release()` (at most 20 s): slower
 * than the 2 s webhook of the issue, and with no clock in the test.
 */
async function receiver(slow: boolean): Promise<Receiver> {
  const held: (() => void)[] = [];
  let released = !slow;
  const r: Receiver = {
    url: '',
    received: [],
    answered: 0,
    holding: 0,
    maxHolding: 0,
    release() {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      r.received.push(body);
      r.holding++;
      r.maxHolding = Math.max(r.maxHolding, r.holding);
      let timer: NodeJS.Timeout | undefined;
      const answer = (): void => {
        clearTimeout(timer);
        r.holding--;
        r.answered++;
        res.writeHead(200).end();
      };
      if (released) answer();
      else {
        held.push(answer);
        timer = setTimeout(() => held.includes(answer) && (held.splice(held.indexOf(answer), 1), answer()), 20_000);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return Object.assign(r, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
}

async function deliveries(webhook: string): Promise<{ status: string; body: Record<string, unknown> }[]> {
  return h.schema.db.selectFrom('webhook_deliveries').select(['status', 'body']).where('webhook', '=', webhook).execute();
}

describe('webhook outbox: per-webhook concurrency', () => {
  it('a webhook that does not answer holds up only its own deliveries, within its own concurrency', async () => {
    const slow = await receiver(true);
    const fast = await receiver(false);
    const sim = await h.startSim({ receiptDelayMs: 20 });
    await h.startDaemon(
      h.config({
        smscs: [simSmsc('sim', sim)],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, default_from: '12345' }],
        webhooks: [
          // First in the config and first in the outbox: its deliveries are always due before the others'.
          { name: 'slow', url: slow.url, secret: 'slow-secret-slow-secret', timeout: '30s', max_attempts: 3, concurrency: 2, subscribe: ['message.status'] },
          { name: 'fast', url: fast.url, secret: 'fast-secret-fast-secret', timeout: '30s', max_attempts: 3, concurrency: 4, subscribe: ['message.status'] },
        ],
      }),
    );
    const messages = 6;
    await h.send(Array.from({ length: messages }, (_, i) => ({ id: `ow${i}`, to: `+1415555${String(i).padStart(4, '0')}`, text: 'hello' })));

    // queued, submitted, delivered: three events per message for each webhook.
    const events = messages * 3;
    await h.until('every event of the fast webhook delivered', async () => {
      const rows = await deliveries('fast');
      return rows.length === events && rows.every((r) => r.status === 'delivered');
    }, 30_000);
    // All of that while the slow webhook has answered nothing: it holds its first two requests
    // (its concurrency), and nothing more was sent to it.
    expect(slow.answered).toBe(0);
    expect(slow.received).toHaveLength(2);
    expect(slow.holding).toBe(2);
    expect(fast.received).toHaveLength(events);
    const slowRows = await deliveries('slow');
    expect(slowRows).toHaveLength(events);
    expect(slowRows.filter((r) => r.status === 'pending')).toHaveLength(events);
    // Only the two being sent are leased; the rest have not been attempted.
    const attempted = await h.schema.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('webhook', '=', 'slow')
      .where('attempts', '>', 0)
      .executeTakeFirstOrThrow();
    expect(Number(attempted.n)).toBe(2);

    // The slow webhook answers again: its backlog goes out, never more than two at once.
    slow.release();
    await h.until('every event of the slow webhook delivered', async () => {
      const rows = await deliveries('slow');
      return rows.every((r) => r.status === 'delivered');
    }, 30_000);
    expect(slow.maxHolding).toBe(2);
    expect(fast.maxHolding).toBeLessThanOrEqual(4);
    const key = (b: string): string => {
      const e = JSON.parse(b) as { id: string; status: string };
      return `${e.id}:${e.status}`;
    };
    expect(slow.received.map(key).sort()).toEqual(fast.received.map(key).sort());
    const attempts = await sql<{ webhook: string; attempts: number }>`SELECT webhook, attempts FROM webhook_deliveries`.execute(h.schema.db);
    // Each delivered on its first attempt: nothing was leased past its lease and sent twice.
    expect(attempts.rows.every((r) => r.attempts === 1)).toBe(true);
  }, 90_000);
});
