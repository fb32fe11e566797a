/**
 * Run-time control of every daemon at once, through Postgres and Redis (never through one
 * daemon's memory): `parley route|smsc pause|resume|list`, `parley queue list|cancel|requeue`,
 * `parley dead-letters list|replay`, `parley opt-out add|remove|list` and `parley check-bind`.
 * Pauses and cancellations are read by each daemon once a second; what they print says so.
 * JSON output (`--json`) is snake_case, like the event streams.
 */
import { readFileSync } from 'node:fs';
import type { ParleyConfig } from '../config/types.ts';
import { normaliseNumber } from '../domain/address.ts';
import { statusEvent } from '../domain/events.ts';
import { REQUEUEABLE_STATUSES } from '../domain/status.ts';
import { streamKeys } from '../queue/keys.ts';
import type { Db } from '../store/db.ts';
import type { RedisClient as Redis } from '../queue/redis.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, describeRedis, explainDatabaseError, loadCliConfig, out, within, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

const REDIS_TIMEOUT_MS = 10_000;
/** How often each daemon reads pauses and cancellations (src/wiring/outbound.ts PAUSES_POLL_MS). */
const DAEMON_POLL = '1 second';

/** Runs `fn` with a Postgres connection of its own; database errors become actionable failures. */
async function withDb<T>(config: ParleyConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const { openDb } = await import('../store/db.ts');
  const db = openDb({ url: config.database.url, poolSize: 2 });
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof CliFailure) throw e;
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
}

async function withRedis<T>(config: ParleyConfig, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const { openRedis, closeRedis } = await import('../queue/redis.ts');
  let lastError: Error | undefined;
  const redis = openRedis({ url: config.redis.url, name: 'parley:cli', onError: (e) => (lastError = e) });
  try {
    return await within(fn(redis), REDIS_TIMEOUT_MS, () =>
      `Redis at ${describeRedis(config.redis.url)} did not answer within ${REDIS_TIMEOUT_MS / 1000}s` + (lastError ? ` (${lastError.message})` : ''),
    );
  } finally {
    await closeRedis(redis);
  }
}

const json = (v: unknown): void => out(JSON.stringify(v, null, 2));

// ---- route / smsc pause|resume|list ------------------------------------------------------------

export interface PauseArgs extends ConfigArgs {
  readonly action: 'pause' | 'resume' | 'list';
  readonly name?: string | undefined;
  readonly reason?: string | undefined;
  readonly json?: boolean | undefined;
}

function pauseCommand(kind: 'route' | 'smsc'): CliCommand<PauseArgs> {
  const plural = kind === 'route' ? 'routes' : 'SMSCs';
  const run = async (args: PauseArgs): Promise<ExitCode> => {
    const config = loadCliConfig(args);
    const known = kind === 'route' ? config.routes.map((r) => r.name) : config.smscs.map((s) => s.name);
    const ops = await import('../store/operations.ts');
    if (args.action === 'list') {
      const pauses = (await withDb(config, (db) => ops.listPauses(db))).filter((p) => p.kind === kind);
      const byName = new Map(pauses.map((p) => [p.name, p]));
      const names = [...new Set([...known, ...byName.keys()])];
      if (args.json) {
        json({
          [kind === 'route' ? 'routes' : 'smscs']: names.map((name) => ({
            name,
            paused: byName.has(name),
            paused_at: byName.get(name)?.pausedAt.toISOString() ?? null,
            reason: byName.get(name)?.reason ?? null,
            in_config: known.includes(name),
          })),
        });
        return EXIT.ok;
      }
      for (const name of names) {
        const p = byName.get(name);
        out(`${name}: ${p ? `paused since ${dateTime(p.pausedAt)}${p.reason ? ` (${p.reason})` : ''}` : 'running'}${known.includes(name) ? '' : ' [not in this config]'}`);
      }
      return EXIT.ok;
    }
    const name = args.name;
    if (name === undefined) throw new CliFailure(`parley ${kind} ${args.action}: name the ${kind} (${plural}: ${known.join(', ')})`, EXIT.usage);
    // Resuming a name the config no longer has is allowed: it clears a stale pause.
    if (args.action === 'pause' && !known.includes(name)) {
      throw new CliFailure(`no ${kind} named ${JSON.stringify(name)} in the config (${plural}: ${known.join(', ')})`, EXIT.usage);
    }
    const changed = await withDb(config, (db) => ops.setPaused(db, kind, name, args.action === 'pause', args.reason));
    if (args.action === 'pause') {
      out(changed ? `${kind} ${name} paused: every daemon stops sending on it within ${DAEMON_POLL}; messages stay queued (max_queue_age still applies)` : `${kind} ${name} was already paused`);
    } else {
      out(changed ? `${kind} ${name} resumed: every daemon sends on it again within ${DAEMON_POLL}` : `${kind} ${name} was not paused`);
    }
    return EXIT.ok;
  };
  return {
    command: `${kind} <action> [name]`,
    describe: `pause or resume a ${kind} on every daemon (list: show which are paused)`,
    builder: (y) =>
      y
        .positional('action', { choices: ['pause', 'resume', 'list'] as const, describe: 'what to do' })
        .positional('name', { type: 'string', describe: `the ${kind}'s name in the config` })
        .option('config', CONFIG_OPTION)
        .option('reason', { type: 'string', requiresArg: true, describe: 'with pause: why (shown by list)' })
        .option('json', { type: 'boolean', describe: 'with list: print JSON' }) as never,
    run,
  };
}

