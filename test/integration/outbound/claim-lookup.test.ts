/**
 * The claim of unfinished work (claimUnfinished, every daemon about once a second) reads only what
 * it may take, however many messages are scheduled for later or queued for a live daemon: it used
 * to read every unowned queued message (held ones included) and, planned on estimates of
 * thousands of unowned queued messages, often every queued message. The release of held messages
 * (claimDue) reads only the due ones nobody claimed: it used to read those already claimed and not
 * yet sent first, more at every batch of a released campaign.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { claimDue, claimDueQuery, claimUnfinished, claimUnfinishedQuery } from '../../../src/store/claims.ts';
import { statementPlan, rowsWorked, scansOf } from '../../support/plans.ts';

const s = freshSchemaPerTest();

const PER_KIND = 20_000;

/** `held`: scheduled a day ahead, or due (from an hour ago, a tenth of a second apart in number order). */
function insertMessages(prefix: string, count: number, status: string, owner: string | null, held: boolean | 'due'): Promise<unknown> {
  return sql`
    INSERT INTO messages (id, to_addr, body, route, priority, dlr, status, created_at, owner, send_at, final_at)
    SELECT ${prefix} || g, '+14155550100', 'text', 'default', 0, true, ${status}, now(), ${owner},
      CASE WHEN ${held === 'due'} THEN now() - interval '1 hour' + make_interval(secs => g / 10.0) WHEN ${held === true} THEN now() + interval '1 day' END,
      CASE WHEN ${status} <> 'queued' THEN now() END
    FROM generate_series(1, ${count}) g`.execute(s.db);
}

describe('claimUnfinished among many scheduled messages and a live daemon\'s backlog', () => {
  it('reads only the messages it takes, planned custom or generic, and takes the right ones', async () => {
    await sql`INSERT INTO daemons (name, host, pid, heartbeat_at) VALUES ('live', 'h', 1, now()), ('me', 'h', 2, now()), ('dead', 'h', 3, now() - interval '1 hour')`.execute(s.db);
    await insertMessages('done-', PER_KIND, 'delivered', null, false);
    await insertMessages('held-', PER_KIND, 'queued', null, true);
    await insertMessages('live-', PER_KIND, 'queued', 'live', false);
    await sql`ANALYZE messages`.execute(s.db);
    // What there is to take: a few unowned (handed back, say) and a stopped daemon's.
    await insertMessages('free-', 5, 'queued', null, false);
    await insertMessages('dead-', 30, 'queued', 'dead', false);

    const rowsRead = async (gone: readonly string[], generic: boolean): Promise<number> =>
      rowsWorked(await statementPlan(s.db, claimUnfinishedQuery('me', gone, 1000), generic), scansOf('messages'));
    // Each taken message: its index entry, its row locked, its row updated. Written as one filter
    // (before 0027), the custom plan read 100,075 rows, and a generic plan of the stopped daemon's
    // claim 40,110.
    for (const generic of [false, true]) {
      expect(await rowsRead([], generic)).toBeLessThanOrEqual(10 * 5);
      expect(await rowsRead(['dead'], generic)).toBeLessThanOrEqual(10 * 35);
    }

    const claimed = await claimUnfinished(s.db, 'me', 5_000, 1000);
    expect(claimed.map((c) => c.message.id).sort()).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `dead-${i + 1}`),
      ...Array.from({ length: 5 }, (_, i) => `free-${i + 1}`),
    ].sort());
    const owners = await sql<{ owner: string | null; held: boolean; n: number }>`
      SELECT owner, send_at IS NOT NULL AS held, count(*)::int AS n FROM messages WHERE status = 'queued' GROUP BY 1, 2 ORDER BY 1, 2`.execute(s.db);
    expect(owners.rows).toEqual([
      { owner: 'live', held: false, n: PER_KIND },
      { owner: 'me', held: false, n: 35 },
      { owner: null, held: true, n: PER_KIND },
    ]);
  });

  it('releases due held messages nobody claimed without reading those claimed and not yet sent, planned custom or generic', async () => {
    // A campaign released an hour ago: this daemon claimed most of it and is still sending.
    await insertMessages('sending-', PER_KIND, 'queued', 'me', 'due');
    await insertMessages('later-', PER_KIND, 'queued', null, true);
    await sql`ANALYZE messages`.execute(s.db);
    await insertMessages('due-', 5, 'queued', null, 'due');

    const now = new Date();
    for (const generic of [false, true]) {
      const plan = await statementPlan(s.db, claimDueQuery('me', now, 500), generic);
      // Through an index of every held message (before 0028): the 20,000 being sent came first, 20,015 rows.
      expect(rowsWorked(plan, scansOf('messages'))).toBeLessThanOrEqual(10 * 5);
    }
    expect((await claimDue(s.db, 'me', now, 500)).map((m) => m.id)).toEqual(['due-1', 'due-2', 'due-3', 'due-4', 'due-5']);
    expect(await claimDue(s.db, 'me', now, 500)).toEqual([]);
  });
});
