/**
 * The outbound intake stream and the event streams, over Redis Streams.
 *
 * Intake reads through one consumer group shared by every daemon; an entry is acknowledged only
 * after its message is committed to Postgres (or it was dead-lettered), so a daemon that dies
 * mid-batch leaves its entries pending for another to claim.
 */
import type { Redis } from 'ioredis';
import type { StreamKeys } from './keys.ts';

export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface DeadLetter {
  readonly entry: StreamEntry;
  readonly code: string;
  readonly reason: string;
}

type RawEntry = [id: string, fields: string[] | null];

function toEntries(raw: RawEntry[] | null | undefined): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [id, list] of raw ?? []) {
    // An entry deleted (XDEL/XTRIM) while pending comes back with no fields: nothing to deliver,
    // but it must still be acknowledged, so it is passed on empty.
    const fields: Record<string, string> = {};
    if (list) for (let i = 0; i + 1 < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
    out.push({ id, fields });
  }
  return out;
}

/** Trims event streams approximately, so Redis memory stays bounded when no app reads them. */
export const EVENT_STREAM_MAX_LEN = 1_000_000;

export class OutboundStream {
  constructor(
    private readonly redis: Redis,
    /** A connection of its own: a blocking read holds it for up to `blockMs`. */
    private readonly blocking: Redis,
    private readonly keys: StreamKeys,
    private readonly consumer: string,
  ) {}

  /** Creates the consumer group (from the start of the stream) if it does not exist. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.outbound, this.keys.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  /** New entries for this consumer; waits up to blockMs when there are none. */
  async readNew(count: number, blockMs: number): Promise<StreamEntry[]> {
    const res = (await this.blocking.xreadgroup(
      'GROUP', this.keys.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys.outbound, '>',
    )) as [string, RawEntry[]][] | null;
    return toEntries(res?.[0]?.[1]);
  }

  /** Entries this consumer name read before and never acknowledged (a restart with the same name). */
  async readOwnPending(count: number): Promise<StreamEntry[]> {
    const res = (await this.redis.xreadgroup(
      'GROUP', this.keys.group, this.consumer, 'COUNT', count, 'STREAMS', this.keys.outbound, '0',
    )) as [string, RawEntry[]][] | null;
    return toEntries(res?.[0]?.[1]);
  }

  /** Takes over entries another consumer has held unacknowledged for at least minIdleMs. */
  async claimStale(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const res = (await this.redis.xautoclaim(
      this.keys.outbound, this.keys.group, this.consumer, minIdleMs, '0-0', 'COUNT', count,
    )) as [string, RawEntry[], unknown] | null;
    return toEntries(res?.[1]);
  }

