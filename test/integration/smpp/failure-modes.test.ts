/**
 * How a Parley session fails: a peer that drops the link mid-window, a peer that goes silent, a
 * peer that never answers, and application handlers that throw. Real sockets on 127.0.0.1:0; the
 * misbehaving side is either Parley's own SmppServer or a raw socket that sends chosen octets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SmppServer, connectSession } from '../../../src/smpp/connection.ts';
import { SmppSessionError, type CloseReason, type SessionState, type SessionTimers, type SmppSession } from '../../../src/smpp/session.ts';
import { shortMessageFields, type Pdu } from '../../../src/smpp/pdu.ts';
import { ESME_ROK, ESME_RX_T_APPN } from '../../../src/smpp/command-status.ts';
import {
  Cleanups,
  RawPeer,
  eventually,
  id,
  rawPdu,
  sleep,
  startRawServer,
  wire,
  type RawPdu,
} from '../../support/smpp-raw-peer.ts';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const submit = (text = 'hello') => shortMessageFields({ destination_addr: '4479000000', short_message: Buffer.from(text) });

async function parleyServer(options: ConstructorParameters<typeof SmppServer>[0]): Promise<{ server: SmppServer; port: number }> {
  const server = new SmppServer(options);
  const { port } = await server.listen(0);
  cleanups.add(() => server.close(200));
  return { server, port };
}

async function client(port: number, timers: Partial<SessionTimers> = {}, handlers: Parameters<typeof connectSession>[1]['handlers'] = {}): Promise<SmppSession> {
  const s = await connectSession({ host: '127.0.0.1', port }, { timers, handlers });
  cleanups.add(() => s.close());
  return s;
}

/** A raw SMSC: answers bind_transceiver with ESME_ROK and lets `more` answer (or ignore) the rest. */
async function rawSmsc(more: (pdu: RawPdu, peer: RawPeer) => void = () => {}): Promise<{ port: number; peers: RawPeer[] }> {
  const raw = await startRawServer((peer) => {
    peer.onPdu = (pdu) => {
      if (pdu.commandId === id('bind_transceiver')) {
        peer.send(wire('bind_transceiver_resp', { system_id: 'rawsmsc', sequence_number: pdu.sequenceNumber }));
        return;
      }
      more(pdu, peer);
    };
  });
  cleanups.add(() => raw.close());
  return raw;
}

function expectSessionError(result: PromiseSettledResult<Pdu>, code: string): void {
  expect(result.status).toBe('rejected');
  if (result.status === 'rejected') {
    expect(result.reason).toBeInstanceOf(SmppSessionError);
    expect((result.reason as SmppSessionError).code).toBe(code);
  }
}

/** Timers (setTimeout/setInterval) that keep the event loop alive. */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('a peer that drops the link with a full window', () => {
  const RESPONSE_TIMEOUT_MS = 5_000;

  it.each(['parley server closes its session', 'raw peer half-closes (FIN)', 'raw peer resets (RST)'] as const)(
    '%s: all 100 pending requests reject with connection_closed at once',
    async (how) => {
      const timersBefore = refTimers();
      let received = 0;
      let dropAt = 0;
      const drop = (act: () => void): void => {
        dropAt = Date.now();
        act();
      };
      let port: number;
      const held: (() => void)[] = [];
      let serverSession: SmppSession | undefined;
      if (how === 'parley server closes its session') {
        ({ port } = await parleyServer({
          session: {
            handlers: {
              onRequest: (_pdu, session) => {
                serverSession = session;
                received++;
                // Hold every answer; after the 100th, destroy the socket without answering any.
                if (received === 100) setImmediate(() => drop(() => session.close('local', 'test drops the link')));
                return new Promise((resolve) => held.push(() => resolve({ message_id: 'late' })));
              },
            },
          },
        }));
      } else {
        ({ port } = await rawSmsc((pdu, peer) => {
          if (pdu.commandId !== id('submit_sm')) return;
          received++;
          if (received === 100) {
            drop(() => (how === 'raw peer resets (RST)' ? peer.socket.resetAndDestroy() : peer.socket.end()));
          }
        }));
      }
      const s = await client(port, { responseTimeoutMs: RESPONSE_TIMEOUT_MS, windowSize: 100 });
      await s.bind('transceiver', { system_id: 'parley', password: 'secret' });

      const requests: Promise<Pdu>[] = [];
      for (let i = 0; i < 100; i++) requests.push(s.request('submit_sm', submit(`m${i}`)));
      expect(s.inFlight).toBe(100);
      // The window is full: the 101st fails fast instead of queueing.
      await expect(s.request('submit_sm', submit('one too many'))).rejects.toMatchObject({ code: 'window_full' });

      const results = await Promise.allSettled(requests);
      expect(received).toBe(100);
      expect(dropAt).toBeGreaterThan(0);
      expect(results).toHaveLength(100);
      for (const r of results) expectSessionError(r, 'connection_closed');
      // Promptly: the moment the link is gone, not at the response timeout (that would have made
      // them response_timeout, checked above).
      expect(s.inFlight).toBe(0);
      expect(s.state).toBe('closed');
      expect(s.freeWindow).toBe(0);

      const reason = await s.closed;
      expect(['peer_closed', 'socket_error']).toContain(reason.code);
      // After the close, a request fails at once, and waitForWindow does not hang.
      await expect(s.request('submit_sm', submit())).rejects.toMatchObject({ code: 'connection_closed' });
      await s.waitForWindow();

      if (serverSession) {
        expect(serverSession.state).toBe('closed');
        // Answers released after the close are dropped, not written to a dead socket.
        for (const release of held) release();
        await sleep(10);
        expect(serverSession.state).toBe('closed');
      }
      // No timer of the session keeps the process alive, and its own (unref'd) ticker is stopped:
      // a private field, read here because no public API shows an unref'd timer.
      expect(await eventually(() => refTimers() <= timersBefore, 1000)).toBe(true);
      expect((s as unknown as { ticker: unknown }).ticker).toBeUndefined();
      if (serverSession) expect((serverSession as unknown as { ticker: unknown }).ticker).toBeUndefined();
    },
  );
});

