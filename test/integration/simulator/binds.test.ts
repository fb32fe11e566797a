import { afterEach, describe, expect, it } from 'vitest';
import { ESME_RINVBNDSTS, ESME_RINVPASWD, ESME_RINVSYSID, ESME_ROK } from '../../../src/smpp/command-status.ts';
import { connectSession } from '../../../src/smpp/connection.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, ...options });
  cleanups.push(() => s.stop());
  return s;
}

describe('simulator binds', () => {
  it('accepts any bind without credentials, in each bind type, and counts them', async () => {
    const s = await sim();
    const trx = await openSimClient({ port: s.port, type: 'transceiver', systemId: 'a' }, cleanups);
    const tx = await openSimClient({ port: s.port, type: 'transmitter', systemId: 'b', password: 'x' }, cleanups);
    const rx = await openSimClient({ port: s.port, type: 'receiver', systemId: 'b' }, cleanups);
    expect([trx.session.state, tx.session.state, rx.session.state]).toEqual(['bound_trx', 'bound_tx', 'bound_rx']);
    await waitFor(() => s.binds.length === 3, 2000, 'three binds');
    expect(s.binds.map((b) => [b.systemId, b.type])).toEqual([
      ['a', 'transceiver'],
      ['b', 'transmitter'],
      ['b', 'receiver'],
    ]);
    expect(s.stats.binds).toMatchObject({ current: 3, transmitter: 1, receiver: 1, transceiver: 1, total: 3, refused: 0 });
  });

  it('answers bind_resp with its system_id', async () => {
    const s = await sim({ systemId: 'carrier-x' });
    const session = await connectSession({ host: '127.0.0.1', port: s.port }, {});
    cleanups.push(() => session.close());
    const resp = await session.bind('transceiver', { system_id: 'parley', password: '' });
    expect(resp.system_id).toBe('carrier-x');
  });

  it('checks credentials: unknown system_id ESME_RINVSYSID, wrong password ESME_RINVPASWD', async () => {
    const s = await sim({ credentials: [{ systemId: 'parley', password: 'secret' }] });
    const bind = async (systemId: string, password: string): Promise<number> => {
      const session = await connectSession({ host: '127.0.0.1', port: s.port }, {});
      cleanups.push(() => session.close());
      try {
        await session.bind('transceiver', { system_id: systemId, password });
        return ESME_ROK;
      } catch (err) {
        return (err as { commandStatus: number }).commandStatus;
      }
    };
    expect(await bind('parley', 'secret')).toBe(ESME_ROK);
    expect(await bind('other', 'secret')).toBe(ESME_RINVSYSID);
    expect(await bind('parley', 'wrong')).toBe(ESME_RINVPASWD);
    expect(s.stats.binds).toMatchObject({ current: 1, total: 1, refused: 2 });
  });

  it('a receiver bind cannot submit (answered by the session with ESME_RINVBNDSTS)', async () => {
    const s = await sim();
    const rx = await openSimClient({ port: s.port, type: 'receiver' }, cleanups);
    const resp = await rx.session.request('submit_sm', shortMessageFields({ destination_addr: '2', short_message: Buffer.from('x') }));
    expect(resp.command_status).toBe(ESME_RINVBNDSTS);
    expect(s.stats.submits).toBe(0);
  });

  it('forgets a bind when it unbinds or drops', async () => {
    const s = await sim();
    const a = await openSimClient({ port: s.port }, cleanups);
    const b = await openSimClient({ port: s.port }, cleanups);
    await waitFor(() => s.binds.length === 2, 2000, 'two binds');
    await a.session.unbind();
    b.close();
    await waitFor(() => s.binds.length === 0, 3000, 'no binds');
    expect(s.stats.binds.total).toBe(2);
  });

  it('stop() is idempotent and closes the clients', async () => {
    const s = await startSimulator({ controlPort: false });
    const c = await openSimClient({ port: s.port }, cleanups);
    const first = s.stop();
    expect(s.stop()).toBe(first);
    await first;
    expect(s.state).toBe('stopped');
    await c.session.closed;
    expect(c.session.state).toBe('closed');
  });
});
