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

/** Redis answers NOGROUP when the stream or its consumer group is gone (Redis lost its memory). */
function isNoGroup(err: unknown): boolean {
  return /NOGROUP/.test(String((err as Error | null)?.message ?? err));
}

export class OutboundStream {
  constructor(
    private readonly redis: Redis,
    /** A connection of its own: a blocking read holds it for up to `blockMs`. */
    private readonly blocking: Redis,
    private readonly keys: StreamKeys,
    private readonly consumer: string,
    /**
     * Told when the consumer group had to be recreated: Redis lost its memory (a restart without
     * persistence, a failover to an empty replica) or someone deleted the group.
     */
    private readonly onGroupLost?: (detail: string) => void,
  ) {}

  /**
   * Runs a group command; on NOGROUP recreates the group (from the start of the stream, creating
   * the stream when it is gone) and runs it once more. Entries read again that were committed
   * before are recognised by their message ids at insert and only acknowledged.
   */
  private async inGroup<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (!isNoGroup(err)) throw err;
      await this.ensureGroup();
      this.onGroupLost?.(`stream ${this.keys.outbound} or its consumer group ${this.keys.group} was gone (${(err as Error).message}); recreated from the start of the stream`);
      return command();
    }
  }

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
    const res = (await this.inGroup(() =>
      this.blocking.xreadgroup('GROUP', this.keys.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys.outbound, '>'),
    )) as [string, RawEntry[]][] | null;
    return toEntries(res?.[0]?.[1]);
  }

  /** Entries this consumer name read before and never acknowledged (a restart with the same name). */
  async readOwnPending(count: number): Promise<StreamEntry[]> {
    const res = (await this.inGroup(() =>
      this.redis.xreadgroup('GROUP', this.keys.group, this.consumer, 'COUNT', count, 'STREAMS', this.keys.outbound, '0'),
    )) as [string, RawEntry[]][] | null;
    return toEntries(res?.[0]?.[1]);
  }

  /** Takes over entries another consumer has held unacknowledged for at least minIdleMs. */
  async claimStale(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const res = (await this.inGroup(() =>
      this.redis.xautoclaim(this.keys.outbound, this.keys.group, this.consumer, minIdleMs, '0-0', 'COUNT', count),
    )) as [string, RawEntry[], unknown] | null;
    return toEntries(res?.[1]);
  }

  /**
   * Takes over the entries another consumer holds unacknowledged, whatever their idle time: that
   * consumer is a daemon declared dead by its heartbeat, so its entries need not wait `claim_idle`.
   * Its name stays in the group: deleting it could drop entries it read had it come back meanwhile.
   */
  async claimFrom(consumer: string, count: number): Promise<StreamEntry[]> {
    const pending = (await this.redis.xpending(this.keys.outbound, this.keys.group, '-', '+', count, consumer)) as [string, string, number, number][];
    if (pending.length === 0) return [];
    const res = (await this.redis.xclaim(
      this.keys.outbound, this.keys.group, this.consumer, 0, ...pending.map(([id]) => id),
    )) as RawEntry[] | null;
    return toEntries(res);
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
  const args: (string | number)[] = [EVENT_STREAM_MAX_LEN];
  for (const e of events) args.push(JSON.stringify(e));
  await eventAppender(redis).parleyAppendEvents(stream, ...args);
}

/**
 * Appends each event as its own entry (field `event`), in order, in one command: a batch was one
 * XADD per event, and the client's work per command (its object, promise and reply) cost more
 * than the event itself. A script that fails part-way keeps the entries before the failure, as a
 * pipeline did, and the batch is retried whole: a consumer may see an event twice, never lose one.
 */
const APPEND_EVENTS = `
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i])
end
return #ARGV - 1`;

interface EventAppender {
  parleyAppendEvents(stream: string, ...args: (string | number)[]): Promise<number>;
}

const appenders = new WeakSet<Redis>();

function eventAppender(redis: Redis): EventAppender {
  if (!appenders.has(redis)) {
    redis.defineCommand('parleyAppendEvents', { numberOfKeys: 1, lua: APPEND_EVENTS });
    appenders.add(redis);
  }
  return redis as unknown as EventAppender;
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

/**
 * Trims the outbound stream behind its slowest consumer group: entries every group has read and
 * acknowledged are deleted (exact XTRIM MINID: it runs every retention.interval, not per entry).
 * The bound is, over every group, its oldest pending entry or else the entry after its
 * last-delivered-id; nothing is trimmed while there is no group. Returns the entries deleted.
 */
export async function trimOutbound(redis: Redis, keys: StreamKeys): Promise<number> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo('GROUPS', keys.outbound)) as unknown[][];
  } catch (err) {
    if (String((err as Error).message).includes('no such key')) return 0;
    throw err;
  }
  if (groups.length === 0) return 0;
  let bound: [number, number] | undefined;
  const older = (a: [number, number], b: [number, number]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const parse = (id: string): [number, number] => {
    const [ms, seq] = id.split('-');
    return [Number(ms), Number(seq ?? 0)];
  };
  for (const g of groups) {
    const name = String(g[g.indexOf('name') + 1]);
    const pendingCount = Number(g[g.indexOf('pending') + 1] ?? 0);
    let keep: [number, number];
    if (pendingCount > 0) {
      const summary = (await redis.xpending(keys.outbound, name)) as [number, string | null, string | null, unknown];
      keep = parse(String(summary[1]));
    } else {
      const last = parse(String(g[g.indexOf('last-delivered-id') + 1] ?? '0-0'));
      keep = [last[0], last[1] + 1];
    }
    if (bound === undefined || older(keep, bound)) bound = keep;
  }
  if (bound === undefined || (bound[0] === 0 && bound[1] <= 1)) return 0;
  return Number(await redis.xtrim(keys.outbound, 'MINID', `${bound[0]}-${bound[1]}`));
}

/** Trims a stream to about `maxLen` entries (XTRIM MAXLEN ~); returns the entries deleted. */
export async function trimToLength(redis: Redis, stream: string, maxLen: number): Promise<number> {
  return Number(await redis.xtrim(stream, 'MAXLEN', '~', maxLen));
}

/**
 * Deletes the entries of `stream` for which `matches(fields)` holds, reading it in pages of
 * 1,000 (XRANGE) and deleting each page's matches (XDEL); returns how many were deleted. For
 * erasing one customer (`parley purge`): a CLI command, not a hot path.
 */
export async function deleteMatchingEntries(redis: Redis, stream: string, matches: (fields: Readonly<Record<string, string>>) => boolean): Promise<number> {
  let deleted = 0;
  let after = '-';
  for (;;) {
    const page = (await redis.xrange(stream, after, '+', 'COUNT', 1000)) as [string, string[]][];
    if (page.length === 0) return deleted;
    const doomed = toEntries(page).filter((e) => matches(e.fields)).map((e) => e.id);
    if (doomed.length > 0) deleted += Number(await redis.xdel(stream, ...doomed));
    if (page.length < 1000) return deleted;
    after = `(${page[page.length - 1]![0]}`;
  }
}
