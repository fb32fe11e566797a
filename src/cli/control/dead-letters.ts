/** `parley dead-letters list|replay`: outbound entries intake refused, and sending them again. */
import { streamKeys } from '../../queue/keys.ts';
import { CliFailure, CONFIG_OPTION, EXIT, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { json, withRedis } from './connections.ts';

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
  const { listDeadLetters, replayDeadLetters } = await import('../../queue/streams.ts');
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
