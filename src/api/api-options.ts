/** What the API server is given: the store it reads and changes, intake, the event streams, its observer. */
import type { Logger } from '../lib/logger.ts';
import type { ApiTokenConfig } from '../config/types.ts';
import type { OutboundMessage } from '../domain/message.ts';
import type { MessageTimeline } from '../domain/timeline.ts';
import type {
  ConversationCursor,
  ConversationFilter,
  ConversationPage,
  ConversationSummary,
  ConversationThread,
  HandlingResult,
} from '../domain/conversation.ts';
import type { EventReader, EventStreams } from './follow-events.ts';

/** What the API needs of the store; main.ts binds these to Postgres. */
export interface ApiStore {
  readMessageTimeline(id: string): Promise<MessageTimeline | undefined>;
  readMessageStatus(id: string): Promise<{ status: string; errorCode: string | null; errorReason: string | null } | undefined>;
  listConversations(filter: ConversationFilter, limit: number, after?: ConversationCursor): Promise<ConversationPage>;
  readConversationSummary(id: string): Promise<ConversationSummary | undefined>;
  readConversationThread(id: string, limit: number): Promise<ConversationThread | undefined>;
  assignConversation(id: string, agent: string): Promise<HandlingResult>;
  closeConversation(id: string): Promise<HandlingResult>;
  handBackConversation(id: string): Promise<HandlingResult>;
  /** Before an agent's answer: a conversation past its window (not closed, not superseded) is extended. */
  reopenForAnswer(id: string): Promise<void>;
}

export interface ApiObserver {
  onRequest?(operation: string, status: number, seconds: number): void;
  onEventClients?(count: number): void;
}

export interface ApiServerOptions {
  readonly tokens: readonly ApiTokenConfig[];
  readonly rateLimit: number;
  readonly rateBurst: number;
  readonly store: ApiStore;
  /** Validated messages into intake: routed, checked against opt-outs, stored, dispatched. */
  admit(messages: readonly OutboundMessage[]): Promise<{ inserted: Set<string>; rejected: { id: string; code: string; reason: string }[] }>;
  /** A reader of the event streams for one follower (its own Redis connection). */
  openEventReader(): EventReader;
  readonly streams: EventStreams;
  readonly logger: Logger;
  readonly observer?: ApiObserver;
  /** Followers of /v1/events at once; more are refused with 503. Default 64. */
  readonly maxEventClients?: number;
  /** Keep-alive interval of /v1/events (tests shorten it). Default 15 s. */
  readonly eventKeepAliveMs?: number;
}
