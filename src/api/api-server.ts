/**
 * The HTTP API (/v1) and the agent inbox (/inbox), on a listener of their own (`api.listen`, off
 * by default). Every operation needs a bearer token with the operation's scope; each token has a
 * request rate; every request is logged (method, path, status, token, time), never its body.
 *
 * Sending goes through the same validator as the outbound stream (domain/message.ts) and the same
 * intake (routing, opt-outs, one insert keyed by the message id): an id sent over HTTP and over the
 * stream is stored, and sent, once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/logger.ts';
import { describeError } from '../lib/errors.ts';
import { isTransientFault } from '../lib/faults.ts';
import type { ApiScope, ApiTokenConfig } from '../config/types.ts';
import { parseOutboundPayload, type OutboundMessage } from '../domain/message.ts';
import { normaliseNumber, normaliseSender } from '../domain/address.ts';
import type { MessageTimeline } from '../domain/timeline.ts';
import type {
  ConversationCursor,
  ConversationFilter,
  ConversationPage,
  ConversationStatus,
  ConversationSummary,
  ConversationThread,
  HandlingResult,
} from '../domain/conversation.ts';
import { ApiAuth, bearerOf, type ApiCaller } from './api-auth.ts';
import { toApiJson } from './json.ts';
import { followEvents, parseEventId, type EventReader, type EventStreams } from './follow-events.ts';
import { OPENAPI } from './openapi.ts';
import { InboxFiles } from './inbox-files.ts';

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

/** A refusal: status, a stable code and a reason a person can act on. */
class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

interface Call {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly params: readonly string[];
  readonly caller: ApiCaller;
}

/** An operation of the API as the OpenAPI document names it (a test keeps the two in step). */
export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** The OpenAPI path template; `{id}` is one path segment. */
  readonly path: string;
  /** The OpenAPI operationId; also the metrics label. */
  readonly id: string;
  /** The scope a token needs; undefined: any valid token. */
  readonly scope: ApiScope | undefined;
}

interface Operation extends ApiRoute {
  handle(call: Call): Promise<void>;
}

/** Every operation the API answers (besides /v1/openapi.json and the inbox's files). */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/v1/token', id: 'getToken', scope: undefined },
  { method: 'POST', path: '/v1/messages', id: 'sendMessage', scope: 'send' },
  { method: 'GET', path: '/v1/messages/{id}', id: 'getMessage', scope: 'read' },
  { method: 'GET', path: '/v1/conversations', id: 'listConversations', scope: 'read' },
  { method: 'GET', path: '/v1/conversations/{id}', id: 'getConversation', scope: 'read' },
  { method: 'POST', path: '/v1/conversations/{id}/messages', id: 'answerConversation', scope: 'agent' },
  { method: 'POST', path: '/v1/conversations/{id}/assign', id: 'assignConversation', scope: 'agent' },
  { method: 'POST', path: '/v1/conversations/{id}/close', id: 'closeConversation', scope: 'agent' },
  { method: 'POST', path: '/v1/conversations/{id}/handback', id: 'handBackConversation', scope: 'agent' },
  { method: 'GET', path: '/v1/events', id: 'followEvents', scope: 'read' },
];

const patternOf = (path: string): RegExp => new RegExp(`^${path.replace(/\{id\}/g, '([^/]+)')}$`);

