/**
 * Who must not be sent to (store/opt-outs.ts `blockedAmong`), the rule written once in SQL and
 * applied inside the statements that need it: the cases by name, then random states of opt_outs
 * and opt_out_hashes against the rule as it was written in TypeScript before it moved to SQL
 * (kept here as the reference).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchema, type TestSchema } from '../../support/services.ts';
import { blockedPairs, customerHash, GLOBAL_SCOPE } from '../../../src/store/opt-outs.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

let s: TestSchema;
beforeAll(async () => {
  s = await freshSchema();
});
afterAll(async () => {
  await s.drop();
});
beforeEach(async () => {
  await sql`TRUNCATE opt_outs, opt_out_hashes`.execute(s.db);
});

interface OptOutRow {
  customer: string;
  scope: string;
  optedOut: boolean;
  /** Seconds after a fixed instant. */
  at: number;
  /** Kept as the erased customer's hash (opt_out_hashes: always an opt-out). */
  hashed?: boolean;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');

async function store(rows: readonly OptOutRow[]): Promise<void> {
  for (const r of rows) {
    const at = new Date(T0 + r.at * 1000);
    if (r.hashed) await sql`INSERT INTO opt_out_hashes (customer_hash, scope, changed_at) VALUES (${customerHash(r.customer)}, ${r.scope}, ${at})`.execute(s.db);
    else await sql`INSERT INTO opt_outs (customer, scope, opted_out, changed_at) VALUES (${r.customer}, ${r.scope}, ${r.optedOut}, ${at})`.execute(s.db);
  }
}

/** The rule as opt-outs.ts wrote it in TypeScript until it moved into SQL. */
function reference(rows: readonly OptOutRow[], pairs: readonly { customer: string; ourNumber: string }[]): Set<string> {
  const byKey = new Map<string, OptOutRow>();
  // Hash rows first: a row of opt_outs for the same customer and scope overrides them.
  for (const r of [...rows].sort((a, b) => Number(b.hashed ?? false) - Number(a.hashed ?? false))) {
    byKey.set(`${r.customer}\0${r.scope}`, r.hashed ? { ...r, optedOut: true } : r);
  }
  const blocked = new Set<string>();
  for (const p of pairs) {
    const own = byKey.get(`${p.customer}\0${p.ourNumber}`);
    const global = byKey.get(`${p.customer}\0${GLOBAL_SCOPE}`);
    const optedInSince = own !== undefined && !own.optedOut && global !== undefined && own.at >= global.at;
    if (own?.optedOut === true || (global?.optedOut === true && !optedInSince)) blocked.add(`${p.customer}\0${p.ourNumber}`);
  }
  return blocked;
}

const pair = (customer: string, ourNumber: string) => ({ customer, ourNumber });

