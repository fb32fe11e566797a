import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { redactUrl } from '../../../src/config/fields.ts';
import { loadConfig, parseConfig } from '../../../src/config/load.ts';
import { configToYamlObject, redactConfig } from '../../../src/config/redact.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const env = {
  CARRIER_A_PASSWORD: 'pw-a',
  CARRIER_B_PASSWORD: 'pw-b',
  CRM_WEBHOOK_SECRET: 'hook-secret-0123456789',
  DATABASE_URL: 'postgres://parley:db-secret@db.internal:5432/parley',
  REDIS_URL: 'rediss://default:redis-secret@cache.internal:6380/0',
};
const example = loadConfig({ file: 'config/parley.example.yaml', env, cwd: repo });

describe('redactConfig', () => {
  const redacted = redactConfig(example);
  const printed = stringify(redacted);

  it('hides credentials in webhook URLs when the config is printed', () => {
    const config = parseConfig(
      'smscs: [{ name: a, host: h, system_id: s }]\nroutes: [{ name: r, smscs: [a], tps: 1 }]\n' +
        'webhooks: [{ name: w, url: "https://tok-1@hooks.example/in?token=tok-2&key=tok-3", secret: "0123456789abcdef" }]',
    );
    const printed = stringify(redactConfig(config));
    for (const s of ['tok-1', 'tok-2', 'tok-3', '0123456789abcdef']) expect(printed).not.toContain(s);
    expect(redactConfig(config)['webhooks']).toMatchObject([{ url: 'https://***@hooks.example/in?token=***&key=***', secret: '***' }]);
  });

  it('hides every secret', () => {
    for (const secret of ['pw-a', 'pw-b', 'db-secret', 'redis-secret', 'hook-secret']) expect(printed).not.toContain(secret);
  });

  it('replaces SMSC passwords and URL passwords by ***', () => {
    expect(redacted['smscs']).toMatchObject([{ name: 'carrier-a', password: '***' }, { name: 'carrier-b', password: '***' }]);
    expect(redacted['database']).toEqual({ url: 'postgres://parley:***@db.internal:5432/parley', pool_size: 10, pipeline_pool_size: 4, prepared_statements: true, generic_plans: true, outage_unbind_after: '1m' });
    expect(redacted['redis']).toEqual({ url: 'rediss://default:***@cache.internal:6380/0', prefix: 'parley:' });
  });

  it('shows an empty password as empty', () => {
    const config = parseConfig('smscs: [{ name: a, host: h, system_id: s }]\nroutes: [{ name: r, smscs: [a], tps: 1 }]');
    expect(redactConfig(config)['smscs']).toMatchObject([{ password: '' }]);
  });

  it('prints the config as the YAML file writes it, defaults included', () => {
    expect(redacted['http']).toEqual({ listen: '127.0.0.1:9464' });
    expect(redacted['shutdown']).toEqual({ grace: '10s', force: '30s' });
    expect((redacted['smscs'] as Record<string, unknown>[])[1]).toMatchObject({
      tls: { enabled: true, ca_file: '/etc/parley/carrier-b-ca.pem', servername: 'smpp.carrier-b.example', reject_unauthorized: true },
      connect_timeout: '10s',
      reconnect_max: '1m',
      source_ton: 'auto',
    });
    expect((redacted['routes'] as Record<string, unknown>[])[1]).toEqual({
      name: 'default',
      prefixes: ['*'],
      smscs: ['carrier-a', 'carrier-b'],
      tps: 100,
      burst: 10,
      default_from: '12345',
      uncertain_submit: 'resend',
      uncertain_max_attempts: 3,
    });
  });

  it('leaves the config itself alone', () => {
    expect(example.smscs[0]?.password).toBe('pw-a');
    expect(example.database.url).toBe(env.DATABASE_URL);
  });
});

describe('configToYamlObject', () => {
  it('reads back to the same configuration', () => {
    expect(validateConfig(configToYamlObject(example))).toEqual(example);
  });
});

describe('redactUrl', () => {
  it.each<[string, string]>([
    ['postgres://u:secret@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['postgres://h/db', 'postgres://h/db'],
    ['redis://:secret@h:6379', 'redis://:***@h:6379'],
    ['redis://u:p%40ss@h', 'redis://u:***@h'],
    ['postgres://u:a@b@h/db', 'postgres://u:***@h/db'],
    ['postgres://h/db?user=u&password=secret&ssl=true', 'postgres://h/db?user=u&password=***&ssl=true'],
    ['not a url', 'not a url'],
    // Webhook URLs: a token as the http(s) user name, credential-like query parameters.
    ['https://hook-token-1@hooks.example/in', 'https://***@hooks.example/in'],
    ['https://u:hook-pw-1@hooks.example/in', 'https://u:***@hooks.example/in'],
    ['https://hooks.example/in?token=t0k&team=7', 'https://hooks.example/in?token=***&team=7'],
    ['https://hooks.example/in?team=7&key=k3y#frag', 'https://hooks.example/in?team=7&key=***#frag'],
    ['https://hooks.example/in?api_key=a&access_token=b&X-Amz-Signature=c&sig=d&code=e', 'https://hooks.example/in?api_key=***&access_token=***&X-Amz-Signature=***&sig=***&code=***'],
    ['https://hooks.example/in?client_secret=s&apiKey=k&auth=a', 'https://hooks.example/in?client_secret=***&apiKey=***&auth=***'],
    ['https://hooks.example/in?page=2&monkey=1', 'https://hooks.example/in?page=2&monkey=1'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
