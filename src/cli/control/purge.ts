/** `parley purge --customer`: deletes what Parley keeps about one customer. */
import { normaliseNumber } from '../../domain/address.ts';
import { streamKeys } from '../../queue/keys.ts';
import { CliFailure, CONFIG_OPTION, EXIT, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { json, withDb, withRedis } from './connections.ts';

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
  const { purgeCustomer } = await import('../../store/retention.ts');
  const { deleteMatchingEntries } = await import('../../queue/streams.ts');
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
