/**
 * Raw configuration (what the YAML parser produced) -> a validated, deeply frozen `ParleyConfig`.
 * Every problem is collected and thrown at once as a `ConfigError`.
 */
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { At, INVALID, deepFreeze, describeValue, isPlainMapping } from './fields.ts';
import { CONFIG } from './schema.ts';
import type { ParleyConfig } from './types.ts';

export interface ValidateOptions {
  /** Where the configuration came from, for the error message (a file path). */
  readonly source?: string;
}

export function validateConfig(raw: unknown, options: ValidateOptions = {}): ParleyConfig {
  const problems: ConfigProblem[] = [];
  // An empty file is an empty mapping: the problems are then the required keys.
  const input = raw ?? {};
  let config: ParleyConfig | typeof INVALID = INVALID;
  if (isPlainMapping(input)) {
    config = CONFIG.read(input, new At('', problems));
  } else {
    problems.push({
      path: '',
      reason: `the top level must be a mapping of sections (database, redis, smscs, routes, …), got ${describeValue(input)}`,
    });
  }
  if (problems.length > 0 || config === INVALID) throw ConfigError.invalid(problems, options.source);
  return deepFreeze(config);
}
