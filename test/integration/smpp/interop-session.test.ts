/**
 * Parley's session layer against node-smpp's, both ways round, over loopback on port 0:
 * bind_transceiver, 1,000 submit_sm with at most 100 outstanding, enquire_link, unbind.
 * Both servers answer submits late and out of order, so the window and the sequence matching are
 * actually exercised.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SmppServer, connectSession } from '../../../src/smpp/connection.ts';
import type { SessionState, SmppSession } from '../../../src/smpp/session.ts';
import { ESME_RINVPASWD } from '../../../src/smpp/command-status.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { decodeText } from '../../../src/smpp/text/index.ts';
import {
  connectNodeSmpp,
  createNodeSmppServer,
  messageField,
  numberField,
  stringField,
  type NodeSmppPdu,
  type NodeSmppServer,
  type NodeSmppSession,
} from '../../support/node-smpp.ts';

const TOTAL = 1000;
const WINDOW = 100;
const STEP_TIMEOUT_MS = 10_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Rejects when `promise` has not settled in time, so no await in these tests can hang. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The i-th message: GSM-safe text at data_coding 0 for even i, UCS-2 text for odd i. */
function messageFor(i: number): { destination: string; text: string; dataCoding: number } {
  const destination = `4477009${String(i).padStart(5, '0')}`;
  return i % 2 === 0
    ? { destination, text: `Parley message ${i}`, dataCoding: 0 }
    : { destination, text: `Привет ✓ ${i}`, dataCoding: 8 };
}

/** Independent of Parley's text module: UTF-16BE via node's UTF-16LE and a byte swap. */
function ucs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

function octetsFor(i: number): Buffer {
  const { text, dataCoding } = messageFor(i);
  // All even texts are letters, digits and spaces: the same octets in GSM 03.38 and ASCII.
  return dataCoding === 8 ? ucs2(text) : Buffer.from(text, 'latin1');
}

// ------------------------------------------------------------------ node-smpp server

interface NodeServerLog {
  readonly submits: Map<string, { text: string; dataCoding: number; sourceAddr: string; messageId: string }>;
  binds: number;
  enquireLinks: number;
  unbindsAnswered: number;
  maxUnanswered: number;
  readonly errors: Error[];
}

async function startNodeSmppServer(): Promise<{ port: number; log: NodeServerLog; server: NodeSmppServer }> {
  const log: NodeServerLog = { submits: new Map(), binds: 0, enquireLinks: 0, unbindsAnswered: 0, maxUnanswered: 0, errors: [] };
  let nextId = 0;
  const server = createNodeSmppServer((session: NodeSmppSession) => {
    session.on('error', (err: Error) => log.errors.push(err));
    let queue: NodeSmppPdu[] = [];
    let flushing: NodeJS.Timeout | undefined;
    const flush = (): void => {
      flushing = undefined;
      const batch = queue.reverse(); // answer newest first: responses arrive out of order
      queue = [];
      for (const pdu of batch) {
        const messageId = `ns-${(++nextId).toString(36)}`;
        const seen = messageField(pdu, 'short_message');
        log.submits.set(stringField(pdu, 'destination_addr'), {
          text: typeof seen.message === 'string' ? seen.message : `<octets ${seen.message.toString('hex')}>`,
          dataCoding: numberField(pdu, 'data_coding'),
          sourceAddr: stringField(pdu, 'source_addr'),
          messageId,
        });
        session.send(pdu.response({ message_id: messageId }));
      }
    };
    session.on('bind_transceiver', (pdu: NodeSmppPdu) => {
      log.binds++;
      const ok = stringField(pdu, 'password') === 'secret';
      session.send(pdu.response(ok ? { system_id: 'nsmsc' } : { command_status: ESME_RINVPASWD }));
    });
    session.on('submit_sm', (pdu: NodeSmppPdu) => {
      queue.push(pdu);
      log.maxUnanswered = Math.max(log.maxUnanswered, queue.length);
      flushing ??= setTimeout(flush, 2);
    });
    session.on('enquire_link', (pdu: NodeSmppPdu) => {
      log.enquireLinks++;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: NodeSmppPdu) => {
      session.send(pdu.response(), () => {
        log.unbindsAnswered++;
        session.close();
      });
    });
  });
  server.on('error', (err: Error) => log.errors.push(err));
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), STEP_TIMEOUT_MS, 'node-smpp server to listen');
  cleanups.push(async () => {
    for (const session of [...server.sessions]) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, log, server };
}

