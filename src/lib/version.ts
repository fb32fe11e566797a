/**
 * Parley's version, read once from package.json (the one place it is written). The file sits two
 * folders above this one both in src/lib/ (tsx) and in dist/lib/ (compiled), so one relative URL
 * serves both.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown';
}

export const PARLEY_VERSION: string = readVersion();
