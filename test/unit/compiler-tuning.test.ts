import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tuneOptimisingCompiler } from '../../src/compiler-tuning.ts';

describe('tuneOptimisingCompiler', () => {
  it('leaves a budget the operator gave on the command line, in either spelling', () => {
    expect(tuneOptimisingCompiler(['--max-inlined-bytecode-size-cumulative=500'])).toBe(false);
    expect(tuneOptimisingCompiler(['--enable-source-maps', '--max_inlined_bytecode_size_cumulative=500'])).toBe(false);
  });

  it('sets the budget otherwise, in a process that is already running', () => {
    expect(tuneOptimisingCompiler(['--enable-source-maps'])).toBe(true);
  });

  it('is accepted by this Node (an unknown V8 flag is only warned about, so the warning is looked for)', () => {
    const child = spawnSync(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--max-inlined-bytecode-size-cumulative=230')"], {
      encoding: 'utf8',
    });
    expect(child.status).toBe(0);
    expect(child.stderr).toBe('');
    const unknown = spawnSync(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--no-such-v8-flag-at-all=1')"], { encoding: 'utf8' });
    expect(unknown.stderr).toMatch(/unrecognized flag|unknown/i);
  });
});