describe('Parley client against node-smpp server', () => {
  it('binds, submits 1,000 at window 100, enquires and unbinds', async () => {
    const { port, log } = await startNodeSmppServer();
    const states: SessionState[] = [];
    const s: SmppSession = await connectSession(
      { host: '127.0.0.1', port, connectTimeoutMs: STEP_TIMEOUT_MS },
      { timers: { windowSize: WINDOW }, handlers: { onStateChange: (state) => states.push(state) } },
    );
    cleanups.push(() => s.close());

    const bound = await within(s.bind('transceiver', { system_id: 'parley', password: 'secret' }), STEP_TIMEOUT_MS, 'bind_resp');
    expect(bound.command).toBe('bind_transceiver_resp');
    expect(bound.system_id).toBe('nsmsc');
    expect(s.state).toBe('bound_trx');

    const idBySubmit = new Map<number, string>();
    const failures: unknown[] = [];
    const inflight: Promise<void>[] = [];
    let maxInFlight = 0;
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < TOTAL; i++) {
      for (let waits = 0; s.freeWindow === 0; waits++) {
        if (!s.isBound || waits > TOTAL || Date.now() > deadline) throw new Error(`window never freed (submit ${i}, ${s.state})`);
        await within(s.waitForWindow(), STEP_TIMEOUT_MS, 'a free window slot');
      }
      const { destination, dataCoding } = messageFor(i);
      inflight.push(
        s
          .request(
            'submit_sm',
            shortMessageFields({
              source_addr_ton: 5,
              source_addr: 'Parley',
              dest_addr_ton: 1,
              dest_addr_npi: 1,
              destination_addr: destination,
              data_coding: dataCoding,
              short_message: octetsFor(i),
            }),
          )
          .then(
            (resp) => {
              if (resp.command !== 'submit_sm_resp' || resp.command_status !== 0) failures.push(resp);
              else idBySubmit.set(i, resp.message_id);
            },
            (err: unknown) => {
              failures.push(err);
            },
          ),
      );
      maxInFlight = Math.max(maxInFlight, s.inFlight);
    }
    await within(Promise.all(inflight), STEP_TIMEOUT_MS, 'the last submit_sm_resp');

    expect(failures).toEqual([]);
    expect(maxInFlight).toBe(WINDOW);
    expect(log.maxUnanswered).toBeLessThanOrEqual(WINDOW);
    // The window is actually used: the server held at least half a window unanswered at once.
    expect(log.maxUnanswered).toBeGreaterThanOrEqual(WINDOW / 2);
    expect(idBySubmit.size).toBe(TOTAL);
    expect(new Set(idBySubmit.values()).size).toBe(TOTAL);
    expect(log.submits.size).toBe(TOTAL);
    for (let i = 0; i < TOTAL; i++) {
      const { destination, text, dataCoding } = messageFor(i);
      const seen = log.submits.get(destination);
      expect(seen, `submit ${i}`).toEqual({ text, dataCoding, sourceAddr: 'Parley', messageId: idBySubmit.get(i) });
    }

    const el = await within(s.request('enquire_link', {}), STEP_TIMEOUT_MS, 'enquire_link_resp');
    expect(el.command).toBe('enquire_link_resp');
    expect(el.command_status).toBe(0);
    expect(log.enquireLinks).toBe(1);

    // The unbind timeout is far past the step's own limit: unbind() returning within the step at
    // all means unbind_resp ended the wait, not the timeout (shown without timing it).
    const unbindTimeoutMs = 600_000;
    await within(s.unbind(unbindTimeoutMs), STEP_TIMEOUT_MS, 'unbind');
    const closed = await within(s.closed, STEP_TIMEOUT_MS, 'the session to close');
    // Closed by unbind() after unbind_resp (not by the peer's close).
    expect(closed.code).toBe('unbound');
    expect(log.unbindsAnswered).toBe(1);
    expect(states).toEqual(['binding', 'bound_trx', 'unbinding', 'closed']);
    expect(log.binds).toBe(1);
    expect(log.errors).toEqual([]);
  });

  it('a refused bind from node-smpp rejects with bind_refused and its status', async () => {
    const { port } = await startNodeSmppServer();
    const s = await connectSession({ host: '127.0.0.1', port }, {});
    cleanups.push(() => s.close());
    await expect(within(s.bind('transceiver', { system_id: 'parley', password: 'wrong' }), STEP_TIMEOUT_MS, 'bind_resp')).rejects.toMatchObject({
      code: 'bind_refused',
      commandStatus: ESME_RINVPASWD,
    });
    expect(s.state).toBe('open');
  });
});

