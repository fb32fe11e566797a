/**
 * The full stack in compose.yaml, checked without a Docker engine (none on the machines the tests
 * run on; `docker compose` is not installed either): the file's structure against the parts of
 * the Compose specification it uses, the security properties it promises (no host networking, no
 * default passwords, credentials only from deploy/stack.env, UIs on 127.0.0.1 only, images
 * pinned), every service reference and mounted file; Parley's config in the stack validates with
 * the example env file; Prometheus's config (with the alert rules and Alertmanager) passes
 * `promtool check config`; Alertmanager's routes name receivers that exist.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../src/config/load.ts';
import { DAEMON_NODE_FLAGS } from '../../../src/daemon-node-flags.ts';
import { runPromtool } from '../../support/promtool.ts';
import { REPO } from '../../unit/ops/ops-files.ts';

const read = (p: string): string => readFileSync(path.join(REPO, p), 'utf8');

interface Service {
  readonly [key: string]: unknown;
  readonly image?: string;
  readonly build?: unknown;
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
  readonly ports?: string[];
  readonly depends_on?: Record<string, { condition: string }> | string[];
  readonly command?: string[] | string;
}

const text = read('compose.yaml');
const compose = parseYaml(text, { merge: true }) as { name?: string; services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

/** The top-level and service keys of the Compose specification that a stack like this may use. */
const TOP_LEVEL = ['name', 'services', 'volumes', 'networks', 'configs', 'secrets'];
const SERVICE_KEYS = [
  'build', 'image', 'command', 'entrypoint', 'environment', 'env_file', 'volumes', 'ports', 'expose', 'depends_on', 'healthcheck',
  'restart', 'stop_grace_period', 'stop_signal', 'networks', 'user', 'working_dir', 'read_only', 'tmpfs', 'labels', 'logging', 'ulimits',
];
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];
const RESTART = ['no', 'always', 'on-failure', 'unless-stopped'];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('compose.yaml: structure', () => {
  it('uses only Compose specification keys, at the top level and in every service', () => {
    expect(Object.keys(compose).filter((k) => !TOP_LEVEL.includes(k))).toEqual([]);
    for (const [name, s] of Object.entries(services)) {
      expect(Object.keys(s).filter((k) => !SERVICE_KEYS.includes(k)), name).toEqual([]);
      expect(s.image ?? s.build, `${name} has an image or a build`).toBeDefined();
      if (s.restart !== undefined) expect(RESTART, name).toContain(s.restart);
      if (s.command !== undefined) expect(Array.isArray(s.command), `${name}: command as a list (no shell parsing)`).toBe(true);
    }
  });

  it('runs Parley, Postgres, Redis, Prometheus, Alertmanager and Grafana, and migrates before Parley starts', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'grafana', 'migrate', 'parley', 'postgres', 'prometheus', 'redis', 'smsc-sim']);
    expect(services.migrate!.command).toEqual(['node', 'dist/cli/index.js', 'migrate', '-c', '/etc/parley/parley.yaml']);
    expect(services.parley!.command).toEqual(['node', ...DAEMON_NODE_FLAGS, 'dist/cli/index.js', 'start', '-c', '/etc/parley/parley.yaml']);
    expect(services.parley!.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });
    expect(services.migrate!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    // The stop drains and unbinds within shutdown.force (30s).
    expect(services.parley!.stop_grace_period).toBe('40s');
  });

  it('every depends_on names a service of the file with a valid condition, and every named volume is declared', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
        expect(CONDITIONS, `${name} -> ${dep}`).toContain(condition);
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck, `${dep} needs a healthcheck`).toBeDefined();
      }
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) {
          expect(existsSync(path.join(REPO, source)), `${name} mounts ${source}, which must exist`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes ?? {}), `${name} uses volume ${source}`).toContain(source);
        }
      }
    }
    expect(statSync(path.join(REPO, 'grafana/provisioning')).isDirectory()).toBe(true);
  });
});

