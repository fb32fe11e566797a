/**
 * The configuration as it would be written in YAML (snake_case keys, durations as "10s", defaults
 * filled in), with secrets replaced by "***": SMSC passwords and passwords inside the database and
 * Redis URLs. For `parley check-config` and start-up logs.
 */
import { CONFIG } from './schema.ts';
import type { ParleyConfig } from './types.ts';

export function redactConfig(config: ParleyConfig): Record<string, unknown> {
  return CONFIG.write(config, { redact: true }) as Record<string, unknown>;
}

/**
 * The same without redaction: a plain object that `parseConfig` reads back to an equal config.
 * For tests and tools; never log it.
 */
export function configToYamlObject(config: ParleyConfig): Record<string, unknown> {
  return CONFIG.write(config, { redact: false }) as Record<string, unknown>;
}
