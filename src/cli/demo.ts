/**
 * `parley demo`: the whole path in one process, told as it happens. It migrates the demo database,
 * starts the SMSC simulator (with its virtual handset) on the demo config's SMSC port, starts the
 * daemon with a quiet logger, puts two messages on the outbound stream, and narrates what it can
 * observe: the rows, receipts and status changes in Postgres, each submit_sm as the simulator
 * received it, the events on the event stream, and the customer replies. Then it stops everything
 * in order. Nothing is made up: what Parley does not do yet is said so.
 */
import { fileURLToPath } from 'node:url';
import type { ParleyConfig, SmscConfig } from '../config/index.ts';
import { describeError } from '../lib/errors.ts';
import { silentLogger } from '../lib/logger.ts';
import type { Daemon } from '../main.ts';
import { streamKeys } from '../queue/keys.ts';
import type { RedisClient } from '../queue/redis.ts';
import type { Arrival, Simulator } from '../simulator/index.ts';
import { commandStatusName } from '../smpp/command-status.ts';
import type { InboundSm } from '../smpp/smsc-bind.ts';
import { chooseEncoding, countSegments, decodeText, describeDataCoding, parseUdh } from '../smpp/text/index.ts';
import type { Db } from '../store/db.ts';
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
import { DEMO_REMINDER_TEXT, DEMO_UNICODE_TEXT, HANDSET_CONFIRM_REPLY, HANDSET_THANKS_REPLY, demoHandset } from './handset-script.ts';
import { migrateDatabase } from './migrate.ts';
import { formatTimeline } from './status.ts';

export interface DemoArgs extends ConfigArgs {
  /** Longest wait, in seconds, for the messages, receipts and replies before stopping anyway. */
  readonly wait: number;
}

/** config/demo.yaml of this checkout, whatever the working directory. */
export const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

const CUSTOMER = '+14155550101';
const POLL_MS = 100;
const BIND_WAIT_MS = 5_000;

interface DemoMessage {
  readonly label: string;
  readonly payload: { readonly id: string; readonly to: string; readonly from: string; readonly text: string };
}

/** A line to print, with the moment it describes (epoch ms) so lines from different sources interleave in order. */
interface Happening {
  readonly atMs: number;
  readonly line: string;
  /** Among lines at the same moment, causes first: 0 PDUs, 1 status changes they bring about. */
  readonly rank?: number;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function dataCodingName(dataCoding: number, smsc: SmscConfig): string {
  const hex = `0x${dataCoding.toString(16).padStart(2, '0')}`;
  const alphabet = describeDataCoding(dataCoding, smsc.defaultAlphabet).alphabet;
  const names: Record<string, string> = { gsm7: 'GSM-7', ucs2: 'UCS-2', latin1: 'Latin-1', ascii: 'ASCII', binary: 'binary' };
  return `data_coding ${hex} (${dataCoding === 0 ? `SMSC default alphabet, ${names[alphabet] ?? alphabet} for ${smsc.name}` : (names[alphabet] ?? alphabet)})`;
}

function describeArrival(a: Arrival, smsc: SmscConfig): string {
  const concat = a.concat
    ? a.concat.scheme === 'sar'
      ? `sar_* TLVs ref ${a.concat.reference} part ${a.concat.seq}/${a.concat.total}`
      : `UDH concat (${a.concat.scheme === 'udh8' ? '8' : '16'}-bit) ref 0x${a.concat.reference.toString(16).padStart(2, '0')} part ${a.concat.seq}/${a.concat.total}`
    : 'one part, no UDH';
  const answer =
    a.status === 'accepted' ? `answered ESME_ROK, carrier id ${a.messageId ?? '?'}` : `answered ${commandStatusName(a.commandStatus)} (${a.status})`;
  return (
    `-> ${a.command} to ${a.destination} from ${a.source}: ${dataCodingName(a.dataCoding, smsc)}, ${concat}, ` +
    `${plural([...a.text].length, 'char')} ${JSON.stringify(preview(a.text, 24))}; registered_delivery ${a.registeredDelivery}; ${answer}`
  );
}

/** The text of a deliver_sm as a person reads it, with its concatenation when it is one part of several. */
function readInbound(sm: InboundSm, smsc: SmscConfig): { text: string; part: string } {
  let body = sm.messagePayload ?? sm.shortMessage;
  let part = sm.sar ? ` (part ${sm.sar.seq}/${sm.sar.total})` : '';
  if (sm.udhi && !sm.messagePayload) {
    const udh = parseUdh(sm.shortMessage);
    if (udh.ok) {
      body = udh.payload;
      if (udh.concat) part = ` (part ${udh.concat.seq}/${udh.concat.total}, ref ${udh.concat.reference})`;
    }
  }
  return { text: decodeText(body, sm.dataCoding, smsc.defaultAlphabet).text, part };
}

class Narrator {
  /** When the first message was put on the stream: times are shown relative to it. */
  private sendStartMs = Date.now();