describe('compose.yaml: security', () => {
  it('no host networking, no privileged containers, images pinned to a version', () => {
    expect(text).not.toMatch(/network_mode|privileged|pid:\s*host/);
    for (const [name, s] of Object.entries(services)) {
      if (s.image === undefined) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it('publishes only on 127.0.0.1', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThanOrEqual(4);
    for (const p of published) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('takes every credential from deploy/stack.env: required (${VAR:?}), no defaults, each in the example env file', () => {
    const body = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    const used = [...body.matchAll(/\$\{(\w+)([^}]*)\}/g)];
    expect(used.length).toBeGreaterThan(3);
    for (const [whole, , rest] of used) expect(rest, `${whole} must be required, without a default`).toMatch(/^:\?/);
    const example = new Map(
      read('deploy/stack.env.example')
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    for (const name of new Set(used.map((u) => u[1]!))) expect(example.has(name), `${name} in deploy/stack.env.example`).toBe(true);
    // Secrets are never literals in the file.
    for (const s of Object.values(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|_URL$/.test(key) && key !== 'PROMETHEUS_URL') expect(String(value), key).toMatch(/\$\{\w+:\?/);
      }
    }
    expect(read('.gitignore')).toMatch(/^deploy\/stack\.env$/m);
  });
});

describe('the configs the stack mounts', () => {
  const env = (): Record<string, string> => {
    const vars = Object.fromEntries(
      read('deploy/stack.env.example')
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return {
      ...vars,
      DATABASE_URL: `postgres://parley:${vars.POSTGRES_PASSWORD}@postgres:5432/parley`,
      REDIS_URL: `redis://:${vars.REDIS_PASSWORD}@redis:6379`,
    };
  };

  it("deploy/parley.yaml validates with the example env file, scrapeable on all interfaces, pointing at the stack's services", () => {
    const config = parseConfig(read('deploy/parley.yaml'), env(), { source: 'deploy/parley.yaml' });
    expect(config.http.listen).toMatchObject({ host: '0.0.0.0', port: 9464 });
    expect(new URL(config.database.url).host).toBe('postgres:5432');
    expect(new URL(config.redis.url).host).toBe('redis:6379');
    expect(config.smscs.map((s) => s.host)).toContain('smsc-sim');
    expect(config.retention.messagesMs).toBeGreaterThan(0);
  });

  it('deploy/prometheus.yml passes promtool check config with the alert rules, scrapes parley:9464 as job parley, alerts to alertmanager', async () => {
    const prom = parseYaml(read('deploy/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      global: { external_labels: Record<string, string> };
    };
    expect(prom.scrape_configs).toEqual([{ job_name: 'parley', static_configs: [{ targets: ['parley:9464'] }] }]);
    expect(prom.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['alertmanager:9093']);
    expect(prom.global.external_labels.parley_runbook_url).toMatch(/^https:\/\/.*README\.md$/);
    // The rules are mounted where rule_files looks for them.
    expect(services.prometheus!.volumes).toContain(`./config/alerts/parley.rules.yaml:${prom.rule_files[0]}:ro`);
    // promtool on a copy whose rule path points at the file in this checkout.
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-compose-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'rules'));
    copyFileSync(path.join(REPO, 'config/alerts/parley.rules.yaml'), path.join(dir, 'rules/parley.rules.yaml'));
    writeFileSync(path.join(dir, 'prometheus.yml'), read('deploy/prometheus.yml').replace(prom.rule_files[0]!, path.join(dir, 'rules/parley.rules.yaml')));
    const res = await runPromtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(res.code, res.output).toBe(0);
    expect(res.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('deploy/alertmanager.yml routes to receivers it defines', () => {
    const am = parseYaml(read('deploy/alertmanager.yml')) as { route: { receiver: string; routes?: { receiver: string }[] }; receivers: { name: string }[] };
    const names = am.receivers.map((r) => r.name);
    for (const r of [am.route.receiver, ...(am.route.routes ?? []).map((x) => x.receiver)]) expect(names).toContain(r);
  });
});
