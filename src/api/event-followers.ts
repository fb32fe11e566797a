/** The followers of /v1/events: admitted up to a limit, each with its own reader, all ended on reload or close. */
import type { Logger } from '../lib/logger.ts';
import type { ApiServerOptions } from './api-options.ts';
import { followEvents, parseEventId } from './follow-events.ts';
import { ApiRefusal, type Call } from './request.ts';
import { routeOf, type Operation } from './routes.ts';

export class EventFollowers {
  private readonly followers = new Set<AbortController>();
  private closing = false;

  constructor(
    private readonly options: ApiServerOptions,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.followers.size;
  }

  /** Ends every follower (they may reconnect, resuming from their Last-Event-ID). */
  endAll(): void {
    for (const f of this.followers) f.abort();
  }

  /** Ends every follower and admits no more. */
  close(): void {
    this.closing = true;
    this.endAll();
  }

  operation(): Operation {
    return { ...routeOf('followEvents'), handle: (call) => this.follow(call) };
  }

  private async follow({ req, res, url, caller }: Call): Promise<void> {
    const o = this.options;
    const header = req.headers['last-event-id'];
    const given = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('last_event_id') ?? undefined;
    const resumeFrom = given === undefined || given === '' ? undefined : parseEventId(given);
    if (given !== undefined && given !== '' && !resumeFrom) {
      throw new ApiRefusal(400, 'invalid_last_event_id', 'Last-Event-ID must be an id this stream sent: "<events stream id>,<inbound stream id>"');
    }
    if (this.closing) throw new ApiRefusal(503, 'unavailable', 'the API is stopping');
    if (this.followers.size >= (o.maxEventClients ?? 64)) {
      throw new ApiRefusal(503, 'too_many_followers', `at most ${o.maxEventClients ?? 64} clients may follow /v1/events at once`, { 'retry-after': '5' });
    }
    const controller = new AbortController();
    this.followers.add(controller);
    o.observer?.onEventClients?.(this.followers.size);
    const started = performance.now();
    res.on('close', () => controller.abort());
    req.socket.setTimeout(0);
    try {
      const sent = await followEvents(res, {
        reader: o.openEventReader(),
        streams: o.streams,
        resumeFrom,
        logger: this.log,
        keepAliveMs: o.eventKeepAliveMs,
        signal: controller.signal,
        onOpen: () => o.observer?.onRequest?.('followEvents', 200, (performance.now() - started) / 1000),
      });
      this.log.info({ token: caller.name, events: sent, seconds: Math.round((performance.now() - started) / 1000) }, 'event follower left');
    } finally {
      this.followers.delete(controller);
      o.observer?.onEventClients?.(this.followers.size);
      res.end();
    }
  }
}
