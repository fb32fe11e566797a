/**
 * Packaging: the Dockerfile, .dockerignore, the systemd unit and the secrets file example.
 *
 * There is no Docker engine on the machines these tests run on, so the image is not built. What
 * can be checked without one is checked: the Dockerfile is parsed (stages, base image, `npm ci`
 * with and without dev dependencies, non-root USER, HEALTHCHECK on /healthz, STOPSIGNAL, CMD, the
 * documented stop timeout against shutdown.force); every file it copies exists and is not
 * excluded by .dockerignore; every package the runtime imports survives `npm ci --omit=dev`; the
 * HEALTHCHECK command itself is run against a live /healthz; the CMD's entry point runs.
 *
 * The systemd unit is checked by `systemd-analyze verify` (and `security --offline`) where
 * systemd-analyze exists. `verify` refuses an ExecStart whose executable does not exist, so it
 * runs on a copy whose ExecStart points at this Node and this checkout (the installed paths,
 * /usr/bin/node and /opt/parley, need not exist here); the directives are checked on the file as
 * shipped. `verify` reports a bad value as a warning and still exits 0, so its output is read too.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.ts';
import { parseDuration } from '../../../src/config/duration.ts';
import { DAEMON_NODE_FLAGS } from '../../../src/daemon-node-flags.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const FORCE_S = parseDuration(DEFAULTS['shutdown']?.['force'])! / 1000;
const HTTP_PORT = Number(String(DEFAULTS['http']?.['listen']).split(':').pop());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT, timeoutMs = 30_000): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'parley-packaging-'));
  dirs.push(d);
  return d;
}

// ---- The Dockerfile, read as Docker reads it ----

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped), ARGs before the first FROM substituted in FROM. */
function parseDockerfile(text: string): { stages: Stage[]; comments: string } {
  const lines = text.split('\n');
  const comments = lines.filter((l) => l.trim().startsWith('#')).join('\n');
  const logical: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) current += `${line.slice(0, -1).trim()} `;
    else {
      logical.push(`${current}${line}`.trim());
      current = '';
    }
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const l of logical.filter((x) => x !== '')) {
    const [keyword = '', ...rest] = l.split(/\s+/);
    const args = rest.join(' ');
    const kw = keyword.toUpperCase();
    if (kw === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = args.split('=');
      globalArgs.set(name, value);
    } else if (kw === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => globalArgs.get(a ?? b ?? '') ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: kw, args });
    }
  }
  return { stages, comments };
}

const all = (s: Stage, keyword: string): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const last = (s: Stage, keyword: string): string | undefined => all(s, keyword).at(-1);

