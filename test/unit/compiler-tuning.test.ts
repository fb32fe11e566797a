import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tuneOptimisingCompiler } from '../../src/compiler-tuning.ts';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/compiler-tuning.ts');

/** Runs `code` (an ES module body with `m` bound to src/compiler-tuning.ts) in a fresh node; stdout and stderr. */
function inChild(code: string, nodeFlags: readonly string[] = []): { stdout: string; stderr: string; status: number | null } {
  const script = `import(${JSON.stringify(MODULE)}).then((m) => { ${code} })`;
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { stdout: r.stdout.trim(), stderr: r.stderr.trim(), status: r.status };
}

describe('tuneOptimisingCompiler', () => {
  it('leaves a budget the operator gave on the command line, in either spelling', () => {
    expect(tuneOptimisingCompiler(['--max-inlined-bytecode-size-cumulative=500'])).toBe(false);
    expect(tuneOptimisingCompiler(['--enable-source-maps', '--max_inlined_bytecode_size_cumulative=500'])).toBe(false);
    const given = inChild('console.log(m.tuneOptimisingCompiler())', ['--max-inlined-bytecode-size-cumulative=500']);
    expect(given).toMatchObject({ stdout: 'false', stderr: '', status: 0 });
  });

  it('sets the budget in a running process, and this Node knows the flag (V8 warns on stderr about one it does not)', () => {
    expect(inChild('console.log(m.tuneOptimisingCompiler([]))')).toMatchObject({ stdout: 'true', stderr: '', status: 0 });
    // The warning the empty stderr above would show, had the flag's name been wrong.
    const unknown = inChild("return import('node:v8').then((v8) => v8.default.setFlagsFromString('--no-such-v8-flag-at-all=1'))");
    expect(unknown.stderr).toMatch(/unrecognized flag|unknown/i);
  });
});
