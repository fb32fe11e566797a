/**
 * The HTTP API and agent inbox (`api.listen`): sends enter through intake like any message;
 * reads come from Postgres and the event streams.
 */
import { ApiServer } from '../api/api-server.ts';
import { EventStreamReader } from '../queue/event-stream-reader.ts';
import type { Db } from '../store/db.ts';
import * as inboxStore from '../store/inbox.ts';
import { readMessageTimeline } from '../store/timeline.ts';
import type { Intake } from '../outbound/intake.ts';
import type { DaemonContext } from './context.ts';

export interface ApiDeps {
  readonly db: Db;
  readonly admit: Intake['admit'];
  readonly redisError: (err: Error) => void;
}

export function wireApi(ctx: DaemonContext, deps: ApiDeps): ApiServer {
  const { config, metrics, keys } = ctx;
  const { db } = deps;
  return new ApiServer({
    tokens: config.api.tokens,
    rateLimit: config.api.rateLimit,
    rateBurst: config.api.rateBurst,
    store: {
      readMessageTimeline: (id) => readMessageTimeline(db, id),
      readMessageStatus: (id) => inboxStore.readMessageStatus(db, id),
      listConversations: (filter, limit, after) => inboxStore.listConversations(db, filter, limit, after),
      readConversationSummary: (id) => inboxStore.readConversationSummary(db, id),
      readConversationThread: (id, limit) => inboxStore.readConversationThread(db, id, limit),
      assignConversation: (id, agent) => inboxStore.assignConversation(db, id, agent),
      closeConversation: (id) => inboxStore.closeConversation(db, id),
      handBackConversation: (id) => inboxStore.handBackConversation(db, id),
      reopenForAnswer: (id) => inboxStore.reopenForAnswer(db, id, Math.round(config.conversations.ttlMs / 1000)),
    },
    admit: deps.admit,
    openEventReader: () => new EventStreamReader(config.redis.url, `parley:${ctx.consumer}:events`, deps.redisError),
    streams: { events: keys.events, inbound: keys.inbound },
    logger: ctx.log,
    observer: {
      onRequest: (operation, status, seconds) => {
        metrics.apiRequests.inc({ operation, code: String(status) });
        metrics.apiRequestLatency.observe({ operation }, seconds);
      },
      onEventClients: (count) => metrics.apiEventClients.set(count),
    },
  });
}
