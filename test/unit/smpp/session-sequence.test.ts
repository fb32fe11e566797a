/**
 * Sequence numbers: 1..0x7FFFFFFF, wrapping to 1 (never 0, never the high half), skipping any
 * number still awaiting its response. Over a real loopback socket: the session on one end, a raw
 * peer on the other reading the numbers off the wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectSession } from '../../../src/smpp/connection.ts';
import type { SmppSession } from '../../../src/smpp/session.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { Cleanups, id, rawPdu, startRawServer, wire, type RawPeer } from '../../support/smpp-raw-peer.ts';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const MAX_SEQUENCE = 0x7fffffff;

/** A bound client and the raw SMSC end; the SMSC answers enquire_link, and submit_sm unless told to hold. */
async function boundPair(hold: (sequence: number) => boolean = () => false): Promise<{ s: SmppSession; smsc: RawPeer }> {
  let smsc: RawPeer | undefined;
  const raw = await startRawServer((peer) => {
    smsc = peer;
    peer.onPdu = (pdu) => {
      if (pdu.commandId === id('bind_transceiver')) peer.send(wire('bind_transceiver_resp', { system_id: 'smsc', sequence_number: pdu.sequenceNumber }));
      if (pdu.commandId === id('enquire_link')) peer.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
      if (pdu.commandId === id('submit_sm') && !hold(pdu.sequenceNumber)) {
        peer.send(wire('submit_sm_resp', { message_id: `m${pdu.sequenceNumber}`, sequence_number: pdu.sequenceNumber }));
      }
    };
  });
  cleanups.add(() => raw.close());
  const s = await connectSession({ host: '127.0.0.1', port: raw.port }, { timers: { responseTimeoutMs: 5_000 } });
  cleanups.add(() => s.close());
  await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
  expect(smsc).toBeDefined();
  return { s, smsc: smsc! };
}

const submit = shortMessageFields({ destination_addr: '1', short_message: Buffer.from('x') });

describe('sequence numbers', () => {
  it('start at 1: the bind is 1, the next request 2', async () => {
    const { s, smsc } = await boundPair();
    await s.request('enquire_link', {});
    expect(smsc.pdus.map((p) => p.sequenceNumber)).toEqual([1, 2]);
  });

  it('wrap from 0x7FFFFFFF to 1, and each response is matched to its request across the wrap', async () => {
    const { s, smsc } = await boundPair();
    s.setNextSequenceForTest(MAX_SEQUENCE - 1);
    const resps = [];
    for (let i = 0; i < 4; i++) resps.push(await s.request('submit_sm', submit));
    const onWire = smsc.pdus.filter((p) => p.commandId === id('submit_sm')).map((p) => p.sequenceNumber);
    expect(onWire).toEqual([MAX_SEQUENCE - 1, MAX_SEQUENCE, 1, 2]);
    expect(resps.map((r) => (r.command === 'submit_sm_resp' ? r.message_id : r.command))).toEqual([
      `m${MAX_SEQUENCE - 1}`,
      `m${MAX_SEQUENCE}`,
      'm1',
      'm2',
    ]);
    expect(s.inFlight).toBe(0);
  });

  it('wrap the same way when the requests are all in flight at once', async () => {
    const { s, smsc } = await boundPair();
    s.setNextSequenceForTest(MAX_SEQUENCE - 2);
    const resps = await Promise.all(Array.from({ length: 6 }, () => s.request('submit_sm', submit)));
    expect(smsc.pdus.filter((p) => p.commandId === id('submit_sm')).map((p) => p.sequenceNumber)).toEqual([
      MAX_SEQUENCE - 2,
      MAX_SEQUENCE - 1,
      MAX_SEQUENCE,
      1,
      2,
      3,
    ]);
    expect(resps.map((r) => r.sequence_number)).toEqual([MAX_SEQUENCE - 2, MAX_SEQUENCE - 1, MAX_SEQUENCE, 1, 2, 3]);
  });

  it('skip a number still awaiting its response after the wrap', async () => {
    // The SMSC holds submit_sm 2 (sent before the wrap) unanswered.
    const { s, smsc } = await boundPair((seq) => seq === 2);
    const held = s.request('submit_sm', submit).then(
      (r) => r,
      (err: unknown) => err,
    );
    expect(s.inFlight).toBe(1);
    s.setNextSequenceForTest(MAX_SEQUENCE);
    for (let i = 0; i < 3; i++) await s.request('submit_sm', submit);
    expect(smsc.pdus.filter((p) => p.commandId === id('submit_sm')).map((p) => p.sequenceNumber)).toEqual([2, MAX_SEQUENCE, 1, 3]);
    // Answering 2 now settles the held request, and only it.
    smsc.send(wire('submit_sm_resp', { message_id: 'late', sequence_number: 2 }));
    expect(await held).toMatchObject({ command: 'submit_sm_resp', message_id: 'late', sequence_number: 2 });
    expect(s.inFlight).toBe(0);
  });
});
