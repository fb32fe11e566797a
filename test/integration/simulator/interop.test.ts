/**
 * The simulator against an independent SMPP implementation (the `smpp` npm package), so that it is
 * not only Parley's own session that finds its PDUs well-formed.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../../src/simulator/index.ts';
import { runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

interface NodeSmppPdu {
  command: string;
  command_status: number;
  esm_class: number;
  message_id?: string;
  receipted_message_id?: string;
  message_state?: number;
  short_message?: { message?: string | Buffer; udh?: Buffer[] };
  response(fields?: object): NodeSmppPdu;
}
interface NodeSmppSession {
  on(event: string, listener: (arg: NodeSmppPdu) => void): void;
  bind_transceiver(fields: object, cb: (pdu: NodeSmppPdu) => void): void;
  submit_sm(fields: object, cb: (pdu: NodeSmppPdu) => void): void;
  send(pdu: NodeSmppPdu): void;
  close(): void;
}
const smpp = createRequire(import.meta.url)('smpp') as { connect(options: { url: string; auto_enquire_link_period?: number }): NodeSmppSession };

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

describe('simulator with the smpp npm package as the ESME', () => {
  it('binds, answers submit_sm, and sends receipts and concatenated replies it can read', async () => {
    const sim = await startSimulator({ controlPort: false, credentials: [{ systemId: 'interop', password: 'pw' }], receiptDelayMs: 10 });
    cleanups.push(() => sim.stop());
    const session = smpp.connect({ url: `smpp://127.0.0.1:${sim.port}` });
    cleanups.push(() => session.close());
    session.on('error', () => {});
    const delivered: NodeSmppPdu[] = [];
    session.on('deliver_sm', (pdu) => {
      delivered.push(pdu);
      session.send(pdu.response());
    });
    await new Promise<void>((resolve) => session.on('connect', () => resolve()));
    const bound = await new Promise<NodeSmppPdu>((resolve) => session.bind_transceiver({ system_id: 'interop', password: 'pw' }, resolve));
    expect(bound.command_status).toBe(0);

    const resp = await new Promise<NodeSmppPdu>((resolve) =>
      session.submit_sm({ source_addr: '12345', destination_addr: '447700900001', registered_delivery: 1, short_message: 'Hello from node-smpp' }, resolve),
    );
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toMatch(/^[0-9a-f]{10}$/);
    const receipt = await waitFor(() => delivered.find((d) => d.esm_class === 0x04), 2000, 'receipt');
    expect(receipt.receipted_message_id).toBe(resp.message_id);
    expect(receipt.message_state).toBe(2);
    expect(String(receipt.short_message?.message)).toMatch(new RegExp(`^id:${resp.message_id} sub:001 dlvrd:001 .* stat:DELIVRD err:000 text:Hello from node-smpp$`));

    const text = 'A long customer reply that needs more than one short message to carry it. '.repeat(3).trim();
    const injected = sim.injectReply({ from: '447700900001', to: '12345', text, concatenation: 'udh8' });
    expect(await injected.acked).toBe(true);
    const parts = delivered.filter((d) => d.esm_class === 0x40);
    expect(parts).toHaveLength(injected.parts);
    expect(parts.map((p) => String(p.short_message?.message)).join('')).toBe(text);
    expect(parts.every((p) => p.short_message?.udh?.length === 1)).toBe(true);
    expect(sim.stats.receipts.acked).toBe(1);
  });
});
