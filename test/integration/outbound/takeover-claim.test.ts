/**
 * Taking over queued messages: a daemon claims the unowned ones and those of daemons whose
 * heartbeat stopped, never a live daemon's nor its own, and it finds a dead owner's messages
 * among a live daemon's backlog. Unowned and dead daemons' messages are ranked together
 * (priority, then age), though each kind is read by its own index.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshSchemaPerTest } from '../../support/schema-per-test.ts';
import { insertMessages } from '../../../src/store/messages.ts';
import { claimUnfinished } from '../../../src/store/claims.ts';
import type { RoutedMessage } from '../../../src/domain/routed-message.ts';

const s = freshSchemaPerTest();

const message = (id: string): RoutedMessage => ({ id, to: `+1415555${id.replace(/\D/g, '').padStart(4, '0')}`, text: 'hi', route: 'default', dlr: true, priority: 0 });

async function queueFor(owner: string | null, ids: readonly string[]): Promise<void> {
  await insertMessages(s.db, owner ?? 'nobody', ids.map(message));
  if (owner === null) await sql`UPDATE messages SET owner = NULL WHERE id = ANY (${[...ids]}::text[])`.execute(s.db);
}

async function heartbeat(name: string, ageSeconds: number): Promise<void> {
  await sql`INSERT INTO daemons (name, host, pid, heartbeat_at) VALUES (${name}, 'h', 1, now() - make_interval(secs => ${ageSeconds}))`.execute(s.db);
}

describe('claimUnfinished', () => {
  it("takes the unowned and a dead daemon's queued messages, never a live daemon's or its own", async () => {
    const backlog = Array.from({ length: 300 }, (_, i) => `live-${i}`);
    await queueFor('live', backlog);
    await queueFor('me', ['me-1', 'me-2']);
    await queueFor('dead', ['dead-1', 'dead-2', 'dead-3']);
    await queueFor('never-beat', ['never-1']);
    await queueFor(null, ['free-1']);
    await heartbeat('live', 1);
    await heartbeat('me', 1);
    await heartbeat('dead', 60);

    const claimed = await claimUnfinished(s.db, 'me', 5_000, 100);
    expect(claimed.map((c) => c.message.id).sort()).toEqual(['dead-1', 'dead-2', 'dead-3', 'free-1', 'never-1']);
    const owners = await sql<{ owner: string; n: string }>`
      SELECT owner, count(*) AS n FROM messages GROUP BY owner ORDER BY owner`.execute(s.db);
    expect(owners.rows.map((r) => [r.owner, Number(r.n)])).toEqual([
      ['live', 300],
      ['me', 7],
    ]);
    // Claiming again finds nothing: its own are never handed out twice.
    expect(await claimUnfinished(s.db, 'me', 5_000, 100)).toEqual([]);
  });

  it('takes no more than the limit, highest priority and oldest first', async () => {
    await queueFor('dead', ['a1', 'a2', 'a3']);
    await sql`UPDATE messages SET priority = 1 WHERE id = 'a3'`.execute(s.db);
    // One insert gives them one created_at: set apart so that "oldest first" is decided.
    await sql`UPDATE messages SET created_at = now() - make_interval(secs => 10 - ord)
      FROM unnest(ARRAY['a1', 'a2', 'a3']) WITH ORDINALITY AS v(id, ord) WHERE messages.id = v.id`.execute(s.db);
    const first = await claimUnfinished(s.db, 'me', 5_000, 2);
    expect(first.map((c) => c.message.id)).toEqual(['a3', 'a1']);
    const rest = await claimUnfinished(s.db, 'me', 5_000, 2);
    expect(rest.map((c) => c.message.id)).toEqual(['a2']);
  });

  it("ranks the unowned and a dead daemon's messages together, and leaves held ones to claimDue", async () => {
    await queueFor('dead', ['d1', 'd2']);
    await queueFor(null, ['u1', 'u2']);
    await queueFor(null, ['held']);
    await heartbeat('dead', 60);
    await sql`UPDATE messages SET send_at = now() + interval '1 hour' WHERE id = 'held'`.execute(s.db);
    await sql`UPDATE messages SET priority = 1 WHERE id IN ('d2', 'u2')`.execute(s.db);
    await sql`UPDATE messages SET created_at = now() - make_interval(secs => 10 - ord)
      FROM unnest(ARRAY['u2', 'd2', 'd1', 'u1']) WITH ORDINALITY AS v(id, ord) WHERE messages.id = v.id`.execute(s.db);
    const first = await claimUnfinished(s.db, 'me', 5_000, 3);
    expect(first.map((c) => c.message.id)).toEqual(['u2', 'd2', 'd1']);
    const rest = await claimUnfinished(s.db, 'me', 5_000, 3);
    expect(rest.map((c) => c.message.id)).toEqual(['u1']);
    expect(await claimUnfinished(s.db, 'me', 5_000, 3)).toEqual([]);
  });
});
