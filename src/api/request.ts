/** Reading API requests and writing answers: JSON bodies within a size, refusals with a code, the path as logged. */
import type http from 'node:http';
import type { ApiCaller } from './api-auth.ts';
import { toApiJson } from './json.ts';

/** A refusal: status, a stable code and a reason a person can act on. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }
}

export interface Call {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly url: URL;
  readonly params: readonly string[];
  readonly caller: ApiCaller;
}

/** Largest request body: a 255-part text written as \u escapes is well under it. */
const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(toApiJson(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(text);
}

/**
 * The path as logged: a token given as access_token is never written out, nor a customer's number
 * (personal data, kept out of logs as the dead-letter reasons keep it out).
 */
export function loggedPath(url: URL): string {
  const q = new URLSearchParams(url.search);
  for (const hidden of ['access_token', 'customer']) if (q.has(hidden)) q.set(hidden, '***');
  const s = q.toString();
  return s ? `${url.pathname}?${s}` : url.pathname;
}

export async function readBody(req: http.IncomingMessage): Promise<string> {
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
export async function readObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
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
