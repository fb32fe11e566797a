/** The message operations: who a token is, sending a message, reading one's timeline; and admitting one message to intake. */
import { randomUUID } from 'node:crypto';
import { parseOutboundPayload, type OutboundMessage } from '../domain/message.ts';
import type { ApiServerOptions } from './api-options.ts';
import { ApiRefusal, readBody, sendJson } from './request.ts';
import { routeOf, type Operation } from './routes.ts';

/** Admits one validated message; answers what became of it (a duplicate id is not sent again). */
export async function admitOne(options: ApiServerOptions, message: OutboundMessage): Promise<object> {
  const { inserted, rejected } = await options.admit([message]);
  const refused = rejected[0];
  if (refused) throw new ApiRefusal(400, refused.code, refused.reason);
  const now = await options.store.readMessageStatus(message.id);
  return {
    id: message.id,
    duplicate: !inserted.has(message.id),
    status: now?.status ?? 'queued',
    error: now?.errorCode ? { code: now.errorCode, reason: now.errorReason ?? '' } : null,
  };
}

export function messageOperations(o: ApiServerOptions): Operation[] {
  return [
    {
      ...routeOf('getToken'),
      handle: async ({ res, caller }) => sendJson(res, 200, { name: caller.name, scopes: caller.scopes }),
    },
    {
      ...routeOf('sendMessage'),
      handle: async ({ req, res }) => {
        const body = await readBody(req);
        const parsed = parseOutboundPayload(body, () => `h-${randomUUID()}`);
        if (!parsed.ok) throw new ApiRefusal(400, parsed.code, parsed.reason);
        sendJson(res, 202, await admitOne(o, parsed.message));
      },
    },
    {
      ...routeOf('getMessage'),
      handle: async ({ res, params }) => {
        const timeline = await o.store.readMessageTimeline(params[0]!);
        if (!timeline) throw new ApiRefusal(404, 'message_not_found', `there is no message ${params[0]}`);
        sendJson(res, 200, timeline);
      },
    },
  ];
}
