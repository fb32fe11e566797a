/**
 * Reading what Parley did, for the operations tests: message statuses in Postgres, status events
 * on the events stream, and the submit_sm a simulator received.
 */
import type { Harness } from './daemon.ts';
import type { Simulator } from '../../src/simulator/index.ts';

export interface StatusEventSeen {
  readonly id: string;
  readonly status: string;
  readonly previous: string | null;
  readonly error: { code: string; reason: string } | null;
}

/** The message.status events on the events stream, oldest first. */
export async function statusEvents(h: Harness): Promise<StatusEventSeen[]> {
  const entries = (await h.redis.xrange(h.keys.events, '-', '+')) as [string, string[]][];
  return entries
    .map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? '{}') as StatusEventSeen & { type?: string })
    .filter((e) => e.type === 'message.status');
}

/** Status of each message by id. */
export async function statuses(h: Harness, ids: readonly string[]): Promise<Record<string, string | undefined>> {
  if (ids.length === 0) return {};
  const rows = await h.schema.db.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute();
  const by = new Map(rows.map((r) => [r.id, r.status]));
  return Object.fromEntries(ids.map((id) => [id, by.get(id)]));
}

/** Texts of the submit_sm the simulator received (each part's text). */
export function submittedTexts(sim: Simulator): string[] {
  return sim.arrivals.map((a) => a.text);
}