describe('a silent peer', () => {
  const INTERVAL_MS = 200;
  const SILENT_MS = 300;

  it('client: enquire_link goes out after the interval, the session closes as silent_peer before a second enquire_link', async () => {
    const raw = await rawSmsc(); // answers the bind, then nothing at all
    const states: SessionState[] = [];
    const s = await client(raw.port, { enquireLinkIntervalMs: INTERVAL_MS, silentPeerTimeoutMs: SILENT_MS, responseTimeoutMs: 5_000 }, {
      onStateChange: (state) => states.push(state),
    });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    const peer = raw.peers[0];
    expect(peer).toBeDefined();
    if (!peer) return;
    // The last octet the client receives is the bind_resp: bind() resolves right after it.
    const lastOctetAt = Date.now();

    const reason = await s.closed;
    const closedAfter = Date.now() - lastOctetAt;
    expect(reason.code).toBe('silent_peer');
    expect(closedAfter).toBeGreaterThanOrEqual(SILENT_MS - 5);

    const enquire = peer.pdus.find((p) => p.commandId === id('enquire_link'));
    expect(enquire).toBeDefined();
    expect(enquire!.commandLength).toBe(16);
    expect(enquire!.commandStatus).toBe(0);
    expect(enquire!.receivedAt - lastOctetAt).toBeGreaterThanOrEqual(INTERVAL_MS - 5);
    // Exactly one: the session does not stack enquire_links while one is unanswered, and it closed
    // on the silent-peer time rather than waiting out a second interval (shown without a clock).
    expect(await peer.waitClosed(10_000)).toBe(true);
    expect(peer.pdus.filter((p) => p.commandId === id('enquire_link'))).toHaveLength(1);
    expect(states).toEqual(['binding', 'bound_trx', 'closed']);
  });

  it('client: a peer that answers enquire_link keeps the session open past the silent-peer time', async () => {
    const raw = await rawSmsc((pdu, peer) => {
      if (pdu.commandId === id('enquire_link')) peer.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
    });
    const s = await client(raw.port, { enquireLinkIntervalMs: INTERVAL_MS, silentPeerTimeoutMs: SILENT_MS });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    // Three answered enquire_links span more than the silent-peer time: the session outlived it.
    const enquires = (): number => raw.peers[0]?.pdus.filter((p) => p.commandId === id('enquire_link')).length ?? 0;
    expect(await eventually(() => enquires() >= 3, 10_000)).toBe(true);
    expect(s.state).toBe('bound_trx');
  });

  it('server: a client that binds and goes silent is enquired, then closed as silent_peer', async () => {
    const reasons: CloseReason[] = [];
    const { server, port } = await parleyServer({
      session: {
        timers: { enquireLinkIntervalMs: INTERVAL_MS, silentPeerTimeoutMs: SILENT_MS },
        handlers: { onClose: (r) => reasons.push(r) },
      },
    });
    const peer = await RawPeer.connect(port);
    cleanups.add(() => peer.destroy());
    peer.send(wire('bind_transceiver', { system_id: 'raw', password: 'x', system_type: '', interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: '', sequence_number: 1 }));
    const resp = await peer.next();
    expect(resp).toMatchObject({ commandId: id('bind_transceiver_resp'), commandStatus: ESME_ROK, sequenceNumber: 1 });
    // The time limits below only bound a failure; the closing is shown by order and count, not speed.
    const enquire = await peer.waitFor(id('enquire_link'), 10_000);
    expect(enquire).toBeDefined();
    expect(enquire!.receivedAt - resp!.receivedAt).toBeGreaterThanOrEqual(INTERVAL_MS - 5);
    expect(await peer.waitClosed(10_000)).toBe(true);
    // Closed on the silent-peer time after the one enquire_link, not after stacking a second one.
    expect(peer.pdus.filter((p) => p.commandId === id('enquire_link'))).toHaveLength(1);
    expect(await eventually(() => reasons.length === 1)).toBe(true);
    expect(reasons[0]?.code).toBe('silent_peer');
    expect(await eventually(() => server.sessions.size === 0)).toBe(true);
  });
});

