export type * from './types.ts';
export { ConfigError, formatProblem, type ConfigErrorCode, type ConfigProblem } from './config-error.ts';
export { DEFAULTS } from './defaults.ts';
export { formatDuration, parseDuration } from './duration.ts';
export {
  DEFAULT_CONFIG_FILE,
  EXAMPLE_CONFIG_FILE,
  loadConfig,
  parseConfig,
  resolveConfigFile,
  type ConfigFile,
  type Env,
  type LoadConfigOptions,
} from './load.ts';
export { configToYamlObject, redactConfig } from './redact.ts';
export { validateConfig, type ValidateOptions } from './validate.ts';
export { configWarnings, helpReplyOf, type ConfigWarning } from './warnings.ts';
