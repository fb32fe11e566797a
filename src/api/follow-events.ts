/**
 * GET /v1/events: Server-Sent Events of status changes (parley:events) and customer messages
 * (parley:inbound), read straight from the Redis streams. Each event's id is the pair of stream
 * positions after it, `<events id>,<inbound id>`, so a client that reconnects with Last-Event-ID
 * resumes exactly where it stopped: nothing lost, nothing repeated, whichever stream moved.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { Backoff } from '../lib/backoff.ts';
import { sleep } from '../lib/timeout.ts';
import { describeError } from '../lib/errors.ts';
import { isTransientFault } from '../lib/faults.ts';

/** What a follower needs of the streams (queue/event-stream-reader.ts). */
export interface EventReader {
  latest(streams: readonly string[]): Promise<{ stream: string; id: string }[]>;
  oldest(stream: string): Promise<string | undefined>;
  read(
    positions: readonly { stream: string; id: string }[],
    count: number,
    blockMs: number,
  ): Promise<{ stream: string; id: string; fields: Readonly<Record<string, string>> }[]>;
  close(): void;
}

export interface EventStreams {
  /** parley:events (message.status). */
  readonly events: string;
  /** parley:inbound (message.inbound). */
  readonly inbound: string;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Parses `<events id>,<inbound id>`; undefined when it is not that. */
export function parseEventId(value: string): { events: string; inbound: string } | undefined {
  const [events, inbound, ...rest] = value.trim().split(',');
  if (rest.length > 0 || events === undefined || inbound === undefined) return undefined;
  if (!STREAM_ID.test(events) || !STREAM_ID.test(inbound)) return undefined;
  return { events, inbound };
}

export function formatEventId(positions: { events: string; inbound: string }): string {
  return `${positions.events},${positions.inbound}`;
}

/** Earlier in the stream than `b`. */
function before(a: string, b: string): boolean {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return BigInt(am) < BigInt(bm) || (am === bm && BigInt(as) < BigInt(bs));
}

export interface FollowOptions {
  readonly reader: EventReader;
  readonly streams: EventStreams;
  /** From Last-Event-ID; absent: from now on. */
  readonly resumeFrom?: { events: string; inbound: string };
  readonly logger: Logger;
  /** Longest a read waits before a keep-alive comment goes out. */
  readonly keepAliveMs?: number;
  /** Ends the follow (the client went away, or the server is closing). */
  readonly signal: AbortSignal;
  /** Called once the headers are out. */
  onOpen?(): void;
}

/** Streams events to one client until it goes away; resolves with how many were sent. */
export async function followEvents(res: ServerResponse, options: FollowOptions): Promise<number> {
  const { reader, streams, signal } = options;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  let sent = 0;
  const write = async (chunk: string): Promise<void> => {
    if (res.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  const onAbort = (): void => reader.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    let positions: { events: string; inbound: string };
    if (options.resumeFrom) {
      positions = { ...options.resumeFrom };
    } else {
      // '$' would be re-evaluated on every read, losing what one stream got while the other was
      // being delivered: start from the concrete latest ids instead.
      const latest = await reader.latest([streams.events, streams.inbound]);
      positions = { events: latest[0]?.id ?? '0-0', inbound: latest[1]?.id ?? '0-0' };
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    options.onOpen?.();
    // The ready event carries the starting position: a client that drops before any event still
    // resumes from here.
    await write(`retry: 1000\nid: ${formatEventId(positions)}\nevent: ready\ndata: {}\n\n`);
    if (options.resumeFrom) {
      for (const [name, stream, id] of [
        ['events', streams.events, positions.events],
        ['inbound', streams.inbound, positions.inbound],
      ] as const) {
        if (id === '0-0') continue;
        const oldest = await reader.oldest(stream);
        // Entries after the client's position were trimmed away (the streams are capped).
        if (oldest !== undefined && before(id, oldest)) {
          await write(`event: gap\ndata: ${JSON.stringify({ stream: name, resumed_from: id, oldest_kept: oldest })}\n\n`);
        }
      }
    }
    const backoff = new Backoff(200, 5_000);
    while (!signal.aborted) {
      let entries;
      try {
        entries = await reader.read(
          [
            { stream: streams.events, id: positions.events },
            { stream: streams.inbound, id: positions.inbound },
          ],
          100,
          keepAliveMs,
        );
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        if (!isTransientFault(err)) {
          // Not Redis being away: retrying would fail the same way. The client is told and may reconnect.
          options.logger.error({ err: describeError(err) }, 'reading the event streams for a follower failed; ending the stream');
          await write(`event: error\ndata: ${JSON.stringify({ code: 'events_unavailable', reason: describeError(err) })}\n\n`);
          break;
        }
        options.logger.warn({ err: describeError(err) }, 'reading the event streams for a follower failed; retrying');
        await sleep(backoff.next(), signal);
        continue;
      }
      if (entries.length === 0) {
        await write(': keep-alive\n\n');
        continue;
      }
      for (const e of entries) {
        const type = e.stream === streams.events ? 'message.status' : 'message.inbound';
        if (e.stream === streams.events) positions.events = e.id;
        else positions.inbound = e.id;
        // One data line per line of the entry (SSE joins them back with newlines).
        const data = (e.fields.event ?? '{}').split('\n').map((line) => `data: ${line}`).join('\n');
        await write(`id: ${formatEventId(positions)}\nevent: ${type}\n${data}\n\n`);
        sent++;
        if (signal.aborted) break;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.close();
  }
  return sent;
}
