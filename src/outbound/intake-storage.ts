/**
 * How intake writes a batch of routed messages to the store: a message the store refuses as poison
 * is found by splitting and set aside (the rest is stored now), and a stream entry id reused for a
 * different message (Redis lost its memory) is stored under a new id instead of taken for a re-read.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../lib/logger.ts';
import type { Backoff } from '../lib/backoff.ts';
import { describeError } from '../lib/errors.ts';
import { writeSplittingPoison } from '../lib/split-on-poison.ts';
import type { RoutedMessage } from '../domain/routed-message.ts';
import type { StatusChange } from '../domain/events.ts';

export interface IntakeStore {
  insertMessages(
    queued: readonly RoutedMessage[],
    refused: readonly { message: RoutedMessage; change: StatusChange }[],
  ): Promise<{ inserted: Set<string>; changes: StatusChange[] }>;
  /** Destination and text of stored messages, by id (to tell a re-read entry from a new one that reuses its id). */
  storedContent?(ids: readonly string[]): Promise<Map<string, { to: string; text: string }>>;
}

/**
 * Inserts the batch; a message the store refuses as poison (classifyFault) is found by splitting
 * and returned as unstorable with the store's reason, so the rest of the batch is stored now.
 * Transient faults are waited out with `backoff` (thrown once `signal` says intake is stopping).
 */
export async function storeSplittingPoison(
  store: IntakeStore,
  queued: readonly RoutedMessage[],
  refused: readonly { message: RoutedMessage; change: StatusChange }[],
  context: { readonly log: Logger; readonly backoff: Backoff; readonly signal: AbortSignal },
): Promise<{ inserted: Set<string>; changes: StatusChange[]; unstorable: { id: string; reason: string }[] }> {
  type Row = { readonly queued: RoutedMessage } | { readonly refused: { message: RoutedMessage; change: StatusChange } };
  const rows: Row[] = [...queued.map((m) => ({ queued: m })), ...refused.map((r) => ({ refused: r }))];
  const inserted = new Set<string>();
  const changes: StatusChange[] = [];
  const unstorable: { id: string; reason: string }[] = [];
  await writeSplittingPoison(rows, {
    write: async (chunk) => {
      const result = await store.insertMessages(
        chunk.flatMap((r) => ('queued' in r ? [r.queued] : [])),
        chunk.flatMap((r) => ('refused' in r ? [r.refused] : [])),
      );
      for (const id of result.inserted) inserted.add(id);
      changes.push(...result.changes);
    },
    setAside: async (row, err) => {
      const message = 'queued' in row ? row.queued : row.refused.message;
      const code = (err as { code?: unknown } | null)?.code;
      unstorable.push({ id: message.id, reason: `the store refused this message${typeof code === 'string' ? ` (${code})` : ''}: ${describeError(err)}` });
    },
    onError: (err, items, attempt) => context.log.warn({ err: describeError(err), items, attempt }, 'storing outbound messages failed; retried, or split to find the one that fails'),
    backoff: context.backoff,
    signal: context.signal,
  });
  return { inserted, changes, unstorable };
}

/**
 * An entry whose generated id (`s-<entry id>`) is already stored is normally the same entry read
 * again (after a crash, or the group recreated after Redis lost state) and is not stored twice.
 * But a Redis that lost its memory numbers entries afresh: when its clock is behind the ids it
 * issued before (a failover to a host whose clock lags) or an app gives entry ids itself, a new
 * entry can reuse an old entry's id. Those are told apart by content: a stored message with a
 * different destination or text is another message, and the new one is stored under
 * `s-<entry id>.<hash of destination and text>` (the same on every re-read, so still stored
 * once). A reused id with the same destination and text is taken for a re-read.
 */
export async function storeReusedIds(
  store: IntakeStore,
  log: Logger,
  queued: readonly RoutedMessage[],
  generated: ReadonlySet<string>,
  inserted: ReadonlySet<string>,
): Promise<{ queued: RoutedMessage[]; inserted: Set<string>; changes: StatusChange[] } | undefined> {
  const storedContent = store.storedContent;
  if (!storedContent) return undefined;
  const seen = queued.filter((m) => generated.has(m.id) && !inserted.has(m.id));
  if (seen.length === 0) return undefined;
  const stored = await storedContent(seen.map((m) => m.id));
  const reused = seen.filter((m) => {
    const s = stored.get(m.id);
    return s !== undefined && (s.to !== m.to || s.text !== m.text);
  });
  if (reused.length === 0) return undefined;
  const renamed = reused.map((m) => ({
    ...m,
    id: `${m.id}.${createHash('sha256').update(`${m.to}\0${m.text}`).digest('hex').slice(0, 8)}`,
  }));
  log.warn(
    { entries: renamed.length, ids: renamed.slice(0, 5).map((m) => m.id) },
    'stream entry ids reused for different messages (Redis lost its memory and numbered entries again): stored under new ids',
  );
  const { inserted: stillNew, changes } = await store.insertMessages(renamed, []);
  return { queued: renamed, inserted: stillNew, changes };
}
