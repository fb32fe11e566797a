import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../../support/daemon.ts';
import { SmppServer } from '../../../src/smpp/connection.ts';
import type { SmppSession } from '../../../src/smpp/session.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { listUnmatched } from '../../../src/store/pending-receipts.ts';

let h: Harness;
let smsc: SmppServer | undefined;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await smsc?.close();
  smsc = undefined;
  await h.close();
});

/** A hand-driven SMSC: answers submits with ids c1, c2, ... and lets the test send receipts. */
async function scriptedSmsc(): Promise<{ port: number; ids: string[]; receipt(id: string, stat: string): Promise<void> }> {
  const ids: string[] = [];
  let bound: SmppSession | undefined;
  smsc = new SmppServer({
    session: {
      handlers: {
        onBind: () => ({ system_id: 'scripted' }),
        onStateChange: (state, _prev, session) => {
          if (state === 'bound_trx') bound = session;
        },
        onRequest: (pdu) => {
          if (pdu.command !== 'submit_sm') return {};
          const id = `c${ids.length + 1}`;
          ids.push(id);
          return { message_id: id };
        },
      },
    },
  });
  const { port } = await smsc.listen(0);
  return {
    port,
    ids,
    async receipt(id, stat) {
      const text = `id:${id} sub:001 dlvrd:001 submit date:2611220000 done date:2611220001 stat:${stat} err:000 text:x`;
      const resp = await bound!.request('deliver_sm', {
        ...shortMessageFields({ source_addr: '14155550001', destination_addr: '12345', esm_class: 0x04, short_message: Buffer.from(text) }),
      });
      expect(resp.command_status).toBe(0);
    },
  };
}

function config(h: Harness, port: number, extra: Record<string, unknown> = {}) {
  return h.config({
    smscs: [{ name: 'scripted', host: '127.0.0.1', port, system_id: 'parley', reconnect_min: '50ms', reconnect_max: '200ms' }],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['scripted'], tps: 100, default_from: '12345' }],
    ...extra,
  });
}

async function statusOf(h: Harness, id: string): Promise<string | undefined> {
  return (await h.schema.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirst())?.status;
}

describe('receipt states', () => {
  it('a late ENROUTE after DELIVRD leaves the message delivered; a receipt for no message stays stored and is listed', async () => {
    const s = await scriptedSmsc();
    await h.startDaemon(config(h, s.port));
    await h.send([{ id: 'late', to: '+14155550001', text: 'hello' }]);
    await h.until('submitted', async () => (await statusOf(h, 'late')) === 'submitted');
    await s.receipt('c1', 'DELIVRD');
    await s.receipt('c1', 'ENROUTE');
    await s.receipt('zz-unknown', 'DELIVRD');
    expect(await statusOf(h, 'late')).toBe('delivered');
    const receipts = await h.schema.db.selectFrom('receipts').select(['state', 'message_id']).orderBy('id').execute();
    expect(receipts).toEqual([
      { state: 'DELIVERED', message_id: 'late' },
      { state: 'ENROUTE', message_id: 'late' },
      { state: 'DELIVERED', message_id: null },
    ]);
    const seg = await h.schema.db.selectFrom('segments').select(['status', 'receipt_state']).where('message_id', '=', 'late').executeTakeFirstOrThrow();
    expect(seg).toEqual({ status: 'delivered', receipt_state: 'DELIVERED' });
    const unmatched = await listUnmatched(h.schema.db, 0, 10);
    expect(unmatched.map((u) => [u.smsc, u.smscMessageId, u.state])).toEqual([['scripted', 'zz-unknown', 'DELIVERED']]);
    // A late final receipt with another outcome does not move a final status either.
    await s.receipt('c1', 'UNDELIV');
    expect(await statusOf(h, 'late')).toBe('delivered');
  });

  it('messages without a final receipt become expired after their validity, or unknown after the horizon', async () => {
    const s = await scriptedSmsc();
    await h.startDaemon(config(h, s.port, { receipts: { grace: '0s', unknown_after: '1500ms', sweep_interval: '100ms' } }));
    await h.send([
      { id: 'valid', to: '+14155550001', text: 'hello', validity: 1 },
      { id: 'open', to: '+14155550002', text: 'hello' },
      { id: 'nodlr', to: '+14155550003', text: 'hello', dlr: false },
    ]);
    await h.until('expired and unknown', async () => (await statusOf(h, 'valid')) === 'expired' && (await statusOf(h, 'open')) === 'unknown', 10_000);
    const rows = await h.schema.db.selectFrom('messages').select(['id', 'status', 'error_code']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'nodlr', status: 'submitted', error_code: null },
      { id: 'open', status: 'unknown', error_code: 'no_final_receipt' },
      { id: 'valid', status: 'expired', error_code: 'no_final_receipt' },
    ]);
    // A receipt arriving after the sweep changes nothing: the status is final.
    await s.receipt(s.ids[0]!, 'DELIVRD');
    expect(await statusOf(h, 'valid')).toBe('expired');
  });
});
