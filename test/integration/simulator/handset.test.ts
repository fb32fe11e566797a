import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, readReceipt, reassemble, runCleanups, waitFor, type Cleanup, type SimClient } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, receiptRetryMs: 50, ...options });
  cleanups.push(() => s.stop());
  return s;
}

/** The customer replies among what a client received (receipts have a message type in esm_class). */
const mo = (c: SimClient): SimClient['delivered'] => c.delivered.filter((d) => (d.esm_class & 0x3c) === 0);

describe('simulator virtual handset', () => {
  it('answers by rule, from the destination back to the source, after the rule delay', async () => {
    const s = await sim({
      handset: {
        rules: [
          { match: /Reply YES/i, reply: 'YES', delayMs: 150 },
          { match: 'stop', reply: 'STOP' },
        ],
      },
    });
    const c = await openSimClient({ port: s.port }, cleanups);
    const started = performance.now();
    await c.submit({ text: 'Your table is held. reply yes to confirm', source_addr: '12345', destination_addr: '447700900123', registered_delivery: 0 });
    const [answer] = await waitFor(() => mo(c).length === 1 && mo(c), 2000, 'handset answer');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(answer).toMatchObject({ source_addr: '447700900123', destination_addr: '12345' });
    expect(reassemble(mo(c))).toEqual(['YES']);
    await c.submit({ text: 'Text STOP to opt out', registered_delivery: 0 });
    await waitFor(() => mo(c).length === 2, 2000, 'second answer');
    expect(reassemble(mo(c).slice(1))).toEqual(['STOP']);
    expect(s.stats.replies).toMatchObject({ injected: 2, handset: 2 });
  });

  it('uses the default answer when no rule matches, and stays silent without one', async () => {
    const s = await sim({ handset: { rules: [{ match: '/^ping$/', reply: 'pong' }], default: 'OK thanks' } });
    const c = await openSimClient({ port: s.port }, cleanups);
    await c.submit({ text: 'ping', registered_delivery: 0 });
    await c.submit({ text: 'anything else', registered_delivery: 0 });
    await waitFor(() => mo(c).length === 2, 2000, 'two answers');
    expect(reassemble(mo(c)).sort()).toEqual(['OK thanks', 'pong']);
    s.setOptions({ handset: { rules: [{ match: '/^ping$/', reply: 'pong' }] } });
    await c.submit({ text: 'anything else', registered_delivery: 0 });
    // Sentinel instead of a sleep: a later ping is answered, and it is the only new answer.
    await c.submit({ text: 'ping', registered_delivery: 0 });
    await waitFor(() => mo(c).length >= 3, 10_000, 'the sentinel answer');
    expect(mo(c)).toHaveLength(3);
    expect(reassemble(mo(c).slice(2))).toEqual(['pong']);
  });

  it('matches a long message once all its parts are in', async () => {
    const s = await sim({ handset: { rules: [{ match: /reply yes/i, reply: (m) => `YES to ${m.to}` }] } });
    const c = await openSimClient({ port: s.port }, cleanups);
    const text = `${'Dear customer, your appointment is confirmed for Tuesday. '.repeat(4)}Reply YES to keep it.`;
    const resps = await c.submitText(text, 'udh8', { destination_addr: '447700900555' });
    expect(resps.length).toBeGreaterThan(1);
    await waitFor(() => mo(c).length === 1, 2000, 'answer to the whole message');
    expect(reassemble(mo(c))).toEqual(['YES to 447700900555']);
  });

  it('answers alongside the receipts of the same submit', async () => {
    const s = await sim({ receiptDelayMs: 0, handset: { default: 'hi' } });
    const c = await openSimClient({ port: s.port }, cleanups);
    const resp = await c.submit({ text: 'hello', registered_delivery: 1 });
    await waitFor(() => c.delivered.length === 2, 2000, 'receipt and answer');
    const receipt = c.delivered.find((d) => d.esm_class === 0x04);
    expect(receipt && readReceipt(receipt).id).toBe(resp.message_id);
    expect(reassemble(mo(c))).toEqual(['hi']);
  });
});
