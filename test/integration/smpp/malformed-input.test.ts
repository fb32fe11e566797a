/**
 * What Parley answers to each kind of malformed input, over a real socket. Server mode: a raw
 * socket sends chosen octets to Parley's SmppServer while a second, well-behaved Parley client
 * bound to the same server keeps submitting and getting answers the whole time. Client mode: a raw
 * SMSC sends chosen octets to a bound Parley client.
 *
 * Each row states the exact PDUs answered (command_id, command_status, sequence_number), whether
 * the link is then closed (and why, from the server's own onClose) or keeps working, proven by a
 * following enquire_link (and, when bound, a valid submit_sm) being answered next in order. The
 * handlers record everything they receive: a malformed PDU must never reach them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmppServer, connectSession } from '../../../src/smpp/connection.ts';
import type { CloseCode, SmppSession } from '../../../src/smpp/session.ts';
import type { CommandName } from '../../../src/smpp/commands.ts';
import { ESM_CLASS, shortMessageFields, type Pdu } from '../../../src/smpp/pdu.ts';
import {
  ESME_RALYBND,
  ESME_RINVBNDSTS,
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  ESME_RINVMSGLEN,
  ESME_RINVOPTPARSTREAM,
  ESME_RINVPARLEN,
  ESME_ROK,
  commandStatusCode,
} from '../../../src/smpp/command-status.ts';
import { decodeText, parseUdh } from '../../../src/smpp/text/index.ts';
import {
  Cleanups,
  RawPeer,
  bindBytes,
  cstr,
  eventually,
  header,
  id,
  rawPdu,
  shortMessageBody,
  sleep,
  startRawServer,
  tlvBytes,
  wire,
  type RawPdu,
} from '../../support/smpp-raw-peer.ts';

const FRAME_TIMEOUT_MS = 300;
/** Octets of the trickled partial PDU sent before the session closed. */
let trickled = 0;
const MAX_PDU = 4096;

interface Answer {
  readonly command: CommandName;
  readonly status: number;
  readonly sequence: number;
}

interface Row {
  readonly name: string;
  /** Bind the raw peer (sequence 1) before the row's octets. */
  readonly bound: boolean;
  send(peer: RawPeer): Promise<void> | void;
  /** The PDUs answered, in order, and nothing else. */
  readonly answers: readonly Answer[];
  /** Closed by the server with this close code, or undefined when the link keeps working. */
  readonly closes?: CloseCode;
  /** How long the row may take to be answered or closed. */
  readonly withinMs?: number;
  /** What else must hold once the row is answered or closed. */
  readonly after?: () => void;
  /** Commands the handler receives because of the row's own octets (the follow-up is counted apart). */
  readonly handlerSees?: readonly string[];
}

const nack = (status: number, sequence: number): Answer => ({ command: 'generic_nack', status, sequence });
const submitResp = (status: number, sequence: number): Answer => ({ command: 'submit_sm_resp', status, sequence });

/** A valid submit_sm body with something appended: for TLV rows. */
const submitWith = (sequence: number, tail: Buffer): Buffer => rawPdu(id('submit_sm'), sequence, Buffer.concat([shortMessageBody(), tail]));

const commandById = (commandId: number): string => {
  const names: Record<number, string> = {};
  for (const name of ['generic_nack', 'bind_transceiver_resp', 'submit_sm_resp', 'enquire_link_resp', 'unbind_resp', 'deliver_sm_resp'] as const) {
    names[id(name)] = name;
  }
  return names[commandId] ?? `0x${commandId.toString(16)}`;
};

const answered = (p: RawPdu | undefined): Answer | undefined =>
  p && { command: commandById(p.commandId) as CommandName, status: p.commandStatus, sequence: p.sequenceNumber };

