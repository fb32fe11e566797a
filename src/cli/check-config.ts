/**
 * `parley check-config`: validates the configuration and prints it as YAML with the defaults
 * filled in and secrets replaced by "***"; exit 1 with every problem (key path and reason).
 */
import { stringify } from 'yaml';
import { configWarnings, redactConfig } from '../config/index.ts';
import { CONFIG_OPTION, EXIT, configPath, err, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

export async function runCheckConfig(args: ConfigArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  out(`# ${configPath(args)} is valid. Effective configuration (defaults filled in, secrets hidden):`);
  process.stdout.write(stringify(redactConfig(config)));
  // Valid, so exit 0; what carriers require and validation cannot enforce goes to stderr.
  for (const w of configWarnings(config)) err(`warning: ${w.path}: ${w.message}`);
  return EXIT.ok;
}

export const checkConfigCommand: CliCommand<ConfigArgs> = {
  command: 'check-config',
  describe: 'validate the config and print it with secrets redacted; exit 1 with the key and reason when invalid',
  builder: (y) => y.option('config', CONFIG_OPTION),
  run: runCheckConfig,
};
