/**
 * Helpers for the two-way integration tests: a hand-driven SMSC that sends the customer messages
 * the test builds (parts held back, resent or interleaved at will), a loopback webhook receiver,
 * and readers for the rows and streams the reply path writes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SmppServer } from '../../src/smpp/connection.ts';
import type { SmppSession } from '../../src/smpp/session.ts';
import type { PduInit } from '../../src/smpp/pdu.ts';
import { encodeRequest } from '../../src/smpp/codec.ts';
import { decodeText, parseUdh, type Concatenation } from '../../src/smpp/text/index.ts';
import { buildReplyPdus } from '../../src/simulator/replies.ts';
import { createRandom } from '../../src/simulator/random.ts';
import { createHarness, type Harness } from './daemon.ts';

export type DeliverSm = PduInit<'deliver_sm'>;

/**
 * `createHarness`, tried again when its migration lost a race with another test file dropping its
 * schema: kysely's migrator introspects every schema (`has_schema_privilege(nspname, ...)`), and a
 * schema dropped between the catalog scan and that call fails the migration with
 * 'schema "t_<other file>" does not exist'. Nothing is wrong with the new schema itself.
 */
export async function createTwoWayHarness(): Promise<Harness> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createHarness();
    } catch (err) {
      const lostRace = (err as { code?: string }).code === 'migration_failed' && /schema "[^"]+" does not exist/.test((err as Error).message);
      if (!lostRace || attempt >= 3) throw err;
    }
  }
}

/**
 * The deliver_sm parts of one customer message, with the concatenation reference chosen by the
 * test (the simulator picks its own): built by the simulator's reply builder, which splits with
 * Parley's text layer (`splitText`, `buildConcatUdh`).
 */
export function replyParts(
  from: string,
  to: string,
  text: string,
  options: { concatenation?: Concatenation; reference?: number; dataCoding?: number } = {},
): DeliverSm[] {
  const built = buildReplyPdus(
    { from, to, text, ...(options.dataCoding === undefined ? {} : { dataCoding: options.dataCoding }) },
    { defaultAlphabet: 'gsm7', concatenation: options.concatenation ?? 'udh8', reference: options.reference ?? 0, random: createRandom(1) },
  );
  return built.parts;
}

export interface ScriptedSubmit {
  readonly source: string;
  readonly destination: string;
  readonly text: string;
  readonly messageId: string;
}

export interface ScriptedSmsc {
  readonly port: number;
  /** submit_sm received, in order, answered with ids s1, s2, ... */
  readonly submits: ScriptedSubmit[];
  /** The latest bound session; waits (bounded) for one bound after `afterBinds` binds. */
  session(afterBinds?: number, timeoutMs?: number): Promise<SmppSession>;
  /** Binds so far. */
  readonly binds: number;
  /** Sends one deliver_sm on the current bind and resolves with the deliver_sm_resp's command_status. */
  deliver(pdu: DeliverSm): Promise<number>;
  /** Each deliver_sm sent, as the octets written on the wire, in order. */
  readonly delivered: Buffer[];
  close(): Promise<void>;
}

