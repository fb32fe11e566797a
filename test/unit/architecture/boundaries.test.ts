/**
 * The boundaries of STYLE.md, checked on the source: no import cycles, `domain/` and `lib/` import
 * nothing else from src/, `outbound/` and `inbound/` never import each other, the flows take their
 * data types from `domain/` (never from `store/`), each adapter folder is the only importer of
 * its third-party package, and no file is over 400 lines unless it says why.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Imports {
  /** Runtime imports of other files of src/ (type-only imports are erased and cannot cycle). */
  readonly local: string[];
  /** Every imported module specifier that is not relative. */
  readonly packages: string[];
  /** Every relative import, type-only ones included, as src-relative paths. */
  readonly all: string[];
}

const graph = new Map<string, Imports>();
for (const file of sourceFiles(src)) {
  const text = readFileSync(file, 'utf8');
  const local: string[] = [];
  const packages: string[] = [];
  const all: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
    const spec = m[3]!;
    if (!spec.startsWith('.')) {
      packages.push(spec);
      continue;
    }
    const target = normalize(join(dirname(file), spec));
    all.push(relative(src, target));
    if (!m[2]) local.push(target);
  }
  for (const m of text.matchAll(/await import\('([^']+)'\)/g)) if (!m[1]!.startsWith('.')) packages.push(m[1]!);
  graph.set(file, { local, packages, all });
}

const rel = (f: string): string => relative(src, f);
const folderOf = (f: string): string => rel(f).split('/')[0]!;

describe('architecture', () => {
  it('reads the whole source tree', () => {
    expect(graph.size).toBeGreaterThan(80);
    expect([...graph.values()].reduce((n, i) => n + i.local.length, 0)).toBeGreaterThan(200);
  });

  it('has no runtime import cycles', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, stack: string[]): void => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const dep of graph.get(file)?.local ?? []) {
        if (!graph.has(dep)) continue;
        if (state.get(dep) === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep].map(rel).join(' -> '));
        else if (!state.has(dep)) visit(dep, stack);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('domain/ and lib/ import nothing else from src/', () => {
    const offending = [...graph]
      .filter(([f]) => ['domain', 'lib'].includes(folderOf(f)))
      .flatMap(([f, i]) => i.all.filter((t) => t.split('/')[0] !== folderOf(f)).map((t) => `${rel(f)} -> ${t}`));
    expect(offending).toEqual([]);
  });

  it('outbound/ and inbound/ never import each other', () => {
    const offending = [...graph].flatMap(([f, i]) => {
      const other = folderOf(f) === 'outbound' ? 'inbound' : folderOf(f) === 'inbound' ? 'outbound' : undefined;
      return other ? i.all.filter((t) => t.startsWith(`${other}/`)).map((t) => `${rel(f)} -> ${t}`) : [];
    });
    expect(offending).toEqual([]);
  });

  it('the flows take their data types from domain/, never from store/', () => {
    // The store's handle (Db) is not a data type: the CLI opens one and passes it to store queries.
    const allowed = new Set(['Db']);
    const flows = ['outbound', 'inbound', 'webhooks', 'operations', 'api', 'cli'];
    const offending = [...graph.keys()]
      .filter((f) => flows.includes(folderOf(f)))
      .flatMap((f) => {
        const text = readFileSync(f, 'utf8');
        return [...text.matchAll(/^(?:import|export)\s+(type\s+)?\{([^}]*)\}\s*from\s+'([^']+)'/gms)]
          .filter((m) => relative(src, normalize(join(dirname(f), m[3]!))).startsWith('store/'))
          .flatMap((m) => {
            const names = m[2]!.split(',').map((n) => n.trim()).filter((n) => n !== '');
            // Every name of `import type {...}`, the `type X` ones of a mixed import.
            const types = m[1] ? names.map((n) => n.replace(/^type\s+/, '')) : names.filter((n) => n.startsWith('type ')).map((n) => n.slice(5).trim());
            return types.map((n) => n.split(/\s+as\s+/)[0]!).filter((n) => !allowed.has(n)).map((n) => `${rel(f)}: ${n} from ${m[3]}`);
          });
      });
    expect(offending).toEqual([]);
  });

  it.each([
    ['kysely', 'store'],
    ['pg', 'store'],
    ['ioredis', 'queue'],
    ['pino', 'observability'],
    ['prom-client', 'observability'],
    ['re2js', 'lib'],
    ['smpp', undefined],
  ] as const)('only %s\'s adapter folder imports it', (pkg, folder) => {
    const importers = [...graph].filter(([, i]) => i.packages.includes(pkg)).map(([f]) => rel(f));
    expect(importers.filter((f) => f.split('/')[0] !== folder)).toEqual([]);
    // The adapter really uses it (so the scan sees imports at all); node-smpp is for tests only.
    if (folder) expect(importers.length).toBeGreaterThan(0);
  });

  /**
   * One module, one job: a file over 400 lines is doing more than one. The exceptions give their
   * reason in their opening comment (the config schema: one declaration per key, nothing to split
   * but alphabetical halves).
   */
  it('no file in src/ is over 400 lines, except the ones that say why', () => {
    const EXEMPT = new Set(['config/schema.ts']);
    const lines = new Map([...graph.keys()].map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length - 1]));
    const over = [...lines].filter(([, n]) => n > 400).map(([f]) => f);
    expect(over.filter((f) => !EXEMPT.has(f))).toEqual([]);
    for (const f of EXEMPT) expect(readFileSync(join(src, f), 'utf8').slice(0, 600)).toMatch(/400 lines/);
  });
});
