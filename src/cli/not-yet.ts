/**
 * `parley report` is part of the contract (CONTRACT.md section 3) but arrives with the operations
 * work: it says so and exits 2 rather than print anything made up.
 */
import { CliFailure, CONFIG_OPTION, EXIT, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

function notAvailable(command: string, feature: string): Promise<ExitCode> {
  return Promise.reject(new CliFailure(`parley ${command}: not available yet: arrives with ${feature}`, EXIT.usage));
}

export interface ReportArgs extends ConfigArgs {
  readonly since?: string | undefined;
}

export const reportCommand: CliCommand<ReportArgs> = {
  command: 'report',
  describe: 'delivery, failure, reply and response-time figures from Postgres (not available yet)',
  builder: (y) =>
    y.option('config', CONFIG_OPTION).option('since', { type: 'string', requiresArg: true, describe: 'start of the period, e.g. 24h or 2025-03-01' }),
  run: () => notAvailable('report', 'the operations work (dashboards and reports)'),
};
