/**
 * The OpenAPI 3.0 document of the HTTP API, served at /v1/openapi.json. Written by hand; a test
 * validates it with @apidevtools/swagger-parser and checks that every operation the server answers
 * is described here and nothing more. The message body's schema is generated from the payload's.
 */
import { z } from 'zod';
import { PAYLOAD } from '../domain/payload-schema.ts';

/** The outbound payload as the parser reads it; `text` may be left out only when a campaign gives it. */
const { $schema: _dialect, ...OUTBOUND_MESSAGE } = z.toJSONSchema(PAYLOAD, { target: 'openapi-3.0', io: 'input' });

const error = (description: string): object => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const refusals = {
  '401': error('missing_token or invalid_token'),
  '403': error('insufficient_scope: the token lacks the scope this operation needs'),
  '429': { ...error('rate_limited: the token made more requests than api.rate_limit allows'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
};

const json = (ref: string): object => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });

const conversationId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The conversation id (digits)',
  schema: { type: 'string', pattern: '^\\d{1,19}$' },
};

const handling = (operationId: string, summary: string, description: string, body?: object): object => ({
  post: {
    operationId,
    summary,
    description,
    tags: ['conversations'],
    'x-parley-scope': 'agent',
    parameters: [conversationId],
    ...(body ? { requestBody: { required: false, content: { 'application/json': { schema: body } } } } : {}),
    responses: {
      '200': { description: 'The conversation as it is now', content: json('ConversationSummary') },
      '400': error('invalid_json, invalid_agent, unsupported_media_type'),
      '404': error('conversation_not_found'),
      '409': error('conversation_ended: closed, or past its window'),
      ...refusals,
    },
  },
});

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: 'string', format: 'date-time', nullable: true } as const;
const nullableString = { type: 'string', nullable: true } as const;

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'Parley HTTP API',
    version: '1.0.0',
    description:
      'Send SMS, read messages and conversation threads, follow status changes and customer messages live, ' +
      'and answer customers as a person. Every operation needs a bearer token (api.tokens) with the scope named ' +
      'in x-parley-scope. Errors are JSON: {"error": {"code", "reason"}}.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  tags: [{ name: 'messages' }, { name: 'conversations' }, { name: 'events' }],
  paths: {
    '/v1/token': {
      get: {
        operationId: 'getToken',
        summary: 'The token used: its name and scopes',
        tags: ['messages'],
        responses: {
          '200': { description: 'The token', content: json('Token') },
          ...refusals,
        },
      },
    },
    '/v1/messages': {
      post: {
        operationId: 'sendMessage',
        summary: 'Send a message (the payload of the outbound stream)',
        description:
          'The same payload, validation and idempotency as an entry of parley:outbound: a message whose id was ' +
          'already accepted (over HTTP or the stream) is not sent again and is answered with duplicate: true. ' +
          'A refusal has the code the stream would dead-letter it with.',
        tags: ['messages'],
        'x-parley-scope': 'send',
        requestBody: { required: true, content: json('OutboundMessage') },
        responses: {
          '202': { description: 'Accepted and stored; it is sent from here', content: json('Accepted') },
          '400': error(
            'invalid_json, invalid_id, invalid_to, invalid_from, empty_text, invalid_text, invalid_route, invalid_dlr, ' +
              'invalid_validity, invalid_priority, invalid_conversation, invalid_replies, invalid_metadata, unknown_route, too_many_parts',
          ),
          '413': error('payload_too_large'),
          '415': error('unsupported_media_type: the body must be application/json'),
          ...refusals,
        },
      },
    },
    '/v1/messages/{id}': {
      get: {
        operationId: 'getMessage',
        summary: 'A message as `parley status` shows it: segments, receipts, status history, linked replies',
        tags: ['messages'],
        'x-parley-scope': 'read',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
        responses: {
          '200': { description: 'The timeline', content: json('MessageTimeline') },
          '404': error('message_not_found'),
          ...refusals,
        },
      },
    },
    '/v1/conversations': {
      get: {
        operationId: 'listConversations',
        summary: 'Conversations, latest activity first',
        tags: ['conversations'],
        'x-parley-scope': 'read',
        parameters: [
          { name: 'number', in: 'query', description: 'One of our numbers', schema: { type: 'string' } },
          { name: 'customer', in: 'query', description: 'The customer number (E.164 or digits)', schema: { type: 'string' } },
          { name: 'state', in: 'query', description: 'The state rules set (set_state)', schema: { type: 'string' } },
          { name: 'status', in: 'query', schema: { $ref: '#/components/schemas/ConversationStatus' } },
          { name: 'tag', in: 'query', description: 'key (present) or key:value', schema: { type: 'string' } },
          { name: 'unanswered', in: 'query', description: 'The customer wrote last', schema: { type: 'boolean' } },
          { name: 'cursor', in: 'query', description: 'next_cursor of the previous page', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        ],
        responses: {
          '200': { description: 'A page', content: json('ConversationPage') },
          '400': error('invalid_query, invalid_cursor'),
          ...refusals,
        },
      },
    },
    '/v1/conversations/{id}': {
      get: {
        operationId: 'getConversation',
        summary: 'The thread: messages both ways, receipts, how each customer message was matched',
        tags: ['conversations'],
        'x-parley-scope': 'read',
        parameters: [conversationId, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } }],
        responses: {
          '200': { description: 'The thread, oldest first', content: json('ConversationThread') },
          '400': error('invalid_query'),
          '404': error('conversation_not_found'),
          ...refusals,
        },
      },
    },
    '/v1/conversations/{id}/messages': {
      post: {
        operationId: 'answerConversation',
        summary: "An agent's answer to the customer, from our number of the conversation",
        description:
          'Goes through intake like any message: an opted-out customer gets nothing (status failed, error opted_out). ' +
          'A conversation whose window passed (status expired) is extended, so the answer stays in its thread.',
        tags: ['conversations'],
        'x-parley-scope': 'agent',
        parameters: [conversationId],
        requestBody: { required: true, content: json('AgentAnswer') },
        responses: {
          '202': { description: 'Accepted', content: json('Accepted') },
          '400': error('invalid_json, invalid_id, empty_text, invalid_text, too_many_parts, unsupported_media_type'),
          '404': error('conversation_not_found'),
          '409': error('conversation_ended: the conversation was closed'),
          '413': error('payload_too_large'),
          '415': error('unsupported_media_type'),
          ...refusals,
        },
      },
    },
    '/v1/conversations/{id}/assign': handling(
      'assignConversation',
      'Give the conversation to a person: automation stops answering it',
      'Compliance keywords (STOP, HELP) are still handled. The agent defaults to the token name.',
      { type: 'object', properties: { agent: { type: 'string', minLength: 1, maxLength: 64 } } },
    ),
    '/v1/conversations/{id}/close': handling(
      'closeConversation',
      'End the conversation',
      "Nobody has it any more; the customer's next message opens a new conversation, answered by automation.",
    ),
    '/v1/conversations/{id}/handback': handling('handBackConversation', 'Hand the conversation back to automation', 'Rules answer again.'),
    '/v1/events': {
      get: {
        operationId: 'followEvents',
        summary: 'Server-Sent Events: message.status and message.inbound, as on the Redis streams',
        description:
          'Each event id is "<parley:events id>,<parley:inbound id>"; reconnect with Last-Event-ID (or ' +
          '?last_event_id=) to resume with nothing lost or repeated. The first event, "ready", carries the starting ' +
          'position. "gap" says events were trimmed from a stream before they could be resumed. Clients that cannot ' +
          'send headers (EventSource) may pass the token as ?access_token=.',
        tags: ['events'],
        'x-parley-scope': 'read',
        parameters: [
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } },
          { name: 'last_event_id', in: 'query', schema: { type: 'string' } },
          { name: 'access_token', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          '400': error('invalid_last_event_id'),
          '503': error('too_many_followers'),
          ...refusals,
        },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token whose SHA-256 is in api.tokens' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: { type: 'object', required: ['code', 'reason'], properties: { code: { type: 'string' }, reason: { type: 'string' } } },
        },
      },
      Token: {
        type: 'object',
        properties: { name: { type: 'string' }, scopes: { type: 'array', items: { type: 'string', enum: ['send', 'read', 'agent'] } } },
      },
      // The schema the API validates with (domain/payload-schema.ts), in OpenAPI 3.0's dialect.
      OutboundMessage: OUTBOUND_MESSAGE,
      AgentAnswer: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', minLength: 1 }, id: { type: 'string', maxLength: 64 } },
      },
      Accepted: {
        type: 'object',
        required: ['id', 'duplicate', 'status'],
        properties: {
          id: { type: 'string' },
          duplicate: { type: 'boolean', description: 'The id was already accepted: this request sent nothing' },
          status: { type: 'string', description: 'queued, or failed when refused before sending (opted_out, no_route)' },
          error: { type: 'object', nullable: true, properties: { code: { type: 'string' }, reason: { type: 'string' } } },
        },
      },
      MessageTimeline: {
        type: 'object',
        properties: {
          message: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              to: { type: 'string' },
              from: nullableString,
              text: { type: 'string' },
              route: { type: 'string' },
              status: { type: 'string' },
              segments: { type: 'integer', nullable: true },
              delivered_segments: { type: 'integer' },
              error_code: nullableString,
              error_reason: nullableString,
              metadata: { type: 'object', nullable: true },
              created_at: dateTime,
              submitted_at: nullableDateTime,
              final_at: nullableDateTime,
              reply_to: nullableString,
            },
          },
          segments: { type: 'array', items: { type: 'object' } },
          receipts: { type: 'array', items: { type: 'object' } },
          history: {
            type: 'array',
            items: {
              type: 'object',
              properties: { event_id: { type: 'string', description: 'Unique within the message: "0" for its first event (queued), the status for submitted and its current final status, a number for an event stored on its own (a final status replaced by a better report). Events are listed in the order they happened' }, status: { type: 'string' }, previous: nullableString, at: dateTime },
            },
          },
          answers: { type: 'object', nullable: true },
          replies: { type: 'array', items: { type: 'object' } },
        },
      },
      ConversationStatus: { type: 'string', enum: ['open', 'assigned', 'closed', 'expired'] },
      ConversationSummary: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          customer: { type: 'string' },
          our_number: { type: 'string' },
          status: { $ref: '#/components/schemas/ConversationStatus' },
          state: nullableString,
          tags: { type: 'object' },
          assigned_to: nullableString,
          assigned_at: nullableDateTime,
          opened_at: dateTime,
          last_activity_at: dateTime,
          expires_at: dateTime,
          closed_at: nullableDateTime,
          last_inbound_at: nullableDateTime,
          last_outbound_at: nullableDateTime,
          unanswered: { type: 'boolean' },
          last: {
            type: 'object',
            nullable: true,
            properties: { direction: { type: 'string', enum: ['in', 'out'] }, text: { type: 'string' }, at: dateTime },
          },
        },
      },
      ConversationPage: {
        type: 'object',
        properties: {
          conversations: { type: 'array', items: { $ref: '#/components/schemas/ConversationSummary' } },
          next_cursor: nullableString,
        },
      },
      ThreadEntry: {
        type: 'object',
        required: ['direction', 'id', 'at', 'text', 'status'],
        properties: {
          direction: { type: 'string', enum: ['in', 'out'] },
          id: { type: 'string' },
          at: dateTime,
          text: { type: 'string' },
          status: { type: 'string' },
          segments: { type: 'integer', nullable: true, description: 'out' },
          delivered_segments: { type: 'integer', description: 'out' },
          receipts: {
            type: 'array',
            description: 'out: receipts as the SMSC sent them',
            items: {
              type: 'object',
              properties: { seq: { type: 'integer', nullable: true }, state: { type: 'string' }, final: { type: 'boolean' }, received_at: dateTime },
            },
          },
          matched_kind: { type: 'string', nullable: true, enum: ['compliance', 'expected_reply', 'keyword', 'none', null], description: 'in' },
          keyword: nullableString,
          rule: nullableString,
          actions: { type: 'array', nullable: true, items: { type: 'object' }, description: 'in: what automation did' },
          in_reply_to: nullableString,
          answer_message_id: nullableString,
        },
      },
      ConversationThread: {
        type: 'object',
        properties: {
          conversation: { $ref: '#/components/schemas/ConversationSummary' },
          opted_out: { type: 'boolean' },
          total: { type: 'integer' },
          entries: { type: 'array', items: { $ref: '#/components/schemas/ThreadEntry' } },
        },
      },
    },
  },
} as const;
