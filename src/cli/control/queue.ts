/** `parley queue list|cancel|requeue`: the messages waiting in Postgres. */
import { statusEvent } from '../../domain/events.ts';
import { REQUEUEABLE_STATUSES } from '../../domain/status.ts';
import { streamKeys } from '../../queue/keys.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { DAEMON_POLL, json, withDb, withRedis } from './connections.ts';

export interface QueueArgs extends ConfigArgs {
  readonly action: 'list' | 'cancel' | 'requeue';
  readonly ids?: readonly string[] | undefined;
  readonly route?: string | undefined;
  readonly limit?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function runQueue(args: QueueArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const ops = await import('../../store/operations.ts');
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
  const { publishEvents, addOutbound } = await import('../../queue/streams.ts');
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