// ------------------------------------------------------------------ Parley server, node-smpp client

interface ParleyServerLog {
  readonly submits: Map<string, { text: string; dataCoding: number; sourceAddr: string; messageId: string }>;
  unanswered: number;
  maxUnanswered: number;
  readonly states: SessionState[];
  readonly sessions: SmppSession[];
}

async function startParleyServer(): Promise<{ port: number; log: ParleyServerLog }> {
  const log: ParleyServerLog = { submits: new Map(), unanswered: 0, maxUnanswered: 0, states: [], sessions: [] };
  let nextId = 0;
  const server = new SmppServer({
    session: {
      timers: { windowSize: WINDOW },
      handlers: {
        onBind: (pdu) => ({ command_status: pdu.password === 'secret' ? 0 : ESME_RINVPASWD, system_id: 'parley-smsc' }),
        onRequest: async (pdu) => {
          if (pdu.command !== 'submit_sm') return {};
          log.unanswered++;
          log.maxUnanswered = Math.max(log.maxUnanswered, log.unanswered);
          const messageId = `P${(++nextId).toString(36).padStart(4, '0')}`;
          const text = decodeText(pdu.short_message, pdu.data_coding, 'gsm7');
          log.submits.set(pdu.destination_addr, {
            text: text.ok ? text.text : `<${text.code}>`,
            dataCoding: pdu.data_coding,
            sourceAddr: pdu.source_addr,
            messageId,
          });
          // Answer after a varying delay, so that answers overtake one another.
          await new Promise((resolve) => setTimeout(resolve, nextId % 4));
          log.unanswered--;
          return { message_id: messageId };
        },
        onStateChange: (state) => log.states.push(state),
      },
    },
    onSession: (session) => log.sessions.push(session),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close(500));
  return { port, log };
}

async function connectNodeSmppClient(port: number): Promise<{ client: NodeSmppSession; errors: Error[] }> {
  const errors: Error[] = [];
  const client = connectNodeSmpp({ host: '127.0.0.1', port });
  client.on('error', (err: Error) => errors.push(err));
  cleanups.push(() => client.destroy());
  await within(once(client, 'connect'), STEP_TIMEOUT_MS, 'node-smpp to connect');
  return { client, errors };
}

/** One node-smpp request as a promise, bounded in time. */
function ask(send: (onResponse: (pdu: NodeSmppPdu) => void) => boolean, what: string): Promise<NodeSmppPdu> {
  return within(
    new Promise<NodeSmppPdu>((resolve, reject) => {
      if (!send(resolve)) reject(new Error(`node-smpp could not send ${what}`));
    }),
    STEP_TIMEOUT_MS,
    what,
  );
}

describe('node-smpp client against Parley server', () => {
  it('binds, submits 1,000 with at most 100 outstanding, enquires and unbinds', async () => {
    const { port, log } = await startParleyServer();
    const { client, errors } = await connectNodeSmppClient(port);

    const bound = await ask(
      (cb) => client.bind_transceiver({ system_id: 'esme', password: 'secret', interface_version: 0x34 }, cb),
      'bind_transceiver_resp',
    );
    expect(bound.command).toBe('bind_transceiver_resp');
    expect(bound.command_status).toBe(0);
    expect(stringField(bound, 'system_id')).toBe('parley-smsc');

    // node-smpp has no window: the test keeps at most WINDOW submits outstanding itself.
    const responses = new Map<number, NodeSmppPdu>();
    let outstanding = 0;
    let maxOutstanding = 0;
    let slotFreed: (() => void) | undefined;
    let allAnswered: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    for (let i = 0; i < TOTAL; i++) {
      for (let waits = 0; outstanding >= WINDOW; waits++) {
        if (waits > TOTAL) throw new Error(`no slot freed for submit ${i}`);
        await within(
          new Promise<void>((resolve) => {
            slotFreed = resolve;
          }),
          STEP_TIMEOUT_MS,
          `a submit_sm_resp to free a slot for submit ${i}`,
        );
      }
      const { destination, text, dataCoding } = messageFor(i);
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      const sent = client.submit_sm(
        {
          source_addr_ton: 5,
          source_addr: 'esme',
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: destination,
          data_coding: dataCoding,
          // node-smpp encodes the string itself: GSM 03.38 for 0, UTF-16BE for 8.
          short_message: text,
        },
        (resp) => {
          responses.set(i, resp);
          outstanding--;
          const free = slotFreed;
          slotFreed = undefined;
          free?.();
          if (responses.size === TOTAL) allAnswered?.();
        },
      );
      expect(sent, `submit ${i} sent`).toBe(true);
    }
    await within(done, STEP_TIMEOUT_MS, 'the last submit_sm_resp');

    expect(maxOutstanding).toBe(WINDOW);
    expect(log.maxUnanswered).toBeLessThanOrEqual(WINDOW);
    // The window is actually used: the server held at least half a window unanswered at once.
    expect(log.maxUnanswered).toBeGreaterThanOrEqual(WINDOW / 2);
    expect(responses.size).toBe(TOTAL);
    const ids = new Set<string>();
    for (const [i, resp] of responses) {
      expect(resp.command, `response ${i}`).toBe('submit_sm_resp');
      expect(resp.command_status, `response ${i}`).toBe(0);
      const id = stringField(resp, 'message_id');
      ids.add(id);
      expect(log.submits.get(messageFor(i).destination)?.messageId, `response ${i} pairs with its submit`).toBe(id);
    }
    expect(ids.size).toBe(TOTAL);
    expect(log.submits.size).toBe(TOTAL);
    for (let i = 0; i < TOTAL; i++) {
      const { destination, text, dataCoding } = messageFor(i);
      expect(log.submits.get(destination), `submit ${i}`).toMatchObject({ text, dataCoding, sourceAddr: 'esme' });
    }

    const el = await ask((cb) => client.enquire_link({}, cb), 'enquire_link_resp');
    expect(el.command).toBe('enquire_link_resp');
    expect(el.command_status).toBe(0);

    const clientClosed = once(client, 'close');
    const unbound = await ask((cb) => client.unbind({}, cb), 'unbind_resp');
    expect(unbound.command).toBe('unbind_resp');
    expect(unbound.command_status).toBe(0);
    await within(clientClosed, STEP_TIMEOUT_MS, 'Parley to close the connection after unbind_resp');
    const [session] = log.sessions;
    expect(log.sessions).toHaveLength(1);
    await within(session?.closed ?? Promise.reject(new Error('no session')), STEP_TIMEOUT_MS, 'the server session to close');
    expect(log.states).toEqual(['binding', 'bound_trx', 'unbinding', 'closed']);
    expect(errors).toEqual([]);
  });
});
