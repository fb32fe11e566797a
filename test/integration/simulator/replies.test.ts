import { afterEach, describe, expect, it } from 'vitest';
import { ESME_ROK, ESME_RX_T_APPN } from '../../../src/smpp/command-status.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, readReplyPart, reassemble, runCleanups, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, receiptRetryMs: 50, ...options });
  cleanups.push(() => s.stop());
  return s;
}

const LONG_GSM = 'Yes please, I would like to book the table for four people at eight tonight. '.repeat(5).trim();
const LONG_UCS2 = 'Да, пожалуйста — столик на четверых в восемь 🙂. '.repeat(5).trim();

describe('simulator customer replies (MO)', () => {
  it('sends a short reply as one deliver_sm from the customer to our number', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    const injected = s.injectReply({ from: '+447700900123', to: '12345', text: 'YES' });
    expect(injected).toMatchObject({ parts: 1, dataCoding: 0 });
    expect(await injected.acked).toBe(true);
    const [mo] = c.delivered;
    expect(mo).toMatchObject({ esm_class: 0, source_addr: '447700900123', source_addr_ton: 1, destination_addr: '12345', data_coding: 0 });
    expect(mo?.short_message.toString('latin1')).toBe('YES');
    expect(s.stats.replies).toMatchObject({ injected: 1, parts: 1, sent: 1, acked: 1, pending: 0 });
  });

  it.each(['udh8', 'udh16', 'sar', 'payload'] as const)('splits and concatenates a long reply with %s', async (concatenation) => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    for (const text of [LONG_GSM, LONG_UCS2]) {
      c.delivered.length = 0;
      const injected = s.injectReply({ from: '447700900123', to: '12345', text, concatenation });
      expect(injected.dataCoding).toBe(text === LONG_GSM ? 0 : 8);
      expect(injected.parts).toBe(concatenation === 'payload' ? 1 : injected.parts);
      expect(await injected.acked).toBe(true);
      expect(c.delivered).toHaveLength(injected.parts);
      if (concatenation !== 'payload') expect(injected.parts).toBeGreaterThan(1);
      const udhi = c.delivered.map((d) => (d.esm_class & 0x40) !== 0);
      expect(udhi.every((u) => u === (concatenation === 'udh8' || concatenation === 'udh16'))).toBe(true);
      expect(reassemble(c.delivered)).toEqual([text]);
    }
  });

  it('shuffles the parts when asked, and they still reassemble', async () => {
    const s = await sim({ seed: 11 });
    const c = await openSimClient({ port: s.port }, cleanups);
    const text = LONG_GSM.repeat(2);
    const injected = s.injectReply({ from: '447700900123', to: '12345', text, concatenation: 'udh16', shuffle: true });
    expect(await injected.acked).toBe(true);
    const seqs = c.delivered.map((d) => readReplyPart(d).seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs).not.toEqual([...seqs].sort((a, b) => a - b));
    expect(reassemble(c.delivered)).toEqual([text]);
  });

  it('uses a fresh concatenation reference for each reply', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    const a = s.injectReply({ from: '447700900123', to: '12345', text: LONG_GSM, concatenation: 'udh8' });
    const b = s.injectReply({ from: '447700900123', to: '12345', text: LONG_GSM.toUpperCase(), concatenation: 'udh8' });
    expect(await Promise.all([a.acked, b.acked])).toEqual([true, true]);
    expect(new Set(c.delivered.map((d) => readReplyPart(d).key)).size).toBe(2);
    expect(reassemble(c.delivered).sort()).toEqual([LONG_GSM, LONG_GSM.toUpperCase()].sort());
  });

  it('honours a forced data_coding', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    await s.injectReply({ from: '447700900123', to: '12345', text: 'plain text', dataCoding: 8 }).acked;
    await s.injectReply({ from: '447700900123', to: '12345', text: 'café', dataCoding: 3 }).acked;
    expect(c.delivered.map((d) => d.data_coding)).toEqual([8, 3]);
    expect(c.delivered[0]?.short_message).toEqual(Buffer.from('plain text', 'utf16le').swap16());
    expect(c.delivered[1]?.short_message).toEqual(Buffer.from('café', 'latin1'));
    expect(() => s.injectReply({ from: '1', to: '2', text: 'Ω', dataCoding: 3 })).toThrow(/does not fit/);
  });

  it('refuses a reply without text, from or to', async () => {
    const s = await sim();
    expect(() => s.injectReply({ from: '1', to: '2', text: '' })).toThrow(/text is required/);
    expect(() => s.injectReply({ from: '', to: '2', text: 'x' })).toThrow(/from is required/);
  });

  it('queues a reply until a receiving bind exists, and targets a system_id when asked', async () => {
    const s = await sim();
    const tx = await openSimClient({ port: s.port, type: 'transmitter', systemId: 'acme' }, cleanups);
    const injected = s.injectReply({ from: '447700900123', to: '12345', text: 'later', systemId: 'acme' });
    const other = await openSimClient({ port: s.port, type: 'receiver', systemId: 'other' }, cleanups);
    // Sentinel instead of a sleep: a reply for another system, injected later, is delivered to
    // that system's receiving bind while ours is still held.
    expect(await s.injectReply({ from: '447700900999', to: '12345', text: 'sentinel', systemId: 'other' }).acked).toBe(true);
    expect(s.stats.replies.pending).toBe(1);
    const rx = await openSimClient({ port: s.port, type: 'receiver', systemId: 'acme' }, cleanups);
    expect(await injected.acked).toBe(true);
    expect(rx.delivered.length).toBeGreaterThanOrEqual(1);
    expect(other.delivered.map((d) => d.short_message.toString())).toEqual(['sentinel']);
    expect(tx.delivered).toHaveLength(0);
  });

  it('retries a reply the ESME refuses, until it is acknowledged', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port, answer: (_p, i) => (i < 2 ? ESME_RX_T_APPN : ESME_ROK) }, cleanups);
    expect(await s.injectReply({ from: '447700900123', to: '12345', text: 'hello' }).acked).toBe(true);
    expect(c.delivered).toHaveLength(3);
  });

  it('resolves acked false for replies dropped by reset()', async () => {
    const s = await sim();
    const injected = s.injectReply({ from: '447700900123', to: '12345', text: 'nobody bound' });
    s.reset();
    expect(await injected.acked).toBe(false);
    expect(s.stats.replies.pending).toBe(0);
  });
});
