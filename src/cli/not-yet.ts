/**
 * `parley conversation` and `parley report` are part of the contract (CONTRACT.md section 3) but
 * their data does not exist yet: they say so and exit 2 rather than print anything made up.
 */
import { CliFailure, CONFIG_OPTION, EXIT, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

function notAvailable(command: string, feature: string): Promise<ExitCode> {
  return Promise.reject(new CliFailure(`parley ${command}: not available yet: arrives with ${feature}`, EXIT.usage));
}

export interface ConversationArgs extends ConfigArgs {
  readonly number: string;
}

export const conversationCommand: CliCommand<ConversationArgs> = {
  command: 'conversation <number>',
  describe: 'the thread with one customer number (not available yet)',
  builder: (y) =>
    y.positional('number', { type: 'string', demandOption: true, describe: 'the customer number, E.164 or digits' }).option('config', CONFIG_OPTION),
  run: () => notAvailable('conversation', 'inbound replies and conversations'),
};

export interface ReportArgs extends ConfigArgs {
  readonly since?: string | undefined;
}

export const reportCommand: CliCommand<ReportArgs> = {
  command: 'report',
  describe: 'delivery, failure, reply and response-time figures from Postgres (not available yet)',
  builder: (y) =>
    y.option('config', CONFIG_OPTION).option('since', { type: 'string', requiresArg: true, describe: 'start of the period, e.g. 24h or 2025-03-01' }),
  run: () => notAvailable('report', 'delivery receipts, replies and reporting'),
};
