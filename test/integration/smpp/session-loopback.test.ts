import { afterEach, describe, expect, it } from 'vitest';
import { SmppServer, connectSession } from '../../../src/smpp/connection.ts';
import type { SmppSession } from '../../../src/smpp/session.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { ESME_RINVPASWD } from '../../../src/smpp/command-status.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(password = 'secret'): Promise<{ server: SmppServer; port: number; submits: string[] }> {
  const submits: string[] = [];
  let n = 0;
  const server = new SmppServer({
    session: {
      handlers: {
        onBind: (pdu) => ({ command_status: pdu.password === password ? 0 : ESME_RINVPASWD, system_id: 'sim' }),
        onRequest: (pdu) => {
          if (pdu.command === 'submit_sm') {
            submits.push(pdu.short_message.toString('latin1'));
            return { message_id: (++n).toString(16) };
          }
          return {};
        },
      },
    },
  });
  const { port } = await server.listen(0);
  cleanups.push(() => server.close());
  return { server, port, submits };
}

async function client(port: number): Promise<SmppSession> {
  const s = await connectSession({ host: '127.0.0.1', port }, {});
  cleanups.push(() => s.close());
  return s;
}

describe('Parley client against Parley server', () => {
  it('binds, submits 1,000 at window 100, enquires and unbinds', async () => {
    const { port, submits } = await startServer();
    const s = await client(port);
    const resp = await s.bind('transceiver', { system_id: 'parley', password: 'secret' });
    expect(resp.system_id).toBe('sim');
    expect(s.state).toBe('bound_trx');
    const ids = new Set<string>();
    let sent = 0;
    const inflight = new Set<Promise<void>>();
    while (sent < 1000) {
      if (s.freeWindow === 0) {
        await s.waitForWindow();
        continue;
      }
      const i = sent++;
      const p: Promise<void> = s
        .request('submit_sm', shortMessageFields({ destination_addr: '123', short_message: Buffer.from(`m${i}`) }))
        .then((r) => {
          expect(r.command).toBe('submit_sm_resp');
          if (r.command === 'submit_sm_resp') ids.add(r.message_id);
        })
        // A failure stays in the promise Promise.all awaits below (or fails the run as unhandled).
        .finally(() => inflight.delete(p));
      inflight.add(p);
      expect(s.inFlight).toBeLessThanOrEqual(100);
    }
    await Promise.all(inflight);
    expect(ids.size).toBe(1000);
    expect(submits).toHaveLength(1000);
    const el = await s.request('enquire_link', {});
    expect(el.command).toBe('enquire_link_resp');
    await s.unbind();
    expect(s.state).toBe('closed');
  });

  it('a refused bind rejects with bind_refused and the status', async () => {
    const { port } = await startServer();
    const s = await client(port);
    await expect(s.bind('transmitter', { system_id: 'parley', password: 'wrong' })).rejects.toMatchObject({
      code: 'bind_refused',
      commandStatus: ESME_RINVPASWD,
    });
  });
});