describe('a peer that never answers a request', () => {
  it('rejects with response_timeout after responseTimeoutMs; the session stays bound and usable', async () => {
    // Answers bind and enquire_link, swallows submit_sm.
    const raw = await rawSmsc((pdu, peer) => {
      if (pdu.commandId === id('enquire_link')) peer.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
    });
    const RESPONSE_MS = 300;
    const s = await client(raw.port, { responseTimeoutMs: RESPONSE_MS });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    const t0 = Date.now();
    const results = await Promise.allSettled([s.request('submit_sm', submit('a')), s.request('submit_sm', submit('b'))]);
    const elapsed = Date.now() - t0;
    for (const r of results) expectSessionError(r, 'response_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(RESPONSE_MS - 5);
    expect(s.inFlight).toBe(0);
    expect(s.state).toBe('bound_trx');
    const el = await s.request('enquire_link', {});
    expect(el.command).toBe('enquire_link_resp');
    // A late answer to the timed-out request is ignored, not matched to anything else.
    const seq = raw.peers[0]?.pdus.find((p) => p.commandId === id('submit_sm'))?.sequenceNumber;
    expect(seq).toBeDefined();
    raw.peers[0]?.send(wire('submit_sm_resp', { message_id: 'late', sequence_number: seq! }));
    const el2 = await s.request('enquire_link', {});
    expect(el2.command).toBe('enquire_link_resp');
    expect(s.state).toBe('bound_trx');
  });
});

describe('application handlers that fail', () => {
  it('onRequest that throws or rejects: the client gets ESME_RX_T_APPN and the session goes on', async () => {
    const seen: string[] = [];
    const { port } = await parleyServer({
      session: {
        handlers: {
          onRequest: (pdu) => {
            if (pdu.command !== 'submit_sm') return {};
            const text = pdu.short_message.toString();
            seen.push(text);
            if (text === 'throw') throw new Error('handler bug');
            if (text === 'reject') return Promise.reject(new Error('database down'));
            if (text === 'throw-string') throw 'not even an Error'; // eslint-disable-line @typescript-eslint/only-throw-error
            return { message_id: `id-${text}` };
          },
        },
      },
    });
    const s = await client(port);
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    for (const text of ['throw', 'reject', 'throw-string']) {
      const resp = await s.request('submit_sm', submit(text));
      expect(resp.command).toBe('submit_sm_resp');
      expect(resp.command_status).toBe(ESME_RX_T_APPN);
      const ok = await s.request('submit_sm', submit(`ok-after-${text}`));
      expect(ok).toMatchObject({ command: 'submit_sm_resp', command_status: ESME_ROK, message_id: `id-ok-after-${text}` });
    }
    expect(seen).toEqual(['throw', 'ok-after-throw', 'reject', 'ok-after-reject', 'throw-string', 'ok-after-throw-string']);
    expect(s.state).toBe('bound_trx');
  });

  it('onBind that throws: bind refused with ESME_RX_T_APPN, and a second bind on the same link succeeds', async () => {
    let binds = 0;
    const { port } = await parleyServer({
      session: {
        handlers: {
          onBind: () => {
            binds++;
            if (binds === 1) throw new Error('auth backend bug');
            return { command_status: ESME_ROK, system_id: 'sim' };
          },
        },
      },
    });
    const s = await client(port);
    await expect(s.bind('transceiver', { system_id: 'parley', password: 'secret' })).rejects.toMatchObject({
      code: 'bind_refused',
      commandStatus: ESME_RX_T_APPN,
    });
    expect(s.state).toBe('open');
    const resp = await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    expect(resp.system_id).toBe('sim');
    expect(binds).toBe(2);
  });

  it('onStateChange and onClose that throw on both sides do not break the session', async () => {
    const serverStates: SessionState[] = [];
    const clientStates: SessionState[] = [];
    let serverClosed = 0;
    const { server, port } = await parleyServer({
      session: {
        handlers: {
          onStateChange: (state) => {
            serverStates.push(state);
            throw new Error('server onStateChange bug');
          },
          onClose: () => {
            serverClosed++;
            throw new Error('server onClose bug');
          },
          onRequest: () => ({ message_id: 'ok' }),
        },
      },
    });
    const s = await client(port, {}, {
      onStateChange: (state) => {
        clientStates.push(state);
        throw new Error('client onStateChange bug');
      },
      onClose: () => {
        throw new Error('client onClose bug');
      },
    });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    const resp = await s.request('submit_sm', submit());
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: ESME_ROK, message_id: 'ok' });
    await s.unbind();
    expect((await s.closed).code).toBe('unbound');
    expect(clientStates).toEqual(['binding', 'bound_trx', 'unbinding', 'closed']);
    expect(await eventually(() => serverClosed === 1)).toBe(true);
    expect(serverStates).toEqual(['binding', 'bound_trx', 'unbinding', 'closed']);
    expect(server.sessions.size).toBe(0);
  });

  it('a reply the encoder refuses is still answered (ESME_RX_T_APPN), so the peer does not wait for a timeout', async () => {
    const { port } = await parleyServer({
      session: {
        handlers: {
          // message_id is at most 64 characters: 100 cannot be encoded.
          onRequest: (pdu) => (pdu.command === 'submit_sm' && pdu.short_message.toString() === 'bad' ? { message_id: 'x'.repeat(100) } : { message_id: 'fine' }),
        },
      },
    });
    const s = await client(port, { responseTimeoutMs: 10_000 });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    // Shown without a clock: a request that timed out would reject with response_timeout, so a
    // resolved submit_sm_resp means the server answered.
    const resp = await s.request('submit_sm', submit('bad'));
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: ESME_RX_T_APPN, message_id: '' });
    const ok = await s.request('submit_sm', submit('good'));
    expect(ok).toMatchObject({ command_status: ESME_ROK, message_id: 'fine' });
  });
});

