import { afterEach, describe, expect, it } from 'vitest';
import { ESME_ROK, ESME_RX_T_APPN } from '../../../src/smpp/command-status.ts';
import { startSimulator, type IdFormat, type ReceiptIdFormat, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, readReceipt, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, receiptDelayMs: 20, ...options });
  cleanups.push(() => s.stop());
  return s;
}

const APPENDIX_B =
  /^id:(\S+) sub:001 dlvrd:(00[01]) submit date:(\d{10}) done date:(\d{10}) stat:([A-Z]{7}) err:(\d{3}) text:(.{0,20})$/;

describe('simulator delivery receipts', () => {
  it('sends a receipt as deliver_sm (esm_class 0x04) with the Appendix B text and both TLVs', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    const resp = await c.submit({ text: 'Your code is 123456, valid 10 min', source_addr: 'ACME', destination_addr: '447700900123' });
    const [dlr] = await waitFor(() => c.delivered.length === 1 && c.delivered, 2000, 'one receipt');
    expect(dlr?.esm_class).toBe(0x04);
    expect(dlr?.source_addr).toBe('447700900123');
    expect(dlr?.destination_addr).toBe('ACME');
    const text = dlr?.short_message.toString('latin1') ?? '';
    const m = APPENDIX_B.exec(text);
    expect(m, text).not.toBeNull();
    expect(m?.[1]).toBe(resp.message_id);
    expect(m?.[2]).toBe('001');
    expect(m?.[5]).toBe('DELIVRD');
    expect(m?.[6]).toBe('000');
    expect(m?.[7]).toBe('Your code is 123456,');
    const r = readReceipt(dlr!);
    expect(r.tlvId).toBe(resp.message_id);
    expect(r.state).toBe(2);
    await waitFor(() => s.stats.receipts.acked === 1, 2000, 'ack');
    expect(s.stats.receipts).toMatchObject({ scheduled: 1, sent: 1, acked: 1, pending: 0 });
  });

  it('sends no receipt when registered_delivery does not ask for one', async () => {
    const s = await sim({ receiptDelayMs: 0 });
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submit({ registered_delivery: 0 });
    // Sentinel: the later submit's receipt arrives, so the earlier one's would have come first.
    const asked = await c.submit({ registered_delivery: 1 });
    await waitFor(() => c.delivered.length === 1, 10_000, 'one receipt');
    expect(c.delivered).toHaveLength(1);
    expect(readReceipt(c.delivered[0]!).id).toBe(asked.message_id);
    expect(s.stats.receipts.scheduled).toBe(1);
  });

  it('text-only receipts carry no TLVs; TLV-only receipts carry no text', async () => {
    const s = await sim({ receiptForm: 'text' });
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submit();
    await waitFor(() => c.delivered.length === 1, 2000, 'text receipt');
    expect(c.delivered[0]?.tlvs).toEqual([]);
    expect(c.delivered[0]?.short_message.toString('latin1')).toMatch(APPENDIX_B);
    s.setOptions({ receiptForm: 'tlv' });
    const resp = await c.submit();
    await waitFor(() => c.delivered.length === 2, 2000, 'tlv receipt');
    expect(c.delivered[1]?.short_message.length).toBe(0);
    expect(readReceipt(c.delivered[1]!)).toMatchObject({ tlvId: resp.message_id, state: 2 });
  });

  it.each<[IdFormat, ReceiptIdFormat, (id: string) => string]>([
    ['hex', 'same', (id) => id],
    ['hex', 'decimal', (id) => BigInt(`0x${id}`).toString(10)],
    ['decimal', 'hex', (id) => BigInt(id).toString(16)],
    ['decimal', 'leading_zeros', (id) => id.padStart(20, '0')],
    ['hex', 'leading_zeros', (id) => id.padStart(20, '0')],
    ['alnum', 'leading_zeros', (id) => `0${id}`],
    ['hex', 'uppercase', (id) => id.toUpperCase()],
    ['alnum', 'uppercase', (id) => id.toUpperCase()],
  ])('responses in %s, receipts in %s form', async (idFormat, receiptIdFormat, expected) => {
    const s = await sim({ idFormat, receiptIdFormat });
    const c = await openSimClient({ port: s.port }, cleanups);
    const resps = await Promise.all(Array.from({ length: 20 }, () => c.submit()));
    await waitFor(() => c.delivered.length === 20, 3000, '20 receipts');
    const byId = new Map(c.delivered.map((d) => [readReceipt(d).id, readReceipt(d)]));
    for (const r of resps) {
      const want = expected(r.message_id);
      expect(byId.get(want)?.tlvId, `${r.message_id} -> ${want}`).toBe(want);
    }
    // Ids whose other form is spelled the same (a hex id of digits only, upper-cased) prove nothing.
    const differing = resps.filter((r) => expected(r.message_id) !== r.message_id);
    if (receiptIdFormat !== 'same') expect(differing.some((r) => byId.has(r.message_id))).toBe(false);
  });

  it('draws outcomes from the mix, with message_state matching the stat', async () => {
    const s = await sim({ seed: 7, receiptMix: { DELIVRD: 0.6, UNDELIV: 0.25, EXPIRED: 0.15 } });
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submitMany(400);
    await waitFor(() => c.delivered.length === 400, 5000, '400 receipts');
    const counts: Record<string, number> = {};
    for (const d of c.delivered) {
      const r = readReceipt(d);
      counts[r.stat ?? '?'] = (counts[r.stat ?? '?'] ?? 0) + 1;
      expect(r.state).toBe({ DELIVRD: 2, UNDELIV: 5, EXPIRED: 3 }[r.stat ?? '']);
      expect(r.text).toContain(r.stat === 'DELIVRD' ? 'dlvrd:001' : 'dlvrd:000');
    }
    expect(Object.keys(counts).sort()).toEqual(['DELIVRD', 'EXPIRED', 'UNDELIV']);
    expect(counts.DELIVRD).toBeGreaterThan(200);
    expect(counts.DELIVRD).toBeLessThan(280);
    expect(counts.UNDELIV).toBeGreaterThan(65);
    expect(counts.EXPIRED).toBeGreaterThan(35);
  });

  it('registered_delivery 2 asks for failure receipts only', async () => {
    const s = await sim({ seed: 3, receiptMix: { DELIVRD: 1, UNDELIV: 1 } });
    const c = await openSimClient({ port: s.port }, cleanups);
    await Promise.all(Array.from({ length: 40 }, () => c.submit({ registered_delivery: 2 })));
    await waitFor(() => s.stats.receipts.pending === 0 && s.stats.receipts.scheduled > 0, 3000, 'receipts done');
    expect(c.delivered.length).toBe(s.stats.receipts.scheduled);
    expect(c.delivered.length).toBeGreaterThan(5);
    expect(c.delivered.length).toBeLessThan(35);
    expect(c.delivered.every((d) => readReceipt(d).stat === 'UNDELIV')).toBe(true);
  });

  it('pickReceiptStat forces an outcome per submit', async () => {
    const s = await sim({ pickReceiptStat: (a) => (a.destination.endsWith('9') ? 'REJECTD' : undefined) });
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submit({ destination_addr: '447700900009' });
    await c.submit({ destination_addr: '447700900001' });
    await waitFor(() => c.delivered.length === 2, 2000, 'two receipts');
    const stats = Object.fromEntries(c.delivered.map((d) => [d.source_addr, readReceipt(d).stat]));
    expect(stats).toEqual({ '447700900009': 'REJECTD', '447700900001': 'DELIVRD' });
  });

  it('sends an intermediate ENROUTE before the final receipt when asked', async () => {
    const s = await sim({ receiptIntermediate: true, receiptDelayMs: 80 });
    const c = await openSimClient({ port: s.port }, cleanups);
    const resp = await c.submit();
    await waitFor(() => c.delivered.length === 2, 2000, 'two receipts');
    expect(c.delivered.map((d) => readReceipt(d).stat)).toEqual(['ENROUTE', 'DELIVRD']);
    expect(c.delivered.map((d) => readReceipt(d).state)).toEqual([1, 2]);
    expect(c.delivered.map((d) => readReceipt(d).id)).toEqual([resp.message_id, resp.message_id]);
    s.setOptions({ intermediateEsmClass: 0x20 });
    await c.submit();
    await waitFor(() => c.delivered.length === 4, 2000, 'two more receipts');
    expect(c.delivered.slice(2).map((d) => d.esm_class)).toEqual([0x20, 0x04]);
  });

  it('waits the receipt delay, fixed or within a range', async () => {
    const s = await sim({ receiptDelayMs: [150, 250] });
    const c = await openSimClient({ port: s.port }, cleanups);
    const started = performance.now();
    const ranged = await Promise.all(Array.from({ length: 10 }, () => c.submit()));
    // The upper end is shown by order, not a clock: a submit sent later with a delay past the
    // range's end gets its receipt after all ten. (A timer never fires early, so the lower bound
    // stays a plain elapsed-time check.)
    s.setOptions({ receiptDelayMs: 600 });
    const later = await c.submit();
    await waitFor(() => c.delivered.length === 11, 10_000, 'eleven receipts');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    const delivered = c.events.filter((e) => e.startsWith('deliver:'));
    expect(new Set(delivered.slice(0, 10))).toEqual(new Set(ranged.map((r) => `deliver:${r.message_id}`)));
    expect(delivered[10]).toBe(`deliver:${later.message_id}`);
  });

  it('sends receipts only to receiving binds of the same system_id, round-robin', async () => {
    const s = await sim();
    const tx = await openSimClient({ port: s.port, type: 'transmitter', systemId: 'acme' }, cleanups);
    const rx1 = await openSimClient({ port: s.port, type: 'receiver', systemId: 'acme' }, cleanups);
    const rx2 = await openSimClient({ port: s.port, type: 'receiver', systemId: 'acme' }, cleanups);
    const other = await openSimClient({ port: s.port, type: 'transceiver', systemId: 'other' }, cleanups);
    await Promise.all(Array.from({ length: 10 }, () => tx.submit()));
    await waitFor(() => rx1.delivered.length + rx2.delivered.length === 10, 2000, 'ten receipts');
    expect(rx1.delivered.length).toBe(5);
    expect(rx2.delivered.length).toBe(5);
    expect(tx.delivered).toHaveLength(0);
    expect(other.delivered).toHaveLength(0);
  });

  // A receipt queued before the bind goes out right after bind_resp. Parley's client session
  // refuses a deliver_sm that arrives in the same read as its bind_resp (ESME_RINVBNDSTS; reported
  // as an smpp/session.ts bug), so these tests retry fast instead of asserting a first-attempt
  // delivery; the skipped test below states the behaviour expected once that is fixed.
  it('keeps a receipt for a system with no receiving bind until one binds', async () => {
    const s = await sim({ receiptDelayMs: 0, receiptRetryMs: 20 });
    const tx = await openSimClient({ port: s.port, type: 'transmitter' }, cleanups);
    const resp = await tx.submit();
    // Sentinel instead of a sleep: another system's receipt, due after ours, reaches its own
    // receiving bind; by then ours was due too and is still held, not sent.
    const other = await openSimClient({ port: s.port, type: 'transceiver', systemId: 'other' }, cleanups);
    await other.submit();
    await waitFor(() => other.delivered.length === 1 && s.stats.receipts.acked === 1, 10_000, 'the other system\'s receipt');
    expect(s.stats.receipts).toMatchObject({ sent: 1, acked: 1, pending: 1 });
    expect(tx.delivered).toHaveLength(0);
    const rx = await openSimClient({ port: s.port, type: 'receiver' }, cleanups);
    await waitFor(() => rx.delivered.length === 1, 2000, 'receipt on the new bind');
    expect(readReceipt(rx.delivered[0]!).id).toBe(resp.message_id);
  });

  it('resends a receipt answered with an error status, after receiptRetryMs', async () => {
    const s = await sim({ receiptRetryMs: 100 });
    const c = await openSimClient({ port: s.port, answer: (_pdu, i) => (i === 0 ? ESME_RX_T_APPN : ESME_ROK) }, cleanups);
    const resp = await c.submit();
    await waitFor(() => c.delivered.length === 2, 3000, 'resend');
    expect(c.delivered.map((d) => readReceipt(d).id)).toEqual([resp.message_id, resp.message_id]);
    await waitFor(() => s.stats.receipts.acked === 1, 2000, 'ack');
    expect(s.stats.receipts).toMatchObject({ scheduled: 1, sent: 2, acked: 1, failedAttempts: 1, pending: 0 });
  });

  it('resends a receipt the ESME never answers, after the response timeout', async () => {
    const s = await sim({ receiptRetryMs: 50, responseTimeoutMs: 150 });
    const c = await openSimClient({ port: s.port, answer: (_pdu, i) => (i === 0 ? 'none' : ESME_ROK) }, cleanups);
    await c.submit();
    await waitFor(() => s.stats.receipts.acked === 1, 3000, 'ack of the resend');
    expect(c.delivered).toHaveLength(2);
    expect(s.stats.receipts.failedAttempts).toBe(1);
  });

  it('delivers a receipt queued before the bind on the first attempt', async () => {
    const s = await sim({ receiptDelayMs: 0 });
    const tx = await openSimClient({ port: s.port, type: 'transmitter' }, cleanups);
    await tx.submit();
    await waitFor(() => s.stats.receipts.pending === 1 && s.stats.receipts.scheduled === 1, 1000, 'queued receipt');
    const rx = await openSimClient({ port: s.port, type: 'receiver' }, cleanups);
    await waitFor(() => rx.delivered.length === 1, 1000, 'receipt');
    expect(s.stats.receipts.failedAttempts).toBe(0);
  });

  it('resends on the next bind a receipt whose bind died before deliver_sm_resp (daemon killed mid-commit)', async () => {
    const s = await sim({ receiptDelayMs: 0, receiptRetryMs: 20 });
    const first = await openSimClient({ port: s.port, answer: () => 'none' }, cleanups);
    const resp = await first.submit();
    await waitFor(() => first.delivered.length === 1, 2000, 'first delivery');
    first.close();
    await waitFor(() => s.binds.length === 0, 2000, 'bind gone');
    expect(s.stats.receipts.pending).toBe(1);
    const second = await openSimClient({ port: s.port }, cleanups);
    await waitFor(() => second.delivered.length === 1, 2000, 'redelivery');
    expect(readReceipt(second.delivered[0]!).id).toBe(resp.message_id);
    await waitFor(() => s.stats.receipts.pending === 0, 2000, 'acked');
    expect(s.stats.receipts.acked).toBe(1);
    expect(second.delivered.every((d) => readReceipt(d).id === resp.message_id)).toBe(true);
  });

  it('receiptBeforeResponse: the receipt reaches the ESME before the submit_sm_resp (TRX)', async () => {
    const s = await sim({ receiptBeforeResponse: true, receiptDelayMs: 5000 });
    const c = await openSimClient({ port: s.port }, cleanups);
    for (let i = 0; i < 5; i++) {
      const resp = await c.submit();
      expect(c.events.slice(-2)).toEqual([`deliver:${resp.message_id}`, `resp:${resp.message_id}`]);
    }
  });

  it('receiptBeforeResponse: the receipt on the RX bind is answered before the response on the TX bind', async () => {
    const s = await sim({ receiptBeforeResponse: true });
    const tx = await openSimClient({ port: s.port, type: 'transmitter' }, cleanups);
    const order: string[] = [];
    const rx = await openSimClient({ port: s.port, type: 'receiver', answer: (pdu) => (order.push(`rx:${readReceipt(pdu).id}`), ESME_ROK) }, cleanups);
    const resp = await tx.submit();
    order.push(`tx:${resp.message_id}`);
    expect(order).toEqual([`rx:${resp.message_id}`, `tx:${resp.message_id}`]);
    expect(rx.delivered).toHaveLength(1);
  });

  it('receiptBeforeResponse does not hold the response longer than the cap when the receipt is not answered', async () => {
    const s = await sim({ receiptBeforeResponse: true, receiptBeforeResponseMaxWaitMs: 100 });
    const c = await openSimClient({ port: s.port, answer: () => 'none' }, cleanups);
    const started = performance.now();
    const resp = await c.submit();
    expect(resp.command_status).toBe(ESME_ROK);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(c.events).toEqual([`deliver:${resp.message_id}`, `resp:${resp.message_id}`]);
  });

  it('survives an SMSC restart mid-stream: pending receipts go out after the rebind, ids stay unique', async () => {
    const s = await sim({ receiptDelayMs: 300, receiptRetryMs: 20 });
    const c1 = await openSimClient({ port: s.port }, cleanups);
    const before = await Promise.all(Array.from({ length: 5 }, () => c1.submit()));
    await s.restart({ abrupt: true, downMs: 50 });
    await c1.session.closed;
    expect(s.port).toBeGreaterThan(0);
    const c2 = await openSimClient({ port: s.port }, cleanups);
    const after = await Promise.all(Array.from({ length: 5 }, () => c2.submit()));
    await waitFor(() => s.stats.receipts.acked === 10, 3000, 'ten receipts acknowledged on the new bind');
    const ids = [...before, ...after].map((r) => r.message_id);
    expect(new Set(ids).size).toBe(10);
    expect(new Set(c2.delivered.map((d) => readReceipt(d).id))).toEqual(new Set(ids));
  });

  it('a graceful restart unbinds the clients first', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    await s.restart();
    await c.session.closed;
    expect(c.states).toContain('unbinding');
    const again = await openSimClient({ port: s.port }, cleanups);
    expect(again.session.state).toBe('bound_trx');
  });
});
