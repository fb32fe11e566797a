/** The API's operations: method, path, operationId and scope, as the OpenAPI document names them. */
import type { ApiScope } from '../config/types.ts';
import type { Call } from './request.ts';

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

export interface Operation extends ApiRoute {
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

export const patternOf = (path: string): RegExp => new RegExp(`^${path.replace(/\{id\}/g, '([^/]+)')}$`);

/** The route named `id` (one of API_ROUTES). */
export const routeOf = (id: string): ApiRoute => API_ROUTES.find((r) => r.id === id)!;
