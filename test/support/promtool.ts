/**
 * Runs Prometheus's `promtool` (Debian package `prometheus`) for the metrics, rules and config
 * checks. It is resolved from PATH; a missing promtool is an error that says how to install it,
 * never a skipped check.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export const PROMTOOL_MISSING =
  "promtool is not on PATH: install Debian's `prometheus` package (apt-get install --no-install-recommends prometheus), which provides /usr/bin/promtool";

/** The promtool executable on PATH; throws with {@link PROMTOOL_MISSING} when there is none. */
export function findPromtool(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'promtool');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(PROMTOOL_MISSING);
}

export interface PromtoolResult {
  readonly code: number | null;
  /** stdout and stderr together, in the order they came. */
  readonly output: string;
}

/** Runs `promtool <args>` with `stdin` as its input (none when absent). */
export function runPromtool(args: readonly string[], options: { stdin?: string; cwd?: string; timeoutMs?: number } = {}): Promise<PromtoolResult> {
  const bin = findPromtool();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 10_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(options.stdin ?? '');
  });
}
