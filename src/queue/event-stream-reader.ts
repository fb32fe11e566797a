/**
 * Reads the event streams (parley:events, parley:inbound) from given positions, for one follower
 * (an SSE client of the HTTP API). A blocking XREAD holds its connection, so each reader has a
 * connection of its own; positions are Redis stream ids, which is what makes a follower resumable.
 */
import { Redis } from 'ioredis';
import { backoffDelay } from '../lib/backoff.ts';

export interface StreamPosition {
  readonly stream: string;
  /** The id of the last entry seen ('0-0' for the start of the stream). */
  readonly id: string;
}

export interface ReadEntry {
  readonly stream: string;
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

type RawEntry = [id: string, fields: string[]];

/** A stream id as its two numbers, for ordering entries of different streams. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

export class EventStreamReader {
  private readonly redis: Redis;
  private closed = false;

  constructor(url: string, name: string, onError?: (err: Error) => void) {
    this.redis = new Redis(url, {
      connectionName: name,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => backoffDelay(times, 100, 5_000),
    });
    this.redis.on('error', (err: Error) => onError?.(err));
  }

  /** The id of each stream's latest entry ('0-0' when empty): where a follower starting now begins. */
  async latest(streams: readonly string[]): Promise<StreamPosition[]> {
    return Promise.all(
      streams.map(async (stream) => {
        const last = (await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as RawEntry[];
        return { stream, id: last[0]?.[0] ?? '0-0' };
      }),
    );
  }

  /** The id of each stream's oldest entry still kept (undefined when empty): to tell a follower it fell behind a trim. */
  async oldest(stream: string): Promise<string | undefined> {
    const first = (await this.redis.xrange(stream, '-', '+', 'COUNT', 1)) as RawEntry[];
    return first[0]?.[0];
  }

  /**
   * Entries after the positions, in id order across streams; waits up to `blockMs` when there are
   * none (an empty list then).
   */
  async read(positions: readonly StreamPosition[], count: number, blockMs: number): Promise<ReadEntry[]> {
    const res = (await this.redis.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...positions.map((p) => p.stream),
      ...positions.map((p) => p.id),
    )) as [string, RawEntry[]][] | null;
    const out: ReadEntry[] = [];
    for (const [stream, entries] of res ?? []) {
      for (const [id, list] of entries) {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
        out.push({ stream, id, fields });
      }
    }
    return out.sort((a, b) => compareStreamIds(a.id, b.id));
  }

  /** Ends a read in progress and closes the connection; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.redis.disconnect();
  }
}
