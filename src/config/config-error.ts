import { ParleyError } from '../lib/errors.ts';

/** One thing wrong with the configuration: where (a key path such as `routes[1].tps`) and why. */
export interface ConfigProblem {
  /** Key path in the YAML's own (snake_case) names; empty for the file as a whole. */
  readonly path: string;
  readonly reason: string;
}

/**
 * `invalid_config`: the file was read but is not a valid configuration (YAML syntax, an unset
 * `${VAR}`, a bad value); `config_not_found` / `config_unreadable`: there is no file to read.
 */
export type ConfigErrorCode = 'invalid_config' | 'config_not_found' | 'config_unreadable';

/**
 * The one error the configuration layer throws. Its message lists every problem as
 * `<key path>: <reason>`, ready to print; `problems` has them one by one.
 */
export class ConfigError extends ParleyError {
  declare readonly code: ConfigErrorCode;
  readonly problems: readonly ConfigProblem[];
  /** The file the configuration came from, when it came from one. */
  readonly source: string | undefined;

  constructor(
    code: ConfigErrorCode,
    message: string,
    problems: readonly ConfigProblem[],
    options?: { source?: string; cause?: unknown },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
    this.source = options?.source;
  }

  /** Every problem found in one configuration, collected rather than stopping at the first. */
  static invalid(problems: readonly ConfigProblem[], source?: string): ConfigError {
    const where = source === undefined ? '' : ` in ${source}`;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${formatProblem(p)}`);
    return new ConfigError('invalid_config', [`invalid configuration${where} (${count}):`, ...lines].join('\n'), problems, { source });
  }

  /** The file itself could not be had; `reason` says which file and what to do. */
  static file(code: 'config_not_found' | 'config_unreadable', source: string, reason: string, cause?: unknown): ConfigError {
    return new ConfigError(code, reason, [{ path: '', reason }], { source, cause });
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return problem.path === '' ? problem.reason : `${problem.path}: ${problem.reason}`;
}
