/**
 * Where the daemon allocates: V8's sampling heap profiler, counting the objects the garbage
 * collector has already freed too (`includeObjectsCollectedBy…`), so the profile shows every byte
 * allocated over the run, not only what is still alive at its end. The GC is the daemon's biggest
 * single CPU item (~20% with receipts); this says who feeds it.
 *
 *   npm run bench -- --no-two-way --binds 1 --heap-profile bench-profiles
 *   npx tsx test/bench/heap-profile.ts bench-profiles/binds-1-<ms>/daemon-<pid>.heapprofile [--top 25] [--match src/]
 *
 * A byte allocated is not a microsecond of GC: short-lived strings die young and cost little (an
 * array-parameter encoder that cut the sampled bytes by a fifth saved ~1% of the daemon's CPU).
 * Look here for objects that live long enough to be promoted, or for allocation in loops per
 * element.
 */
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fmt, numberFlag, stringFlag, table } from './bench-support.ts';
import { label, packageOf, shortUrl, type CallFrame } from './profile-summary.ts';

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

/** Starts sampling in this process; the returned function stops it and writes the profile into `dir`. */
export async function startHeapSampling(dir: string): Promise<() => Promise<string>> {
  const session = new Session();
  session.connect();
  // Every 16 KiB allocated on average: fine enough for a run of seconds, cheap enough not to
  // change what it measures.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `daemon-${process.pid}.heapprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
}

/** Bytes allocated by function, by package or src/ folder, and inclusive for functions of files matching `match`. */
export function summariseHeap(file: string, top: number, match: string): string {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
  const walk = (node: HeapNode, above: ReadonlySet<string>): void => {
    const f = node.callFrame;
    const name = label(f);
    add(self, name, node.selfSize);
    add(byPackage, packageOf(f), node.selfSize);
    total += node.selfSize;
    const stack = shortUrl(f.url).includes(match) && !above.has(name) ? new Set([...above, name]) : above;
    for (const k of stack) add(inclusive, k, node.selfSize);
    for (const c of node.children) walk(c, stack);
  };
  walk(head, new Set());
  const rows = (m: Map<string, number>): string[][] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, fmt(v / 1e6, 1), fmt((v / total) * 100, 1)]);
  const sections: [title: string, column: string, bytes: Map<string, number>][] = [
    ['bytes allocated by function:', 'function', self],
    ['by package or src/ folder:', 'where', byPackage],
    [`inclusive, functions of files matching "${match}":`, 'function', inclusive],
  ];
  const heading = `allocated (sampled, freed objects included): ${fmt(total / 1e6, 0)} MB`;
  return [heading, ...sections.flatMap(([title, column, bytes]) => ['', title, table([column, 'MB', '%'], rows(bytes))])].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  if (files.length === 0) throw new Error('usage: npx tsx test/bench/heap-profile.ts FILE.heapprofile [--top 25] [--match src/]');
  for (const f of files) console.log(summariseHeap(f, numberFlag('top', 25), stringFlag('match', 'src/')));
}
