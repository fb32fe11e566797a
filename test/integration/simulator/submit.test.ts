import { afterEach, describe, expect, it } from 'vitest';
import { ESME_ROK, ESME_RTHROTTLED, commandStatusCode } from '../../../src/smpp/command-status.ts';
import { makeTlv } from '../../../src/smpp/tlv.ts';
import { startSimulator, type IdFormat, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, ...options });
  cleanups.push(() => s.stop());
  return s;
}

const ESME_RINVDSTADR = commandStatusCode('ESME_RINVDSTADR');
const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(8).trim();

describe('simulator submit_sm', () => {
  it.each<[IdFormat, RegExp]>([
    ['hex', /^[1-9a-f][0-9a-f]{9}$/],
    ['decimal', /^[1-9][0-9]{10,11}$/],
    ['alnum', /^[0-9a-z]{32}$/],
  ])('answers message ids in the %s format, unique', async (idFormat, pattern) => {
    const s = await sim({ idFormat });
    const c = await openSimClient({ port: s.port }, cleanups);
    const resps = await Promise.all(Array.from({ length: 50 }, (_, i) => c.submit({ text: `m${i}`, registered_delivery: 0 })));
    const ids = resps.map((r) => r.message_id);
    for (const id of ids) expect(id).toMatch(pattern);
    expect(new Set(ids).size).toBe(50);
    expect(s.arrivals.map((a) => a.messageId)).toEqual(ids);
  });

  it('records each arrival: bind, addresses, coding, esm_class, text and the id answered', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port, systemId: 'acme' }, cleanups);
    const resp = await c.submit({ text: 'Hello there', source_addr: 'ACME', destination_addr: '447700900123', registered_delivery: 1 });
    const [a] = s.arrivals;
    expect(a).toMatchObject({
      seq: 1,
      bindId: s.binds[0]?.id,
      systemId: 'acme',
      command: 'submit_sm',
      status: 'accepted',
      commandStatus: ESME_ROK,
      messageId: resp.message_id,
      source: 'ACME',
      destination: '447700900123',
      dataCoding: 0,
      esmClass: 0,
      registeredDelivery: 1,
      concat: undefined,
      payload: false,
      text: 'Hello there',
    });
    expect(Math.abs((a?.atMs ?? 0) - Date.now())).toBeLessThan(1000);
  });

  it.each(['udh8', 'udh16', 'sar'] as const)('records the %s concatenation of each part', async (scheme) => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    const resps = await c.submitText(LONG, scheme);
    expect(resps.length).toBeGreaterThan(1);
    const arrivals = s.arrivals;
    expect(arrivals.map((a) => a.concat?.scheme)).toEqual(resps.map(() => scheme));
    expect(arrivals.map((a) => a.concat?.seq).sort()).toEqual(resps.map((_, i) => i + 1));
    expect(new Set(arrivals.map((a) => a.concat?.reference))).toEqual(new Set([42]));
    expect(arrivals.every((a) => a.concat?.total === resps.length)).toBe(true);
    expect(arrivals.sort((x, y) => (x.concat?.seq ?? 0) - (y.concat?.seq ?? 0)).map((a) => a.text).join('')).toBe(LONG);
    expect(arrivals[0]?.esmClass).toBe(scheme === 'sar' ? 0 : 0x40);
  });

  it('records message_payload submits and answers data_sm', async () => {
    const s = await sim({ idFormat: 'decimal' });
    const c = await openSimClient({ port: s.port }, cleanups);
    const [resp] = await c.submitText(LONG, 'payload');
    expect(resp?.command_status).toBe(ESME_ROK);
    const data = await c.session.request('data_sm', {
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900999',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900001',
      esm_class: 0,
      registered_delivery: 0,
      data_coding: 0,
      tlvs: [makeTlv('message_payload', Buffer.from('via data sm'))],
    });
    expect(data.command).toBe('data_sm_resp');
    expect(data.command_status).toBe(ESME_ROK);
    const [first, second] = s.arrivals;
    expect(first).toMatchObject({ command: 'submit_sm', payload: true, text: LONG });
    expect(second).toMatchObject({ command: 'data_sm', payload: true, text: 'via data sm', source: '447700900999' });
    expect(data.command === 'data_sm_resp' && data.message_id).toBe(second?.messageId);
    expect(s.stats).toMatchObject({ submits: 2, dataSm: 1 });
  });

  it('keeps only the last `keep` arrivals, and arrivalsSince pages through them', async () => {
    const s = await sim({ keep: 5 });
    const c = await openSimClient({ port: s.port }, cleanups);
    for (let i = 1; i <= 12; i++) await c.submit({ text: `m${i}`, registered_delivery: 0 });
    expect(s.arrivals.map((a) => a.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(s.arrivals.map((a) => a.text)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect(s.arrivalsSince(10)).toEqual({ arrivals: s.arrivals.slice(3), last: 12 });
    expect(s.arrivalsSince(0, 2).arrivals.map((a) => a.seq)).toEqual([8, 9]);
    expect(s.arrivalsSince(12).arrivals).toEqual([]);
    s.setOptions({ keep: 2 });
    expect(s.arrivals.map((a) => a.seq)).toEqual([11, 12]);
    expect(s.stats.arrivals).toBe(12);
  });

  it('throttles above the TPS limit with ESME_RTHROTTLED, and logs the throttled arrivals', async () => {
    const s = await sim({ tps: 20 });
    const c = await openSimClient({ port: s.port }, cleanups);
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => c.submit({ text: `m${i}`, registered_delivery: 0 })));
    const accepted = burst.filter((r) => r.command_status === ESME_ROK).length;
    const throttled = burst.filter((r) => r.command_status === ESME_RTHROTTLED);
    // The burst is one second's worth (20), plus what refilled while the 60 arrived.
    const span = (list: { atMs: number }[]): number => (list.at(-1)?.atMs ?? 0) - (list[0]?.atMs ?? 0);
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(20 + Math.ceil((span(s.arrivals) * 20) / 1000));
    expect(throttled.length).toBe(60 - accepted);
    expect(throttled.every((r) => r.message_id === '')).toBe(true);
    expect(s.stats.throttled).toBe(60 - accepted);
    expect(s.arrivals.filter((a) => a.status === 'throttled' && a.messageId === undefined)).toHaveLength(60 - accepted);

    await new Promise((r) => setTimeout(r, 300));
    const lastOfBurst = s.arrivals.at(-1)?.atMs ?? 0;
    const later = await Promise.all(Array.from({ length: 20 }, () => c.submit({ registered_delivery: 0 })));
    const refilled = later.filter((r) => r.command_status === ESME_ROK).length;
    const waited = (s.arrivals.at(-1)?.atMs ?? 0) - lastOfBurst;
    expect(refilled).toBeGreaterThanOrEqual(5);
    expect(refilled).toBeLessThanOrEqual(Math.min(20, Math.ceil((waited * 20) / 1000) + 1));

    s.setOptions({ tps: 0 });
    const free = await Promise.all(Array.from({ length: 50 }, () => c.submit({ registered_delivery: 0 })));
    expect(free.every((r) => r.command_status === ESME_ROK)).toBe(true);
  });

  it('throttles per bind with tpsPerBind', async () => {
    const s = await sim({ tpsPerBind: 5 });
    const a = await openSimClient({ port: s.port }, cleanups);
    const b = await openSimClient({ port: s.port }, cleanups);
    const [ra, rb] = await Promise.all(
      [a, b].map((c) => Promise.all(Array.from({ length: 10 }, () => c.submit({ registered_delivery: 0 })))),
    );
    const ok = (rs: { command_status: number }[] | undefined): number => (rs ?? []).filter((r) => r.command_status === ESME_ROK).length;
    expect(ok(ra)).toBeGreaterThanOrEqual(5);
    expect(ok(ra)).toBeLessThanOrEqual(6);
    expect(ok(rb)).toBeGreaterThanOrEqual(5);
    expect(ok(rb)).toBeLessThanOrEqual(6);
    expect(s.binds.map((x) => x.throttled).reduce((x, y) => x + y, 0)).toBe(20 - ok(ra) - ok(rb));
  });

  it('rejectSubmit forces an error status for chosen submits', async () => {
    const s = await sim({ rejectSubmit: (a) => (a.destination.startsWith('000') ? ESME_RINVDSTADR : undefined) });
    const c = await openSimClient({ port: s.port }, cleanups);
    expect((await c.submit({ destination_addr: '000111' })).command_status).toBe(ESME_RINVDSTADR);
    expect((await c.submit({ destination_addr: '447700900001' })).command_status).toBe(ESME_ROK);
    expect(s.arrivals.map((a) => a.status)).toEqual(['rejected', 'accepted']);
    expect(s.stats).toMatchObject({ submits: 1, rejected: 1 });
  });

  it('holds responses for responseDelayMs', async () => {
    const s = await sim({ responseDelayMs: 150 });
    const c = await openSimClient({ port: s.port }, cleanups);
    const started = performance.now();
    await Promise.all([c.submit({ registered_delivery: 0 }), c.submit({ registered_delivery: 0 })]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    // Back to 0: a submit sent after one held for 1 s comes back first.
    s.setOptions({ responseDelayMs: 1_000 });
    const answered: string[] = [];
    const held = c.submit({ registered_delivery: 0 }).then(() => answered.push('held'));
    await waitFor(() => s.arrivals.length === 3, 5000, 'the held submit to arrive');
    s.setOptions({ responseDelayMs: 0 });
    await c.submit({ registered_delivery: 0 }).then(() => answered.push('undelayed'));
    await held;
    expect(answered).toEqual(['undelayed', 'held']);
  });

  it('rejects invalid options naming the option, and fixed options in setOptions', async () => {
    await expect(startSimulator({ tps: -1 })).rejects.toThrow(/option tps/);
    await expect(startSimulator({ receiptMix: { DELIVERED: 1 } as never })).rejects.toThrow(/receiptMix.*unknown stat DELIVERED/);
    await expect(startSimulator({ receiptDelayMs: [50, 10] })).rejects.toThrow(/receiptDelayMs/);
    await expect(startSimulator({ nope: 1 } as never)).rejects.toThrow(/nope is not an option/);
    const s = await sim();
    expect(() => s.setOptions({ port: s.port + 1 })).toThrow(/port cannot change/);
    expect(() => s.setOptions({ idFormat: 'octal' as never })).toThrow(/idFormat must be one of/);
    expect(s.options.idFormat).toBe('hex');
  });

  it('counts submits in stats and per bind, and reset() clears them', async () => {
    const s = await sim();
    const c = await openSimClient({ port: s.port }, cleanups);
    for (let i = 0; i < 3; i++) await c.submit({ registered_delivery: 0 });
    await waitFor(() => s.stats.submits === 3, 1000, 'submits');
    expect(s.binds[0]?.submits).toBe(3);
    s.reset();
    expect(s.stats).toMatchObject({ submits: 0, arrivals: 0 });
    expect(s.arrivals).toEqual([]);
    expect(s.binds[0]?.submits).toBe(0);
    await c.submit({ registered_delivery: 0 });
    expect(s.arrivals[0]?.seq).toBe(1);
  });
});
