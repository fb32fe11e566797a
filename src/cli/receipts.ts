/**
 * `parley receipts --unmatched [--older-than 1h] [--json]`: delivery receipts that matched no
 * message for longer than a horizon (receipts.unmatched_horizon by default). Parley keeps every
 * receipt; one that matches nothing usually means the carrier reports ids in a form the SMSC's
 * `id_format` does not expect, or a receipt for a message sent by something else on the account.
 */
import { formatDuration, parseDuration } from '../config/duration.ts';
import type { UnmatchedReceipt } from '../domain/receipt.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, escapeTerminal, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';
import { cliJson } from './json.ts';

export interface ReceiptsArgs extends ConfigArgs {
  readonly unmatched?: boolean | undefined;
  readonly olderThan?: string | undefined;
  readonly json?: boolean | undefined;
  readonly limit?: number | undefined;
}

const DEFAULT_LIMIT = 1000;

export async function runReceipts(args: ReceiptsArgs): Promise<ExitCode> {
  if (!args.unmatched) {
    throw new CliFailure('parley receipts: say --unmatched (listing unmatched receipts is what this command does; `parley status <id>` shows a message\'s receipts)', EXIT.usage);
  }
  let olderThanMs: number | undefined;
  if (args.olderThan !== undefined) {
    olderThanMs = parseDuration(args.olderThan);
    if (olderThanMs === undefined) throw new CliFailure(`--older-than ${JSON.stringify(args.olderThan)} is not a duration (500ms, 30s, 5m, 1h)`, EXIT.usage);
  }
  const limit = args.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CliFailure('--limit must be a whole number of at least 1', EXIT.usage);
  const config = loadCliConfig(args);
  const horizonMs = olderThanMs ?? config.receipts.unmatchedHorizonMs;
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const [{ openDb }, { listUnmatched }] = await Promise.all([import('../store/db.ts'), import('../store/pending-receipts.ts')]);
  const db = openDb({ url: config.database.url, poolSize: 2 });
  let receipts: UnmatchedReceipt[];
  try {
    receipts = await listUnmatched(db, horizonMs, limit);
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
  if (args.json) {
    out(escapeTerminal(cliJson({ olderThan: formatDuration(horizonMs), count: receipts.length, limit, receipts }), true));
    return EXIT.ok;
  }
  if (receipts.length === 0) {
    out(`no unmatched receipts older than ${formatDuration(horizonMs)}`);
    return EXIT.ok;
  }
  out(
    `${receipts.length}${receipts.length === limit ? ' (the limit; there may be more)' : ''} receipt${receipts.length === 1 ? '' : 's'} ` +
      `matched no message for more than ${formatDuration(horizonMs)}, oldest first:`,
  );
  for (const r of receipts) {
    // The carrier's id, state and text are the carrier's to write: printed escaped.
    out(escapeTerminal(`  ${dateTime(r.receivedAt)}  receipt ${r.id} from ${r.smsc}: carrier id ${r.smscMessageId}, state ${r.state}`));
    out(escapeTerminal(`      ${JSON.stringify(r.body)}`));
  }
  out('');
  out("If the ids look like a sent message's carrier ids in another form (hex/decimal, leading zeros, case), set the SMSC's id_format.");
  return EXIT.ok;
}

export const receiptsCommand: CliCommand<ReceiptsArgs> = {
  command: 'receipts',
  describe: 'delivery receipts that matched no message (--unmatched) (--json for JSON)',
  builder: (y) =>
    y
      .option('config', CONFIG_OPTION)
      .option('unmatched', { type: 'boolean', default: false, describe: 'list receipts that matched no message' })
      .option('older-than', {
        type: 'string',
        requiresArg: true,
        describe: 'only receipts unmatched for longer than this (default: receipts.unmatched_horizon, 1h)',
      })
      .option('limit', { type: 'number', requiresArg: true, describe: `list at most N (default ${DEFAULT_LIMIT})` })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' })
      .example('$0 receipts --unmatched --older-than 10m', 'receipts that matched nothing for more than 10 minutes'),
  run: runReceipts,
};