const SERVER_ROWS: Row[] = [
  // --- command_length: fatal for the stream, answered generic_nack ESME_RINVCMDLEN, then closed.
  ...[0, 4, 8, 12, 15].map(
    (len): Row => ({
      name: `command_length ${len} (whole 16-octet header sent)`,
      bound: true,
      send: (p) => p.send(header(len, id('enquire_link'), 100 + len)),
      answers: [nack(ESME_RINVCMDLEN, 100 + len)],
      closes: 'invalid_length',
    }),
  ),
  {
    name: 'command_length 8 with only those 4 octets sent (no sequence to echo: 0)',
    bound: true,
    send: (p) => p.send(Buffer.from([0, 0, 0, 8])),
    answers: [nack(ESME_RINVCMDLEN, 0)],
    closes: 'invalid_length',
  },
  {
    name: 'command_length 0 before any bind',
    bound: false,
    send: (p) => p.send(header(0, id('bind_transceiver'), 5)),
    answers: [nack(ESME_RINVCMDLEN, 5)],
    closes: 'invalid_length',
  },
  {
    name: `command_length one over maxPduLength (${MAX_PDU + 1})`,
    bound: true,
    send: (p) => p.send(header(MAX_PDU + 1, id('submit_sm'), 120)),
    answers: [nack(ESME_RINVCMDLEN, 120)],
    closes: 'invalid_length',
  },
  {
    name: 'command_length 0xFFFFFFFF',
    bound: true,
    send: (p) => p.send(header(0xffffffff, id('submit_sm'), 121)),
    answers: [nack(ESME_RINVCMDLEN, 121)],
    closes: 'invalid_length',
  },
  {
    name: 'a valid enquire_link then a bad command_length in the same write: the first is answered',
    bound: true,
    send: (p) => p.send(Buffer.concat([rawPdu(id('enquire_link'), 130), header(3, id('enquire_link'), 131)])),
    answers: [{ command: 'enquire_link_resp', status: ESME_ROK, sequence: 130 }, nack(ESME_RINVCMDLEN, 131)],
    closes: 'invalid_length',
  },
  {
    name: `command_length exactly maxPduLength (${MAX_PDU}) is accepted (a submit_sm padded with a TLV)`,
    bound: true,
    send: (p) => {
      const body = shortMessageBody();
      const pad = MAX_PDU - 16 - body.length - 4;
      p.send(submitWith(140, tlvBytes(0x1400, Buffer.alloc(pad, 0x61))));
    },
    answers: [submitResp(ESME_ROK, 140)],
    handlerSees: ['submit_sm'],
  },
  // --- a PDU that never arrives whole: nothing dispatched, nothing answered.
  {
    name: 'truncated body, then the peer closes',
    bound: true,
    send: (p) => {
      p.send(header(60, id('submit_sm'), 150), Buffer.alloc(10, 0x41));
      p.socket.end();
    },
    answers: [],
    closes: 'peer_closed',
  },
  {
    name: 'truncated body, then silence: closed by the frame timer',
    bound: true,
    send: (p) => p.send(header(60, id('submit_sm'), 160), Buffer.alloc(10, 0x41)),
    answers: [],
    closes: 'frame_timeout',
    withinMs: FRAME_TIMEOUT_MS + 300,
  },
  {
    name: 'only 2 octets of a header, then silence: closed by the frame timer',
    bound: true,
    send: (p) => p.send(Buffer.from([0, 0])),
    answers: [],
    closes: 'frame_timeout',
    withinMs: FRAME_TIMEOUT_MS + 300,
  },
  {
    name: 'a partial PDU trickled one octet every 50 ms: still closed by the frame timer',
    bound: true,
    send: async (p) => {
      const pdu = Buffer.concat([header(200, id('submit_sm'), 170), Buffer.alloc(184, 0x41)]);
      // At most 60 octets (3 s): the frame timer must end it long before.
      for (trickled = 0; trickled < 60 && !p.isClosed; trickled++) {
        p.send(pdu.subarray(trickled, trickled + 1));
        await sleep(50);
      }
    },
    // A timer restarted by each octet (every 50 ms < 300 ms) would let all 60 through.
    after: () => expect(trickled).toBeLessThan(60),
    answers: [],
    closes: 'frame_timeout',
  },
  // --- unknown commands: nacked, the stream goes on.
  {
    name: 'unknown command_id 0x00000999',
    bound: true,
    send: (p) => p.send(rawPdu(0x00000999, 200, Buffer.from('junk'))),
    answers: [nack(ESME_RINVCMDID, 200)],
  },
  {
    name: 'unknown response command_id 0x80000999',
    bound: true,
    send: (p) => p.send(rawPdu(0x80000999, 201)),
    answers: [nack(ESME_RINVCMDID, 201)],
  },
  {
    name: 'deliver_sm sent to the SMSC side (valid PDU, wrong direction)',
    bound: true,
    send: (p) => p.send(rawPdu(id('deliver_sm'), 202, shortMessageBody())),
    answers: [nack(ESME_RINVCMDID, 202)],
  },
  {
    name: 'outbind sent to the SMSC side',
    bound: false,
    send: (p) => p.send(rawPdu(id('outbind'), 203, Buffer.concat([cstr('x'), cstr('y')]))),
    answers: [nack(ESME_RINVCMDID, 203)],
  },
  // --- malformed bodies: the request's own response with the decoder's status, stream goes on.
  {
    name: 'submit_sm with a bare header (no body at all)',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 300)),
    answers: [submitResp(ESME_RINVCMDLEN, 300)],
  },
  {
    name: 'C-string without NUL running to the end of the PDU (service_type "abc")',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 301, Buffer.from('abc'))),
    answers: [submitResp(ESME_RINVCMDLEN, 301)],
  },
  {
    name: 'C-string longer than its maximum (source_addr of 30 digits, no NUL within 21)',
    bound: true,
    send: (p) =>
      p.send(rawPdu(id('submit_sm'), 302, Buffer.concat([cstr(''), Buffer.from([0, 0]), Buffer.from('1'.repeat(30)), Buffer.alloc(40, 0)]))),
    answers: [submitResp(commandStatusCode('ESME_RINVSRCADR'), 302)],
  },
  {
    name: 'sm_length 50 past the end of a 2-octet short_message',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 303, shortMessageBody({ shortMessage: Buffer.from('hi'), smLength: 50 }))),
    answers: [submitResp(ESME_RINVMSGLEN, 303)],
  },
  {
    name: 'body ends right before sm_length',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 304, shortMessageBody().subarray(0, -3))),
    answers: [submitResp(ESME_RINVCMDLEN, 304)],
  },
  {
    name: 'TLV length past the end (message_payload says 100, 5 octets follow)',
    bound: true,
    send: (p) => p.send(submitWith(305, tlvBytes(0x0424, Buffer.from('hello'), 100))),
    answers: [submitResp(ESME_RINVOPTPARSTREAM, 305)],
  },
  {
    name: '2 stray octets where a TLV header should be',
    bound: true,
    send: (p) => p.send(submitWith(306, Buffer.from([0x04, 0x24]))),
    answers: [submitResp(ESME_RINVOPTPARSTREAM, 306)],
  },
  {
    name: 'known TLV with the wrong length (sar_msg_ref_num, 1 octet instead of 2)',
    bound: true,
    send: (p) => p.send(submitWith(307, tlvBytes(0x020c, Buffer.from([7])))),
    answers: [submitResp(ESME_RINVPARLEN, 307)],
  },
  {
    name: 'unknown TLV is kept, not refused',
    bound: true,
    send: (p) => p.send(submitWith(308, tlvBytes(0x7777, Buffer.from('vendor')))),
    answers: [submitResp(ESME_ROK, 308)],
    handlerSees: ['submit_sm'],
  },
  {
    name: 'alert_notification (a request with no response PDU) with a truncated body',
    bound: true,
    send: (p) => p.send(rawPdu(id('alert_notification'), 309)),
    answers: [nack(ESME_RINVCMDLEN, 309)],
  },
  {
    name: 'bind with a 20-character system_id',
    bound: false,
    send: (p) =>
      p.send(rawPdu(id('bind_transceiver'), 310, Buffer.concat([Buffer.from('s'.repeat(20)), Buffer.from([0]), cstr('pw'), cstr(''), Buffer.from([0x34, 0, 0]), cstr('')]))),
    answers: [{ command: 'bind_transceiver_resp', status: commandStatusCode('ESME_RINVSYSID'), sequence: 310 }],
  },
  // --- valid PDUs in the wrong state.
  {
    name: 'submit_sm before bind',
    bound: false,
    send: (p) => p.send(rawPdu(id('submit_sm'), 400, shortMessageBody())),
    answers: [submitResp(ESME_RINVBNDSTS, 400)],
  },
  {
    name: 'unbind before bind',
    bound: false,
    send: (p) => p.send(rawPdu(id('unbind'), 401)),
    answers: [{ command: 'unbind_resp', status: ESME_RINVBNDSTS, sequence: 401 }],
  },
  {
    name: 'a second bind on a bound link',
    bound: true,
    send: (p) => p.send(bindBytes(402)),
    answers: [{ command: 'bind_transceiver_resp', status: ESME_RALYBND, sequence: 402 }],
  },
  {
    name: 'unbind: answered, then the link ends',
    bound: true,
    send: (p) => p.send(rawPdu(id('unbind'), 403)),
    answers: [{ command: 'unbind_resp', status: ESME_ROK, sequence: 403 }],
    closes: 'peer_closed',
  },
  {
    // After answering unbind this side has sent its FIN: the submit_sm cannot be answered, and
    // must not make the session fail with 'write after end' (a socket_error) either.
    name: 'a submit_sm after the peer\'s own unbind, in the same write',
    bound: true,
    send: (p) => p.send(Buffer.concat([rawPdu(id('unbind'), 404), rawPdu(id('submit_sm'), 405, shortMessageBody())])),
    answers: [{ command: 'unbind_resp', status: ESME_ROK, sequence: 404 }],
    closes: 'peer_closed',
  },
  // --- responses to nothing: ignored, not answered.
  {
    name: 'submit_sm_resp to no request',
    bound: true,
    send: (p) => p.send(wire('submit_sm_resp', { message_id: 'stray', sequence_number: 500 })),
    answers: [],
  },
  {
    name: 'generic_nack to no request',
    bound: true,
    send: (p) => p.send(rawPdu(id('generic_nack'), 501, Buffer.alloc(0), ESME_RINVCMDID)),
    answers: [],
  },
  {
    name: 'malformed submit_sm_resp (bad TLV stream) to no request',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm_resp'), 502, Buffer.concat([cstr('id'), Buffer.from([1])]))),
    answers: [],
  },
  {
    name: 'bare-header enquire_link_resp to no request',
    bound: false,
    send: (p) => p.send(rawPdu(id('enquire_link_resp'), 503)),
    answers: [],
  },
  // --- framing that is unusual but valid.
  {
    name: 'a valid submit_sm sent one octet per write',
    bound: true,
    send: (p) => p.sendInPieces(rawPdu(id('submit_sm'), 600, shortMessageBody()), 1),
    answers: [submitResp(ESME_ROK, 600)],
    handlerSees: ['submit_sm'],
  },
  {
    // The session answers enquire_link and malformed PDUs at once; a request the handler decides
    // is answered when the handler settles, so its answer comes last (SMPP allows any order).
    name: 'three PDUs in one write (valid submit, enquire_link, malformed submit)',
    bound: true,
    send: (p) =>
      p.send(Buffer.concat([rawPdu(id('submit_sm'), 601, shortMessageBody()), rawPdu(id('enquire_link'), 602), rawPdu(id('submit_sm'), 603, Buffer.from('x'))])),
    answers: [{ command: 'enquire_link_resp', status: ESME_ROK, sequence: 602 }, submitResp(ESME_RINVCMDLEN, 603), submitResp(ESME_ROK, 601)],
    handlerSees: ['submit_sm'],
  },
  // --- syntactically valid at the wire level: accepted and handed over; the text layer flags them.
  {
    name: 'submit_sm with UDHI set and UDHL past the data',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 700, shortMessageBody({ esmClass: ESM_CLASS.UDHI, shortMessage: Buffer.from([0x05, 0x00, 0x03]) }))),
    answers: [submitResp(ESME_ROK, 700)],
    handlerSees: ['submit_sm'],
  },
  {
    name: 'submit_sm with odd-length UCS-2',
    bound: true,
    send: (p) => p.send(rawPdu(id('submit_sm'), 701, shortMessageBody({ dataCoding: 0x08, shortMessage: Buffer.from([0x00, 0x48, 0x00]) }))),
    answers: [submitResp(ESME_ROK, 701)],
    handlerSees: ['submit_sm'],
  },
];