/** Largest request body: a 255-part text written as \u escapes is well under it. */
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const THREAD_LIMIT = 200;
const MAX_AGENT_NAME = 64;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(toApiJson(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(text);
}

/**
 * The path as logged: a token given as access_token is never written out, nor a customer's number
 * (personal data, kept out of logs as the dead-letter reasons keep it out).
 */
function loggedPath(url: URL): string {
  const q = new URLSearchParams(url.search);
  for (const hidden of ['access_token', 'customer']) if (q.has(hidden)) q.set(hidden, '***');
  const s = q.toString();
  return s ? `${url.pathname}?${s}` : url.pathname;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiRefusal(415, 'unsupported_media_type', `send the body as JSON with "Content-Type: application/json" (got ${JSON.stringify(type || 'none')})`);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new ApiRefusal(413, 'payload_too_large', `the body may be at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiRefusal(413, 'payload_too_large', `the body may be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body (an empty body is `{}`), refused with invalid_json otherwise. */
async function readObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return {};
  const text = await readBody(req);
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ApiRefusal(400, 'invalid_json', 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiRefusal(400, 'invalid_json', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

function encodeCursor(c: ConversationCursor): string {
  return Buffer.from(JSON.stringify([c.activity, c.id])).toString('base64url');
}

function decodeCursor(text: string): ConversationCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && /^\d{1,19}$/.test(v[1]) && !Number.isNaN(Date.parse(v[0]))) {
      return { activity: v[0], id: v[1] };
    }
  } catch {
    // Falls through to the refusal.
  }
  throw new ApiRefusal(400, 'invalid_cursor', 'cursor is not one this API returned as next_cursor');
}

const STATUSES: readonly ConversationStatus[] = ['open', 'assigned', 'closed', 'expired'];

function conversationFilter(q: URLSearchParams): ConversationFilter {
  const bad = (reason: string): never => {
    throw new ApiRefusal(400, 'invalid_query', reason);
  };
  const known = new Set(['number', 'customer', 'state', 'status', 'tag', 'unanswered', 'cursor', 'limit']);
  for (const key of q.keys()) if (!known.has(key)) bad(`unknown parameter ${JSON.stringify(key)} (known: ${[...known].join(', ')})`);
  const filter: { -readonly [K in keyof ConversationFilter]: ConversationFilter[K] } = {};
  const number = q.get('number');
  if (number !== null) filter.ourNumber = normaliseSender(number) ?? bad('number must be one of our numbers: digits or an alphanumeric sender id');
  const customer = q.get('customer');
  if (customer !== null) filter.customer = normaliseNumber(customer) ?? bad('customer must be an E.164 number or 3-20 digits');
  const state = q.get('state');
  if (state !== null) filter.state = state;
  const status = q.get('status');
  if (status !== null) {
    filter.status = STATUSES.find((s) => s === status) ?? bad(`status must be one of ${STATUSES.join(', ')}`);
  }
  const tag = q.get('tag');
  if (tag !== null) {
    const i = tag.indexOf(':');
    const key = i < 0 ? tag : tag.slice(0, i);
    if (key === '') bad('tag must be key or key:value');
    filter.tag = i < 0 ? { key } : { key, value: tag.slice(i + 1) };
  }
  const unanswered = q.get('unanswered');
  if (unanswered !== null) {
    if (unanswered !== 'true' && unanswered !== 'false') bad('unanswered must be true or false');
    filter.unanswered = unanswered === 'true';
  }
  return filter;
}

function pageLimit(q: URLSearchParams, fallback: number, max: number): number {
  const raw = q.get('limit');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new ApiRefusal(400, 'invalid_query', `limit must be a whole number from 1 to ${max}`);
  return n;
}

function handled(result: HandlingResult): ConversationSummary {
  if (result.ok) return result.conversation;
  throw new ApiRefusal(result.code === 'conversation_not_found' ? 404 : 409, result.code, result.reason);
}

export class ApiServer {
  private readonly server: http.Server;
  private auth: ApiAuth;
  private readonly log: Logger;
  private readonly operations: readonly Operation[];
  private readonly inbox = new InboxFiles();
  private readonly followers = new Set<AbortController>();
  private closing = false;

  constructor(private readonly options: ApiServerOptions) {
    this.log = options.logger.child({ component: 'api' });
    this.auth = new ApiAuth(options.tokens, options.rateLimit, options.rateBurst);
    this.operations = this.buildOperations();
    this.server = http.createServer((req, res) => {
      // serve answers every failure itself (a 500 at worst); what escapes is logged, not left unhandled.
      this.serve(req, res).catch((err: unknown) => this.log.error({ err: describeError(err), url: req.url }, 'API request failed after its answer'));
    });
  }

  /** New tokens and rates (a reload): requests from now on are checked against them; rates start afresh. */
  reconfigure(tokens: readonly ApiTokenConfig[], rateLimit: number, rateBurst: number): void {
    this.auth = new ApiAuth(tokens, rateLimit, rateBurst);
    // Followers were let in by the old tokens: they are ended, and reconnect (resuming from their
    // Last-Event-ID, nothing lost) only if their token is still good.
    for (const f of this.followers) f.abort();
    this.log.info({ tokens: tokens.map((t) => t.name), followersEnded: this.followers.size }, 'API tokens and rates reloaded');
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Ends every event follower, then closes the listener. */
  async close(): Promise<void> {
    this.closing = true;
    for (const f of this.followers) f.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    let operation = 'unknown';
    let caller: ApiCaller | undefined;
    let refusal: ApiRefusal | undefined;
    let streamed = false;
    try {
      res.setHeader('x-content-type-options', 'nosniff');
      if (url.pathname === '/' || url.pathname === '/inbox' || url.pathname.startsWith('/inbox/')) {
        operation = 'inbox';
        this.serveInbox(req, res, url);
        return;
      }
      if (url.pathname === '/v1/openapi.json') {
        operation = 'getOpenApi';
        if (req.method !== 'GET') throw new ApiRefusal(405, 'method_not_allowed', 'use GET', { allow: 'GET' });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(OPENAPI));
        return;
      }
      const matches = this.operations
        .map((op) => ({ op, m: patternOf(op.path).exec(url.pathname) }))
        .filter((x): x is { op: Operation; m: RegExpExecArray } => x.m !== null);
      if (matches.length === 0) throw new ApiRefusal(404, 'not_found', `no such endpoint: ${url.pathname} (see /v1/openapi.json)`);
      const match = matches.find((x) => x.op.method === req.method);
      if (!match) {
        const allow = matches.map((x) => x.op.method).join(', ');
        throw new ApiRefusal(405, 'method_not_allowed', `${url.pathname} answers ${allow}`, { allow });
      }
      operation = match.op.id;
      // EventSource cannot send headers: /v1/events also takes the token as access_token (never logged).
      const token = bearerOf(req.headers.authorization) ?? (match.op.id === 'followEvents' ? (url.searchParams.get('access_token') ?? undefined) : undefined);
      const outcome = this.auth.authorize(token, match.op.scope);
      if (!outcome.ok) {
        const headers: Record<string, string> = {};
        if (outcome.status === 401) headers['www-authenticate'] = 'Bearer realm="parley"';
        if (outcome.retryAfterS !== undefined) headers['retry-after'] = String(outcome.retryAfterS);
        throw new ApiRefusal(outcome.status, outcome.code, outcome.reason, headers);
      }
      caller = outcome.caller;
      const params = match.m.slice(1).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          throw new ApiRefusal(404, 'not_found', 'the path is not valid percent-encoding');
        }
      });
      // Conversation ids are Postgres bigints: anything else names no conversation.
      if (match.op.path.startsWith('/v1/conversations/{id}') && !/^\d{1,18}$/.test(params[0] ?? '')) {
        throw new ApiRefusal(404, 'conversation_not_found', `there is no conversation ${params[0]}`);
      }
      streamed = match.op.id === 'followEvents';
      await match.op.handle({ req, res, url, params, caller });
    } catch (err) {
      if (err instanceof ApiRefusal) refusal = err;
      else {
        const transient = isTransientFault(err);
        this.log.error({ err: describeError(err), operation }, 'an API request failed');
        refusal = transient
          ? new ApiRefusal(503, 'unavailable', 'Postgres or Redis is not answering; try again shortly', { 'retry-after': '1' })
          : new ApiRefusal(500, 'internal_error', 'the request failed on the server; the log has the reason');
      }
      if (!res.headersSent) sendJson(res, refusal.status, { error: { code: refusal.code, reason: refusal.message } }, refusal.headers);
      else res.end();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = refusal?.status ?? res.statusCode;
      // A stream that opened was counted when its headers went out; one refused is counted here.
      if (!streamed || refusal) this.options.observer?.onRequest?.(operation, status, seconds);
      const entry = {
        method: req.method,
        path: loggedPath(url),
        status,
        operation,
        token: caller?.name,
        remote: req.socket.remoteAddress,
        ms: Math.round(seconds * 1000),
        ...(refusal ? { code: refusal.code } : {}),
      };
      if (refusal && refusal.status >= 500) this.log.warn(entry, 'api request');
      else this.log.info(entry, 'api request');
    }
  }

  private serveInbox(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiRefusal(405, 'method_not_allowed', 'use GET', { allow: 'GET' });
    if (url.pathname === '/' || url.pathname === '/inbox') {
      res.writeHead(302, { location: '/inbox/' }).end();
      return;
    }
    const file = this.inbox.get(url.pathname.slice('/inbox/'.length) || 'index.html');
    if (!file) throw new ApiRefusal(404, 'not_found', `no such file: ${url.pathname}`);
    res
      .writeHead(200, {
        'content-type': file.type,
        'cache-control': 'no-cache',
        // The page talks only to this listener and runs only its own scripts.
        'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
      })
      .end(req.method === 'HEAD' ? undefined : file.body);
  }

  private buildOperations(): Operation[] {
    const o = this.options;
    const route = (id: string): ApiRoute => API_ROUTES.find((r) => r.id === id)!;
    return [
      {
        ...route('getToken'),
        handle: async ({ res, caller }) => sendJson(res, 200, { name: caller.name, scopes: caller.scopes }),
      },
      {
        ...route('sendMessage'),
        handle: async ({ req, res }) => {
          const body = await readBody(req);
          const parsed = parseOutboundPayload(body, () => `h-${randomUUID()}`);
          if (!parsed.ok) throw new ApiRefusal(400, parsed.code, parsed.reason);
          sendJson(res, 202, await this.admitOne(parsed.message));
        },
      },
      {
        ...route('getMessage'),
        handle: async ({ res, params }) => {
          const timeline = await o.store.readMessageTimeline(params[0]!);
          if (!timeline) throw new ApiRefusal(404, 'message_not_found', `there is no message ${params[0]}`);
          sendJson(res, 200, timeline);
        },
      },
      {
        ...route('listConversations'),
        handle: async ({ res, url }) => {
          const q = url.searchParams;
          const filter = conversationFilter(q);
          const limit = pageLimit(q, DEFAULT_PAGE, MAX_PAGE);
          const cursor = q.get('cursor');
          const page = await o.store.listConversations(filter, limit, cursor === null ? undefined : decodeCursor(cursor));
          sendJson(res, 200, { conversations: page.conversations, nextCursor: page.next ? encodeCursor(page.next) : null });
        },
      },
      {
        ...route('getConversation'),
        handle: async ({ res, url, params }) => {
          const limit = pageLimit(url.searchParams, THREAD_LIMIT, 1000);
          const thread = await o.store.readConversationThread(params[0]!, limit);
          if (!thread) throw new ApiRefusal(404, 'conversation_not_found', `there is no conversation ${params[0]}`);
          sendJson(res, 200, thread);
        },
      },
      {
        ...route('answerConversation'),
        handle: async ({ req, res, params, caller }) => {
          const body = await readObject(req);
          const c = await o.store.readConversationSummary(params[0]!);
          if (!c) throw new ApiRefusal(404, 'conversation_not_found', `there is no conversation ${params[0]}`);
          if (c.status === 'closed') {
            throw new ApiRefusal(409, 'conversation_ended', `conversation ${c.id} was closed; the customer's next message opens a new one`);
          }
          // The answer is an ordinary outbound message to the customer from our number, checked by
          // the one validator and sent through intake (opt-outs apply).
          const payload = {
            id: body.id,
            to: c.customer,
            from: c.ourNumber,
            text: body.text,
            priority: 3,
            metadata: { conversation_id: c.id, agent: caller.name },
          };
          const parsed = parseOutboundPayload(JSON.stringify(payload), () => `a-${randomUUID()}`);
          if (!parsed.ok) throw new ApiRefusal(400, parsed.code, parsed.reason);
          // The answer belongs in this thread even when the window passed while the customer waited.
          if (c.status === 'expired') await o.store.reopenForAnswer(c.id);
          sendJson(res, 202, await this.admitOne(parsed.message));
        },
      },
      {
        ...route('assignConversation'),
        handle: async ({ req, res, params, caller }) => {
          const body = await readObject(req);
          let agent = caller.name;
          if (body.agent !== undefined && body.agent !== null) {
            if (typeof body.agent !== 'string' || body.agent.trim() === '' || body.agent.length > MAX_AGENT_NAME) {
              throw new ApiRefusal(400, 'invalid_agent', `"agent" must be a name of 1 to ${MAX_AGENT_NAME} characters`);
            }
            agent = body.agent.trim();
          }
          sendJson(res, 200, handled(await o.store.assignConversation(params[0]!, agent)));
        },
      },
      {
        ...route('closeConversation'),
        handle: async ({ res, params }) => sendJson(res, 200, handled(await o.store.closeConversation(params[0]!))),
      },
      {
        ...route('handBackConversation'),
        handle: async ({ res, params }) => sendJson(res, 200, handled(await o.store.handBackConversation(params[0]!))),
      },
      {
        ...route('followEvents'),
        handle: (call) => this.follow(call),
      },
    ];
  }

  /** Admits one validated message; answers what became of it (a duplicate id is not sent again). */
  private async admitOne(message: OutboundMessage): Promise<object> {
    const { inserted, rejected } = await this.options.admit([message]);
    const refused = rejected[0];
    if (refused) throw new ApiRefusal(400, refused.code, refused.reason);
    const now = await this.options.store.readMessageStatus(message.id);
    return {
      id: message.id,
      duplicate: !inserted.has(message.id),
      status: now?.status ?? 'queued',
      error: now?.errorCode ? { code: now.errorCode, reason: now.errorReason ?? '' } : null,
    };
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
