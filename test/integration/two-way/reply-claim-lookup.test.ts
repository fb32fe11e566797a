/**
 * The claim of replies nobody handles (claimReplies: an idle daemon's poll, each second, and the
 * replies of a daemon that stopped or died) reads only the replies it may take, however many other
 * daemons hold under a lease: it used to read them all, by age, and filter them out.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { claimReplies, claimRepliesQuery } from '../../../src/store/replies.ts';
import { statementPlan, rowsWorked, scansOf } from '../../support/plans.ts';

const s = freshSchemaPerTest();

const PER_KIND = 20_000;

/** Ten minutes ago: replies are received `first + g * step` seconds after it, g their number. */
const BASE = new Date(Date.now() - 600_000);

function insertReplies(prefix: string, count: number, status: string, lease: 'none' | 'held' | 'ran out', first = 100, step = 0.001): Promise<unknown> {
  return sql`
    INSERT INTO replies (id, smsc, from_addr, to_addr, body, parts, data_coding, received_at, status, lease_until)
    SELECT ${prefix} || g, 'sim', '+1415555' || lpad((g % 10000)::text, 4, '0'), '12345', 'PING', 1, 0,
      ${BASE}::timestamptz + make_interval(secs => ${first}::float8 + g * ${step}::float8), ${status},
      CASE ${lease} WHEN 'held' THEN now() + interval '10 minutes' WHEN 'ran out' THEN now() - interval '1 minute' END
    FROM generate_series(1, ${count}) g`.execute(s.db);
}

describe('claimReplies among replies other daemons hold', () => {
  it('reads only the replies it takes, planned custom or generic, and takes the oldest of them', async () => {
    await insertReplies('done-', PER_KIND, 'handled', 'none');
    await insertReplies('held-', PER_KIND, 'received', 'held');
    await sql`ANALYZE replies`.execute(s.db);
    // What there is to take: replies given back at a stop, and a dead daemon's whose lease ran out.
    await insertReplies('free-', 3, 'received', 'none', 0, 2);
    await insertReplies('lapsed-', 4, 'received', 'ran out', -1, 2);

    // Each reply taken: its index entry, its row locked, its row updated. By age among all
    // replies not handled (before 0030): every held one and every handled one, 40,021 rows.
    for (const generic of [false, true]) {
      const plan = await statementPlan(s.db, claimRepliesQuery(100, 60_000), generic);
      expect(rowsWorked(plan, scansOf('replies'))).toBeLessThanOrEqual(10 * 7);
    }

    const first = await claimReplies(s.db, 5, 60_000);
    // The oldest first, whichever kind: received 1 s (lapsed-1), 2 s (free-1), 3 s, ... 7 s (lapsed-4).
    expect(first.map((r) => r.id)).toEqual(['lapsed-1', 'free-1', 'lapsed-2', 'free-2', 'lapsed-3']);
    expect((await claimReplies(s.db, 5, 60_000)).map((r) => r.id)).toEqual(['free-3', 'lapsed-4']);
    expect(await claimReplies(s.db, 5, 60_000)).toEqual([]);
    const held = await sql<{ n: number }>`SELECT count(*)::int AS n FROM replies WHERE status = 'received' AND lease_until > now() + interval '5 minutes'`.execute(s.db);
    expect(held.rows[0]!.n).toBe(PER_KIND);
  });
});
