/**
 * `parley demo`: the two-way loop end to end, in one process, told as it happens. It migrates the
 * demo database, starts the SMSC simulator (its virtual handset plays the customer), a small local
 * order-status service (the third-party API a rule hands replies to), and the daemon with a quiet
 * logger. Then four short acts with one customer: an appointment reminder answered YES; a long
 * Unicode notice (three UCS-2 parts) answered with thanks nothing matches; "ORDER 1234" looked up
 * through the webhook; STOP, its one confirmation, and a send that is then refused. It narrates what
 * it can observe: rows, receipts, replies and status changes in Postgres, each submit_sm as the
 * simulator received it, each customer deliver_sm as the daemon stored it, the calls the order
 * service answered, and the entries on the inbound stream. Nothing is made up: every line is read
 * from where it happened. Then it stops everything in order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ParleyConfig, SmscConfig, WebhookConfig } from '../config/index.ts';
import { verifyWebhook } from '../domain/webhook-signature.ts';
import { describeError } from '../lib/errors.ts';
import { redactUrlCredentials as redactUrl } from '../lib/url-credentials.ts';
import { silentLogger } from '../lib/logger.ts';
import type { Daemon } from '../main.ts';
import { streamKeys, type StreamKeys } from '../queue/keys.ts';
import type { RedisClient } from '../queue/redis.ts';
import type { Arrival, Simulator } from '../simulator/index.ts';
import { commandStatusName } from '../smpp/command-status.ts';
import { chooseEncoding, countSegments, decodeText, describeDataCoding } from '../smpp/text/index.ts';
import type { Db } from '../store/db.ts';
import type { CustomerPart, CustomerThread, ThreadInbound, ThreadOutbound } from '../store/reports-conversation.ts';
import type { MessageTimeline } from '../store/timeline.ts';
import {
  CliFailure,
  CONFIG_OPTION,
  EXIT,
  describeDatabase,
  describeRedis,
  loadCliConfig,
  onStopSignals,
  out,
  preview,
  within,
  type CliCommand,
  type ConfigArgs,
  type ExitCode,
} from './common.ts';
import { formatConversation } from './conversation.ts';
import { DEMO_REMINDER_TEXT, DEMO_UNICODE_TEXT, HANDSET_CONFIRM_REPLY, HANDSET_THANKS_REPLY, demoHandset } from './handset-script.ts';
import { migrateDatabase } from './migrate.ts';
import { formatTimeline } from './status.ts';
import { sleep } from '../lib/timeout.ts';

export interface DemoArgs extends ConfigArgs {
  /** Longest wait, in seconds, for each act to play out before giving up. */
  readonly wait: number;
}

/** config/demo.yaml of this checkout, whatever the working directory. */
export const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

/** The reminder's expected replies (README "The payload", `replies`). */
export const DEMO_YES_ANSWER = 'Great, see you tomorrow at 10:00!';
export const DEMO_NO_ANSWER = 'OK, your appointment is cancelled. Call us on 0800 123 456 to book another.';
export const DEMO_ORDER_TEXT = 'ORDER 1234';
export const DEMO_PROMO_TEXT = 'Spring offer: 20% off your next check-up this week.';

/** What the demo's order-status service answers for an order. */
export function orderAnswer(order: string): string {
  return `Order ${order} shipped today; it arrives Thursday.`;
}

