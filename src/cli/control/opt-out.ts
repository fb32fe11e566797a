/** `parley opt-out add|remove|list`: the opt-out list, as STOP and START change it. */
import { normaliseNumber } from '../../domain/address.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { json, withDb } from './connections.ts';

export interface OptOutArgs extends ConfigArgs {
  readonly action: 'add' | 'remove' | 'list';
  readonly number?: string | undefined;
  readonly scope?: string | undefined;
  readonly limit?: number | undefined;
  readonly json?: boolean | undefined;
}

export async function runOptOut(args: OptOutArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const ops = await import('../../store/operations.ts');
  const { GLOBAL_SCOPE } = await import('../../store/opt-outs.ts');
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
