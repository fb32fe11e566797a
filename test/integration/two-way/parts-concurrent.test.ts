/**
 * Two daemons storing customer messages at the same moment (`storeParts` on two pools, each with
 * its own block of part ids): the reassembly lock, taken with BEGIN in one round trip, still makes
 * each see what the other committed. A resend of one part stored by both is one reply; the two
 * parts of one message stored one by each become one whole reply; a batch's own duplicate is
 * stored once; every part id is unique.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/store/db.ts';
import { InboundPartIds, storeParts } from '../../../src/store/replies.ts';
import { assembleParts } from '../../../src/inbound/reassembly.ts';
import type { NewPart, StoredPart } from '../../../src/domain/reply.ts';
import { freshSchema, TEST_DATABASE_URL, type TestSchema } from '../../support/services.ts';

let s: TestSchema;
let other: Db;
beforeEach(async () => {
  s = await freshSchema();
  other = openDb({ url: TEST_DATABASE_URL, schema: s.schema, poolSize: 2 });
});
afterEach(async () => {
  await other.destroy();
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
});