export const routeCommand = pauseCommand('route');
export const smscCommand = pauseCommand('smsc');

// ---- queue list|cancel|requeue ----------------------------------------------------------------

export interface QueueArgs extends ConfigArgs {
  readonly action: 'list' | 'cancel' | 'requeue';
  readonly ids?: readonly string[] | undefined;
  readonly route?: string | undefined;
  readonly limit?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function runQueue(args: QueueArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const ops = await import('../store/operations.ts');
  const ids = [...new Set((args.ids ?? []).map(String))];
  if (args.action === 'list') {
    const limit = args.limit ?? 100;
    const queued = await withDb(config, (db) => ops.listQueued(db, { route: args.route, limit }));
    if (args.json) {
      json({
        count: queued.length,
        limit,
        messages: queued.map((m) => ({
          id: m.id,
          to: m.to,
          route: m.route,
          priority: m.priority,
          created_at: m.createdAt.toISOString(),
          expires_at: m.expiresAt?.toISOString() ?? null,
          attempts: m.attempts,
          owner: m.owner,
          text_length: m.textLength,
        })),
      });
      return EXIT.ok;
    }
    if (queued.length === 0) {
      out(args.route === undefined ? 'no queued messages' : `no queued messages on route ${args.route}`);
      return EXIT.ok;
    }
    out(`${queued.length}${queued.length === limit ? ' (the limit; there may be more)' : ''} queued, oldest first:`);
    for (const m of queued) {
      out(
        `  ${dateTime(m.createdAt)}  ${m.id}  to ${m.to} via ${m.route}, priority ${m.priority}, ${m.textLength} chars, ` +
          `${m.attempts} attempt${m.attempts === 1 ? '' : 's'}${m.expiresAt ? `, expires ${dateTime(m.expiresAt)}` : ''}${m.owner ? `, held by ${m.owner}` : ''}`,
      );
    }
    return EXIT.ok;
  }
  if (ids.length === 0) throw new CliFailure(`parley queue ${args.action}: name the message ids`, EXIT.usage);
  const keys = streamKeys(config.redis.prefix);
  const { publishEvents, addOutbound } = await import('../queue/streams.ts');
  if (args.action === 'cancel') {
    const statusWebhooks = config.webhooks.filter((w) => w.subscribe.includes('message.status')).map((w) => w.name);
    const changes = await withDb(config, (db) => ops.cancelQueued(db, ids, statusWebhooks));
    const now = new Date();
    await withRedis(config, (redis) => publishEvents(redis, keys.events, changes.map((c) => statusEvent(c, now))));
    const done = new Set(changes.map((c) => c.id));
    for (const id of ids) out(done.has(id) ? `${id}: cancelled (failed, error cancelled)` : `${id}: not cancelled: not queued (already sent or finished, or no such message)`);
    if (done.size > 0) out(`every daemon drops cancelled messages within ${DAEMON_POLL}; one already being submitted may still go out`);
    return done.size === ids.length ? EXIT.ok : EXIT.failed;
  }
  // requeue: the same message again under a new id, through the outbound stream like any other.
  const sources = await withDb(config, (db) => ops.requeueSources(db, ids));
  const byId = new Map(sources.map((s) => [s.id, s]));
  let failed = 0;
  await withRedis(config, async (redis) => {
    for (const id of ids) {
      const s = byId.get(id);
      if (!s) {
        out(`${id}: not requeued: no such message`);
        failed++;
        continue;
      }
      if (!(REQUEUEABLE_STATUSES as readonly string[]).includes(s.status)) {
        out(`${id}: not requeued: it is ${s.status} (only ${REQUEUEABLE_STATUSES.join(', ')} messages are sent again)`);
        failed++;
        continue;
      }
      const newId = `${id.slice(0, 40)}-r${Date.now().toString(36)}`;
      const payload = { ...s.payload, id: newId, ...(args.route !== undefined ? { route: args.route } : {}) };
      await addOutbound(redis, keys, payload);
      out(`${id}: requeued as ${newId}`);
    }
  });
  return failed === 0 ? EXIT.ok : EXIT.failed;
}

export const queueCommand: CliCommand<QueueArgs> = {
  command: 'queue <action> [ids..]',
  describe: 'list queued messages, cancel queued ones, or send failed/expired ones again under a new id',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'cancel', 'requeue'] as const })
      .positional('ids', { type: 'string', array: true, describe: 'message ids (cancel, requeue)' })
      .option('config', CONFIG_OPTION)
      .option('route', { type: 'string', requiresArg: true, describe: 'list: only this route; requeue: send on this route instead' })
      .option('limit', { type: 'number', requiresArg: true, describe: 'list: at most this many (default 100)' })
      .option('json', { type: 'boolean', describe: 'list: print JSON' }) as never,
  run: runQueue,
};