// ---------------------------------------------------------------------------- server mode

describe('malformed input to Parley SmppServer, while another client keeps being served', () => {
  const cleanups = new Cleanups();
  let server: SmppServer;
  let port: number;
  /** What the handlers received, by the peer's port. */
  const received = new Map<number, { command: string; sequence: number; pdu: unknown }[]>();
  const closeCodes = new Map<number, CloseCode>();
  const handlerErrors: unknown[] = [];
  let good: SmppSession;
  let goodOk = 0;
  const goodErrors: unknown[] = [];
  let stopPump = false;
  let pump: Promise<void> | undefined;

  const portOf = (s: SmppSession): number => Number(s.remoteAddress.split(':').pop());
  const record = (s: SmppSession, command: string, sequence: number, pdu: unknown): void => {
    const list = received.get(portOf(s)) ?? [];
    list.push({ command, sequence, pdu });
    received.set(portOf(s), list);
  };

  beforeAll(async () => {
    server = new SmppServer({
      session: {
        timers: { frameTimeoutMs: FRAME_TIMEOUT_MS, bindTimeoutMs: 10_000, maxPduLength: MAX_PDU },
        handlers: {
          onBind: (pdu, s) => {
            record(s, pdu.command, pdu.sequence_number, pdu);
            return { command_status: ESME_ROK, system_id: 'sim' };
          },
          onRequest: (pdu, s) => {
            try {
              record(s, pdu.command, pdu.sequence_number, pdu);
            } catch (err) {
              handlerErrors.push(err);
            }
            return { message_id: `m${pdu.sequence_number}` };
          },
          onClose: (reason, s) => closeCodes.set(portOf(s), reason.code),
        },
      },
    });
    ({ port } = await server.listen(0));
    good = await connectSession({ host: '127.0.0.1', port }, {});
    await good.bind('transceiver', { system_id: 'good', password: 'secret' });
    pump = (async () => {
      // Bounded: stops when told, or after 120 s whatever happens.
      const until = Date.now() + 120_000;
      let i = 0;
      while (!stopPump && Date.now() < until) {
        try {
          const r = await good.request('submit_sm', shortMessageFields({ destination_addr: '4479000001', short_message: Buffer.from(`good ${i++}`) }));
          if (r.command === 'submit_sm_resp' && r.command_status === ESME_ROK) goodOk++;
          else goodErrors.push(r);
        } catch (err) {
          goodErrors.push(err);
          break;
        }
        await sleep(2);
      }
    })();
  });

  afterEach(() => cleanups.run());

  afterAll(async () => {
    stopPump = true;
    await pump;
    await good?.unbind();
    await server?.close(200);
  });

  it.each(SERVER_ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const goodBefore = goodOk;
    const peer = await RawPeer.connect(port);
    cleanups.add(() => peer.destroy());
    const peerPort = peer.localPort;
    if (row.bound) {
      peer.send(bindBytes(1));
      expect(answered(await peer.next())).toEqual({ command: 'bind_transceiver_resp', status: ESME_ROK, sequence: 1 });
    }
    const seenBefore = received.get(peerPort)?.length ?? 0;

    const startedAt = Date.now();
    await row.send(peer);
    const got: (Answer | undefined)[] = [];
    for (let i = 0; i < row.answers.length; i++) got.push(answered(await peer.next(row.withinMs ?? 2000)));
    expect(got).toEqual(row.answers);

    if (row.closes !== undefined) {
      expect(await peer.waitClosed(row.withinMs ?? 2000)).toBe(true);
      expect(peer.unread).toEqual([]);
      expect(await eventually(() => closeCodes.has(peerPort))).toBe(true);
      expect(closeCodes.get(peerPort)).toBe(row.closes);
      if (row.closes === 'frame_timeout') {
        // From the first octet of the partial PDU, not the latest.
        expect(peer.closedAt! - startedAt).toBeGreaterThanOrEqual(FRAME_TIMEOUT_MS - 5);
      }
      row.after?.();
      // The session is gone from the server, not a zombie.
      expect(await eventually(() => ![...server.sessions].some((s) => portOf(s) === peerPort))).toBe(true);
    } else {
      // The link keeps working: the next thing answered is our enquire_link (nothing else came in
      // between), and when bound, a valid submit_sm is answered and handed to the handler.
      peer.send(rawPdu(id('enquire_link'), 0x4242));
      expect(answered(await peer.next())).toEqual({ command: 'enquire_link_resp', status: ESME_ROK, sequence: 0x4242 });
      if (row.bound) {
        peer.send(rawPdu(id('submit_sm'), 0x4343, shortMessageBody()));
        expect(answered(await peer.next())).toEqual(submitResp(ESME_ROK, 0x4343));
      }
      expect(peer.isClosed).toBe(false);
      expect(closeCodes.has(peerPort)).toBe(false);
    }

    const seen = (received.get(peerPort) ?? []).slice(seenBefore);
    const followUp = row.closes === undefined && row.bound;
    expect(seen.map((r) => r.command)).toEqual([...(row.handlerSees ?? []), ...(followUp ? ['submit_sm'] : [])]);
    if (followUp) expect(seen.at(-1)?.sequence).toBe(0x4343);

    // The well-behaved client was served while this row ran.
    expect(await eventually(() => goodOk > goodBefore, 2000)).toBe(true);
    expect(goodErrors).toEqual([]);
    expect(good.state).toBe('bound_trx');
    expect(handlerErrors).toEqual([]);
  });

  it('the text layer flags what the wire accepted: UDHL past the data, odd-length UCS-2', () => {
    const all = [...received.values()].flat().map((r) => r.pdu as Pdu);
    const udh = all.find((p) => p.command === 'submit_sm' && p.sequence_number === 700);
    const ucs2 = all.find((p) => p.command === 'submit_sm' && p.sequence_number === 701);
    expect(udh?.command).toBe('submit_sm');
    expect(ucs2?.command).toBe('submit_sm');
    if (udh?.command !== 'submit_sm' || ucs2?.command !== 'submit_sm') return;
    expect(udh.esm_class & ESM_CLASS.UDHI).toBe(ESM_CLASS.UDHI);
    expect(parseUdh(udh.short_message)).toMatchObject({ ok: false, code: 'udhl_past_end' });
    expect(decodeText(ucs2.short_message, ucs2.data_coding, 'gsm7')).toMatchObject({ ok: false, code: 'odd_length_ucs2', text: 'H' });
  });

  it('after the whole table: only the good client is left on the server, and it is still served', async () => {
    expect(await eventually(() => server.sessions.size === 1, 3000)).toBe(true);
    expect([...server.sessions][0]).toBeDefined();
    const r = await good.request('submit_sm', shortMessageFields({ destination_addr: '1', short_message: Buffer.from('last') }));
    expect(r).toMatchObject({ command: 'submit_sm_resp', command_status: ESME_ROK });
    expect(goodOk).toBeGreaterThan(SERVER_ROWS.length);
    expect(goodErrors).toEqual([]);
  });
});

