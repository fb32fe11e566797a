/**
 * Helpers for the HTTP API tests: a daemon with the API on a free loopback port and tokens of each
 * scope, a small JSON client, and a Server-Sent Events reader over fetch.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../../src/api/api-auth.ts';
import type { Daemon } from '../../src/main.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { simSmsc, type Harness } from './daemon.ts';
import { freePort } from './ports.ts';

export interface Tokens {
  /** send, read and agent. */
  readonly all: string;
  readonly send: string;
  readonly read: string;
  readonly agent: string;
}

export function newTokens(): Tokens {
  const t = (): string => randomBytes(24).toString('hex');
  return { all: t(), send: t(), read: t(), agent: t() };
}

export function tokenConfig(tokens: Tokens): Record<string, unknown>[] {
  return [
    { name: 'ops', sha256: hashToken(tokens.all), scopes: ['send', 'read', 'agent'] },
    { name: 'crm', sha256: hashToken(tokens.send), scopes: ['send'] },
    { name: 'dashboard', sha256: hashToken(tokens.read), scopes: ['read'] },
    { name: 'alice', sha256: hashToken(tokens.agent), scopes: ['read', 'agent'] },
  ];
}

export interface ApiDaemon {
  readonly daemon: Daemon;
  readonly base: string;
  readonly tokens: Tokens;
}

/** A daemon bound to the simulator, with our number 12345 and the API on. */
export async function startApiDaemon(h: Harness, sim: Simulator, raw: Record<string, unknown> = {}): Promise<ApiDaemon> {
  const tokens = newTokens();
  const port = await freePort();
  const { api, ...rest } = raw as { api?: Record<string, unknown> };
  const daemon = await h.startDaemon(
    h.config({
      smscs: [simSmsc('sim', sim)],
      routes: [
        { name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' },
        { name: 'uk', prefixes: ['+44'], smscs: ['sim'], tps: 500 },
      ],
      numbers: [{ address: '12345', rules: [{ name: 'hours', keywords: ['HOURS'], actions: [{ reply: 'We are open 9-5.' }] }] }],
      api: { listen: `127.0.0.1:${port}`, tokens: tokenConfig(tokens), rate_limit: 1000, rate_burst: 1000, ...api },
      ...rest,
    }),
  );
  return { daemon, base: `http://127.0.0.1:${daemon.apiPort}`, tokens };
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON answer as the tests read it (its shape is what the tests check). */
  readonly body: any;
}

export async function call(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const h: Record<string, string> = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: the text itself.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** Reads /v1/events until stopped; events arrive in `events` as they come. */
export interface SseFollower {
  readonly status: number;
  readonly events: SseEvent[];
  /** Waits (bounded) until `check` holds on the events so far. */
  until(check: (events: readonly SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Drops the connection (as a client going away does). */
  stop(): Promise<void>;
}

export async function followEvents(base: string, token: string, lastEventId?: string): Promise<SseFollower> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await fetch(`${base}/v1/events`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  let reading: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    reading = (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id: string | undefined;
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) events.push({ id, event, data: data.join('\n') });
          }
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
    })();
  }
  return {
    status: res.status,
    events,
    async until(check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(events)) {
        if (Date.now() > deadline) throw new Error(`events not as expected within ${timeoutMs} ms: ${events.map((e) => e.event).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      controller.abort();
      await reading;
    },
  };
}
