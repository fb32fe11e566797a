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
