/**
 * Raw configuration (what the YAML parser produced) -> a validated, deeply frozen `ParleyConfig`.
 * Every problem is collected and thrown at once as a `ConfigError`, each at its key path.
 */
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { deepFreeze, describeValue, isPlainMapping } from './fields.ts';
import { CONFIG, checkAcrossSections } from './schema.ts';
import type { ParleyConfig } from './types.ts';

export interface ValidateOptions {
  /** Where the configuration came from, for the error message (a file path). */
  readonly source?: string;
}

type Path = readonly PropertyKey[];

/** `['routes', 1, 'tps']` -> `routes[1].tps`, the way the file is read. */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function validateConfig(raw: unknown, options: ValidateOptions = {}): ParleyConfig {
  // An empty file is an empty mapping: the problems are then the required keys.
  const input = raw ?? {};
  if (!isPlainMapping(input)) {
    throw ConfigError.invalid(
      [{ path: '', reason: `the top level must be a mapping of sections (database, redis, smscs, routes, …), got ${describeValue(input)}` }],
      options.source,
    );
  }
  const result = CONFIG.schema.safeParse(input);
  const issues: readonly z.core.$ZodIssue[] = result.success ? [] : result.error.issues;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (path: Path, reason: string): void => {
    const problem = { path: formatPath(path), reason };
    const id = `${problem.path}\n${reason}`;
    if (seen.has(id)) return; // one value failing two checks the same way is one problem
    seen.add(id);
    problems.push(problem);
  };
  for (const issue of issues) add(issue.path, issue.message);
  // A value is judged across sections only when neither it nor what holds it has a problem.
  const wrong = (path: Path): boolean => issues.some((issue) => issue.path.length <= path.length && issue.path.every((part, i) => part === path[i]));
  checkAcrossSections(input, wrong, add);
  if (problems.length > 0 || !result.success) throw ConfigError.invalid(problems, options.source);
  return deepFreeze(result.data);
}