// ---- dead-letters list|replay -----------------------------------------------------------------

export interface DeadLettersArgs extends ConfigArgs {
  readonly action: 'list' | 'replay';
  readonly ids?: readonly string[] | undefined;
  readonly all?: boolean | undefined;
  readonly payload?: string | undefined;
  readonly limit?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function runDeadLetters(args: DeadLettersArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const keys = streamKeys(config.redis.prefix);
  const { listDeadLetters, replayDeadLetters } = await import('../queue/streams.ts');
  const limit = args.limit ?? 100;
  if (args.action === 'list') {
    const letters = await withRedis(config, (redis) => listDeadLetters(redis, keys, limit));
    if (args.json) {
      json({
        count: letters.length,
        limit,
        dead_letters: letters.map((l) => ({ id: l.id, original_id: l.originalId, code: l.code, reason: l.reason, at: l.at, payload: l.payload })),
      });
      return EXIT.ok;
    }
    if (letters.length === 0) {
      out(`no dead letters on ${keys.dead}`);
      return EXIT.ok;
    }
    out(`${letters.length}${letters.length === limit ? ' (the limit; there may be more)' : ''} dead letter${letters.length === 1 ? '' : 's'} on ${keys.dead}, oldest first:`);
    for (const l of letters) out(`  ${l.id}  ${l.at}  ${l.code}: ${l.reason}`);
    out('`parley dead-letters replay ID…` (or --all) puts them back on the outbound stream; --json shows the payloads');
    return EXIT.ok;
  }
  if (args.payload !== undefined) {
    try {
      JSON.parse(args.payload);
    } catch {
      throw new CliFailure('--payload must be the corrected payload as JSON', EXIT.usage);
    }
    if ((args.ids ?? []).length !== 1 || args.all) throw new CliFailure('--payload replaces the payload of exactly one dead letter: name one id', EXIT.usage);
  }
  if (!args.all && (args.ids ?? []).length === 0) throw new CliFailure('name the dead letter ids to replay, or --all', EXIT.usage);
  const replayed = await withRedis(config, async (redis) => {
    const ids = args.all ? (await listDeadLetters(redis, keys, limit)).map((l) => l.id) : [...(args.ids ?? [])].map(String);
    if (ids.length === 0) out(`no dead letters on ${keys.dead}`);
    const done = await replayDeadLetters(redis, keys, ids, args.payload);
    for (const id of ids) out(done.has(id) ? `${id}: replayed as outbound entry ${done.get(id)}` : `${id}: not found on ${keys.dead}`);
    return { asked: ids.length, done: done.size };
  });
  if (replayed.done > 0) out('entries that still break the payload rules are dead-lettered again, with their reason');
  return replayed.done === replayed.asked ? EXIT.ok : EXIT.failed;
}

export const deadLettersCommand: CliCommand<DeadLettersArgs> = {
  command: 'dead-letters <action> [ids..]',
  describe: 'list the outbound entries Parley refused, or put them back on the outbound stream',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'replay'] as const })
      .positional('ids', { type: 'string', array: true, describe: 'dead letter ids (replay)' })
      .option('config', CONFIG_OPTION)
      .option('all', { type: 'boolean', describe: 'replay: every dead letter (up to --limit)' })
      .option('payload', { type: 'string', requiresArg: true, describe: 'replay one dead letter with this corrected payload (JSON)' })
      .option('limit', { type: 'number', requiresArg: true, describe: 'at most this many (default 100)' })
      .option('json', { type: 'boolean', describe: 'list: print JSON, payloads included' }) as never,
  run: runDeadLetters,
};

