/**
 * The demo's order-status service: the third-party API a rule hands replies to, played on
 * loopback with node:http.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { WebhookConfig } from '../../config/index.ts';
import { verifyWebhook } from '../../domain/webhook-signature.ts';
import { redactUrlCredentials as redactUrl } from '../../lib/url-credentials.ts';
import { orderAnswer } from './script.ts';

/** One request the order-status service answered. */
export interface OrderCall {
  readonly atMs: number;
  readonly path: string;
  readonly verified: boolean;
  readonly replyId: string | undefined;
  readonly order: string | undefined;
  readonly status: number;
  readonly answer: string;
}

export interface OrderService {
  readonly url: string;
  readonly calls: readonly OrderCall[];
  close(): Promise<void>;
}

/** Why a webhook cannot be played by the demo's local service, or undefined when it can. */
export function unplayable(webhook: WebhookConfig): string | undefined {
  let url: URL;
  try {
    url = new URL(webhook.url);
  } catch {
    return `its URL ${redactUrl(webhook.url)} does not parse`;
  }
  if (url.protocol !== 'http:') return `its URL ${redactUrl(webhook.url)} is not plain http`;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return `its URL ${redactUrl(webhook.url)} is not on this machine's loopback`;
  return undefined;
}

/**
 * The demo's stand-in for a third-party API: answers `POST <path>` with `{ "reply": … }` for an
 * "ORDER <n>" reply, after checking X-Parley-Signature with the webhook's secret (401 when it
 * does not verify, which would make Parley send the rule's fallback).
 */
export async function startOrderService(webhook: WebhookConfig): Promise<OrderService> {
  const url = new URL(webhook.url);
  const calls: OrderCall[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 65_536) chunks.push(c);
    });
    req.on('end', () => {
      const atMs = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, json: object, record: Omit<OrderCall, 'atMs' | 'path' | 'status' | 'answer'>): void => {
        const text = JSON.stringify(json);
        calls.push({ atMs, path: req.url ?? '', status, answer: text, ...record });
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      };
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== url.pathname) {
        answer(404, { error: 'not found' }, { verified: false, replyId: undefined, order: undefined });
        return;
      }
      const header = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const verified = verifyWebhook(webhook.secret, header('x-parley-timestamp'), body, header('x-parley-signature'));
      if (!verified) {
        answer(401, { error: 'bad signature' }, { verified, replyId: undefined, order: undefined });
        return;
      }
      let event: { id?: unknown; text?: unknown };
      try {
        event = JSON.parse(body) as typeof event;
      } catch {
        answer(400, { error: 'not JSON' }, { verified, replyId: undefined, order: undefined });
        return;
      }
      const replyId = typeof event.id === 'string' ? event.id : undefined;
      const order = typeof event.text === 'string' ? /^\s*ORDER\s+(\d+)/i.exec(event.text)?.[1] : undefined;
      // No order number: a 2xx without "reply" means "nothing to text back".
      answer(200, order === undefined ? {} : { reply: orderAnswer(order) }, { verified, replyId, order });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(url.port || 80), url.hostname.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: webhook.url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