const POLL_MS = 100;
const BIND_WAIT_MS = 5_000;
/** Lines are held this long before printing, so that lines from different sources come out in time order. */
const SETTLE_MS = 250;
/** After a refused send, how long the demo watches the wire to show that nothing went out. */
const QUIET_WIRE_MS = 400;
const FINAL = new Set(['delivered', 'partially_delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'unknown']);

/** A line to print, with the moment it describes (epoch ms) so lines from different sources interleave in order. */
interface Happening {
  readonly atMs: number;
  readonly line: string;
  /** Among lines at the same moment, causes first: 0 PDUs and decisions, 1 status changes they bring about. */
  readonly rank?: number;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function dataCodingName(dataCoding: number, smsc: SmscConfig): string {
  const hex = `0x${dataCoding.toString(16).padStart(2, '0')}`;
  const alphabet = describeDataCoding(dataCoding, smsc.defaultAlphabet).alphabet;
  const names: Record<string, string> = { gsm7: 'GSM-7', ucs2: 'UCS-2', latin1: 'Latin-1', ascii: 'ASCII', binary: 'binary' };
  return `data_coding ${hex} (${dataCoding === 0 ? `SMSC default, ${names[alphabet] ?? alphabet}` : (names[alphabet] ?? alphabet)})`;
}

class Narrator {
  /** When the current act began: times are shown relative to it. */
  private startMs = Date.now();

  mark(): void {
    this.startMs = Date.now();
  }

  get start(): number {
    return this.startMs;
  }

  at(atMs: number): string {
    const s = (atMs - this.startMs) / 1000;
    return `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(3)}s`.padStart(9);
  }

  say(line = ''): void {
    out(line);
  }

  step(title: string): void {
    out('');
    out(title);
  }

  happen(items: Happening[]): void {
    items.sort((a, b) => a.atMs - b.atMs || (a.rank ?? 0) - (b.rank ?? 0));
    for (const h of items) out(`  ${this.at(h.atMs)}  ${h.line}`);
  }
}

// ------------------------------------------------------------------ the order-status service

/** One request the order-status service answered. */
interface OrderCall {
  readonly atMs: number;
  readonly path: string;
  readonly verified: boolean;
  readonly replyId: string | undefined;
  readonly order: string | undefined;
  readonly status: number;
  readonly answer: string;
}

interface OrderService {
  readonly url: string;
  readonly calls: readonly OrderCall[];
  close(): Promise<void>;
}

/** Why a webhook cannot be played by the demo's local service, or undefined when it can. */
function unplayable(webhook: WebhookConfig): string | undefined {
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
async function startOrderService(webhook: WebhookConfig): Promise<OrderService> {
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

// ------------------------------------------------------------------ watching

interface Snapshot {
  readonly thread: CustomerThread;
  readonly timelines: ReadonlyMap<string, MessageTimeline>;
}

interface WatcherOptions {
  readonly n: Narrator;
  readonly db: Db;
  readonly redis: RedisClient;
  readonly keys: StreamKeys;
  readonly sim: Simulator;
  readonly smsc: SmscConfig;
  readonly config: ParleyConfig;
  /** The customer, digits as stored. */
  readonly customer: string;
  readonly orders: OrderService | undefined;
  readonly read: Readers;
  stopped(): boolean;
}

/** The read-only queries the watcher polls (loaded lazily with the rest of the demo). */
interface Readers {
  thread: typeof import('../store/reports-conversation.ts').readCustomerThread;
  parts: typeof import('../store/reports-conversation.ts').readCustomerParts;
  timelines: typeof import('../store/timeline.ts').readMessageTimelines;
}

/**
 * Polls every source about the demo's customer and prints what is new, in time order: lines are
 * held for SETTLE_MS so that a slower source (a Postgres commit) still comes out before what it
 * caused (a PDU a moment later).
 */
class Watcher {
  private readonly held: Happening[] = [];
  private readonly seen = new Set<string>();
  private lastArrival: number;
  private lastInbound = '0-0';
  private lastPart: string | undefined;
  private ordersSeen = 0;
  private snap: Snapshot | undefined;
  private wake = (): void => {};

  constructor(private readonly o: WatcherOptions) {
    this.lastArrival = o.sim.arrivalsSince(0).last;
  }

  /** Starts reading the inbound stream from now (entries of earlier runs are not this run's). */
  async start(): Promise<void> {
    const last = (await this.o.redis.xrevrange(this.o.keys.inbound, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.lastInbound = last[0]?.[0] ?? '0-0';
  }

  interrupt(): void {
    this.wake();
  }

  get snapshot(): Snapshot | undefined {
    return this.snap;
  }

  /** Polls and prints until `done` holds (then prints what is held) or the time runs out. */
  async until(done: (s: Snapshot) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let met = false;
    for (;;) {
      const s = await this.poll();
      this.print(false);
      if (done(s)) {
        met = true;
        break;
      }
      if (this.o.stopped() || Date.now() >= deadline) break;
      await this.pause(POLL_MS);
    }
    // What was just written may reach Postgres a moment later: one more look before printing all.
    await this.pause(SETTLE_MS);
    await this.poll();
    this.print(true);
    return met;
  }

  /** Watches for `ms` more (to show that nothing else happens), printing what does. */
  async watch(ms: number): Promise<void> {
    await this.until(() => false, ms);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private print(all: boolean): void {
    const cutoff = Date.now() - SETTLE_MS;
    const ready = all ? this.held.splice(0) : this.held.filter((h) => h.atMs <= cutoff);
    if (!all) {
      const rest = this.held.filter((h) => h.atMs > cutoff);
      this.held.length = 0;
      this.held.push(...rest);
    }
    this.o.n.happen(ready);
  }

  private once(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  async poll(): Promise<Snapshot> {
    const o = this.o;
    const [thread, parts] = await Promise.all([o.read.thread(o.db, o.customer, 1000), o.read.parts(o.db, o.customer, this.lastPart)]);
    const outIds = thread.entries.filter((e) => e.direction === 'out').map((e) => e.id);
    const timelines = new Map((await o.read.timelines(o.db, outIds)).map((t) => [t.message.id, t]));
    const snap: Snapshot = { thread, timelines };
    this.snap = snap;
    const items: Happening[] = [];

    for (const t of timelines.values()) {
      for (const h of t.history) {
        if (this.once(`event:${h.eventId}`)) items.push({ atMs: h.at.getTime(), line: describeStatusChange(t, h.status, h.previous, o.config), rank: 1 });
      }
      for (const r of t.receipts) {
        if (!this.once(`receipt:${r.receiptId}`)) continue;
        const total = t.segments.find((s) => s.seq === r.seq)?.total ?? 1;
        const part = r.seq === null || total === 1 ? '' : ` part ${r.seq}/${total} of`;
        items.push({
          atMs: r.receivedAt.getTime(),
          line: `<- deliver_sm (delivery receipt): carrier id ${r.smscMessageId}, ${r.state}${r.errorCode ? ` err ${r.errorCode}` : ''}; stored, matched to${part} ${t.message.id}`,
        });
      }
    }

    for (const p of parts) {
      this.lastPart = p.id;
      items.push({ atMs: p.receivedAt.getTime(), line: describePart(p, o.smsc) });
    }

    for (const e of thread.entries) {
      if (e.direction !== 'in' || e.status !== 'handled' || !this.once(`reply:${e.id}`)) continue;
      const answer = e.answerMessageId ? timelines.get(e.answerMessageId) : undefined;
      const queuedAt = answer?.history[0]?.at.getTime();
      const handledAt = e.handledAt?.getTime() ?? Date.now();
      items.push({ atMs: Math.min(handledAt, queuedAt ?? handledAt), line: describeHandled(e, answer, o.config) });
    }

    const { arrivals, last } = o.sim.arrivalsSince(this.lastArrival);
    this.lastArrival = last;
    for (const a of arrivals) items.push({ atMs: a.atMs, line: describeArrival(a, o.smsc, o.customer) });

    const entries = (await o.redis.xrange(o.keys.inbound, `(${this.lastInbound}`, '+')) as [string, string[]][];
    for (const [entryId, fields] of entries) {
      this.lastInbound = entryId;
      const line = describeInboundEntry(entryId, fields, o.keys.inbound, o.customer);
      if (line) items.push({ atMs: Number(entryId.split('-')[0]), line, rank: 1 });
    }

    if (o.orders) {
      for (; this.ordersSeen < o.orders.calls.length; this.ordersSeen++) {
        const c = o.orders.calls[this.ordersSeen];
        if (c) items.push({ atMs: c.atMs, line: describeOrderCall(c) });
      }
    }
    this.held.push(...items);
    return snap;
  }
}

// ------------------------------------------------------------------ lines

function describeArrival(a: Arrival, smsc: SmscConfig, customer: string): string {
  const concat = a.concat
    ? a.concat.scheme === 'sar'
      ? `sar_* TLVs ref ${a.concat.reference} part ${a.concat.seq}/${a.concat.total}`
      : `UDH ref 0x${a.concat.reference.toString(16).padStart(2, '0')} part ${a.concat.seq}/${a.concat.total}`
    : 'one part';
  const answer = a.status === 'accepted' ? `ESME_ROK, carrier id ${a.messageId ?? '?'}` : `${commandStatusName(a.commandStatus)} (${a.status})`;
  return (
    `-> ${a.command} to ${a.destination} from ${a.source}: ${dataCodingName(a.dataCoding, smsc)}, ${concat}, ` +
    `${JSON.stringify(preview(a.text, 28))}; answered ${answer}` +
    (a.destination === customer ? '' : ' [another customer: left from an earlier run]')
  );
}

function describePart(p: CustomerPart, smsc: SmscConfig): string {
  const text = decodeText(p.body, p.dataCoding, smsc.defaultAlphabet).text;
  const part = p.total > 1 ? `, part ${p.seq}/${p.total} (${p.concatKey ?? '?'})` : '';
  return (
    `<- deliver_sm (customer message) from ${p.from} to ${p.to}: ${dataCodingName(p.dataCoding, smsc)}${part}, ${JSON.stringify(text)}; ` +
    'stored in Postgres, then answered deliver_sm_resp'
  );
}

function describeStatusChange(t: MessageTimeline, status: string, previous: string | null, config: ParleyConfig): string {
  const m = t.message;
  const what = m.replyTo ? `${m.id} (the answer to ${m.replyTo})` : m.id;
  if (previous === null && status === 'queued') {
    const route = config.routes.find((r) => r.name === m.route);
    return `Postgres: ${what} inserted as queued, route ${route?.name ?? (m.route || '(none)')}${m.replyTo ? ' (answers enter the outbound path like any message)' : ''}`;
  }
  if (status === 'submitted') return `Postgres: ${m.id} ${previous ?? '?'} -> submitted: ${plural(m.segments ?? 1, 'part')} accepted, carrier ids recorded`;
  if (status === 'delivered') return `Postgres: ${m.id} ${previous ?? '?'} -> delivered: a final receipt for every part`;
  if (status === 'failed' && m.errorCode === 'opted_out') {
    return `Postgres: ${m.id} ${previous ?? '?'} -> failed (opted_out): refused at intake, in the same transaction as its insert`;
  }
  return `Postgres: ${m.id} ${previous ?? '(new)'} -> ${status}${m.errorCode ? ` (${m.errorCode}${m.errorReason ? `: ${m.errorReason}` : ''})` : ''}`;
}

/** How the reply path handled a customer message: the match and what it set off. */
function describeHandled(e: ThreadInbound, answer: MessageTimeline | undefined, config: ParleyConfig): string {
  const actions = (e.actions ?? []) as { kind?: string; webhook?: string }[];
  let how: string;
  switch (e.matchedKind) {
    case 'expected_reply':
      how = `matches the expected reply ${e.keyword ?? '?'} of ${e.inReplyTo ?? '?'} (the message it answers)`;
      break;
    case 'keyword': {
      const webhook = actions.find((a) => a.kind === 'webhook')?.webhook;
      const rule = config.numbers.find((n) => n.address === e.ourNumber)?.rules.find((r) => r.name === e.rule);
      how =
        `matches rule ${e.rule ?? '?'}` +
        (e.keyword ? ` (keyword ${e.keyword})` : rule?.pattern ? ` (pattern ${rule.pattern})` : '') +
        (webhook ? `; webhook ${webhook} asked` : '');
      break;
    }
    case 'compliance': {
      const kind = actions[0]?.kind;
      how =
        kind === 'opt_out'
          ? `compliance keyword ${e.keyword ?? '?'}: the customer is now opted out of ${e.ourNumber}`
          : kind === 'opt_in'
            ? `compliance keyword ${e.keyword ?? '?'}: the customer is subscribed again`
            : `compliance keyword ${e.keyword ?? '?'} (${kind ?? '?'})`;
      break;
    }
    default:
      how = `matches nothing: ${e.ourNumber}'s unmatched policy applies`;
  }
  const conversation = e.conversationId ? `conversation ${e.conversationId}` : 'no conversation';
  const sent = answer
    ? `; answer ${answer.message.id}: ${JSON.stringify(preview(answer.message.text, 48))}`
    : e.answerMessageId
      ? `; answer ${e.answerMessageId}`
      : '; no answer';
  return `reply path: ${e.id} ${JSON.stringify(preview(e.text, 24))} ${how}; ${conversation}${sent}`;
}

function describeInboundEntry(entryId: string, fields: string[], stream: string, customer: string): string | undefined {
  const i = fields.indexOf('event');
  const raw = i >= 0 ? fields[i + 1] : undefined;
  if (raw === undefined) return undefined;
  let ev: { type?: string; id?: string; from?: string; matched?: { kind?: string; keyword?: string | null; action?: string | null } | null };
  try {
    ev = JSON.parse(raw) as typeof ev;
  } catch {
    return undefined;
  }
  if (ev.from !== customer) return undefined;
  const m = ev.matched;
  return (
    `XADD ${stream} ${entryId}: ${ev.type ?? '?'} ${ev.id ?? '?'}, matched ${m?.kind ?? '?'}` +
    `${m?.keyword ? ` ${m.keyword}` : ''}${m?.action ? ` (action ${m.action})` : ''}: what apps and agents read`
  );
}

function describeOrderCall(c: OrderCall): string {
  if (!c.verified) return `order-status service: POST ${c.path}: X-Parley-Signature did NOT verify; answered ${c.status} ${c.answer}`;
  return (
    `order-status service: POST ${c.path} for ${c.replyId ?? '?'}: X-Parley-Signature verified with the shared secret; ` +
    `order ${c.order ?? '(none)'} -> ${c.status} ${c.answer}`
  );
}

// ------------------------------------------------------------------ the run

/** A number in the range kept for fiction (+1 415 555 0100-0199) that this database has not seen, if any. */
async function freshCustomer(db: Db, customerKnown: (db: Db, customer: string) => Promise<boolean>): Promise<{ customer: string; reused: boolean }> {
  const offset = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const customer = `1415555${String(100 + ((offset + i) % 100)).padStart(4, '0')}`;
    if (!(await customerKnown(db, customer))) return { customer, reused: false };
  }
  // All used by earlier runs: take one and clear its opt-outs (the demo database is the demo's own).
  const customer = `1415555${String(100 + offset).padStart(4, '0')}`;
  await db.deleteFrom('opt_outs').where('customer', '=', customer).execute();
  return { customer, reused: true };
}

const isFinal = (t: MessageTimeline | undefined): boolean => t !== undefined && FINAL.has(t.message.status);

/** Customer messages that arrived since the act began (not in `before`). */
function newReplies(s: Snapshot, before: ReadonlySet<string>): ThreadInbound[] {
  return s.thread.entries.filter((e): e is ThreadInbound => e.direction === 'in' && !before.has(e.id));
}

/** `count` new customer messages are handled, and every answer they got has reached a final state. */
function repliesSettled(s: Snapshot, before: ReadonlySet<string>, count: number): boolean {
  const replies = newReplies(s, before);
  return replies.length >= count && replies.every((r) => r.status === 'handled' && (r.answerMessageId === null || isFinal(s.timelines.get(r.answerMessageId))));
}

function replyIds(s: Snapshot | undefined): Set<string> {
  return new Set((s?.thread.entries ?? []).filter((e) => e.direction === 'in').map((e) => e.id));
}

export async function runDemo(args: DemoArgs): Promise<ExitCode> {
  const file = args.config ?? DEMO_CONFIG_FILE;
  // PARLEY_CONFIG is for the daemon; the demo runs on its own config unless -c names another.
  const config = loadCliConfig({ config: file });
  const smsc = config.smscs[0];
  if (!smsc) throw new CliFailure('the demo config names no SMSC');
  const ours = config.numbers[0]?.address ?? config.routes[0]?.defaultFrom ?? '12345';
  const keys = streamKeys(config.redis.prefix);
  const waitMs = Math.max(1, args.wait) * 1000;
  const n = new Narrator();
  // Loaded here rather than at the top so that other commands start without them.
  const [{ buildDaemon }, { createLogger }, { closeRedis, openRedis }, { addOutbound }, { startSimulator }, { openDb }, { readMessageTimelines }, { readCustomerThread, readCustomerParts, customerKnown }] =
    await Promise.all([
      import('../main.ts'),
      import('../observability/logger.ts'),
      import('../queue/redis.ts'),
      import('../queue/streams.ts'),
      import('../simulator/index.ts'),
      import('../store/db.ts'),
      import('../store/timeline.ts'),
      import('../store/reports-conversation.ts'),
    ]);

  // The rule that hands replies to a webhook, and that webhook, if the config has them.
  const number = config.numbers.find((x) => x.address === ours);
  const webhookRule = number?.rules.find((r) => r.actions.some((a) => a.kind === 'webhook'));
  const webhookName = webhookRule?.actions.flatMap((a) => (a.kind === 'webhook' ? [a.webhook] : []))[0];
  const webhook = config.webhooks.find((w) => w.name === webhookName);
  const noOrders = !webhookRule || !webhook ? `number ${ours} has no rule with a webhook action` : unplayable(webhook);

  n.say('Parley demo: a two-way exchange with one customer, end to end (SMSC simulator, order-status service and daemon in one process).');
  n.say(`Config ${args.config ?? 'config/demo.yaml'}: ${describeDatabase(config.database.url)}, Redis ${describeRedis(config.redis.url)} (keys under "${config.redis.prefix}"), SMSC "${smsc.name}" at ${smsc.host}:${smsc.port}.`);
  n.say('Lines: -> a PDU to the SMSC, <- a PDU from it; "Postgres:" a row committed; times are seconds since the act began.');

  // --------------------------------------------------------------- Postgres
  n.step('1. Postgres');
  const { created, applied } = await migrateDatabase(config.database.url);
  n.say(`  ${created ? 'created' : 'using'} ${describeDatabase(config.database.url)}; ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'migrations already up to date'}`);

  let stopRequested = false;
  let watcher: Watcher | undefined;
  const removeSignals = onStopSignals(() => {
    stopRequested = true;
    out('  (stop requested: stopping now; a second signal exits at once)');
    watcher?.interrupt();
  });

  const quiet = createLogger({ level: 'warn', destination: process.stderr });
  let sim: Simulator | undefined;
  let daemon: Daemon | undefined;
  let redis: RedisClient | undefined;
  let db: Db | undefined;
  let orders: OrderService | undefined;
  const failures: string[] = [];
  try {
    db = openDb({ url: config.database.url, poolSize: 3 });
    const database = db;
    const { customer, reused } = await freshCustomer(db, customerKnown);
    const customerE164 = `+${customer}`;

    // Redis first: the daemon would wait for it forever, the demo should rather say it is not there.
    redis = openRedis({ url: config.redis.url, name: 'parley:demo' });
    const r = redis;
    await within(redis.ping(), 5_000, () => `Redis at ${describeRedis(config.redis.url)} does not answer: is it running?`);

    // ------------------------------------------------------------- simulator
    n.step('2. The SMSC simulator (a real SMPP 3.4 server on loopback)');
    try {
      sim = await startSimulator({
        host: smsc.host,
        port: smsc.port,
        controlPort: false,
        receiptDelayMs: [200, 500],
        receiptMix: { DELIVRD: 1 },
        handset: demoHandset(),
        defaultAlphabet: smsc.defaultAlphabet,
        logger: silentLogger,
      });
    } catch (e) {
      throw new CliFailure(
        `the demo cannot start the simulator on ${smsc.host}:${smsc.port}: ${describeError(e).replace(/^[a-z_]+: /, '')}` +
          ' (is another `parley smsc-sim` or `parley demo` running?)',
      );
    }
    const simulator = sim;
    n.say(`  listening on ${sim.host}:${sim.port}; it answers each submit_sm with a carrier message id and sends a delivery receipt 0.2-0.5 s later.`);
    n.say(
      `  The customer is ${customerE164}, ${reused ? 'a number earlier runs used (its opt-outs cleared)' : 'a number this database has not seen'}. ` +
        `The simulator's virtual handset plays them: it answers "Reply YES" with "${HANDSET_CONFIRM_REPLY}" and the results notice with ` +
        `"${HANDSET_THANKS_REPLY}"; the demo types the rest for them (the simulator's injectReply).`,
    );

    // ------------------------------------------------------------- order-status service
    n.step('3. The order-status service (a stand-in for a third-party API, node:http on loopback)');
    if (noOrders === undefined && webhook && webhookRule) {
      try {
        orders = await startOrderService(webhook);
      } catch (e) {
        throw new CliFailure(`the demo cannot start its order-status service at ${redactUrl(webhook.url)}: ${describeError(e)} (is another \`parley demo\` running?)`);
      }
      n.say(`  listening at ${redactUrl(webhook.url)}: webhook "${webhook.name}" of the config. Rule "${webhookRule.name}" of ${ours} sends it replies matching ${webhookRule.pattern ?? webhookRule.keywords.join('/')}.`);
      n.say('  It checks X-Parley-Signature (HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, verifyWebhook) and answers {"reply": "..."}.');
    } else {
      n.say(`  not started: ${noOrders ?? 'no webhook'}; act 3 is skipped.`);
    }

    // ------------------------------------------------------------- daemon
    n.step('4. The daemon (as `parley start` runs it; its own logs are quiet here, warnings go to stderr)');
    daemon = buildDaemon(config, { logger: quiet, http: false });
    try {
      await daemon.service.start();
    } catch (e) {
      throw new CliFailure(`the daemon did not start: ${describeError(e).replace(/^[a-z_]+: /, '')}`);
    }
    const pool = daemon.pools.get(smsc.name);
    const bindDeadline = Date.now() + BIND_WAIT_MS;
    while (pool && !pool.canSubmit && Date.now() < bindDeadline && !stopRequested) await pause(20);
    n.say(`  started: intake reads ${keys.outbound} (consumer group "${keys.group}"); status events go to ${keys.events}, customer messages to ${keys.inbound}`);
    n.say(
      pool?.canSubmit
        ? `  bound to ${smsc.name} at ${smsc.host}:${smsc.port} as ${smsc.bind} (system_id ${smsc.systemId}, window ${smsc.window})`
        : `  not bound to ${smsc.name} yet after ${BIND_WAIT_MS / 1000}s; messages wait in Postgres until a bind is up`,
    );
    n.say('  A customer message is stored before its deliver_sm is answered, reassembled, joined to its conversation and linked to the');
    n.say(`  message it answers; then STOP/START/HELP, that message's expected replies, ${ours}'s rules, and the unmatched policy, in that order.`);

    watcher = new Watcher({
      n,
      db,
      redis,
      keys,
      sim,
      smsc,
      config,
      customer,
      orders,
      read: { thread: readCustomerThread, parts: readCustomerParts, timelines: readMessageTimelines },
      stopped: () => stopRequested,
    });
    const w = watcher;
    await w.start();
    await w.poll();

    const runStartMs = Date.now();
    const run = runStartMs.toString(36);
    const send = async (payload: Record<string, unknown>): Promise<void> => {
      const entryId = await within(addOutbound(r, keys, payload), 10_000, () => `Redis at ${describeRedis(config.redis.url)} did not answer`);
      const text = String(payload.text);
      const enc = chooseEncoding(text, smsc.defaultAlphabet).alphabet === 'ucs2' ? 'UCS-2' : 'GSM-7';
      n.say(`  XADD ${keys.outbound} * payload '${JSON.stringify({ ...payload, text: preview(text, 32) })}'`);
      n.say(
        `    (stream entry ${entryId}; the text is ${plural([...text].length, 'character')}: ${enc}, ${plural(countSegments(text, smsc.defaultAlphabet), 'part')})`,
      );
    };
    const inject = (text: string): void => {
      n.say(`  The customer sends ${JSON.stringify(text)} to ${ours}: sim.injectReply({ from: "${customerE164}", to: "${ours}", text: ${JSON.stringify(text)} })`);
      simulator.injectReply({ from: customerE164, to: ours, text });
    };
    const acted = (ok: boolean, what: string): boolean => {
      if (!ok) {
        const line = stopRequested ? `${what}: stopped before it played out` : `${what}: did not play out within ${args.wait}s`;
        failures.push(line);
        n.say(`  (${line})`);
      }
      return ok && !stopRequested;
    };

    // ------------------------------------------------------------- act 1
    const reminderId = `demo-${run}-reminder`;
    const resultsId = `demo-${run}-results`;
    const promoId = `demo-${run}-promo`;
    n.step(`5. Act 1: an appointment reminder that expects YES or NO; the customer answers YES`);
    n.mark();
    let before = replyIds(w.snapshot);
    await send({
      id: reminderId,
      to: customerE164,
      from: ours,
      text: DEMO_REMINDER_TEXT,
      replies: { YES: { reply: DEMO_YES_ANSWER }, NO: { reply: DEMO_NO_ANSWER } },
      metadata: { patient: 'Sam', appointment: 'tomorrow 10:00' },
    });
    let going = acted(await w.until((s) => isFinal(s.timelines.get(reminderId)) && repliesSettled(s, before, 1), waitMs), 'act 1');
    const yes = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
    if (going) {
      const answer = yes?.answerMessageId ? w.snapshot?.timelines.get(yes.answerMessageId) : undefined;
      if (yes?.matchedKind === 'expected_reply' && answer?.message.text === DEMO_YES_ANSWER) {
        n.say(`  In short: "${yes.text}" matched the reminder's expected reply ${yes.keyword ?? ''}; the confirmation went back and is ${answer.message.status}.`);
      } else {
        failures.push('act 1: the YES was not answered with the expected reply');
        n.say('  (the YES was not answered with the expected reply: see above)');
      }
    }

    // ------------------------------------------------------------- act 2
    if (going) {
      n.step('6. Act 2: a long Unicode notice (UCS-2, 3 parts); the customer answers with thanks that no rule matches');
      n.mark();
      before = replyIds(w.snapshot);
      await send({ id: resultsId, to: customerE164, from: ours, text: DEMO_UNICODE_TEXT });
      going = acted(await w.until((s) => isFinal(s.timelines.get(resultsId)) && repliesSettled(s, before, 1), waitMs), 'act 2');
      if (going) {
        const t = w.snapshot?.timelines.get(resultsId);
        const thanks = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
        n.say(
          `  In short: ${t?.segments.length ?? 0} parts, ${t?.receipts.length ?? 0} receipts matched, the notice is ${t?.message.status ?? '?'}; ` +
            `the thanks matched ${thanks?.matchedKind === 'none' ? `nothing, so ${ours}'s unmatched policy answered it` : (thanks?.matchedKind ?? '?')}.`,
        );
        if (t?.message.status !== 'delivered' || t.receipts.length !== 3) failures.push('act 2: the Unicode notice was not delivered in 3 receipted parts');
      }
    }

    // ------------------------------------------------------------- act 3
    if (going && orders) {
      n.step(`7. Act 3: the customer asks "${DEMO_ORDER_TEXT}"; the rule hands it to the order-status service, whose answer is texted back`);
      n.mark();
      before = replyIds(w.snapshot);
      inject(DEMO_ORDER_TEXT);
      going = acted(await w.until((s) => repliesSettled(s, before, 1), waitMs), 'act 3');
      if (going) {
        const order = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
        const answer = order?.answerMessageId ? w.snapshot?.timelines.get(order.answerMessageId) : undefined;
        const call = orders.calls.find((c) => c.replyId === order?.id);
        if (call?.verified && answer?.message.text === orderAnswer('1234')) {
          n.say(`  In short: the signed webhook call was verified, the service answered, and its text went back to the customer (${answer.message.status}).`);
        } else {
          failures.push("act 3: the order-status service's answer did not go back");
          n.say("  (the order-status service's answer did not go back: see above)");
        }
      }
    }

    // ------------------------------------------------------------- act 4
    if (going) {
      n.step('8. Act 4: the customer sends STOP; one confirmation goes back, and the next message to them is refused');
      n.mark();
      before = replyIds(w.snapshot);
      inject('STOP');
      going = acted(await w.until((s) => repliesSettled(s, before, 1), waitMs), 'act 4 (STOP)');
      const stop = w.snapshot ? newReplies(w.snapshot, before)[0] : undefined;
      if (going) {
        const useDefault = config.routes.some((x) => x.defaultFrom === ours);
        n.say(`  Then the app sends a promotion${useDefault ? ` without "from" (the route's default_from ${ours} applies)` : ''}:`);
        await send({ id: promoId, to: customerE164, ...(useDefault ? {} : { from: ours }), text: DEMO_PROMO_TEXT });
        going = acted(await w.until((s) => isFinal(s.timelines.get(promoId)), waitMs), 'act 4 (the refused send)');
        await w.watch(QUIET_WIRE_MS);
        const s = w.snapshot;
        const promo = s?.timelines.get(promoId)?.message;
        const onWire = simulator.arrivals.some((a) => a.destination === customer && a.text === DEMO_PROMO_TEXT);
        const confirmations = s?.thread.entries.filter((e) => e.direction === 'out' && stop !== undefined && e.replyTo === stop.id) ?? [];
        n.say(
          `  In short: ${stop?.matchedKind === 'compliance' ? `${stop.keyword ?? 'STOP'} opted the customer out` : 'STOP was not taken as an opt-out'}; ` +
            `${plural(confirmations.length, 'confirmation')} sent; ${promoId} is ${promo?.status ?? '?'}${promo?.errorCode ? ` (${promo.errorCode})` : ''}` +
            `${onWire ? ' but it reached the SMSC!' : `, and no submit_sm for it reached the SMSC in the ${QUIET_WIRE_MS} ms watched`}.`,
        );
        if (stop?.matchedKind !== 'compliance' || confirmations.length !== 1) failures.push('act 4: STOP did not get exactly one confirmation');
        if (promo?.status !== 'failed' || promo.errorCode !== 'opted_out' || onWire) failures.push('act 4: the send after STOP was not refused as opted_out');
      }
    }

    // ------------------------------------------------------------- the record
    n.step('9. The record in Postgres');
    const timelines = await readMessageTimelines(database, [reminderId, resultsId]);
    for (const t of timelines) {
      n.say('');
      n.say(`  $ parley status ${t.message.id}`);
      for (const line of formatTimeline(t, '  ')) n.say(line);
    }
    const thread = await readCustomerThread(database, customer, 1000);
    n.say('');
    n.say(`  $ parley conversation ${customerE164}`);
    for (const line of formatConversation(thread)) n.say(`  ${line}`);

    n.step('10. The streams apps read');
    const outIds = new Set(thread.entries.filter((e): e is ThreadOutbound => e.direction === 'out').map((e) => e.id));
    const events = await countEvents(r, keys.events, runStartMs, outIds);
    const inbound = thread.entries.filter((e) => e.direction === 'in').length;
    n.say(`  ${keys.events}: ${plural(events, 'message.status event')} about the ${plural(outIds.size, 'message')} to ${customerE164} (XREAD / XREADGROUP, or a webhook subscribed to message.status)`);
    n.say(`  ${keys.inbound}: ${plural(inbound, 'message.inbound event')} from ${customerE164}, one per customer message, each with how it was matched`);
  } finally {
    const stops: string[] = [];
    if (daemon) {
      const result = await daemon.service.stop();
      stops.push(`daemon: ${result === 'clean' ? 'intake stopped, windows drained, unbound, writers flushed (clean)' : result}`);
      if (result !== 'clean') failures.push(`the daemon stopped ${result}`);
    }
    if (orders) {
      await orders.close();
      stops.push('order-status service: closed');
    }
    if (sim) {
      await sim.stop();
      stops.push('simulator: stopped');
    }
    if (redis) await closeRedis(redis);
    if (db) await db.destroy();
    removeSignals();
    if (stops.length > 0) n.step('11. Stopping (in reverse order of start)');
    for (const s of stops) n.say(`  ${s}`);
  }
  n.say('');
  if (failures.length === 0 && !stopRequested) {
    n.say(`Done. Try \`parley status <id>\` and \`parley conversation <number>\` with the ids and number above (-c config/demo.yaml).`);
    return EXIT.ok;
  }
  n.say(`The demo did not finish as expected${failures.length > 0 ? `: ${failures.join('; ')}` : ' (stopped)'}.`);
  return EXIT.failed;
}

const pause = (ms: number): Promise<boolean> => sleep(ms);

/** message.status entries about these messages written since `sinceMs`. */
async function countEvents(redis: RedisClient, stream: string, sinceMs: number, ids: ReadonlySet<string>): Promise<number> {
  const entries = (await redis.xrange(stream, `${Math.max(0, sinceMs)}-0`, '+')) as [string, string[]][];
  let count = 0;
  for (const [, fields] of entries) {
    const i = fields.indexOf('event');
    const raw = i >= 0 ? fields[i + 1] : undefined;
    if (raw === undefined) continue;
    try {
      const event = JSON.parse(raw) as { id?: string };
      if (event.id !== undefined && ids.has(event.id)) count++;
    } catch {
      // not an event of ours
    }
  }
  return count;
}

export const demoCommand: CliCommand<DemoArgs> = {
  command: 'demo',
  describe: 'simulator + daemon + a scripted two-way exchange, printed as it happens',
  builder: (y) =>
    y
      .option('config', { ...CONFIG_OPTION, describe: 'configuration file (default: config/demo.yaml; PARLEY_CONFIG is not used)' })
      .option('wait', { type: 'number', default: 10, requiresArg: true, describe: 'seconds each act may take before the demo gives up' }),
  run: runDemo,
};
