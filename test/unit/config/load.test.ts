import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../../src/config/config-error.ts';
import { loadConfig, parseConfig, resolveConfigFile } from '../../../src/config/load.ts';
import { configToYamlObject } from '../../../src/config/redact.ts';
import type { ParleyConfig } from '../../../src/config/types.ts';
import { validateConfig } from '../../../src/config/validate.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const EXAMPLE = 'config/parley.example.yaml';
const DEMO = 'config/demo.yaml';
const exampleEnv = { CARRIER_A_PASSWORD: 'secret-a', CARRIER_B_PASSWORD: 'secret-b', CRM_WEBHOOK_SECRET: 'secret-crm-0123456789' };

const MINIMAL = `
smscs:
  - name: a
    host: 127.0.0.1
    system_id: parley
routes:
  - name: r
    smscs: [a]
    tps: 10
`;

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const problems = (fn: () => unknown): readonly ConfigProblem[] => thrown(fn).problems;

describe('the shipped configuration files', () => {
  it('parley.example.yaml validates', () => {
    const config = loadConfig({ file: EXAMPLE, env: exampleEnv, cwd: repo });
    expect(config.smscs.map((s) => s.name)).toEqual(['carrier-a', 'carrier-b']);
    expect(config.smscs.map((s) => s.password)).toEqual(['secret-a', 'secret-b']);
    expect(config.smscs[1]).toMatchObject({
      port: 3550,
      tls: { enabled: true, caFile: '/etc/parley/carrier-b-ca.pem', servername: 'smpp.carrier-b.example', rejectUnauthorized: true },
      bind: 'transmitter+receiver',
      binds: 2,
      window: 50,
      defaultAlphabet: 'latin1',
      concatenation: 'sar',
      idFormat: 'hex_to_decimal',
    });
    expect(config.routes).toEqual([
      { name: 'uk', prefixes: ['+44'], smscs: ['carrier-b', 'carrier-a'], tps: 50, burst: 5, defaultFrom: 'Parley', uncertainSubmit: 'unknown', uncertainMaxAttempts: 3, maxQueueAgeMs: 600_000 },
      { name: 'default', prefixes: ['*'], smscs: ['carrier-a', 'carrier-b'], tps: 100, burst: 10, defaultFrom: '12345', uncertainSubmit: 'resend', uncertainMaxAttempts: 3 },
    ]);
    expect(config.numbers.map((n) => n.address)).toEqual(['12345', '+14155550100', 'Parley']);
  });

  it('parley.example.yaml names the variables it needs when they are unset', () => {
    expect(problems(() => loadConfig({ file: EXAMPLE, env: {}, cwd: repo }))).toEqual([
      { path: 'webhooks[0].secret', reason: expect.stringMatching(/^environment variable CRM_WEBHOOK_SECRET is not set/) },
      { path: 'smscs[0].password', reason: expect.stringMatching(/^environment variable CARRIER_A_PASSWORD is not set, needed by \$\{CARRIER_A_PASSWORD\} \(line \d+\)$/) },
      { path: 'smscs[1].password', reason: expect.stringMatching(/^environment variable CARRIER_B_PASSWORD is not set/) },
    ]);
  });

  describe('parley.example.yaml documents the defaults accurately', () => {
    const example = loadConfig({ file: EXAMPLE, env: exampleEnv, cwd: repo });
    const defaults = parseConfig(MINIMAL);

    it.each(['database', 'redis', 'http', 'log', 'store', 'shutdown', 'receipts'] as const)('%s shows the defaults', (section) => {
      expect(example[section]).toEqual(defaults[section]);
    });

    it('intake shows the defaults', () => {
      expect(example.intake).toEqual(defaults.intake);
    });

    it('daemon shows the defaults (the name is the host name)', () => {
      expect(example.daemon).toEqual(defaults.daemon);
    });

    it('carrier-a shows every SMSC default', () => {
      const carrierA = example.smscs[0];
      expect(carrierA).toBeDefined();
      const expected = validateConfig({
        smscs: [{ name: carrierA?.name, host: carrierA?.host, system_id: carrierA?.systemId, password: carrierA?.password }],
        routes: [{ name: 'r', smscs: [carrierA?.name], tps: 1 }],
      }).smscs[0];
      expect(carrierA).toEqual(expected);
    });

    it('mentions every key Parley knows', () => {
      const text = readFileSync(join(repo, EXAMPLE), 'utf8');
      const keys = new Set<string>();
      const collect = (value: unknown): void => {
        if (Array.isArray(value)) value.forEach(collect);
        else if (typeof value === 'object' && value !== null) {
          for (const [key, child] of Object.entries(value)) {
            keys.add(key);
            collect(child);
          }
        }
      };
      collect(configToYamlObject(example));
      const missing = [...keys].filter((key) => !new RegExp(`^\\s*(#\\s*|-\\s+)?${key}:`, 'm').test(text));
      expect(missing).toEqual([]);
    });
  });

  it('demo.yaml validates to the demo setup', () => {
    const config = loadConfig({ file: DEMO, env: {}, cwd: repo });
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/parley_demo');
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'parley:demo:' });
    expect(config.http.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.smscs).toHaveLength(1);
    expect(config.smscs[0]).toMatchObject({ name: 'sim', host: '127.0.0.1', port: 2775, systemId: 'parley', password: '' });
    expect(config.routes).toEqual([{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 100, burst: 10, defaultFrom: '12345', uncertainSubmit: 'resend', uncertainMaxAttempts: 3 }]);
    expect(config.numbers.map((n) => n.address)).toEqual(['12345']);
    expect(config.numbers[0]?.rules.map((r) => r.name)).toEqual(['order-status']);
    expect(config.webhooks.map((w) => w.name)).toEqual(['orders']);
  });
});

