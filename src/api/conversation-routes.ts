/**
 * The conversation operations of the agent inbox: list (filters, cursor pages), read a thread,
 * answer, assign, close and hand back.
 */
import type { Mutable } from '../domain/mutable.ts';
import { randomUUID } from 'node:crypto';
import { parseOutboundPayload } from '../domain/message.ts';
import { normaliseNumber, normaliseSender } from '../domain/address.ts';
import type { ConversationCursor, ConversationFilter, ConversationStatus, ConversationSummary, HandlingResult } from '../domain/conversation.ts';
import type { ApiServerOptions } from './api-options.ts';
import { admitOne } from './message-routes.ts';
import { ApiRefusal, readObject, sendJson } from './request.ts';
import { routeOf, type Operation } from './routes.ts';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const THREAD_LIMIT = 200;
const MAX_AGENT_NAME = 64;

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
  const filter: Mutable<ConversationFilter> = {};
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
export function conversationOperations(o: ApiServerOptions): Operation[] {
  return [
    {
      ...routeOf('listConversations'),
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
      ...routeOf('getConversation'),
      handle: async ({ res, url, params }) => {
        const limit = pageLimit(url.searchParams, THREAD_LIMIT, 1000);
        const thread = await o.store.readConversationThread(params[0]!, limit);
        if (!thread) throw new ApiRefusal(404, 'conversation_not_found', `there is no conversation ${params[0]}`);
        sendJson(res, 200, thread);
      },
    },
    {
      ...routeOf('answerConversation'),
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
        sendJson(res, 202, await admitOne(o, parsed.message));
      },
    },
    {
      ...routeOf('assignConversation'),
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
      ...routeOf('closeConversation'),
      handle: async ({ res, params }) => sendJson(res, 200, handled(await o.store.closeConversation(params[0]!))),
    },
    {
      ...routeOf('handBackConversation'),
      handle: async ({ res, params }) => sendJson(res, 200, handled(await o.store.handBackConversation(params[0]!))),
    },
  ];
}
