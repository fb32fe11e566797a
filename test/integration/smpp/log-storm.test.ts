/**
 * Issue 9: a generic_nack storm from the SMSC wrote one warn line per PDU (20,000 lines). Over a
 * real socket, a raw SMSC sends a bound Parley client 2,000 stray generic_nacks and 500 PDUs it
 * cannot read: a handful of lines are written, the rest are counted and the count is logged, and
 * the session keeps answering.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectSession } from '../../../src/smpp/connection.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { Cleanups, eventually, header, id, rawPdu, startRawServer, wire, type RawPeer } from '../../support/smpp-raw-peer.ts';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

interface Line {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

function capture(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

describe('bad-PDU logging is rate-limited', () => {
  it('2,000 stray generic_nacks and 500 unreadable PDUs: at most 10 lines of each, the rest counted, the session still answers', async () => {
    let smsc: RawPeer | undefined;
    const raw = await startRawServer((peer) => {
      smsc = peer;
      peer.onPdu = (pdu) => {
        if (pdu.commandId === id('bind_transceiver')) peer.send(wire('bind_transceiver_resp', { system_id: 'storm', sequence_number: pdu.sequenceNumber }));
        if (pdu.commandId === id('enquire_link')) peer.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
      };
    });
    cleanups.add(() => raw.close());
    const { log, lines } = capture();
    const client = await connectSession({ host: '127.0.0.1', port: raw.port }, { logger: log, handlers: { onRequest: () => ({}) } });
    cleanups.add(() => client.close());
    await client.bind('transceiver', { system_id: 'parley', password: 'secret' });

    const storm: Buffer[] = [];
    for (let i = 0; i < 2_000; i++) storm.push(rawPdu(id('generic_nack'), 100_000 + i, Buffer.alloc(0), 0x08));
    // deliver_sm whose body stops short: unreadable, answered, logged as malformed.
    for (let i = 0; i < 500; i++) storm.push(Buffer.concat([header(17, id('deliver_sm'), 200_000 + i), Buffer.from([0x41])]));
    smsc!.send(Buffer.concat(storm));
    // 500 answers to the unreadable deliver_sm come back; then the link still works.
    expect(await eventually(() => smsc!.pdus.filter((p) => p.commandId === id('deliver_sm_resp')).length === 500, 10_000)).toBe(true);
    const resp = await client.request('enquire_link', {});
    expect(resp.command).toBe('enquire_link_resp');

    const stray = lines.filter((l) => l.msg === 'smpp response matches no request');
    const malformed = lines.filter((l) => l.msg === 'smpp malformed pdu');
    expect(stray.length).toBeGreaterThanOrEqual(1);
    expect(stray.length).toBeLessThanOrEqual(10);
    expect(malformed.length).toBeGreaterThanOrEqual(1);
    expect(malformed.length).toBeLessThanOrEqual(10);

    client.close();
    await client.closed;
    // What was held back is said when the session closes (or in the next line of a later window).
    const said = (msg: string): number =>
      lines.filter((l) => l.msg?.startsWith(msg)).reduce((n, l) => n + (typeof l.obj.suppressed === 'number' ? l.obj.suppressed : 0), 0);
    expect(said('smpp response matches no request') + stray.length).toBe(2_000);
    expect(said('smpp malformed pdu') + malformed.length).toBe(500);
    expect(lines.length).toBeLessThan(50);
  }, 30_000);
});
