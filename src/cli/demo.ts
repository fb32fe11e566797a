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
import { fileURLToPath } from 'node:url';
import { describeError } from '../lib/errors.ts';
import { sleep } from '../lib/timeout.ts';
import { redactUrlCredentials as redactUrl } from '../lib/url-credentials.ts';
import { silentLogger } from '../lib/logger.ts';
import type { Daemon } from '../main.ts';
import { streamKeys } from '../queue/keys.ts';
import type { RedisClient } from '../queue/redis.ts';
import type { Simulator } from '../simulator/index.ts';
import { chooseEncoding, countSegments } from '../smpp/text/index.ts';
import type { Db } from '../store/db.ts';
import type { ThreadOutbound } from '../domain/customer-thread.ts';
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
import { HANDSET_CONFIRM_REPLY, HANDSET_THANKS_REPLY, demoHandset } from './handset-script.ts';
import { migrateDatabase } from './migrate.ts';
import { formatTimeline } from './status.ts';
import { playOrderAct, playReminderAct, playStopAct, playUnicodeAct, type Stage } from './demo/acts.ts';
import { Narrator, plural } from './demo/narration.ts';
import { startOrderService, unplayable, type OrderService } from './demo/order-service.ts';
import { Watcher } from './demo/watcher.ts';

export interface DemoArgs extends ConfigArgs {
  /** Longest wait, in seconds, for each act to play out before giving up. */
  readonly wait: number;
}

/** config/demo.yaml of this checkout, whatever the working directory. */
export const DEMO_CONFIG_FILE = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

const BIND_WAIT_MS = 5_000;

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

    const ids = { reminder: `demo-${run}-reminder`, results: `demo-${run}-results`, promo: `demo-${run}-promo` };
    const reminderId = ids.reminder;
    const resultsId = ids.results;
    const stage: Stage = { n, w, config, simulator, ours, customer, customerE164, waitMs, ids, failures, send, inject, acted };
    let going = await playReminderAct(stage);
    if (going) going = await playUnicodeAct(stage);
    if (going && orders) going = await playOrderAct(stage, orders);
    if (going) await playStopAct(stage);

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