// ---------------------------------------------------------------------------- client mode

describe('malformed input from an SMSC to a bound Parley client', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.run());

  async function boundClient(): Promise<{ client: SmppSession; smsc: RawPeer; delivered: Pdu[] }> {
    const delivered: Pdu[] = [];
    let smsc: RawPeer | undefined;
    const raw = await startRawServer((peer) => {
      smsc = peer;
      peer.onPdu = (pdu) => {
        if (pdu.commandId === id('bind_transceiver')) {
          peer.send(wire('bind_transceiver_resp', { system_id: 'rawsmsc', sequence_number: pdu.sequenceNumber }));
        }
      };
    });
    cleanups.add(() => raw.close());
    const client = await connectSession(
      { host: '127.0.0.1', port: raw.port },
      {
        timers: { frameTimeoutMs: FRAME_TIMEOUT_MS },
        handlers: {
          onRequest: (pdu) => {
            delivered.push(pdu);
            return {};
          },
        },
      },
    );
    cleanups.add(() => client.close());
    await client.bind('transceiver', { system_id: 'parley', password: 'secret' });
    expect(smsc).toBeDefined();
    await smsc!.next(); // the bind
    return { client, smsc: smsc!, delivered };
  }

  const deliverResp = (status: number, sequence: number): Answer => ({ command: 'deliver_sm_resp', status, sequence });

  it.each<[string, Buffer, Answer[], number]>([
    [
      'deliver_sm with UDHI and UDHL past the data: accepted, handed over',
      rawPdu(id('deliver_sm'), 10, shortMessageBody({ esmClass: ESM_CLASS.UDHI, shortMessage: Buffer.from([0x0b, 0x00, 0x03, 0x01]) })),
      [deliverResp(ESME_ROK, 10)],
      1,
    ],
    [
      'deliver_sm with odd-length UCS-2: accepted, handed over',
      rawPdu(id('deliver_sm'), 11, shortMessageBody({ dataCoding: 0x08, shortMessage: Buffer.from([0x04, 0x1f, 0x04]) })),
      [deliverResp(ESME_ROK, 11)],
      1,
    ],
    ['deliver_sm with sm_length past the end', rawPdu(id('deliver_sm'), 12, shortMessageBody({ smLength: 200 })), [deliverResp(ESME_RINVMSGLEN, 12)], 0],
    ['deliver_sm with a TLV past the end', rawPdu(id('deliver_sm'), 13, Buffer.concat([shortMessageBody(), tlvBytes(0x001e, cstr('abc'), 40)])), [deliverResp(ESME_RINVOPTPARSTREAM, 13)], 0],
    ['submit_sm sent to the ESME side', rawPdu(id('submit_sm'), 14, shortMessageBody()), [nack(ESME_RINVCMDID, 14)], 0],
    ['bind sent to the ESME side', bindBytes(15), [nack(ESME_RINVCMDID, 15)], 0],
    ['unknown command_id', rawPdu(0x00001234, 16), [nack(ESME_RINVCMDID, 16)], 0],
  ])('%s', async (_name, bytes, answers, handed) => {
    const { client, smsc, delivered } = await boundClient();
    smsc.send(bytes);
    const got: (Answer | undefined)[] = [];
    for (let i = 0; i < answers.length; i++) got.push(answered(await smsc.next()));
    expect(got).toEqual(answers);
    expect(delivered).toHaveLength(handed);
    // Still working: the client's own enquire_link is answered.
    const el = client.request('enquire_link', {});
    const onWire = await smsc.next();
    expect(onWire?.commandId).toBe(id('enquire_link'));
    smsc.send(rawPdu(id('enquire_link_resp'), onWire!.sequenceNumber));
    expect((await el).command).toBe('enquire_link_resp');
    expect(client.state).toBe('bound_trx');

    const pdu = delivered[0];
    if (pdu?.command === 'deliver_sm' && pdu.esm_class & ESM_CLASS.UDHI) {
      expect(parseUdh(pdu.short_message)).toMatchObject({ ok: false, code: 'udhl_past_end' });
    } else if (pdu?.command === 'deliver_sm') {
      expect(decodeText(pdu.short_message, pdu.data_coding, 'gsm7')).toMatchObject({ ok: false, code: 'odd_length_ucs2', text: '\u041f' });
    }
  });

  it('command_length 0 from the SMSC: generic_nack ESME_RINVCMDLEN, then closed as invalid_length', async () => {
    const { client, smsc, delivered } = await boundClient();
    const pending = client.request('submit_sm', shortMessageFields({ destination_addr: '1', short_message: Buffer.from('x') })).then(
      () => undefined,
      (err: unknown) => err,
    );
    await smsc.next(); // the submit_sm, left unanswered
    smsc.send(header(0, id('deliver_sm'), 77));
    expect(answered(await smsc.next())).toEqual(nack(ESME_RINVCMDLEN, 77));
    expect(await pending).toMatchObject({ code: 'connection_closed' });
    expect((await client.closed).code).toBe('invalid_length');
    expect(await smsc.waitClosed()).toBe(true);
    expect(delivered).toEqual([]);
  });
});
