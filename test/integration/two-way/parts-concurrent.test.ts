/**
 * Two daemons storing customer messages at the same moment (`storeParts` on two pools, each with
 * its own block of part ids): the reassembly locks, taken with BEGIN in one round trip, or by the
 * statement itself for a batch of whole messages (reassembly_unseen, migration 0024), still make
 * each see what the other committed. A resend of one part stored by both is one reply; the two
 * parts of one message stored one by each become one whole reply; a batch's own duplicate is
 * stored once; every part id is unique. The locks are per message, not global: a customer's part
 * waits for a transaction holding its lock while another customer's is stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.ts';
import { InboundPartIds, storeParts } from '../../../src/store/replies.ts';
import { reassemblyLockId } from '../../../src/store/reassembly-locks.ts';
import { sql } from 'kysely';
import { assembleParts } from '../../../src/inbound/reassembly.ts';
import type { NewPart, StoredPart } from '../../../src/domain/reply.ts';
import { freshSchema, type TestSchema } from '../../support/services.ts';

let s: TestSchema;
let other: Db;
beforeEach(async () => {
  s = await freshSchema();
  other = s.openPool(2);
});
afterEach(async () => {
  await s.drop();
});

const assemble = (parts: readonly StoredPart[], incomplete: boolean) => assembleParts(parts, incomplete, () => 'gsm7');

const part = (fingerprint: string, from: string, text: string, group?: { seq: number }): NewPart => ({
  fingerprint,
  smsc: 'sim',
  bind: 'sim-1',
  from,
  to: '12345',
  concatKey: group ? 'udh8:7' : null,
  total: group ? 2 : 1,
  seq: group?.seq ?? 1,
  dataCoding: 0,
  body: Buffer.from(text),
});

/** The reassembly lock a whole message's part is stored under. */
const lockOf = (p: NewPart): bigint =>
  reassemblyLockId({ fingerprint: p.fingerprint, smsc: p.smsc, from_addr: p.from, to_addr: p.to, concat_key: p.concatKey, total: p.total });

describe('storeParts from two daemons at once', () => {
  it('a resend stored by both is one reply; two parts stored one by each become one reply', async () => {
    const mine = new InboundPartIds(5);
    const theirs = new InboundPartIds(5);
    const store = (db: Db, ids: InboundPartIds, parts: NewPart[]) => storeParts(db, parts, assemble, 60_000, 120_000, ids);
    for (let round = 0; round < 10; round++) {
      const resend = part(`fp-resend-${round}`, `+1415555${String(round).padStart(4, '0')}`, 'YES');
      const sender = `+1415556${String(round).padStart(4, '0')}`;
      const first = { ...part(`fp-a-${round}`, sender, 'Hello, ', { seq: 1 }), concatKey: `udh8:${round}` };
      const second = { ...part(`fp-b-${round}`, sender, 'world', { seq: 2 }), concatKey: `udh8:${round}` };
      const [a, b] = await Promise.all([store(s.db, mine, [resend, first, resend]), store(other, theirs, [resend, second])]);
      const replies = [...a, ...b];
      expect(replies.filter((r) => r.from === resend.from).map((r) => r.text)).toEqual(['YES']);
      expect(replies.filter((r) => r.from === sender).map((r) => r.text)).toEqual(['Hello, world']);
    }
    const counts = await s.db
      .selectFrom('inbound_parts')
      .select((eb) => [eb.fn.countAll<string>().as('parts'), eb.fn.count<string>('id').distinct().as('ids'), eb.fn.count<string>('reply_id').as('with_reply')])
      .executeTakeFirstOrThrow();
    expect(counts).toEqual({ parts: '30', ids: '30', with_reply: '30' });
    expect(await s.db.selectFrom('replies').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).toEqual({ n: '20' });
  });

  it('a resend of a whole message stored by both at once, each batch of whole messages in one statement, is one reply', async () => {
    const store = (db: Db, parts: NewPart[]) => storeParts(db, parts, assemble, 60_000, 120_000, new InboundPartIds(5));
    for (let round = 0; round < 20; round++) {
      const resend = part(`fp-whole-${round}`, `+1415558${String(round).padStart(4, '0')}`, 'YES');
      const mine = part(`fp-mine-${round}`, `+1415559${String(round).padStart(4, '0')}`, 'NO');
      const [a, b] = await Promise.all([store(s.db, [mine, resend]), store(other, [resend])]);
      expect([...a, ...b].filter((r) => r.from === resend.from).map((r) => r.text)).toEqual(['YES']);
    }
    const replies = await s.db.selectFrom('replies').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(replies).toEqual({ n: '40' });
    const parts = await s.db.selectFrom('inbound_parts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(parts).toEqual({ n: '40' });
  });

  it("one customer's lock held elsewhere holds up that customer's part only", async () => {
    const waiting = part('fp-held', '+14155557001', 'STOP');
    const free = part('fp-free', '+14155557002', 'YES');
    const lock = lockOf(waiting);
    const store = (p: NewPart) => storeParts(s.db, [p], assemble, 60_000, 120_000, new InboundPartIds());
    let held: Promise<unknown> = Promise.resolve();
    let waitedOut = false;
    // Another daemon holds that customer's lock for a moment.
    await other.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(${lock.toString()}::bigint)`.execute(tx);
      held = store(waiting).then(() => {
        waitedOut = true;
      });
      expect((await store(free)).map((r) => r.text)).toEqual(['YES']);
      await new Promise((r) => setTimeout(r, 300));
      expect(waitedOut).toBe(false);
    });
    await held;
    const stored = await s.db.selectFrom('replies').select('body').orderBy('body').execute();
    expect(stored.map((r) => r.body)).toEqual(['STOP', 'YES']);
  });

  it('a batch of more parts than it locks one by one takes the schema lock, and still meets a resend from another daemon', async () => {
    const many = Array.from({ length: 70 }, (_, i) => part(`fp-many-${i}`, `+1415555${String(8000 + i)}`, 'YES'));
    const store = (db: Db, parts: NewPart[]) => storeParts(db, parts, assemble, 60_000, 120_000, new InboundPartIds());
    const [a, b] = await Promise.all([store(s.db, many), store(other, [many[35]!, part('fp-alone', '+14155559999', 'NO')])]);
    expect(a.length + b.length).toBe(71);
    const replies = await s.db.selectFrom('replies').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(replies).toEqual({ n: '71' });
  });

  it('a lock wait cut short leaves no aborted transaction on the pooled connection', async () => {
    const single = s.openPool(1);
    await sql`SET statement_timeout = 200`.execute(single);
    const waiting = part('fp-timeout', '+14155557101', 'HELP');
    const lock = lockOf(waiting);
    await other.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(${lock.toString()}::bigint)`.execute(tx);
      await expect(storeParts(single, [waiting], assemble, 60_000, 120_000, new InboundPartIds())).rejects.toMatchObject({ code: '57014' });
    });
    // The same (only) connection answers, outside any transaction.
    const state = await sql<{ open: boolean }>`SELECT now() <> statement_timestamp() AS open`.execute(single);
    expect(state.rows).toEqual([{ open: false }]);
  });
});