/** An SMSC on 127.0.0.1:0 driven by the test: it sends exactly the deliver_sm the test asks for. */
export async function startScriptedSmsc(): Promise<ScriptedSmsc> {
  const submits: ScriptedSubmit[] = [];
  const delivered: Buffer[] = [];
  let current: SmppSession | undefined;
  let binds = 0;
  const server = new SmppServer({
    session: {
      handlers: {
        onBind: () => ({ system_id: 'scripted' }),
        onStateChange: (state, _prev, session) => {
          if (state === 'bound_trx' || state === 'bound_rx') {
            current = session;
            binds++;
          }
        },
        onRequest: (pdu) => {
          if (pdu.command !== 'submit_sm') return {};
          let body = pdu.short_message;
          if ((pdu.esm_class & 0x40) !== 0) {
            const udh = parseUdh(body);
            if (udh.ok) body = udh.payload;
          }
          const messageId = `s${submits.length + 1}`;
          submits.push({ source: pdu.source_addr, destination: pdu.destination_addr, text: decodeText(body, pdu.data_coding, 'gsm7').text, messageId });
          return { message_id: messageId };
        },
      },
    },
  });
  const { port } = await server.listen(0);
  const smsc: ScriptedSmsc = {
    port,
    submits,
    delivered,
    get binds() {
      return binds;
    },
    async session(afterBinds = 0, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (current && binds > afterBinds && (current.state === 'bound_trx' || current.state === 'bound_rx')) return current;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no bind after ${afterBinds} within ${timeoutMs} ms`);
    },
    async deliver(pdu) {
      const session = await smsc.session(0);
      const resp = await session.request('deliver_sm', pdu);
      // The session wrote encodeRequest's octets under the sequence number its answer carries.
      delivered.push(encodeRequest('deliver_sm', resp.sequence_number, pdu));
      return resp.command_status;
    },
    close: () => server.close(),
  };
  return smsc;
}

/** The SMSC entry of a config for a scripted SMSC. */
export function scriptedSmscConfig(name: string, port: number): Record<string, unknown> {
  return { name, host: '127.0.0.1', port, system_id: 'parley', reconnect_min: '50ms', reconnect_max: '200ms' };
}

export interface ReceivedHook {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly path: string;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedHook[];
  close(): Promise<void>;
}

/**
 * A webhook receiver on loopback. `answer` gives the status and body for each request, or
 * 'hang' to never answer (the connection stays open until `close`).
 */
export async function startWebhookReceiver(
  answer: (request: ReceivedHook) => { status: number; body?: string } | 'hang',
): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const hook = { headers: req.headers, body, path: req.url ?? '' };
      received.push(hook);
      const a = answer(hook);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Every event published on the harness's `parley:inbound`, parsed. */
export async function inboundEvents(h: Harness, waitMs = 5_000): Promise<Record<string, unknown>[]> {
  const read = async (): Promise<Record<string, unknown>[]> =>
    (await h.redis.xrange(h.keys.inbound, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as Record<string, unknown>);
  // A reply's event is published after its handling commits (lib/batcher.ts, a batch of its own):
  // a test that saw the reply handled in Postgres waits, up to `waitMs`, for one event per handled
  // reply before reading them, then takes what is there (a test of a missing event still sees it missing).
  const deadline = Date.now() + waitMs;
  for (;;) {
    const events = await read();
    const handled = await h.schema.db.selectFrom('replies').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'handled').executeTakeFirstOrThrow();
    if (events.length >= Number(handled.n) || Date.now() >= deadline) return events;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every reply row, oldest first. */
export async function replyRows(h: Harness) {
  return h.schema.db.selectFrom('replies').selectAll().orderBy('received_at').orderBy('id').execute();
}

/** Waits until `count` replies are handled (status 'handled'). */
export async function untilHandled(h: Harness, count: number, timeoutMs = 15_000): Promise<void> {
  await h.until(
    `${count} replies handled`,
    async () => {
      const rows = await h.schema.db.selectFrom('replies').select('status').execute();
      return rows.length >= count && rows.filter((r) => r.status === 'handled').length >= count;
    },
    timeoutMs,
  );
}

/** The message row with this id (undefined when absent). */
export async function messageRow(h: Harness, id: string) {
  return h.schema.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The destination of sentinel messages; tests leave it out of what they count. */
export const SENTINEL_TO = '14155550000';
let sentinels = 0;

/**
 * Sends one more message through the outbound stream and waits until the SMSC has it. Whatever
 * the daemon had already queued on that route went out before it (one queue per route, first in
 * first out at equal priority, priority 0 being the lowest), so a test that then asserts "nothing
 * more was sent" checks after the fact instead of after a guessed sleep.
 */
export async function sentinel(h: Harness, smsc: { readonly arrivals: readonly { readonly text: string }[] }): Promise<void> {
  const text = `sentinel ${++sentinels} ${h.prefix}`;
  await h.send([{ id: `sentinel-${sentinels}`, to: `+${SENTINEL_TO}`, text, priority: 0 }]);
  await h.until(`sentinel ${sentinels} reached the SMSC`, () => smsc.arrivals.some((a) => a.text === text));
}