describe('a client whose bind fails without a bind_resp', () => {
  it('a bind answered with generic_nack rejects and leaves the session open for another bind', async () => {
    let binds = 0;
    const raw = await startRawServer((peer) => {
      peer.onPdu = (pdu) => {
        if (pdu.commandId !== id('bind_transceiver')) return;
        binds++;
        if (binds === 1) peer.send(rawPdu(id('generic_nack'), pdu.sequenceNumber, Buffer.alloc(0), 0x00000003));
        else peer.send(wire('bind_transceiver_resp', { system_id: 'second', sequence_number: pdu.sequenceNumber }));
      };
    });
    cleanups.add(() => raw.close());
    const s = await client(raw.port);
    await expect(s.bind('transceiver', { system_id: 'parley', password: 'secret' })).rejects.toMatchObject({
      code: 'generic_nack',
      commandStatus: 0x00000003,
    });
    expect(s.state).toBe('open');
    const resp = await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    expect(resp.system_id).toBe('second');
    expect(s.state).toBe('bound_trx');
  });
});

describe('enquire_link keeps going after a malformed enquire_link_resp', () => {
  it('the next enquire_link is sent, so an idle but healthy link is not closed as silent', async () => {
    let enquires = 0;
    const raw = await rawSmsc((pdu, peer) => {
      if (pdu.commandId !== id('enquire_link')) return;
      enquires++;
      // The first answer carries two stray octets where a TLV header should be: malformed.
      const body = enquires === 1 ? Buffer.from([0xde, 0xad]) : Buffer.alloc(0);
      peer.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber, body));
    });
    const s = await client(raw.port, { enquireLinkIntervalMs: 100, silentPeerTimeoutMs: 250 });
    await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    // Four enquire_links after the malformed answer span well past the silent-peer time: still bound.
    expect(await eventually(() => enquires >= 4, 10_000)).toBe(true);
    expect(s.state).toBe('bound_trx');
  });
});
