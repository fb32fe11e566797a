/**
 * What a batch of replies reads before it is handled (inbound/conversations.ts), in one statement:
 * the sessions the replies join (extended, or opened), the message each reply answers, and who of
 * them is opted out. Three statements on three connections did this before: one round trip in
 * place of three, on a path every reply takes, where at light load each batch is a reply or two.
 */
import { sql } from 'kysely';
import { batchArray } from './batch-array.ts';
import { GENERIC_PLAN } from './generic-plans.ts';
import type { Db } from './db.ts';
import { answeredMessages, joinedSessions } from './conversations.ts';
import { blockedAmong, blockedKeys } from './opt-outs.ts';
import { customerPairKey, type AnsweredMessage, type ConversationView, type ReplyBatchReads } from '../domain/conversation.ts';

interface SessionJson {
  id: string;
  customer: string;
  our_number: string;
  state: string | null;
  tags: Record<string, unknown>;
  expires_at: string;
  assigned_to: string | null;
  opened: boolean;
}

export async function readReplyBatch(
  db: Db,
  items: readonly { key: string; customer: string; ourNumber: string; before: Date }[],
  ttlSeconds: number,
): Promise<ReplyBatchReads> {
  const conversations = new Map<string, ConversationView>();
  const answered = new Map<string, AnsweredMessage>();
  if (items.length === 0) return { conversations, answered, blocked: new Set() };
  const pairs = [...new Map(items.map((i) => [customerPairKey(i.customer, i.ourNumber), { customer: i.customer, ourNumber: i.ourNumber }])).values()];
  // One row of three JSON arrays: the parts have different columns. JSON keeps the ids text
  // (conversations' are bigint) and the times ISO strings, read back below.
  const row = (
    await sql<{
      sessions: SessionJson[] | null;
      answered: { key: string; id: string; replies: AnsweredMessage['replies']; metadata: AnsweredMessage['metadata']; survey: AnsweredMessage['survey'] }[] | null;
      blocked: { customer: string; our_number: string }[] | null;
    }>`
      ${GENERIC_PLAN}WITH batch AS (
        SELECT v.customer, v.our_number
        FROM unnest(${batchArray(pairs.map((p) => p.customer), 'text[]')}, ${pairs.map((p) => p.ourNumber)}::text[]) AS v(customer, our_number)
      ), ${joinedSessions(sql`batch`, ttlSeconds)}, answered AS (${answeredMessages(items)}
      ), blocked AS (${blockedAmong(pairs)})
      SELECT
        (SELECT json_agg(s) FROM (
          SELECT j.id::text AS id, j.customer, j.our_number, j.state, j.tags, j.expires_at, j.assigned_to, false AS opened FROM joined j
          UNION ALL
          SELECT n.id::text, n.customer, n.our_number, n.state, n.tags, n.expires_at, n.assigned_to, true FROM opened n) s) AS sessions,
        (SELECT json_agg(a) FROM answered a) AS answered,
        (SELECT json_agg(b) FROM blocked b) AS blocked`.execute(db)
  ).rows[0]!;
  for (const r of row.sessions ?? []) {
    conversations.set(customerPairKey(r.customer, r.our_number), {
      id: r.id,
      opened: r.opened,
      state: r.state,
      tags: r.tags,
      expiresAt: new Date(r.expires_at),
      assignedTo: r.assigned_to,
    });
  }
  for (const a of row.answered ?? []) answered.set(a.key, { id: a.id, replies: a.replies, metadata: a.metadata, survey: a.survey });
  return { conversations, answered, blocked: blockedKeys(row.blocked ?? []) };
}