describe('which file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
    mkdirSync(join(dir, 'config'));
    const named = (name: string): string => MINIMAL.replace('name: r', `name: ${name}`);
    writeFileSync(join(dir, 'config/parley.yaml'), named('from-default'));
    writeFileSync(join(dir, 'from-env.yaml'), named('from-env'));
    writeFileSync(join(dir, 'from-argument.yaml'), named('from-argument'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const routeName = (config: ParleyConfig): string | undefined => config.routes[0]?.name;

  it.each<[string, string | undefined, Record<string, string>, string]>([
    ['the argument first', 'from-argument.yaml', { PARLEY_CONFIG: 'from-env.yaml' }, 'from-argument'],
    ['PARLEY_CONFIG without an argument', undefined, { PARLEY_CONFIG: 'from-env.yaml' }, 'from-env'],
    ['config/parley.yaml otherwise', undefined, {}, 'from-default'],
    ['config/parley.yaml when both are empty', '', { PARLEY_CONFIG: '' }, 'from-default'],
  ])('reads %s', (_, file, env, expected) => {
    expect(routeName(loadConfig({ file, env, cwd: dir }))).toBe(expected);
  });

  it('accepts an absolute path', () => {
    expect(routeName(loadConfig({ file: join(dir, 'from-env.yaml'), env: {}, cwd: '/' }))).toBe('from-env');
  });

  it.each<[string, string | undefined, Record<string, string>, RegExp]>([
    ['named by the argument', 'nope.yaml', {}, /^configuration file not found: nope\.yaml \(.*nope\.yaml\)$/],
    ['named by PARLEY_CONFIG', undefined, { PARLEY_CONFIG: 'nope.yaml' }, /^configuration file not found: nope\.yaml \(.*\), named by PARLEY_CONFIG$/],
  ])('a missing file %s is an error naming it', (_, file, env, message) => {
    const error = thrown(() => loadConfig({ file, env, cwd: dir }));
    expect(error.code).toBe('config_not_found');
    expect(error.message).toMatch(message);
    expect(error.source).toBe('nope.yaml');
  });

  it('a missing default file says what to do', () => {
    const error = thrown(() => loadConfig({ env: {}, cwd: tmpdir() }));
    expect(error.code).toBe('config_not_found');
    expect(error.message).toMatch(/^no configuration file at config\/parley\.yaml \(.*\): copy config\/parley\.example\.yaml to config\/parley\.yaml/);
    expect(error.message).toContain('-c FILE or PARLEY_CONFIG');
  });

  it('a directory is unreadable', () => {
    const error = thrown(() => loadConfig({ file: 'config', env: {}, cwd: dir }));
    expect(error.code).toBe('config_unreadable');
    expect(error.message).toMatch(/^cannot read configuration file config: /);
  });

  it('resolveConfigFile says where the file came from', () => {
    expect(resolveConfigFile({ file: 'a.yaml', env: { PARLEY_CONFIG: 'b.yaml' } })).toEqual({ path: 'a.yaml', from: 'argument' });
    expect(resolveConfigFile({ env: { PARLEY_CONFIG: 'b.yaml' } })).toEqual({ path: 'b.yaml', from: 'PARLEY_CONFIG' });
    expect(resolveConfigFile({ env: {} })).toEqual({ path: 'config/parley.yaml', from: 'default' });
  });

  it('names the file in the error of an invalid one', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'smscs: []\n');
    const error = thrown(() => loadConfig({ file: 'bad.yaml', env: {}, cwd: dir }));
    expect(error.code).toBe('invalid_config');
    expect(error.message.split('\n')[0]).toBe('invalid configuration in bad.yaml (2 problems):');
  });
});

