/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: the functions with the
 * most self time, the same grouped by source file, and the functions with the most inclusive
 * time (self + callees) among Parley's own sources.
 *
 *   npx tsx test/bench/profile-summary.ts FILE.cpuprofile [--top 25] [--match src/]
 *
 * Lines are those of the code V8 ran (tsx's esbuild output), so they may be a few lines off the
 * .ts source; function names and files are exact.
 */
import { readFileSync } from 'node:fs';
import { fmt, numberFlag, stringFlag, table } from './bench-support.ts';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const cwd = `file://${process.cwd()}/`;
  let u = url.startsWith(cwd) ? url.slice(cwd.length) : url.replace(/^file:\/\//, '');
  u = u.replace(/^.*node_modules\//, 'node_modules/');
  return u;
}

/** src/<folder>, node_modules/<package>, node: internals, or the native/V8 entry by name. */
export function packageOf(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native: syscalls, Buffer, string ops)';
  const u = shortUrl(frame.url);
  const nm = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return `node_modules/${nm[1]}`;
  if (u.startsWith('node:')) return 'node: (streams, net, buffer, timers...)';
  const src = /^(src\/(?:[^/]+\/)*)/.exec(u);
  if (src?.[1]) return src[1];
  return u;
}

export function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  // tsx's output keeps each module on few lines: a line number is shown only when it says something.
  return frame.lineNumber > 0 ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : `${name} ${shortUrl(frame.url)}`;
}

/**
 * `window`, when given, keeps only the samples taken within [fromUs, toUs] of the profile's clock,
 * which is `process.hrtime` in microseconds: a benchmark passes the span it measured so that
 * start-up (module loading, connecting) does not blur the steady state.
 */
export function summarise(file: string, top: number, match: string, window?: { fromUs: number; toUs: number }): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Time per sample: each sample's own delta (the next one's, strictly, but the difference is noise).
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByFn = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') idleUs += us;
    if (frame.functionName === '(garbage collector)') gcUs += us;
    selfByFn.set(label(frame), (selfByFn.get(label(frame)) ?? 0) + us);
    const f = frame.url === '' ? frame.functionName : shortUrl(frame.url);
    selfByFile.set(f, (selfByFile.get(f) ?? 0) + us);
    const pkg = packageOf(frame);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + us);
  }
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.url === '' || !frame.url.includes(match)) continue;
      const l = label(frame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
  }
  // Who called the costliest native and node: internal functions (writev, writeBuffer...): each
  // of their samples goes to the nearest frame up the stack in a package or in src/.
  const isInternal = (f: CallFrame): boolean => f.url === '' || f.url.startsWith('node:');
  const nativeTop = [...selfByFn.entries()]
    .filter(([k]) => !k.startsWith('(') && [...selfUs.keys()].some((id) => label(byId.get(id)!.callFrame) === k && isInternal(byId.get(id)!.callFrame)))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k]) => k);
  const callers = new Map<string, Map<string, number>>(nativeTop.map((k) => [k, new Map()]));
  for (const [id, us] of selfUs) {
    const leaf = byId.get(id)?.callFrame;
    if (!leaf) continue;
    const into = callers.get(label(leaf));
    if (!into) continue;
    let who = '(no package frame)';
    for (let at: number | undefined = parent.get(id); at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f && !isInternal(f)) {
        who = `${packageOf(f)}: ${label(f)}`;
        break;
      }
    }
    into.set(who, (into.get(who) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rows = (m: Map<string, number>): string[][] =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => [k, fmt(us / 1000, 0), fmt((us / busyUs) * 100, 1)]);
  return [
    `${file}${window ? ' (measured span only)' : ''}: ${fmt(totalUs / 1e6, 2)} s profiled, ${fmt(busyUs / 1e6, 2)} s busy (not idle), GC ${fmt((gcUs / busyUs) * 100, 1)}% of busy`,
    '',
    'self time by function:',
    table(['function', 'ms', '% busy'], rows(selfByFn)),
    '',
    'self time by package or src/ folder:',
    table(['where', 'ms', '% busy'], rows(selfByPackage)),
    '',
    'self time by file:',
    table(['file', 'ms', '% busy'], rows(selfByFile)),
    '',
    `inclusive time, functions of files matching "${match}":`,
    table(['function', 'ms', '% busy'], rows(inclusive)),
    ...[...callers.entries()].flatMap(([fn, m]) => [
      '',
      `who calls ${fn} (nearest frame in a package or src/, by its self time):`,
      table(['caller', 'ms', '% busy'], rows(m).slice(0, 8)),
    ]),
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  if (files.length === 0) {
    console.error('usage: npx tsx test/bench/profile-summary.ts FILE.cpuprofile [--top 25] [--match src/]');
    process.exit(2);
  }
  for (const f of files) console.log(summarise(f, numberFlag('top', 25), stringFlag('match', 'src/')) + '\n');
}