/** A .dockerignore matcher: Go filepath.Match per pattern plus `**`, anchored at the context root, `!` re-includes, last match wins. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    // A pattern that matches a directory excludes what is inside it.
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (candidates.some((c) => r.re.test(c))) ignored = !r.negate;
    return ignored;
  };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe('versions', () => {
  it('CHANGELOG.md has an Unreleased section and one for the version in package.json; the README points to it', () => {
    const changelog = read('CHANGELOG.md');
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(changelog).toMatch(/^## Unreleased$/m);
    expect(changelog).toContain(`\n## ${pkg.version}\n`);
    expect(read('README.md')).toContain('(CHANGELOG.md)');
  });

  it('`parley --version` prints the version from package.json', async () => {
    const pkg = JSON.parse(read('package.json')) as { version: string };
    const res = await run(process.execPath, ['bin/parley', '--version']);
    expect(res, res.stderr).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });
});

describe('Dockerfile', () => {
  const { stages, comments } = parseDockerfile(read('Dockerfile'));
  const builder = stages.find((s) => s.name === 'builder')!;
  const runtime = stages.at(-1)!;
  const isIgnored = dockerignore(read('.dockerignore'));

  it('has a builder stage that installs everything, type-checks and compiles to dist/, and a runtime stage on node:22-bookworm-slim', () => {
    expect(stages.map((s) => s.name)).toEqual(['builder', 'runtime']);
    for (const s of stages) expect(s.from).toBe('node:22-bookworm-slim');
    const builderRuns = all(builder, 'RUN').join('\n');
    expect(builderRuns).toMatch(/\bnpm ci\b/);
    expect(builderRuns).not.toMatch(/--omit=dev|--production/);
    expect(builderRuns).toMatch(/\btsc\b.*--noEmit/);
    expect(builderRuns).toMatch(/\bnpm run build\b/);
  });

  it('runtime: production dependencies only, NODE_ENV=production, /app, a non-root user created and used', () => {
    const runs = all(runtime, 'RUN').join('\n');
    expect(runs).toMatch(/\bnpm ci\b[^\n&]*--omit=dev/);
    expect(all(runtime, 'ENV')).toContain('NODE_ENV=production');
    expect(last(runtime, 'WORKDIR')).toBe('/app');
    const user = last(runtime, 'USER');
    expect(user).toBe('parley');
    expect(runs).toMatch(/useradd\b[^\n]*\bparley\b/);
    // Nothing runs as root after USER, and the process inherits it.
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.lastIndexOf('USER')).toBeGreaterThan(order.lastIndexOf('RUN'));
  });

  it('exposes the metrics port, checks health on /healthz with Node (no curl), stops with SIGTERM', () => {
    expect(all(runtime, 'EXPOSE')).toEqual([String(HTTP_PORT)]);
    const health = last(runtime, 'HEALTHCHECK')!;
    const [, json] = /\bCMD\s+(\[.*\])$/.exec(health) ?? [];
    const argv = JSON.parse(json!) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('fetch(');
    expect(health).not.toMatch(/curl|wget/);
    const url = all(runtime, 'ENV').find((e) => e.startsWith('PARLEY_HEALTHZ_URL='))!.split('=')[1]!;
    expect(new URL(url)).toMatchObject({ pathname: '/healthz', port: String(HTTP_PORT) });
    expect(last(runtime, 'STOPSIGNAL')).toBe('SIGTERM');
  });

  it('runs the compiled `dist/cli/index.js start -c /etc/parley/parley.yaml` with the daemon\'s Node flags, and ships no TypeScript sources', async () => {
    expect(JSON.parse(last(runtime, 'CMD')!)).toEqual(['node', ...DAEMON_NODE_FLAGS, 'dist/cli/index.js', 'start', '-c', '/etc/parley/parley.yaml']);
    expect(all(runtime, 'ENTRYPOINT')).toEqual([]);
    expect(existsSync(join(ROOT, 'bin/parley'))).toBe(true);
    expect(read('bin/parley')).toContain("import('../src/cli/index.ts')");
    expect(read('bin/parley')).toContain("import('../dist/cli/index.js')");
    expect(all(runtime, 'COPY')).toEqual(expect.arrayContaining(['--from=builder /app/bin ./bin', '--from=builder /app/dist ./dist']));
    expect(all(runtime, 'COPY').filter((c) => /\bsrc\b/.test(c))).toEqual([]);
    expect(all(builder, 'COPY')).toEqual(expect.arrayContaining(['bin ./bin', 'src ./src', 'tsconfig.json tsconfig.build.json ./']));
    const help = await run(process.execPath, ['bin/parley', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stderr + help.stdout).toContain('parley start');
  });

  it('`npm run build` compiles src/ to dist/, whose `--version` and `--help` run on plain Node without tsx', async () => {
    rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
    // A whole compile: 20-25 s alone on the 2-core machines, over 30 s beside the other test files.
    const build = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], process.env, ROOT, 100_000);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect(existsSync(join(ROOT, 'dist/cli/index.js'))).toBe(true);
    // The .ts import specifiers were rewritten to .js.
    expect(read('dist/main.js')).not.toMatch(/from '\.[^']*\.ts'/);
    const pkg = JSON.parse(read('package.json')) as { version: string };
    // No loader: plain Node runs the compiled files.
    // With the CMD's flags: this Node takes them.
    const version = await run(process.execPath, [...DAEMON_NODE_FLAGS, 'dist/cli/index.js', '--version'], { ...process.env, NODE_OPTIONS: '' });
    expect(version, version.stderr).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await run(process.execPath, ['dist/cli/index.js', '--help'], { ...process.env, NODE_OPTIONS: '' });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout + help.stderr).toContain('parley migrate');
  }, 120_000);

  it('documents a container stop timeout above shutdown.force for docker, compose and Kubernetes', () => {
    const timeouts = [
      /--stop-timeout\s+(\d+)/.exec(comments),
      /docker stop -t\s+(\d+)/.exec(comments),
      /stop_grace_period:\s*(\d+)s/.exec(comments),
      /terminationGracePeriodSeconds:\s*(\d+)/.exec(comments),
    ];
    for (const t of timeouts) {
      expect(t, 'a documented stop timeout').not.toBeNull();
      expect(Number(t![1])).toBeGreaterThan(FORCE_S);
    }
    expect(comments).toContain('shutdown.force');
  });

  it('copies only files that exist and that .dockerignore lets into the context; keeps tests, secrets and node_modules out', () => {
    const sources = [...builder.instructions, ...runtime.instructions]
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), src).toBe(true);
      const files = statSync(join(ROOT, src)).isDirectory() ? filesUnder(src) : [src];
      for (const f of files) expect(isIgnored(f), `${f} is excluded by .dockerignore`).toBe(false);
    }
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/parley', 'src/cli/index.ts', 'config/parley.example.yaml']) {
      expect(isIgnored(f), f).toBe(false);
    }
    for (const f of ['node_modules/pino/package.json', '.git/HEAD', 'test/integration/ops/packaging.test.ts', 'config/parley.yaml', '.env', 'grafana/compose.yaml', 'src/x/node_modules/y', 'dist/main.js']) {
      expect(isIgnored(f), f).toBe(true);
    }
  });

  it('every package the runtime imports is a production dependency (so `npm ci --omit=dev` keeps it); tsx is for development only', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    expect(pkg.engines.node).toBe('>=22');
    expect(pkg.devDependencies['@types/node']).toMatch(/^22\./);
    const builtins = new Set(builtinModules);
    const used = new Map<string, string>();
    // bin/parley imports tsx only when it is there (development), so only src/ counts.
    for (const file of filesUnder('src')) {
      const text = read(file);
      // Value imports only: `import type` and `export type` vanish at run time.
      const specifiers = [
        ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
        ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const s of specifiers) {
        if (s.startsWith('.') || s.startsWith('node:') || builtins.has(s.split('/')[0]!)) continue;
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        used.set(name, relative(ROOT, join(ROOT, file)));
      }
    }
    expect([...used.keys()].sort()).toEqual(expect.arrayContaining(['ioredis', 'kysely', 'pg', 'pino', 'prom-client', 'yaml', 'yargs']));
    expect(used.has('tsx')).toBe(false);
    for (const [name, file] of used) expect(pkg.dependencies[name], `${name} (imported by ${file}) must be in dependencies`).toBeDefined();
  });

  it('the HEALTHCHECK command exits 0 on a 200 from /healthz and 1 otherwise', async () => {
    const health = last(runtime, 'HEALTHCHECK')!;
    const argv = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(health)![1]!) as string[];
    let status = 200;
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const probe = (url: string) => run(process.execPath, argv.slice(1), { ...process.env, PARLEY_HEALTHZ_URL: url });
      expect((await probe(`http://127.0.0.1:${port}/healthz`)).code).toBe(0);
      expect(seen).toEqual(['/healthz']);
      status = 503;
      expect((await probe(`http://127.0.0.1:${port}/healthz`)).code).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect((await run(process.execPath, argv.slice(1), { ...process.env, PARLEY_HEALTHZ_URL: `http://127.0.0.1:${port}/healthz` })).code).toBe(1);
  });
});

// ---- systemd ----

/** `[Section]` -> key -> every value given (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      sections.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    section!.set(key, [...(section!.get(key) ?? []), value]);
  }
  return sections;
}

/** systemd time spans as used here: `45`, `45s`, `1min`, `1min 30s`. */
function seconds(span: string): number {
  if (/^\d+$/.test(span)) return Number(span);
  let total = 0;
  for (const [, n, unit] of span.matchAll(/(\d+)\s*(ms|s|sec|min|m|h)\b/g)) total += Number(n) * ({ ms: 0.001, s: 1, sec: 1, min: 60, m: 60, h: 3600 } as Record<string, number>)[unit!]!;
  return total;
}

