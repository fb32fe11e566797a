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
import type { Logger } from '../lib/logger.ts';
import { describeError } from '../lib/errors.ts';
import { isTransientFault } from '../lib/faults.ts';
import type { ApiTokenConfig } from '../config/types.ts';
import { ApiAuth, bearerOf, type ApiCaller } from './api-auth.ts';
import type { ApiServerOptions } from './api-options.ts';
import { conversationOperations } from './conversation-routes.ts';
import { EventFollowers } from './event-followers.ts';
import { InboxFiles } from './inbox-files.ts';
import { serveInbox } from './inbox-route.ts';
import { messageOperations } from './message-routes.ts';
import { OPENAPI } from './openapi.ts';
import { ApiRefusal, loggedPath, sendJson } from './request.ts';
import { patternOf, type Operation } from './routes.ts';

export type { ApiObserver, ApiServerOptions, ApiStore } from './api-options.ts';

export class ApiServer {
  private readonly server: http.Server;
  private auth: ApiAuth;
  private readonly log: Logger;
  private readonly operations: readonly Operation[];
  private readonly inbox = new InboxFiles();
  private readonly followers: EventFollowers;

  constructor(private readonly options: ApiServerOptions) {
    this.log = options.logger.child({ component: 'api' });
    this.auth = new ApiAuth(options.tokens, options.rateLimit, options.rateBurst);
    this.followers = new EventFollowers(options, this.log);
    this.operations = [...messageOperations(options), ...conversationOperations(options), this.followers.operation()];
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
    this.followers.endAll();
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
    this.followers.close();
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
        serveInbox(this.inbox, req, res, url);
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
}