// ---- opt-out add|remove|list ------------------------------------------------------------------

export interface OptOutArgs extends ConfigArgs {
  readonly action: 'add' | 'remove' | 'list';
  readonly number?: string | undefined;
  readonly scope?: string | undefined;
  readonly limit?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function runOptOut(args: OptOutArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const ops = await import('../store/operations.ts');
  const { GLOBAL_SCOPE } = await import('../store/opt-outs.ts');
  let customer: string | undefined;
  if (args.number !== undefined) {
    customer = normaliseNumber(args.number);
    if (customer === undefined) throw new CliFailure(`${JSON.stringify(args.number)} is not an E.164 number or 3-20 digits`, EXIT.usage);
  }
  if (args.action === 'list') {
    const rows = await withDb(config, (db) => ops.listOptOuts(db, { customer, limit: args.limit ?? 100 }));
    if (args.json) {
      json({ opt_outs: rows.map((r) => ({ customer: r.customer, scope: r.scope === GLOBAL_SCOPE ? 'global' : r.scope, keyword: r.keyword, changed_at: r.changedAt.toISOString() })) });
      return EXIT.ok;
    }
    if (rows.length === 0) out(customer === undefined ? 'nobody is opted out' : `${customer} is not opted out`);
    for (const r of rows) out(`${r.customer}  ${r.scope === GLOBAL_SCOPE ? 'every number' : `number ${r.scope}`}  since ${dateTime(r.changedAt)} (${r.keyword ?? 'unknown'})`);
    return EXIT.ok;
  }
  if (customer === undefined) throw new CliFailure(`parley opt-out ${args.action}: name the customer's number`, EXIT.usage);
  const scopeArg = args.scope ?? 'global';
  let scope: string;
  if (scopeArg === 'global') scope = GLOBAL_SCOPE;
  else {
    if (!config.numbers.some((n) => n.address === scopeArg)) {
      throw new CliFailure(`--scope must be "global" or one of our numbers (${config.numbers.map((n) => n.address).join(', ') || 'none configured'})`, EXIT.usage);
    }
    scope = scopeArg;
  }
  const where = scope === GLOBAL_SCOPE ? 'every number' : `number ${scope}`;
  const changed = await withDb(config, (db) => ops.setOperatorOptOut(db, customer, scope, args.action === 'add'));
  if (args.action === 'add') out(changed ? `${customer} opted out of ${where}: messages to them are refused as opted_out` : `${customer} was already opted out of ${where}`);
  else out(changed ? `${customer} opted in again to ${where}` : `${customer} was not opted out of ${where}`);
  return EXIT.ok;
}

export const optOutCommand: CliCommand<OptOutArgs> = {
  command: 'opt-out <action> [number]',
  describe: "add or remove a customer's opt-out (as STOP and START would), or list opt-outs",
  builder: (y) =>
    y
      .positional('action', { choices: ['add', 'remove', 'list'] as const })
      .positional('number', { type: 'string', describe: "the customer's number" })
      .option('config', CONFIG_OPTION)
      .option('scope', { type: 'string', requiresArg: true, describe: 'global (every number of ours, the default) or one of our numbers' })
      .option('limit', { type: 'number', requiresArg: true, describe: 'list: at most this many (default 100)' })
      .option('json', { type: 'boolean', describe: 'list: print JSON' }) as never,
  run: runOptOut,
};

// ---- check-bind -------------------------------------------------------------------------------

export interface CheckBindArgs extends ConfigArgs {
  readonly smsc: string;
  readonly json?: boolean | undefined;
}

/** Binds once with the SMSC's configured credentials, asks for an enquire_link, unbinds. */
export async function runCheckBind(args: CheckBindArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const smsc = config.smscs.find((s) => s.name === args.smsc);
  if (!smsc) throw new CliFailure(`no SMSC named ${JSON.stringify(args.smsc)} (smscs: ${config.smscs.map((s) => s.name).join(', ')})`, EXIT.usage);
  const [{ connectSession }, { SmppSessionError }, { commandStatusName }] = await Promise.all([
    import('../smpp/connection.ts'),
    import('../smpp/session.ts'),
    import('../smpp/command-status.ts'),
  ]);
  const type = smsc.bind === 'transceiver' ? 'transceiver' : 'transmitter';
  const where = `${smsc.host}:${smsc.port}${smsc.tls.enabled ? ' (TLS)' : ''}`;
  const steps: { step: string; ok: boolean; detail: string; ms: number }[] = [];
  const t0 = performance.now();
  const step = (name: string, ok: boolean, detail: string): void => {
    steps.push({ step: name, ok, detail, ms: Math.round(performance.now() - t0) });
  };
  try {
    const session = await connectSession(
      {
        host: smsc.host,
        port: smsc.port,
        connectTimeoutMs: smsc.connectTimeoutMs,
        tls: smsc.tls.enabled
          ? { ca: smsc.tls.caFile ? readFileSync(smsc.tls.caFile) : undefined, servername: smsc.tls.servername ?? smsc.host, rejectUnauthorized: smsc.tls.rejectUnauthorized }
          : undefined,
      },
      { timers: { bindTimeoutMs: smsc.bindTimeoutMs, responseTimeoutMs: smsc.responseTimeoutMs, enquireLinkIntervalMs: 3_600_000 } },
    );
    step('connect', true, `connected to ${where}`);
    try {
      try {
        const resp = await session.bind(type, { system_id: smsc.systemId, password: smsc.password, system_type: smsc.systemType });
        step('bind', true, `bound as ${type} (system_id ${smsc.systemId}); the SMSC calls itself ${JSON.stringify(resp.system_id ?? '')}`);
      } catch (e) {
        const status = e instanceof SmppSessionError && e.commandStatus !== undefined ? commandStatusName(e.commandStatus) : (e as Error).message;
        const hint = /RINVPASWD|RINVSYSID|RBINDFAIL/.test(status) ? ': check system_id and password' : /RALYBND/.test(status) ? ': the account is bound already (its bind limit is reached)' : '';
        step('bind', false, `the SMSC refused the ${type} bind with ${status}${hint}`);
        return report();
      }
      const link = await session.request('enquire_link', {});
      step('enquire_link', link.command_status === 0, `enquire_link answered with ${commandStatusName(link.command_status)}`);
      await session.unbind(2_000);
      step('unbind', true, 'unbound');
    } finally {
      session.close();
    }
  } catch (e) {
    step(steps.length === 0 ? 'connect' : 'session', false, (e as Error).message);
  }
  return report();

  function report(): ExitCode {
    const ok = steps.every((s) => s.ok) && steps.some((s) => s.step === 'bind');
    if (args.json) json({ smsc: smsc!.name, address: where, ok, steps });
    else {
      for (const s of steps) out(`${s.ok ? 'ok  ' : 'FAIL'} ${String(s.ms).padStart(5)} ms  ${s.step}: ${s.detail}`);
      out(ok ? `SMSC ${smsc!.name} accepts Parley's bind` : `SMSC ${smsc!.name}: the bind check failed`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  }
}

export const checkBindCommand: CliCommand<CheckBindArgs> = {
  command: 'check-bind <smsc>',
  describe: "bind once to an SMSC with its configured credentials, enquire_link, unbind, and say what happened",
  builder: (y) =>
    y
      .positional('smsc', { type: 'string', describe: "the SMSC's name in the config" })
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', describe: 'print JSON' }) as never,
  run: runCheckBind,
};

// ---- purge --customer -------------------------------------------------------------------------

export interface PurgeArgs extends ConfigArgs {
  readonly customer: string;
  readonly yes?: boolean | undefined;
  readonly json?: boolean | undefined;
}

/**
 * Whether an entry's JSON names this customer: their number anywhere in it (a "to", a "from", or
 * inside a text, with or without "+", not as part of a longer number), or the id of one of their
 * messages or replies (status events carry only the id).
 */
function mentions(text: string | undefined, customer: string, ids: ReadonlySet<string>): boolean {
  if (text === undefined) return false;
  if (new RegExp(`(?<![0-9])\\+?${customer}(?![0-9])`).test(text)) return true;
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    return typeof v.id === 'string' && ids.has(v.id);
  } catch {
    return false;
  }
}

/**
 * Erases one customer's data for a data-subject request: from Postgres (messages to them with
 * their parts, history and receipts; their replies; conversations; webhook deliveries) and from
 * the Redis streams (outbound entries, dead letters, status events of their messages, their
 * inbound events). An opt-out is kept as a hash, so they stay opted out.
 */
export async function runPurge(args: PurgeArgs): Promise<ExitCode> {
  const customer = normaliseNumber(args.customer);
  if (customer === undefined) throw new CliFailure(`${JSON.stringify(args.customer)} is not an E.164 number or 3-20 digits`, EXIT.usage);
  if (!args.yes) throw new CliFailure(`parley purge erases every message, reply and conversation of ${customer} and cannot be undone: add --yes`, EXIT.usage);
  const config = loadCliConfig(args);
  const keys = streamKeys(config.redis.prefix);
  const { purgeCustomer } = await import('../store/retention.ts');
  const { deleteMatchingEntries } = await import('../queue/streams.ts');
  const { counts, messageIds, replyIds } = await withDb(config, (db) => purgeCustomer(db, customer));
  const ids = new Set([...messageIds, ...replyIds]);
  const streams = await withRedis(config, async (redis) => ({
    outbound: await deleteMatchingEntries(redis, keys.outbound, (f) => mentions(f.payload, customer, ids)),
    dead: await deleteMatchingEntries(redis, keys.dead, (f) => mentions(f.payload, customer, ids)),
    events: await deleteMatchingEntries(redis, keys.events, (f) => mentions(f.event, customer, ids)),
    inbound: await deleteMatchingEntries(redis, keys.inbound, (f) => mentions(f.event, customer, ids)),
  }));
  if (args.json) {
    json({ customer, tables: counts, streams });
    return EXIT.ok;
  }
  out(`erased ${customer}:`);
  for (const [table, n] of Object.entries(counts)) out(`  ${table}: ${n}`);
  for (const [stream, n] of Object.entries(streams)) out(`  stream ${stream}: ${n} entries`);
  if ((counts.opt_outs_hashed ?? 0) > 0) out('their opt-out is kept as a hash: messages to them are still refused');
  out('backups and logs outside Parley are not touched');
  return EXIT.ok;
}

export const purgeCommand: CliCommand<PurgeArgs> = {
  command: 'purge',
  describe: "erase one customer's messages, replies and conversations (a data-subject request); an opt-out is kept as a hash",
  builder: (y) =>
    y
      .option('customer', { type: 'string', demandOption: true, requiresArg: true, describe: "the customer's number (E.164 or digits)" })
      .option('yes', { type: 'boolean', describe: 'confirm: this cannot be undone' })
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', describe: 'print JSON' }) as never,
  run: runPurge,
};