/** The systemd way of reading an EnvironmentFile: VAR=value lines, comments and blanks skipped. */
function readEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq).trim()] = line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return env;
}

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

describe('systemd unit config/parley.service', () => {
  const unit = parseUnit(read('config/parley.service'));
  const service = unit.get('Service')!;
  const one = (key: string): string | undefined => service.get(key)?.at(-1);

  it('runs `parley start` as the parley user with the secrets file, restarts on failure', () => {
    expect(one('Type')).toBe('simple');
    expect(one('User')).toBe('parley');
    expect(one('Restart')).toBe('on-failure');
    expect(one('EnvironmentFile')).toBe('/etc/parley/parley.env');
    const exec = one('ExecStart')!.split(/\s+/);
    expect(exec[0]).toMatch(/^\/.*\/node$/);
    expect(exec.slice(1)).toEqual([...DAEMON_NODE_FLAGS, '/opt/parley/bin/parley', 'start', '-c', '/etc/parley/parley.yaml']);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('stops with SIGTERM and waits longer than shutdown.force before killing', () => {
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(seconds(one('TimeoutStopSec')!)).toBeGreaterThan(FORCE_S);
  });

  it('is hardened', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['CapabilityBoundingSet', ''],
    ]) {
      expect(one(key!), key).toBe(value);
    }
    // V8's JIT writes then executes memory: this one would stop Node at start.
    expect(one('MemoryDenyWriteExecute') ?? 'no').toBe('no');
  });

  it.skipIf(!SYSTEMD_ANALYZE)('passes `systemd-analyze verify` (a copy pointing at this Node and checkout), which does catch a bad value', async () => {
    const dir = tempDir();
    const shipped = read('config/parley.service');
    const local = shipped.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/parley', ROOT);
    expect(local).not.toBe(shipped);
    const copy = join(dir, 'parley.service');
    writeFileSync(copy, local);
    expect(local).toContain(`\nExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${ROOT}/bin/parley start `);
    const verified = await run(SYSTEMD_ANALYZE!, ['verify', copy]);
    const complaints = (verified.stdout + verified.stderr).split('\n').filter((l) => l.includes('parley.service'));
    expect(verified.code, verified.stderr).toBe(0);
    expect(complaints).toEqual([]);

    // The same check on a copy with a typo: verify says so (on stderr, still exiting 0).
    const broken = join(dir, 'broken', 'parley.service');
    mkdirSync(join(dir, 'broken'));
    writeFileSync(broken, local.replace('TimeoutStopSec=45', 'TimeoutStopSec=45 seconds please'));
    const caught = await run(SYSTEMD_ANALYZE!, ['verify', broken]);
    expect(caught.stderr).toMatch(/parley\.service:\d+: Failed to parse/);
    // And an ExecStart that does not exist fails it.
    writeFileSync(broken, local.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/node'));
    expect((await run(SYSTEMD_ANALYZE!, ['verify', broken])).code).not.toBe(0);
  });

  it.skipIf(!SYSTEMD_ANALYZE)('rates OK (exposure at most 2.0) in `systemd-analyze security --offline`', async (ctx) => {
    const dir = tempDir();
    const copy = join(dir, 'parley.service');
    writeFileSync(copy, read('config/parley.service').replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/parley', ROOT));
    const rated = await run(SYSTEMD_ANALYZE!, ['security', '--offline=true', copy]);
    if (/unrecognized option|unknown option/i.test(rated.stderr)) ctx.skip();
    const [, level] = /Overall exposure level for parley\.service: ([\d.]+)/.exec(rated.stdout + rated.stderr) ?? [];
    expect(level, rated.stdout + rated.stderr).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(2.0);
  });

  it('the secrets file example defines every ${VAR} of the example config: `parley check-config` passes with it', async () => {
    const env = readEnvironmentFile(read('config/parley.env.example'));
    const yaml = read('config/parley.example.yaml')
      .split('\n')
      .map((l) => l.replace(/(^|\s)#.*$/, ''))
      .join('\n');
    const vars = [...new Set([...yaml.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
    expect(vars.length).toBeGreaterThan(0);
    for (const v of vars) expect(env[v], v).toBeDefined();
    const clean = { ...process.env };
    for (const v of [...vars, 'PARLEY_CONFIG', 'DATABASE_URL', 'REDIS_URL', 'NODE_OPTIONS']) delete clean[v];
    const checked = await run(process.execPath, ['bin/parley', 'check-config', '-c', 'config/parley.example.yaml'], { ...clean, ...env });
    expect(checked.code, checked.stderr).toBe(0);
    for (const v of vars) expect(checked.stdout).not.toContain(env[v]!);
  });
});
