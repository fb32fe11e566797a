/**
 * Issue 9: a submit with no usable answer (no submit_sm_resp, or one whose message_id is 100
 * characters, which SMPP cannot carry) was sent again at once, 10 times within a second: the
 * customer may get 10 copies. Now each resend waits THE backoff (capped, jittered), there are at
 * most `uncertain_max_attempts` submits, then the message is `unknown`, and every resend is counted.
 * The SMSC is a real SMPP peer on loopback (a raw socket that binds and then misbehaves on purpose).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../support/daemon.ts';
import { buildDaemon } from '../../../src/main.ts';
import type { Logger } from '../../../src/lib/logger.ts';
import { cstr, id, rawPdu, startRawServer, wire, type RawPdu } from '../../support/smpp-raw-peer.ts';

let h: Harness;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await h.close();
});

type Misbehaviour = 'never_answers' | 'long_message_id' | 'empty_message_id';

/** An SMSC that binds, answers enquire_link, and answers submit_sm badly (or never). */
async function startBadSmsc(mode: Misbehaviour): Promise<{ port: number; submits: RawPdu[] }> {
  const submits: RawPdu[] = [];
  const server = await startRawServer((peer) => {
    peer.onPdu = (pdu, p) => {
      if (pdu.commandId === id('bind_transceiver')) {
        p.send(wire('bind_transceiver_resp', { system_id: 'bad', sequence_number: pdu.sequenceNumber }));
      } else if (pdu.commandId === id('enquire_link')) {
        p.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
      } else if (pdu.commandId === id('unbind')) {
        p.send(rawPdu(id('unbind_resp'), pdu.sequenceNumber));
      } else if (pdu.commandId === id('submit_sm')) {
        submits.push(pdu);
        if (mode === 'long_message_id') p.send(rawPdu(id('submit_sm_resp'), pdu.sequenceNumber, cstr('9'.repeat(100))));
        if (mode === 'empty_message_id') p.send(rawPdu(id('submit_sm_resp'), pdu.sequenceNumber, cstr('')));
      }
    };
  });
  closers.push(() => server.close());
  return { port: server.port, submits };
}

/** destination_addr of a submit_sm body (SMPP 3.4 4.4.1: three C-strings and four octets before it). */
function destinationOf(pdu: RawPdu): string {
  const b = pdu.body;
  let at = b.indexOf(0) + 1; // service_type
  at += 2; // source_addr_ton, source_addr_npi
  at = b.indexOf(0, at) + 1; // source_addr
  at += 2; // dest_addr_ton, dest_addr_npi
  return b.subarray(at, b.indexOf(0, at)).toString('latin1');
}

async function resendsCounted(reason: string): Promise<number> {
  const metrics = h.daemons[0]!.metrics;
  const values = (await metrics.submitResends.get()).values;
  return values.filter((v) => v.labels.reason === reason && v.labels.uncertain === 'true').reduce((n, v) => n + v.value, 0);
}

describe('resends of a submit with no usable answer', () => {
  it.each<[Misbehaviour, string]>([
    ['never_answers', 'response_timeout'],
    ['long_message_id', 'malformed_response'],
  ])('an SMSC that %s: at most uncertain_max_attempts submits, spaced by the backoff, counted, then unknown', async (mode, reason) => {
    const smsc = await startBadSmsc(mode);
    await h.startDaemon(
      h.config({
        smscs: [{ name: 'bad', host: '127.0.0.1', port: smsc.port, system_id: 'parley', response_timeout: '200ms', reconnect_min: '50ms', reconnect_max: '200ms' }],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['bad'], tps: 100, default_from: '12345', uncertain_max_attempts: 3 }],
      }),
    );
    await h.send([{ id: 'once', to: '+14155550001', text: 'one copy, please' }]);
    await h.until(
      'the message given up as unknown',
      async () => (await h.schema.db.selectFrom('messages').select('status').where('id', '=', 'once').executeTakeFirst())?.status === 'unknown',
      20_000,
    );

    expect(smsc.submits).toHaveLength(3);
    // THE backoff: 1 s then 2 s ceilings, jittered down to half at most. Each gap also holds the
    // wait for the answer that never came (never_answers) or none (the bad answer is immediate).
    const gaps = smsc.submits.slice(1).map((s, i) => s.receivedAt - smsc.submits[i]!.receivedAt);
    expect(gaps[0]!).toBeGreaterThanOrEqual(500);
    expect(gaps[1]!).toBeGreaterThanOrEqual(1_000);
    const message = await h.schema.db.selectFrom('messages').selectAll().where('id', '=', 'once').executeTakeFirstOrThrow();
    expect(message).toMatchObject({ status: 'unknown', error_code: reason });
    expect(message.error_reason).toMatch(/\(after 3 attempts\)$/);
    // Two resends (the first submit is not one), each counted as uncertain with its reason.
    expect(await resendsCounted(reason)).toBe(2);
    // And nothing more of it goes out afterwards: a message sent behind it reaches the SMSC alone.
    await h.send([{ id: 'behind', to: '+14155550002', text: 'after the unknown one' }]);
    await h.until('the later message submitted', () => smsc.submits.some((s) => destinationOf(s) === '14155550002'));
    expect(smsc.submits.map(destinationOf)).toEqual(['14155550001', '14155550001', '14155550001', '14155550002']);
  }, 40_000);

  it('an SMSC that accepts with an empty message_id: the submit stands (no resend), each one is counted and warned about, warnings rate-limited', async () => {
    const smsc = await startBadSmsc('empty_message_id');
    const warnings: { obj: Record<string, unknown>; msg: string | undefined }[] = [];
    const noop = (): void => {};
    const log: Logger = { debug: noop, info: noop, error: noop, warn: (obj, msg) => void warnings.push({ obj: obj as Record<string, unknown>, msg }), child: () => log };
    const daemon = buildDaemon(
      h.config({
        smscs: [{ name: 'blank', host: '127.0.0.1', port: smsc.port, system_id: 'parley', reconnect_min: '50ms', reconnect_max: '200ms' }],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['blank'], tps: 1000, burst: 100, default_from: '12345' }],
      }),
      { logger: log, schema: h.schema.schema, http: false },
    );
    h.daemons.push(daemon);
    await daemon.service.start();
    const ids = Array.from({ length: 25 }, (_, i) => `blank-${i}`);
    await h.send(ids.map((id) => ({ id, to: '+14155550002', text: `no id for ${id}` })));
    await h.until('all submitted', async () => (await h.acceptedCount('blank-%')) === 25);

    expect(smsc.submits).toHaveLength(25);
    const segments = await h.schema.db.selectFrom('segments').select(['smsc_message_id', 'status']).execute();
    expect(segments).toHaveLength(25);
    for (const s of segments) expect(s).toMatchObject({ status: 'accepted', smsc_message_id: '' });
    const counted = (await daemon.metrics.emptySmscMessageIds.get()).values.reduce((n, v) => n + v.value, 0);
    expect(counted).toBe(25);
    const warned = warnings.filter((w) => w.msg === 'smsc accepted a submit with an empty message_id; its receipts cannot be matched');
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThanOrEqual(10);
    expect(warned[0]!.obj).toMatchObject({ smsc: 'blank' });
  }, 30_000);
});
