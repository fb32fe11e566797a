/**
 * The octets a session answers a request with, for every shape of reply a handler may return:
 * the common ones (nothing, a message_id, a command_status) take a direct path in `answer`, the
 * others build the response PDU; both must give exactly these bytes. A raw client on loopback
 * reads the answers off the wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SmppServer } from '../../../src/smpp/connection.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import type { Reply } from '../../../src/smpp/session.ts';
import { makeTlv } from '../../../src/smpp/tlv.ts';
import { Cleanups, RawPeer, bindBytes, id, rawPdu, wire } from '../../support/smpp-raw-peer.ts';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

class ReplyObject {
  constructor(readonly message_id: string) {}
}

/** Reply to return for the submit_sm whose destination_addr is the key. */
const REPLIES: Record<string, () => Reply | void | Promise<Reply | void>> = {
  nothing: () => undefined,
  empty: () => ({}),
  id: () => ({ message_id: 'abc' }),
  idStatus: () => ({ message_id: 'abc', command_status: 0x58 }),
  statusOnly: () => ({ command_status: 0x14 }),
  idUndefined: () => ({ message_id: undefined }),
  idTlvs: () => ({ message_id: 'id', tlvs: [makeTlv('message_state', 2)] }),
  emptyTlvs: () => ({ message_id: 'id', tlvs: [] }),
  extraKey: () => ({ message_id: 'id', extra: 1 }) as Reply,
  tooLong: () => ({ message_id: 'f'.repeat(65) }),
  wide: () => ({ message_id: 'a€' }),
  latin1: () => ({ message_id: 'é' }),
  instance: () => new ReplyObject('cls'),
  inherited: () => Object.create({ message_id: 'inherited' }) as Reply,
  nullProto: () => Object.assign(Object.create(null) as Reply, { message_id: 'np' }),
  numberId: () => ({ message_id: 42 }) as unknown as Reply,
  throws: () => {
    throw new Error('handler failed');
  },
  rejects: () => Promise.reject(new Error('handler failed')),
  async: () => Promise.resolve({ message_id: 'later' }),
  thenable: () => ({ then: (resolve: (r: Reply) => void) => resolve({ message_id: 'th' }) }) as unknown as Promise<Reply>,
  throwingThen: () =>
    Object.defineProperty({}, 'then', {
      get() {
        throw new Error('then getter');
      },
    }) as Reply,
};

/** Expected submit_sm_resp: command_status and body (hex). */
const EXPECTED: Record<string, [number, string]> = {
  nothing: [0, '00'],
  empty: [0, '00'],
  id: [0, '61626300'],
  idStatus: [0x58, '61626300'],
  statusOnly: [0x14, '00'],
  idUndefined: [0, '00'],
  idTlvs: [0, '696400' + '0427000102'],
  emptyTlvs: [0, '696400'],
  extraKey: [0, '696400'],
  tooLong: [0x64, '00'],
  wide: [0x64, '00'],
  latin1: [0, 'e900'],
  instance: [0, '636c7300'],
  inherited: [0, '00'],
  nullProto: [0, '6e7000'],
  numberId: [0, '343200'],
  throws: [0x64, '00'],
  rejects: [0x64, '00'],
  async: [0, '6c6174657200'],
  thenable: [0, '746800'],
  throwingThen: [0x64, '00'],
};

async function boundRawClient(): Promise<RawPeer> {
  const server = new SmppServer({
    session: {
      handlers: {
        onRequest: (pdu) => {
          if (pdu.command !== 'submit_sm') return undefined;
          const make = REPLIES[pdu.destination_addr];
          if (!make) throw new Error(`no reply for ${pdu.destination_addr}`);
          return make();
        },
      },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.add(() => server.close(100));
  const peer = await RawPeer.connect(port);
  cleanups.add(() => peer.destroy());
  peer.send(bindBytes(1));
  const bindResp = await peer.waitFor(id('bind_transceiver_resp'));
  expect(bindResp?.commandStatus).toBe(0);
  return peer;
}

describe('session answers: the octets of each kind of reply', () => {
  it('every reply shape is answered with these octets', async () => {
    const peer = await boundRawClient();
    const names = Object.keys(REPLIES);
    // All in one write, so the session handles them in one read, as under load.
    peer.send(
      Buffer.concat(
        names.map((name, i) =>
          wire('submit_sm', { ...shortMessageFields({ destination_addr: name, short_message: Buffer.from('x') }), sequence_number: 100 + i }),
        ),
      ),
    );
    const seen = new Map<number, [number, string]>();
    for (let i = 0; i < names.length; i++) {
      const resp = await peer.waitFor(id('submit_sm_resp'));
      if (!resp) throw new Error(`only ${i} answers arrived`);
      seen.set(resp.sequenceNumber, [resp.commandStatus, resp.body.toString('hex')]);
    }
    for (const [i, name] of names.entries()) expect(seen.get(100 + i), name).toEqual(EXPECTED[name]);
  });

  it('enquire_link and unbind are answered with bare headers carrying their sequence numbers', async () => {
    const peer = await boundRawClient();
    peer.send(rawPdu(id('enquire_link'), 0x7fffffff));
    const el = await peer.waitFor(id('enquire_link_resp'));
    expect(el).toMatchObject({ commandLength: 16, commandStatus: 0, sequenceNumber: 0x7fffffff });
    peer.send(rawPdu(id('unbind'), 77));
    const ub = await peer.waitFor(id('unbind_resp'));
    expect(ub).toMatchObject({ commandLength: 16, commandStatus: 0, sequenceNumber: 77 });
  });
});