  /** Dead-letters the bad entries and acknowledges every settled entry, atomically. */
  async settle(ackIds: readonly string[], dead: readonly DeadLetter[]): Promise<void> {
    if (ackIds.length === 0 && dead.length === 0) return;
    const tx = this.redis.multi();
    for (const d of dead) {
      tx.xadd(
        this.keys.dead, '*',
        'original_id', d.entry.id,
        'payload', d.entry.fields.payload ?? '',
        'entry', JSON.stringify(d.entry.fields),
        'code', d.code,
        'reason', d.reason,
        'at', new Date().toISOString(),
      );
    }
    const ids = [...new Set([...ackIds, ...dead.map((d) => d.entry.id)])];
    if (ids.length > 0) tx.xack(this.keys.outbound, this.keys.group, ...ids);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  /** The stream's length, the entries read but not acknowledged, and those not yet read (lag). */
  async backlog(): Promise<{ length: number; pending: number; lag: number }> {
    const [length, groups] = await Promise.all([
      this.redis.xlen(this.keys.outbound),
      this.redis.xinfo('GROUPS', this.keys.outbound) as Promise<unknown[][]>,
    ]);
    const group = groups.find((g) => g[g.indexOf('name') + 1] === this.keys.group) ?? [];
    const field = (name: string): number => Number(group[group.indexOf(name) + 1] ?? 0);
    return { length, pending: field('pending'), lag: field('lag') };
  }
}

/**
 * Milliseconds since the oldest entry not yet delivered to the consumer group was added (0 when
 * every entry was read). Stream ids start with their Redis time in ms, so the entry after the
 * group's last-delivered-id tells the age. Unlike a count it grows at any traffic level while no
 * daemon reads.
 */
export async function oldestUnreadAgeMs(redis: Redis, keys: StreamKeys, now = Date.now()): Promise<number> {
  let lastDelivered = '0-0';
  try {
    const groups = (await redis.xinfo('GROUPS', keys.outbound)) as unknown[][];
    const group = groups.find((g) => g[g.indexOf('name') + 1] === keys.group);
    if (group) lastDelivered = String(group[group.indexOf('last-delivered-id') + 1] ?? '0-0');
  } catch (err) {
    // No stream yet: nothing is waiting.
    if (String((err as Error).message).includes('no such key')) return 0;
    throw err;
  }
  const next = (await redis.xrange(keys.outbound, `(${lastDelivered}`, '+', 'COUNT', 1)) as [string, string[]][];
  const first = next[0]?.[0];
  if (!first) return 0;
  return Math.max(0, now - Number(first.split('-')[0]));
}

/** Puts one message on the outbound stream (what `parley send` and apps do). */
export async function addOutbound(redis: Redis, keys: StreamKeys, payload: object): Promise<string> {
  const id = await redis.xadd(keys.outbound, '*', 'payload', JSON.stringify(payload));
  return id as string;
}

/** Appends events (JSON in the field `event`) to a stream in one round trip. */
export async function publishEvents(redis: Redis, stream: string, events: readonly object[]): Promise<void> {
  if (events.length === 0) return;
  const p = redis.pipeline();
  for (const e of events) p.xadd(stream, 'MAXLEN', '~', EVENT_STREAM_MAX_LEN, '*', 'event', JSON.stringify(e));
  const results = await p.exec();
  const failed = results?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

/** One entry of the dead-letter stream, as `parley dead-letters list` shows it. */
export interface DeadLetterEntry {
  readonly id: string;
  readonly originalId: string;
  readonly payload: string;
  readonly code: string;
  readonly reason: string;
  readonly at: string;
}

function deadLetterOf(id: string, list: string[]): DeadLetterEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) f[list[i] as string] = list[i + 1] as string;
  return { id, originalId: f.original_id ?? '', payload: f.payload ?? '', code: f.code ?? '', reason: f.reason ?? '', at: f.at ?? '' };
}

/** Dead letters, oldest first, from `after` (exclusive) on. */
export async function listDeadLetters(redis: Redis, keys: StreamKeys, count: number, after?: string): Promise<DeadLetterEntry[]> {
  const raw = (await redis.xrange(keys.dead, after === undefined ? '-' : `(${after}`, '+', 'COUNT', count)) as [string, string[]][];
  return raw.map(([id, list]) => deadLetterOf(id, list));
}

/**
 * Puts dead letters back on the outbound stream (with `payload` replacing a letter's own when
 * given) and removes them from the dead-letter stream, each in one MULTI: a letter is either
 * still dead or queued again, never both nor neither. One that fails again is dead-lettered anew
 * by intake, with its new reason. Returns the new outbound entry id per dead letter id; ids not
 * found are left out.
 */
export async function replayDeadLetters(redis: Redis, keys: StreamKeys, ids: readonly string[], payload?: string): Promise<Map<string, string>> {
  const replayed = new Map<string, string>();
  for (const id of ids) {
    const found = (await redis.xrange(keys.dead, id, id)) as [string, string[]][];
    const entry = found[0];
    if (!entry) continue;
    const letter = deadLetterOf(entry[0], entry[1]);
    const results = await redis.multi().xadd(keys.outbound, '*', 'payload', payload ?? letter.payload).xdel(keys.dead, id).exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    replayed.set(id, String(results?.[0]?.[1]));
  }
  return replayed;
}
