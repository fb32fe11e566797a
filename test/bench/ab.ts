/**
 * The outbound benchmark on two builds turn about: this work tree (uncommitted changes included)
 * and a revision checked out in a temporary git worktree, in the same minutes.
 *
 *   npm run bench:ab -- [--base HEAD] [--pairs 3] [-- ARGS FOR npm run bench]
 *
 * Runs of one build differ here by up to a third from one few minutes to the next, more than most
 * changes; two builds run turn about share those minutes. Each pair runs both builds, which one
 * goes first alternating from pair to pair. The arguments after `--` go to every run of
 * `npm run bench` (default: --no-two-way --binds 1, about 35 s a run; give one binds value).
 *
 * Prints each run's figures, then for each figure the two medians, their ratio, and in how many
 * pairs this tree did better (a higher rate, a lower cost): read a change from the pairs that
 * agree, not from the medians alone. Nothing is asserted.
 *
 * The worktree shares this tree's node_modules (a symlink): a base whose package-lock.json differs
 * is warned about, as it runs on this tree's dependencies. It is removed at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { booleanFlag, fileHeader, fmt, fmtInt, numberFlag, stringFlag, table } from './bench-support.ts';
import { comparePairs, figuresOf, type RunFigures } from './ab-compare.ts';
import type { OutboundResult } from './outbound.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..');
const BENCH = 'test/bench/outbound.ts';

/** One run of the outbound benchmark in `cwd`; its figures from --result-json. */
async function runBench(cwd: string, args: readonly string[], resultFile: string): Promise<RunFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH, ...args, '--result-json', resultFile], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${BENCH} in ${cwd} exited ${code}`);
  const results = JSON.parse(readFileSync(resultFile, 'utf8')) as OutboundResult[];
  if (results.length !== 1) throw new Error(`expected one run per call, got ${results.length}: give one binds value (--binds 1)`);
  return figuresOf(results[0]!);
}

const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const cell = (v: number | undefined, digits: number): string => (v === undefined ? '-' : digits === 0 ? fmtInt(v) : fmt(v, digits));

function runRow(side: string, f: RunFigures): string[] {
  return [side, cell(f.finalRate, 0), cell(f.submitRate, 0), cell(f.daemonUs, 0), cell(f.postgresUs, 0), cell(f.walBytes, 0)];
}

async function main(): Promise<void> {
  if (booleanFlag('help')) {
    console.log(fileHeader(SELF));
    return;
  }
  const rev = stringFlag('base', 'HEAD');
  const pairs = numberFlag('pairs', 3);
  const dashes = process.argv.indexOf('--');
  const benchArgs = dashes >= 0 ? process.argv.slice(dashes + 1) : ['--no-two-way', '--binds', '1'];
  const commit = git('rev-parse', '--verify', `${rev}^{commit}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-ab-'));
  const worktree = path.join(dir, 'base');
  git('worktree', 'add', '--detach', worktree, commit);
  try {
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(worktree, 'node_modules'));
    const lock = (root: string): string => (existsSync(path.join(root, 'package-lock.json')) ? readFileSync(path.join(root, 'package-lock.json'), 'utf8') : '');
    if (lock(worktree) !== lock(ROOT)) console.log(`warning: ${rev}'s package-lock.json differs from this tree's; both run on this tree's node_modules`);
    console.log(`bench:ab: ${pairs} pairs of \`npm run bench -- ${benchArgs.join(' ')}\`, base ${rev} (${commit.slice(0, 7)}) against this work tree`);
    const rows: string[][] = [];
    const results: { base: RunFigures; head: RunFigures }[] = [];
    for (let i = 0; i < pairs; i++) {
      const sides = i % 2 === 0 ? (['base', 'head'] as const) : (['head', 'base'] as const);
      const pair: Partial<Record<'base' | 'head', RunFigures>> = {};
      for (const side of sides) {
        pair[side] = await runBench(side === 'base' ? worktree : ROOT, benchArgs, path.join(dir, `${side}-${i}.json`));
        rows.push(runRow(`${i + 1} ${side}`, pair[side]!));
        console.log(`  pair ${i + 1}, ${side}: done`);
      }
      results.push({ base: pair.base!, head: pair.head! });
    }
    console.log(table(['run', 'final msg/s', 'submit msg/s', 'daemon µs/msg', 'postgres µs/msg', 'WAL B/msg'], rows));
    console.log('');
    const compared = comparePairs(results).map((c) => [c.label, fmtInt(c.base), fmtInt(c.head), fmt(c.ratio, 3), `${c.better} of ${c.pairs}`]);
    console.log(table(['figure (medians)', `base ${rev}`, 'this tree', 'ratio', 'this tree better in'], compared));
  } finally {
    rmSync(path.join(worktree, 'node_modules'), { force: true });
    git('worktree', 'remove', '--force', worktree);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