describe('who must not be sent to', () => {
  it.each<[string, OptOutRow[], boolean]>([
    ['no opt-out', [], false],
    ['opted out of the number', [{ customer: 'c', scope: 'n1', optedOut: true, at: 1 }], true],
    ['opted back in to the number', [{ customer: 'c', scope: 'n1', optedOut: false, at: 2 }], false],
    ['opted out of another number only', [{ customer: 'c', scope: 'n2', optedOut: true, at: 1 }], false],
    ['another customer opted out', [{ customer: 'd', scope: 'n1', optedOut: true, at: 1 }], false],
    ['opted out of every number', [{ customer: 'c', scope: '*', optedOut: true, at: 1 }], true],
    ['opted out of every number, then in to this one', [{ customer: 'c', scope: '*', optedOut: true, at: 1 }, { customer: 'c', scope: 'n1', optedOut: false, at: 2 }], false],
    ['opted in to this number, then out of every number', [{ customer: 'c', scope: 'n1', optedOut: false, at: 1 }, { customer: 'c', scope: '*', optedOut: true, at: 2 }], true],
    ['in to this number at the same instant as out of every number', [{ customer: 'c', scope: 'n1', optedOut: false, at: 1 }, { customer: 'c', scope: '*', optedOut: true, at: 1 }], false],
    ['opted in to every number, out of this one', [{ customer: 'c', scope: '*', optedOut: false, at: 2 }, { customer: 'c', scope: 'n1', optedOut: true, at: 1 }], true],
    ['erased, opted out of the number', [{ customer: 'c', scope: 'n1', optedOut: true, at: 1, hashed: true }], true],
    ['erased, opted out of every number', [{ customer: 'c', scope: '*', optedOut: true, at: 1, hashed: true }], true],
    ['erased opt-out overridden by a later START', [{ customer: 'c', scope: 'n1', optedOut: true, at: 1, hashed: true }, { customer: 'c', scope: 'n1', optedOut: false, at: 2 }], false],
    ['erased opt-out of every number, then in to this one', [{ customer: 'c', scope: '*', optedOut: true, at: 1, hashed: true }, { customer: 'c', scope: 'n1', optedOut: false, at: 2 }], false],
  ])('%s', async (_name, rows, expected) => {
    await store(rows);
    expect((await blockedPairs(s.db, [pair('c', 'n1')])).has('c\0n1')).toBe(expected);
    expect(reference(rows, [pair('c', 'n1')]).has('c\0n1')).toBe(expected);
  });

  it('a message without a sender is blocked only by an opt-out of every number', async () => {
    await store([{ customer: 'c', scope: 'n1', optedOut: true, at: 1 }, { customer: 'e', scope: '*', optedOut: true, at: 1 }]);
    expect(await blockedPairs(s.db, [pair('c', ''), pair('e', '')])).toEqual(new Set(['e\0']));
  });

  it('random states of a batch: the same pairs blocked as the TypeScript rule blocked', async () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor(seed / 65_536) % n;
    };
    const customers = ['+14155550001', '+14155550002', '+14155550003', '+14155550004', "o'hara\\x"];
    const scopes = ['n1', 'n2', '*'];
    let checked = 0;
    for (let round = 0; round < 40; round++) {
      await sql`TRUNCATE opt_outs, opt_out_hashes`.execute(s.db);
      const rows: OptOutRow[] = [];
      for (const customer of customers) {
        for (const scope of scopes) {
          const kind = random(4); // none, a row of opt_outs, a hash row, both
          if (kind === 1 || kind === 3) rows.push({ customer, scope, optedOut: random(2) === 0, at: random(3) });
          if (kind === 2 || kind === 3) rows.push({ customer, scope, optedOut: true, at: random(3), hashed: true });
        }
      }
      await store(rows);
      // Every pair, some twice, and numbers nobody opted out of.
      const pairs = customers.flatMap((c) => ['n1', 'n2', 'n3', '', 'n1'].map((n) => pair(c, n)));
      expect(await blockedPairs(s.db, pairs)).toEqual(reference(rows, pairs));
      checked += pairs.length;
    }
    expect(checked).toBe(40 * 25);
  });

  it('new messages: the insert reads the opt-outs itself, refusing a blocked pair and queuing the rest of the batch', async () => {
    await sql`TRUNCATE messages, conversations CASCADE`.execute(s.db);
    await store([
      { customer: '+14155550001', scope: '12345', optedOut: true, at: 1 },
      { customer: '+14155550002', scope: '*', optedOut: true, at: 1 },
    ]);
    const m = (id: string, to: string, from: string | undefined, extra: Partial<RoutedMessage> = {}): RoutedMessage => ({
      id, to, from, text: 'hi', route: 'default', dlr: true, priority: 0, ...extra,
    });
    const { inserted, changes } = await insertMessages(s.db, 'd1', [
      m('out-of-number', '+14155550001', '12345'),
      m('other-number', '+14155550001', '55555'),
      m('out-of-all', '+14155550002', '55555'),
      m('no-sender', '+14155550002', undefined),
      m('confirmation', '+14155550001', '12345', { bypassOptOut: true }),
      m('free', '+14155550003', '12345'),
    ]);
    expect([...inserted].sort()).toEqual(['confirmation', 'free', 'no-sender', 'other-number', 'out-of-all', 'out-of-number']);
    const rows = await s.db.selectFrom('messages').select(['id', 'status', 'error_code', 'owner']).orderBy('id').execute();
    const refused = { status: 'failed', error_code: 'opted_out', owner: null };
    const queued = { status: 'queued', error_code: null, owner: 'd1' };
    expect(Object.fromEntries(rows.map((r) => [r.id, { status: r.status, error_code: r.error_code, owner: r.owner }]))).toEqual({
      'confirmation': queued,
      'free': queued,
      'no-sender': refused,
      'other-number': queued,
      'out-of-all': refused,
      'out-of-number': refused,
    });
    // Each refused message's events: queued, then failed with the reason; the others queued only.
    expect(changes.filter((c) => c.status === 'failed').map((c) => [c.id, c.errorCode]).sort()).toEqual([
      ['no-sender', 'opted_out'],
      ['out-of-all', 'opted_out'],
      ['out-of-number', 'opted_out'],
    ]);
    expect(changes.filter((c) => c.status === 'queued')).toHaveLength(6);
    // Only queued messages open conversations.
    const conversations = await s.db.selectFrom('conversations').select(['customer', 'our_number']).orderBy('customer').orderBy('our_number').execute();
    expect(conversations).toEqual([
      { customer: '+14155550001', our_number: '12345' },
      { customer: '+14155550001', our_number: '55555' },
      { customer: '+14155550003', our_number: '12345' },
    ]);
  });
});