  markSendStart(): void {
    this.sendStartMs = Date.now();
  }

  at(atMs: number): string {
    const s = (atMs - this.sendStartMs) / 1000;
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

  get sendStart(): number {
    return this.sendStartMs;
  }
}

export async function runDemo(args: DemoArgs): Promise<ExitCode> {
  const file = args.config ?? DEMO_CONFIG_FILE;
  // PARLEY_CONFIG is for the daemon; the demo runs on its own config unless -c names another.
  const config = loadCliConfig({ config: file });
  const smsc = config.smscs[0];
  if (!smsc) throw new CliFailure('the demo config names no SMSC');
  const keys = streamKeys(config.redis.prefix);
  const n = new Narrator();
  // Loaded here rather than at the top so that other commands start without them.
  const [{ buildDaemon }, { createLogger }, { closeRedis, openRedis }, { addOutbound }, { startSimulator }, { openDb }, { readMessageTimelines }] =
    await Promise.all([
      import('../main.ts'),
      import('../observability/logger.ts'),
      import('../queue/redis.ts'),
      import('../queue/streams.ts'),
      import('../simulator/index.ts'),
      import('../store/db.ts'),
      import('../store/timeline.ts'),
    ]);

  n.say('Parley demo: the SMSC simulator, the daemon and two messages, in one process.');
  n.say(`Config ${args.config ?? 'config/demo.yaml'}: ${describeDatabase(config.database.url)}, Redis ${describeRedis(config.redis.url)} (keys under "${config.redis.prefix}"), SMSC "${smsc.name}" at ${smsc.host}:${smsc.port}.`);

  // --------------------------------------------------------------- Postgres
  n.step('1. Postgres');
  const { created, applied } = await migrateDatabase(config.database.url);
  n.say(`  ${created ? 'created' : 'using'} ${describeDatabase(config.database.url)}; ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'migrations already up to date'}`);

  let stopRequested = false;
  let wakeWatch = (): void => {};
  const removeSignals = onStopSignals(() => {
    stopRequested = true;
    out('  (stop requested: stopping now; a second signal exits at once)');
    wakeWatch();
  });

  const quiet = createLogger({ level: 'warn', destination: process.stderr });
  const replies: { sm: InboundSm; atMs: number }[] = [];
  let sim: Simulator | undefined;
  let daemon: Daemon | undefined;
  let redis: RedisClient | undefined;
  let db: Db | undefined;
  let ok = false;
  try {
    // Redis first: the daemon would wait for it forever, the demo should rather say it is not there.
    redis = openRedis({ url: config.redis.url, name: 'parley:demo' });
    await within(redis.ping(), 5_000, () => `Redis at ${describeRedis(config.redis.url)} does not answer: is it running?`);

    // ------------------------------------------------------------- simulator
    n.step('2. The SMSC simulator (a real SMPP 3.4 server on loopback)');
    try {
      sim = await startSimulator({
        host: smsc.host,
        port: smsc.port,
        controlPort: false,
        receiptDelayMs: [300, 700],
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
    n.say(`  listening on ${sim.host}:${sim.port}; it answers each submit_sm with a carrier message id and sends a delivery receipt 0.3-0.7 s later.`);
    n.say(`  Its virtual handset plays the customer ${CUSTOMER}: it answers "Reply YES" with "${HANDSET_CONFIRM_REPLY}" and the results notice with "${HANDSET_THANKS_REPLY}".`);

    // ------------------------------------------------------------- daemon
    n.step('3. The daemon (as `parley start` runs it; its own logs are quiet here, warnings go to stderr)');
    daemon = buildDaemon(config, { logger: quiet, http: false });
    try {
      await daemon.service.start();
    } catch (e) {
      throw new CliFailure(`the daemon did not start: ${describeError(e).replace(/^[a-z_]+: /, '')}`);
    }
    const pool = daemon.pools.get(smsc.name);
    const bindDeadline = Date.now() + BIND_WAIT_MS;
    while (pool && !pool.canSubmit && Date.now() < bindDeadline && !stopRequested) await pause(20);
    n.say(`  started: intake reads ${keys.outbound} (consumer group "${keys.group}", consumer ${daemon.consumer})`);
    n.say(
      pool?.canSubmit
        ? `  bound to ${smsc.name} at ${smsc.host}:${smsc.port} as ${smsc.bind} (system_id ${smsc.systemId}, window ${smsc.window})`
        : `  not bound to ${smsc.name} yet after ${BIND_WAIT_MS / 1000}s; messages wait in Postgres until a bind is up`,
    );
    n.say('  Customer replies: the daemon has no reply path yet, so the demo stands in for it: it prints each reply and acknowledges it.');

    // ------------------------------------------------------------- send
    const run = Date.now().toString(36);
    const from = config.numbers[0]?.address ?? '12345';
    const messages: DemoMessage[] = [
      { label: 'appointment reminder', payload: { id: `demo-${run}-reminder`, to: CUSTOMER, from, text: DEMO_REMINDER_TEXT } },
      { label: 'results notice (Unicode)', payload: { id: `demo-${run}-results`, to: CUSTOMER, from, text: DEMO_UNICODE_TEXT } },
    ];
    n.step(`4. An app sends two messages: XADD ${keys.outbound} * payload '<json>'`);
    const ids = messages.map((m) => m.payload.id);
    n.markSendStart();
    for (const m of messages) {
      const entryId = await within(addOutbound(redis, keys, m.payload), 10_000, () => `Redis at ${describeRedis(config.redis.url)} did not answer`);
      const enc = chooseEncoding(m.payload.text, smsc.defaultAlphabet).alphabet === 'ucs2' ? 'UCS-2' : 'GSM-7';
      const parts = countSegments(m.payload.text, smsc.defaultAlphabet);
      n.say(`  queued ${m.payload.id} (${m.label}) as stream entry ${entryId}`);
      n.say(`      ${JSON.stringify(preview(m.payload.text, 70))}: ${plural([...m.payload.text].length, 'character')}, needs ${enc}, ${plural(parts, 'part')}`);
    }

    // ------------------------------------------------------------- watch
    n.step('5. What happens, as it happens (seconds since the first XADD; -> a PDU to the SMSC, <- a PDU from it)');
    db = openDb({ url: config.database.url, poolSize: 2 });
    const database = db;
    const watch = await watchMessages({
      n,
      readTimelines: () => readMessageTimelines(database, ids),
      sim,
      smsc,
      config,
      ids,
      texts: messages.map((m) => m.payload.text),
      replies,
      deadlineMs: Date.now() + args.wait * 1000,
      stopped: () => stopRequested,
      setWake: (w) => (wakeWatch = w),
    });

    // ------------------------------------------------------------- the record
    n.step('6. The record in Postgres (what `parley status <id>` prints)');
    const timelines = await readMessageTimelines(db, ids);
    for (const t of timelines) {
      n.say('');
      for (const line of formatTimeline(t, '  ')) n.say(line);
    }

    n.step(`7. The event stream ${keys.events} (what apps read: XREAD or XREADGROUP)`);
    const events = await readOurEvents(redis, keys.events, n.sendStart, new Set(ids));
    if (events.length === 0) n.say('  (no events for these messages)');
    for (const e of events) n.say(`  ${e}`);

    n.step('8. Back from the SMSC');
    const receipts = timelines.reduce((sum, t) => sum + t.receipts.length, 0);
    n.say(
      `  Receipts: ${plural(receipts, 'delivery receipt')} stored in Postgres and matched to their segments; ` +
        `the messages are now ${timelines.map((t) => `${t.message.status} (${t.message.id})`).join(', ')}.`,
    );
    n.say(`  Replies: ${plural(replies.length, 'customer reply', 'customer replies')} reached the bind as deliver_sm${replies.length > 0 ? ' (printed above)' : ''}.`);
    n.say('    Coming with the two-way path: replies stored and reassembled, joined to the conversation with the customer,');
    n.say(`    STOP/HELP handled, "YES" matched against the message's expected replies, and a message.inbound event on ${keys.inbound}.`);
    ok = watch.allSubmitted;
    if (!watch.allSubmitted) n.say(`  Not every message left "queued" within ${args.wait}s: see the history above.`);
  } finally {
    const stops: string[] = [];
    if (daemon) {
      const result = await daemon.service.stop();
      stops.push(`daemon: ${result === 'clean' ? 'intake stopped, windows drained, unbound, writers flushed (clean)' : result}`);
      if (result !== 'clean') ok = false;
    }
    if (sim) {
      await sim.stop();
      stops.push('simulator: stopped');
    }
    if (redis) await closeRedis(redis);
    if (db) await db.destroy();
    removeSignals();
    if (stops.length > 0) n.step('9. Stopping (in reverse order of start)');
    for (const s of stops) n.say(`  ${s}`);
  }
  n.say('');
  n.say(ok ? 'Done. Try `parley status <id>` with one of the ids above (with -c config/demo.yaml).' : 'The demo did not finish as expected.');
  return ok ? EXIT.ok : EXIT.failed;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface WatchOptions {
  readonly n: Narrator;
  readTimelines(): Promise<MessageTimeline[]>;
  readonly sim: Simulator;
  readonly smsc: SmscConfig;
  readonly config: ParleyConfig;
  readonly ids: readonly string[];
  /** This run's texts, to tell its submits from those of messages left by an earlier run. */
  readonly texts: readonly string[];
  readonly replies: readonly { sm: InboundSm; atMs: number }[];
  readonly deadlineMs: number;
  stopped(): boolean;
  setWake(wake: () => void): void;
}

/**
 * Prints what Postgres (rows, receipts, status changes), the simulator's arrival log and the reply
 * stand-in show, every POLL_MS, until every message is final and the handset's replies are in (or
 * the deadline).
 */
async function watchMessages(o: WatchOptions): Promise<{ allSubmitted: boolean }> {
  const printedEvents = new Set<string>();
  const printedReceipts = new Set<string>();
  let lastArrival = o.sim.arrivalsSince(0).last;
  let repliesSeen = 0;
  let timelines: MessageTimeline[] = [];
  const expectedReplies = 2;
  let allSubmitted = false;
  for (;;) {
    const items: Happening[] = [];
    timelines = await o.readTimelines();
    for (const t of timelines) {
      for (const h of t.history) {
        if (printedEvents.has(h.eventId)) continue;
        printedEvents.add(h.eventId);
        items.push({ atMs: h.at.getTime(), line: describeStatusChange(t, h.status, h.previous, o.config), rank: 1 });
      }
      for (const r of t.receipts) {
        if (printedReceipts.has(r.receiptId)) continue;
        printedReceipts.add(r.receiptId);
        const part = r.seq === null ? '' : ` part ${r.seq}/${t.segments.find((s) => s.seq === r.seq)?.total ?? '?'} of`;
        items.push({
          atMs: r.receivedAt.getTime(),
          line: `<- deliver_sm (delivery receipt) from ${r.smsc}: carrier id ${r.smscMessageId}, state ${r.state}${r.errorCode ? ` err ${r.errorCode}` : ''}; Postgres: stored and matched to${part} ${t.message.id}`,
        });
      }
    }
    const { arrivals, last } = o.sim.arrivalsSince(lastArrival);
    lastArrival = last;
    for (const a of arrivals) {
      // Entries left on the stream (or queued in Postgres) by an earlier run are sent too; say so.
      const ours = o.texts.some((t) => a.text !== '' && t.includes(a.text));
      items.push({ atMs: a.atMs, line: describeArrival(a, o.smsc) + (ours ? '' : ' [not one of this run\'s messages: left from earlier]') });
    }
    for (; repliesSeen < o.replies.length; repliesSeen++) {
      const got = o.replies[repliesSeen];
      if (got) items.push({ atMs: got.atMs, line: describeReply(got.sm, o.smsc) });
    }
    o.n.happen(items);

    allSubmitted = timelines.length === o.ids.length && timelines.every((t) => t.message.status !== 'queued');
    const allFinal = timelines.length === o.ids.length && timelines.every((t) => t.message.status !== 'queued' && t.message.status !== 'submitted');
    if (allFinal && o.replies.length >= expectedReplies) break;
    if (o.stopped() || Date.now() >= o.deadlineMs) {
      if (!o.stopped()) {
        const pending = timelines.filter((t) => t.message.status === 'queued' || t.message.status === 'submitted').map((t) => `${t.message.id} ${t.message.status}`);
        o.n.say(
          `  (stopped waiting after the time allowed: ${pending.length > 0 ? `not final: ${pending.join(', ')}; ` : ''}` +
            `${o.replies.length}/${expectedReplies} replies)`,
        );
      }
      break;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      o.setWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return { allSubmitted };
}

function describeStatusChange(t: MessageTimeline, status: string, previous: string | null, config: ParleyConfig): string {
  const m = t.message;
  if (previous === null && status === 'queued') {
    const route = config.routes.find((r) => r.name === m.route);
    const how = route ? `route ${route.name} (prefixes ${route.prefixes.join(' ')}; SMSCs ${route.smscs.join(', ')}; ${route.tps} segments/s)` : `route ${m.route || '(none)'}`;
    return `Postgres: ${m.id} inserted as queued, ${how}; only now is the stream entry acknowledged`;
  }
  if (status === 'submitted') {
    return `Postgres: ${m.id} ${previous ?? '?'} -> submitted via SMSC ${m.smsc ?? '?'}: every part accepted, carrier ids recorded per segment`;
  }
  if (status === 'delivered') return `Postgres: ${m.id} ${previous ?? '?'} -> delivered: a final receipt says DELIVRD for every part`;
  return `Postgres: ${m.id} ${previous ?? '(new)'} -> ${status}${m.errorCode ? ` (${m.errorCode}${m.errorReason ? `: ${m.errorReason}` : ''})` : ''}`;
}

function describeReply(sm: InboundSm, smsc: SmscConfig): string {
  const { text, part } = readInbound(sm, smsc);
  return (
    `<- ${sm.command} (customer reply) from ${smsc.name}: from ${sm.source.address} to ${sm.destination.address}${part}, ` +
    `${dataCodingName(sm.dataCoding, smsc)}: ${JSON.stringify(text)}; acknowledged by the demo's stand-in`
  );
}

/** Event-stream entries (message.status) about these messages, written since `sinceMs`, as short lines. */
async function readOurEvents(redis: RedisClient, stream: string, sinceMs: number, ids: ReadonlySet<string>): Promise<string[]> {
  const entries = (await redis.xrange(stream, `${sinceMs}-0`, '+')) as [string, string[]][];
  const lines: string[] = [];
  for (const [entryId, fields] of entries) {
    const i = fields.indexOf('event');
    const raw = i >= 0 ? fields[i + 1] : undefined;
    if (raw === undefined) continue;
    let event: { type?: string; id?: string; status?: string; previous?: string | null; smsc?: string | null; segments?: number | null };
    try {
      event = JSON.parse(raw) as typeof event;
    } catch {
      continue;
    }
    if (event.id === undefined || !ids.has(event.id)) continue;
    lines.push(
      `${entryId}  ${event.type ?? '?'} ${event.id} ${event.previous ? `${event.previous} -> ` : ''}${event.status ?? '?'}` +
        (event.smsc ? ` (smsc ${event.smsc}${event.segments ? `, ${plural(event.segments, 'segment')}` : ''})` : ''),
    );
  }
  return lines;
}

export const demoCommand: CliCommand<DemoArgs> = {
  command: 'demo',
  describe: 'simulator + daemon + a scripted two-way exchange, printed as it happens',
  builder: (y) =>
    y
      .option('config', { ...CONFIG_OPTION, describe: 'configuration file (default: config/demo.yaml; PARLEY_CONFIG is not used)' })
      .option('wait', { type: 'number', default: 10, requiresArg: true, describe: 'seconds to wait for submits, receipts and replies before stopping anyway' }),
  run: runDemo,
};