describe('${VAR} substitution', () => {
  const smscWith = (line: string): string => MINIMAL.replace('    system_id: parley', () => `    system_id: parley\n    ${line}`);
  const smsc = (yaml: string, env: Record<string, string>) => parseConfig(yaml, env).smscs[0];

  it.each<[string, string, Record<string, string>, string]>([
    ['a whole value', 'password: ${PW}', { PW: 'pw' }, 'pw'],
    ['part of a value', 'password: x-${PW}-y', { PW: 'pw' }, 'x-pw-y'],
    ['two variables', 'password: ${A}${B}', { A: 'ab', B: 'cd' }, 'abcd'],
    ['a quoted value', 'password: "${PW}"', { PW: 'pw' }, 'pw'],
    ['a value YAML would cut at #', 'password: ${PW}', { PW: 'a #b' }, 'a #b'],
    ['a value with YAML syntax', 'password: ${PW}', { PW: 'x: "y' }, 'x: "y'],
    ['digits (kept as text)', 'password: ${PW}', { PW: '0012' }, '0012'],
    ['an empty variable', 'password: ${PW}', { PW: '' }, ''],
    ['an escaped reference', 'password: $${PW}', {}, '${PW}'],
  ])('substitutes %s', (_, line, env, expected) => {
    expect(smsc(smscWith(line), env)?.password).toBe(expected);
  });

  it('substitutes inside flow collections', () => {
    const yaml = 'smscs: [{ name: a, host: "${HOST}", system_id: ${ID}, password: ${PW} }]\nroutes: [{ name: r, smscs: [a], tps: 1 }]';
    expect(smsc(yaml, { HOST: 'h', ID: 'id', PW: 'p}w,' })).toMatchObject({ host: 'h', systemId: 'id', password: 'p}w,' });
  });

  it('lets numbers, booleans and durations come from variables', () => {
    const yaml = smscWith('port: ${PORT}\n    tls: ${TLS}\n    window: ${WINDOW}\n    bind_timeout: ${TIMEOUT}');
    expect(smsc(yaml, { PORT: '3000', TLS: 'true', WINDOW: '7', TIMEOUT: '3s' })).toMatchObject({
      port: 3000,
      tls: { enabled: true },
      window: 7,
      bindTimeoutMs: 3_000,
    });
  });

  it('ignores references in comments and keys', () => {
    const yaml = `# password: \${NOT_SET}\n${MINIMAL}\nlog:\n  \${NOT_SET}: 1\n`;
    expect(problems(() => parseConfig(yaml, {}))).toEqual([{ path: 'log.${NOT_SET}', reason: 'unknown key' }]);
  });

  it('reports every unset variable with its key path and line', () => {
    const yaml = smscWith('password: ${PW}\n    system_type: ${TYPE}-${PW}');
    expect(problems(() => parseConfig(yaml, {}))).toEqual([
      { path: 'smscs[0].password', reason: 'environment variable PW is not set, needed by ${PW} (line 6)' },
      { path: 'smscs[0].system_type', reason: 'environment variable TYPE is not set, needed by ${TYPE} (line 7)' },
      { path: 'smscs[0].system_type', reason: 'environment variable PW is not set, needed by ${PW} (line 7)' },
    ]);
  });

  it('reports a "${" that starts no reference', () => {
    expect(problems(() => parseConfig(smscWith('password: ab${c'), {}))).toEqual([
      { path: 'smscs[0].password', reason: '"${" must start a reference such as ${NAME} (write $${ for a literal ${) (line 6)' },
    ]);
  });

  it('substitutes through YAML anchors and merge keys', () => {
    const yaml = `
smscs:
  - &base { name: a, host: h, system_id: s, password: \${PW} }
  - { <<: *base, name: b }
routes: [{ name: r, smscs: [a, b], tps: 1 }]
`;
    expect(parseConfig(yaml, { PW: 'pw' }).smscs.map((s) => [s.name, s.password])).toEqual([
      ['a', 'pw'],
      ['b', 'pw'],
    ]);
  });
});

