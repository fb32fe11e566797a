/**
 * Issue 9: `parley status` printed raw escape sequences from carrier ids. A carrier id and a
 * customer's text are the carrier's and the customer's to write; what the CLI prints of them must
 * not move the cursor, retitle the terminal or reorder the text. A raw SMSC on loopback answers a
 * submit with a carrier id full of escape sequences and sends a Latin-1 customer message holding a
 * one-byte CSI (0x9B); the status and conversation views print them escaped (test/unit/cli has
 * the escaping itself, JSON included).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../support/daemon.ts';
import { cstr, id, rawPdu, startRawServer, wire, type RawPeer } from '../../support/smpp-raw-peer.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { readMessageTimeline } from '../../../src/store/timeline.ts';
import { readCustomerThread } from '../../../src/store/reports-conversation.ts';
import { formatTimeline } from '../../../src/cli/status.ts';
import { formatConversation } from '../../../src/cli/conversation.ts';

let h: Harness;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await h.close();
});

/** Anything a terminal acts on: C0 but newline, DEL, C1, bidi overrides and isolates. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_ID = '\u001b[2J\u001b]0;owned\u0007X1';

describe('parley status and conversation print carrier and customer data escaped', () => {
  it('a hostile carrier id and a customer text with a one-byte CSI', async () => {
    let smsc: RawPeer | undefined;
    const server = await startRawServer((peer) => {
      smsc = peer;
      peer.onPdu = (pdu, p) => {
        if (pdu.commandId === id('bind_transceiver')) p.send(wire('bind_transceiver_resp', { system_id: 'evil', sequence_number: pdu.sequenceNumber }));
        else if (pdu.commandId === id('enquire_link')) p.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
        else if (pdu.commandId === id('unbind')) p.send(rawPdu(id('unbind_resp'), pdu.sequenceNumber));
        else if (pdu.commandId === id('submit_sm')) p.send(rawPdu(id('submit_sm_resp'), pdu.sequenceNumber, cstr(HOSTILE_ID)));
      };
    });
    closers.push(() => server.close());
    await h.startDaemon(
      h.config({
        smscs: [{ name: 'evil', host: '127.0.0.1', port: server.port, system_id: 'parley', reconnect_min: '50ms', reconnect_max: '200ms' }],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['evil'], tps: 100, default_from: '12345' }],
        numbers: [{ address: '12345', unmatched: 'silent' }],
      }),
    );
    await h.send([{ id: 'hostile', to: '+14155550003', text: 'Your code is 1234', conversation: { ttl: 3600 } }]);
    await h.until('submitted', async () => (await h.acceptedCount('hostile')) === 1);
    // The customer answers in Latin-1 (data_coding 3): 0x9B is a one-byte CSI there.
    smsc!.send(
      wire('deliver_sm', {
        ...shortMessageFields({
          source_addr: '14155550003',
          destination_addr: '12345',
          data_coding: 3,
          short_message: Buffer.from('ok \u009b2J thanks', 'latin1'),
        }),
        sequence_number: 7,
      }),
    );
    await h.until('the customer message handled', async () => (await h.schema.db.selectFrom('replies').select('status').execute()).some((r) => r.status === 'handled'));

    const timeline = (await readMessageTimeline(h.schema.db, 'hostile'))!;
    expect(timeline.segments[0]!.smscMessageId).toBe(HOSTILE_ID); // stored as the carrier wrote it
    const status = formatTimeline(timeline);
    for (const line of status) expect(line).not.toMatch(UNSAFE);
    expect(status.join('\n')).toContain('carrier id \\u001b[2J\\u001b]0;owned\\u0007X1');
    expect(status.join('\n')).toContain('ok \\u009b2J thanks');

    const thread = await readCustomerThread(h.schema.db, '14155550003', 50);
    const conversation = formatConversation(thread);
    for (const line of conversation) expect(line).not.toMatch(UNSAFE);
    expect(conversation.join('\n')).toContain('\\u009b2J');
  }, 30_000);
});
