/**
 * The `parley` command line (README "The command line"). Each command lives in its own file and
 * resolves to an exit code: 0 done, 1 failed (reason on stderr), 2 wrong usage or not available
 * yet, 130 a second SIGTERM/SIGINT during a stop. Run by bin/parley, `npm run parley -- …`, or
 * `node --import tsx src/cli/index.ts …`; compiled, `node dist/cli/index.js …` (`npm run build`).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError } from '../lib/errors.ts';
import { PARLEY_VERSION } from '../lib/version.ts';
import { checkConfigCommand } from './check-config.ts';
import { checkBindCommand, deadLettersCommand, optOutCommand, purgeCommand, queueCommand, routeCommand, smscCommand } from './control.ts';
import { CliFailure, EXIT, err, type CliCommand, type ExitCode } from './common.ts';
import { demoCommand } from './demo.ts';
import { migrateCommand } from './migrate.ts';
import { conversationCommand } from './conversation.ts';
import { reportCommand } from './report.ts';
import { schemaCommand } from './schema.ts';
import { receiptsCommand } from './receipts.ts';
import { clusterCommand } from './cluster.ts';
import { sendCommand } from './send.ts';
import { smscSimCommand } from './smsc-sim.ts';
import { startCommand } from './start.ts';
import { statusCommand } from './status.ts';

/** Adds one command; its handler records the exit code. */
function addCommand<A>(cli: Argv, command: CliCommand<A>, done: (code: ExitCode) => void): void {
  cli.command(command.command, command.describe, command.builder, async (args) => {
    done(await runCommand(command, args as unknown as A));
  });
}

async function runCommand<A>(command: CliCommand<A>, args: A): Promise<ExitCode> {
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof CliFailure) {
      err(e.message);
      return e.exitCode;
    }
    err(`parley: ${describeError(e)}`);
    if (process.env['PARLEY_DEBUG'] && e instanceof Error && e.stack) err(e.stack);
    return EXIT.failed;
  }
}

/** Parses `argv` (without node and the script), runs the command and resolves to its exit code. */
export async function runCli(argv: readonly string[]): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const cli: Argv = yargs([...argv])
    .scriptName('parley')
    .usage('$0 <command> [options]\n\nParley, an SMPP-native two-way SMS gateway.')
    .exitProcess(false)
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version('version', 'print the Parley version and exit', PARLEY_VERSION)
    .epilogue('Environment: PARLEY_CONFIG (the config file), DATABASE_URL and REDIS_URL (override the file), ${VAR} inside the file.')
    .fail((message, e, y) => {
      if (e) throw e;
      y.showHelp((help) => err(`${help}\n`));
      // Throwing stops yargs before it runs a handler with arguments it found wrong.
      throw new CliFailure(message, EXIT.usage);
    });
  cli.wrap(Math.min(120, cli.terminalWidth()));
  const done = (code: ExitCode): void => {
    exitCode = code;
  };
  // In the order of the README's command table, which `--help` follows.
  addCommand(cli, startCommand, done);
  addCommand(cli, migrateCommand, done);
  addCommand(cli, checkConfigCommand, done);
  addCommand(cli, sendCommand, done);
  addCommand(cli, statusCommand, done);
  addCommand(cli, receiptsCommand, done);
  addCommand(cli, clusterCommand, done);
  addCommand(cli, conversationCommand, done);
  addCommand(cli, smscSimCommand, done);
  addCommand(cli, demoCommand, done);
  addCommand(cli, reportCommand, done);
  addCommand(cli, schemaCommand, done);
  // Run-time control of every daemon (through Postgres and Redis).
  addCommand(cli, routeCommand, done);
  addCommand(cli, smscCommand, done);
  addCommand(cli, queueCommand, done);
  addCommand(cli, deadLettersCommand, done);
  addCommand(cli, optOutCommand, done);
  addCommand(cli, checkBindCommand, done);
  addCommand(cli, purgeCommand, done);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof CliFailure) {
      err(e.message);
      return e.exitCode;
    }
    err(`parley: ${describeError(e)}`);
    return EXIT.failed;
  }
  return exitCode;
}

process.exit(await runCli(hideBin(process.argv)));
