/**
 * The simulator's HTTP control endpoint (node:http, loopback only by default). JSON in and out.
 *
 *   GET  /healthz                  {"ok":true,"state":"running"}
 *   GET  /stats                    counters: binds, submits, throttled, receipts sent/acked, replies...
 *   GET  /binds                    the bound sessions with their own counters
 *   GET  /arrivals?since=N&limit=M arrivals with seq > N (default 0), at most M (default 1000, max
 *                                  10000), oldest first: {"arrivals":[...],"last":<seq of the last
 *                                  arrival recorded>}; poll with since=<last> to follow
 *   POST /mo                       {"from","to","text","dataCoding"?,"concatenation"?:"udh8"|"udh16"|
 *                                  "sar"|"payload","shuffle"?,"systemId"?} -> 202 {"parts","dataCoding"}:
 *                                  a customer reply, sent as deliver_sm to a receiving bind (queued
 *                                  until one is bound, kept until acknowledged)
 *   POST /reset                    forgets arrivals, counters, throttle state, reassembly and every
 *                                  receipt/reply not yet acknowledged; binds stay up -> {"ok":true}
 *   GET  /options                  the current options (functions shown as "function")
 *   POST /options                  a partial options object, applied like setOptions() -> the options;
 *                                  handset rules take patterns as "/regex/flags" or plain substrings
 *
 * Errors answer {"error":"<reason>"} with 400 (bad input), 404 (no such route) or 405.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParleyError, describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Arrival } from './arrival-log.ts';
import type { SimulatorOptions } from './options.ts';
import type { ReplyRequest } from './replies.ts';

/** What the endpoint needs from the simulator. */
export interface ControlTarget {
  readonly state: string;
  readonly stats: unknown;
  readonly binds: unknown;
  arrivalsSince(since: number, limit: number): { arrivals: Arrival[]; last: number };
  injectReply(reply: ReplyRequest): { parts: number; dataCoding: number };
  reset(): void;
  describeOptions(): unknown;
  setOptions(partial: SimulatorOptions): void;
}

const MAX_BODY = 64 * 1024;

export interface ControlServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (v === undefined ? null : v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ParleyError('body_too_large', `body over ${MAX_BODY} octets`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ParleyError('invalid_json', 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ParleyError('invalid_query', `${name} must be a non-negative integer`);
  return Math.min(n, max);
}

async function route(target: ControlTarget, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const key = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (key) {
    case 'GET /healthz':
      return send(res, 200, { ok: true, state: target.state });
    case 'GET /stats':
      return send(res, 200, target.stats);
    case 'GET /binds':
      return send(res, 200, target.binds);
    case 'GET /arrivals': {
      const since = intParam(url, 'since', 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(url, 'limit', 1000, 10_000);
      return send(res, 200, target.arrivalsSince(since, limit));
    }
    case 'POST /mo': {
      const body = await readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ParleyError('invalid_reply', 'body must be a JSON object');
      const injected = target.injectReply(body as ReplyRequest);
      return send(res, 202, { parts: injected.parts, dataCoding: injected.dataCoding });
    }
    case 'POST /reset':
      target.reset();
      return send(res, 200, { ok: true });
    case 'GET /options':
      return send(res, 200, target.describeOptions());
    case 'POST /options':
    case 'PATCH /options': {
      const body = await readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ParleyError('invalid_simulator_option', 'body must be a JSON object');
      target.setOptions(body as SimulatorOptions);
      return send(res, 200, target.describeOptions());
    }
    default: {
      const known = ['/healthz', '/stats', '/binds', '/arrivals', '/mo', '/reset', '/options'];
      return send(res, known.includes(url.pathname) ? 405 : 404, { error: `no route ${key}` });
    }
  }
}

export function startControlServer(target: ControlTarget, host: string, port: number, log: Logger): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    route(target, req, res).catch((err: unknown) => {
      const status = err instanceof ParleyError ? 400 : 500;
      if (status === 500) log.error({ err }, 'smsc simulator control request failed');
      if (!res.headersSent) send(res, status, { error: describeError(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
