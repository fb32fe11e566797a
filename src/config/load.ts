/**
 * Loading the configuration: which file, reading it, `${VAR}` substitution, the environment
 * overrides (`DATABASE_URL`, `REDIS_URL`), then validation.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';
import { isPlainMapping } from './fields.ts';
import { type Env, markReferences, substituteInDocument } from './substitute.ts';
import type { ParleyConfig } from './types.ts';
import { validateConfig } from './validate.ts';

export type { Env } from './substitute.ts';

export const DEFAULT_CONFIG_FILE = 'config/parley.yaml';
export const EXAMPLE_CONFIG_FILE = 'config/parley.example.yaml';

/** Environment variables that replace a key of the file, whatever the file says. */
const ENV_OVERRIDES = [
  { variable: 'DATABASE_URL', section: 'database', key: 'url' },
  { variable: 'REDIS_URL', section: 'redis', key: 'url' },
] as const;

export interface ConfigFile {
  /** As given (or the default), relative to `cwd` when not absolute. */
  readonly path: string;
  readonly from: 'argument' | 'PARLEY_CONFIG' | 'default';
}

export interface LoadConfigOptions {
  /** `-c FILE`; takes precedence over `PARLEY_CONFIG`. */
  readonly file?: string;
  /** Defaults to `process.env`. */
  readonly env?: Env;
  /** Where relative paths start; defaults to `process.cwd()`. */
  readonly cwd?: string;
}

/** The file to read: the argument, else `PARLEY_CONFIG`, else `config/parley.yaml`. Empty counts as unset. */
export function resolveConfigFile(options: Pick<LoadConfigOptions, 'file' | 'env'> = {}): ConfigFile {
  const env = options.env ?? process.env;
  if (options.file !== undefined && options.file !== '') return { path: options.file, from: 'argument' };
  const fromEnv = env['PARLEY_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, from: 'PARLEY_CONFIG' };
  return { path: DEFAULT_CONFIG_FILE, from: 'default' };
}

/** Reads, substitutes, overrides and validates; throws `ConfigError` listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): ParleyConfig {
  const env = options.env ?? process.env;
  const file = resolveConfigFile({ file: options.file, env });
  const text = readConfigFile(file, options.cwd ?? process.cwd());
  return parseConfig(text, env, { source: file.path });
}

/** The configuration in `yamlText`, as `loadConfig` would make it of a file with that text. */
export function parseConfig(yamlText: string, env: Env = {}, options: { readonly source?: string } = {}): ParleyConfig {
  const { source } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(markReferences(yamlText), { lineCounter, merge: true, prettyErrors: true, uniqueKeys: true });
  const [syntaxError] = doc.errors;
  if (syntaxError !== undefined) {
    // The first error is the one to fix; the ones after it mostly follow from it.
    const pos = syntaxError.linePos?.[0];
    const message = syntaxError.message.replace(/ at line \d+, column \d+:.*$/s, '');
    const reason = `not valid YAML: ${pos === undefined ? '' : `line ${pos.line}, column ${pos.col}: `}${message}`;
    throw ConfigError.invalid([{ path: '', reason }], source);
  }
  const unset = substituteInDocument(doc, lineCounter, env);
  if (unset.length > 0) throw ConfigError.invalid(unset, source);

  const raw: unknown = doc.toJS({ maxAliasCount: 1_000 });
  return validateConfig(applyEnvOverrides(raw, env), { source });
}

/** `DATABASE_URL` / `REDIS_URL` (when set and not empty) replace `database.url` / `redis.url`. */
function applyEnvOverrides(raw: unknown, env: Env): unknown {
  if (!isPlainMapping(raw) && raw !== null && raw !== undefined) return raw; // validation reports it
  let out: Record<string, unknown> = raw ?? {};
  for (const { variable, section, key } of ENV_OVERRIDES) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const current = out[section] ?? {};
    if (!isPlainMapping(current)) continue; // validation reports the section itself
    out = { ...out, [section]: { ...current, [key]: value } };
  }
  return out;
}

function readConfigFile(file: ConfigFile, cwd: string): string {
  const absolute = resolve(cwd, file.path);
  try {
    return readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const reason =
        file.from === 'default'
          ? `no configuration file at ${file.path} (${absolute}): copy ${EXAMPLE_CONFIG_FILE} to ${file.path} and edit it, ` +
            `or name a file with -c FILE or PARLEY_CONFIG`
          : `configuration file not found: ${file.path} (${absolute})${file.from === 'PARLEY_CONFIG' ? ', named by PARLEY_CONFIG' : ''}`;
      throw ConfigError.file('config_not_found', file.path, reason, err);
    }
    const why = err instanceof Error ? err.message : String(err);
    throw ConfigError.file('config_unreadable', file.path, `cannot read configuration file ${file.path}: ${why}`, err);
  }
}