describe('environment overrides', () => {
  const fromFile = `${MINIMAL}\ndatabase: { url: "postgres://from-file/x" }\nredis: { url: "redis://from-file" }\n`;

  it.each<[string, string, Record<string, string>, string, string]>([
    ['DATABASE_URL', MINIMAL, { DATABASE_URL: 'postgres://u:p@db:5433/x' }, 'postgres://u:p@db:5433/x', 'redis://127.0.0.1:6379'],
    ['REDIS_URL', MINIMAL, { REDIS_URL: 'rediss://:p@cache:6380/2' }, 'postgres://postgres@127.0.0.1:5432/parley', 'rediss://:p@cache:6380/2'],
    ['empty variables (ignored)', fromFile, { DATABASE_URL: '', REDIS_URL: '' }, 'postgres://from-file/x', 'redis://from-file'],
  ])('%s', (_, yaml, env, database, redis) => {
    const config = parseConfig(yaml, env);
    expect(config.database.url).toBe(database);
    expect(config.redis.url).toBe(redis);
  });

  it('replace what the file says', () => {
    const yaml = `${MINIMAL}\ndatabase: { url: "postgres://from-file/x", pool_size: 3 }\nredis: { prefix: "p:" }\n`;
    const config = parseConfig(yaml, { DATABASE_URL: 'postgres://env/y', REDIS_URL: 'redis://env' });
    expect(config.database).toEqual({ url: 'postgres://env/y', poolSize: 3, pipelinePoolSize: 4, preparedStatements: true, genericPlans: true, outageUnbindAfterMs: 60_000 });
    expect(config.redis).toEqual({ url: 'redis://env', prefix: 'p:' });
  });

  it('are validated like the file', () => {
    expect(problems(() => parseConfig(MINIMAL, { DATABASE_URL: 'mysql://u:pw@x/y' }))).toEqual([
      { path: 'database.url', reason: 'must be a URL starting with postgres:// or postgresql://, got "mysql://u:***@x/y"' },
    ]);
  });
});

describe('YAML syntax', () => {
  it.each<[string, string, RegExp]>([
    ['a broken flow sequence', 'smscs: [a\nroutes: []\n', /^not valid YAML: line \d+, column \d+: /],
    ['a duplicate key', 'routes: []\nroutes: []\n', /^not valid YAML: line 2, column 1: Map keys must be unique/],
    ['a tab indent', 'smscs:\n\t- name: a\n', /^not valid YAML: line 2, column 1: /],
  ])('reports %s with its line, once', (_, yaml, reason) => {
    const found = problems(() => parseConfig(yaml, {}));
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('');
    expect(found[0]?.reason).toMatch(reason);
  });

  it('treats an empty file as a configuration with nothing in it', () => {
    expect(problems(() => parseConfig('# nothing yet\n', {})).map((p) => p.path)).toEqual(['smscs', 'routes']);
  });
});
