import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createWorld, databaseExists, runCli } from './cli-harness.ts';
import { freePort } from '../../support/ports.ts';

const world = createWorld();
let config: string;

beforeAll(async () => {
  config = world.writeConfig('parley.yaml', world.configYaml({ smscPort: await freePort(), httpPort: await freePort(), password: 'hunter2' }));
});
afterAll(async () => {
  await world.cleanup();
});

describe('parley check-config', () => {
  it('exits 1 naming each bad key and why', async () => {
    const bad = world.writeConfig(
      'bad.yaml',
      world
        .configYaml({ smscPort: 2775, httpPort: 9464 })
        .replace('tps: 100', 'tps: -5')
        .replace('pool_size: 2', 'pool_sise: 2'),
    );
    const r = await runCli(['check-config', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('routes[0].tps');
    expect(r.stderr).toContain('database.pool_sise');
    expect(r.stdout).toBe('');
  });

  it('names a missing file and a missing ${VAR}', async () => {
    const withVar = world.writeConfig('var.yaml', world.configYaml({ smscPort: 2775, httpPort: 9464, password: '${SIM_PASSWORD}' }).replace('"${SIM_PASSWORD}"', '${SIM_PASSWORD}'));
    const [missing, unset] = await Promise.all([runCli(['check-config', '-c', `${world.dir}/nope.yaml`]), runCli(['check-config', '-c', withVar])]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found: .*nope\.yaml/);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('smscs[0].password: environment variable SIM_PASSWORD is not set');
  });

  it('prints the effective config as YAML with secrets redacted; PARLEY_CONFIG names the file', async () => {
    const withSecrets = world.writeConfig(
      'secrets.yaml',
      world.configYaml({ smscPort: 2775, httpPort: 9464, password: 'hunter2' }).replace(/url: "postgres:\/\/postgres@/, 'url: "postgres://postgres:topsecret@'),
    );
    const r = await runCli(['check-config'], { env: { PARLEY_CONFIG: withSecrets } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('topsecret');
    const printed = parse(r.stdout) as { smscs: { password: string; window: number }[]; database: { url: string }; redis: { prefix: string } };
    expect(printed.smscs[0]?.password).toBe('***');
    expect(printed.database.url).toContain('***');
    expect(printed.smscs[0]?.window).toBe(100); // a default, filled in
    expect(printed.redis.prefix).toBe(world.prefix);
    // Valid, but the standard HELP text names no brand and no contact: warned on stderr, exit 0.
    expect(r.stderr).toContain('warning: numbers[0].compliance.brand: is not set');
    expect(r.stderr).toContain('warning: numbers[0].compliance.help_reply: has no contact');
  });

  it('warns about nothing once the HELP text carries brand, contact and how to stop', async () => {
    const good = world.writeConfig(
      'help.yaml',
      world.configYaml({ smscPort: 2775, httpPort: 9464 }).replace('  - address: "12345"', '  - address: "12345"\n    compliance: { brand: Acme, contact: "help@acme.example" }'),
    );
    const r = await runCli(['check-config', '-c', good]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning');
  });
});

describe('parley migrate', () => {
  it('creates a missing database, applies every migration, and is idempotent', async () => {
    expect(await databaseExists(world.database)).toBe(false);
    const first = await runCli(['migrate', '-c', config]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created database ${world.database}`);
    expect(first.stdout).toContain('applied 0001-outbound');
    expect(await databaseExists(world.database)).toBe(true);

    const second = await runCli(['migrate', '-c', config]);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('created');
    expect(second.stdout).toContain('already up to date');
  });
});

describe('parley send', () => {
  it('puts one valid entry on the outbound stream and prints the message id', async () => {
    const redis = new Redis(world.redisUrl);
    try {
      const [withId, generated] = await Promise.all([
        runCli(['send', '-c', config, '--to', '+14155550101', '--text', 'Hello 👋', '--from', '12345', '--priority', '2', '--id', 'order-42']),
        runCli(['send', '-c', config, '--to', '14155550102', '--text', 'Hi']),
      ]);
      expect(withId.stderr).toContain(`${world.prefix}outbound`);
      expect(withId.code).toBe(0);
      expect(withId.stdout.trim()).toBe('order-42');
      expect(generated.code).toBe(0);

      const entries = await redis.xrange(`${world.prefix}outbound`, '-', '+');
      expect(entries).toHaveLength(2);
      const first = entries.find(([, fields]) => fields[1]?.includes('order-42'));
      const second = entries.find(([, fields]) => !fields[1]?.includes('order-42'));
      expect(first?.[1]).toEqual(['payload', expect.any(String)]);
      expect(JSON.parse(first?.[1][1] ?? '')).toEqual({ id: 'order-42', to: '+14155550101', text: 'Hello 👋', from: '12345', priority: 2 });
      expect(JSON.parse(second?.[1][1] ?? '')).toEqual({ to: '14155550102', text: 'Hi' });
      // Without --id, intake names the message after its stream entry.
      expect(generated.stdout.trim()).toBe(`s-${second?.[0]}`);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses an invalid message or an unknown route (exit 2) and sends nothing', async () => {
    const redis = new Redis(world.redisUrl);
    try {
      const before = await redis.xlen(`${world.prefix}outbound`);
      const [badTo, badRoute, noText] = await Promise.all([
        runCli(['send', '-c', config, '--to', 'not-a-number', '--text', 'Hi']),
        runCli(['send', '-c', config, '--to', '14155550102', '--text', 'Hi', '--route', 'nowhere']),
        runCli(['send', '-c', config, '--to', '14155550102']),
      ]);
      expect(badTo.code).toBe(2);
      expect(badTo.stderr).toContain('"to"');
      expect(badRoute.code).toBe(2);
      expect(badRoute.stderr).toContain('no route named "nowhere"');
      expect(noText.code).toBe(2);
      expect(noText.stderr).toContain('Missing required argument: text');
      expect(await redis.xlen(`${world.prefix}outbound`)).toBe(before);
    } finally {
      redis.disconnect();
    }
  });
});

describe('parley status', () => {
  it('exits 1 with a clear message for an unknown id', async () => {
    const r = await runCli(['status', 'no-such-message', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('no message with id "no-such-message"');
    expect(r.stdout).toBe('');
  });
});

describe('parley conversation and receipts on a database without them', () => {
  it('conversation exits 1 for a number never seen, 2 for something that is not a number', async () => {
    const [unknown, invalid] = await Promise.all([
      runCli(['conversation', '+1 (415) 555-0199', '-c', config]),
      runCli(['conversation', 'not-a-number', '-c', config]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('no messages to or from 14155550199: Parley has never exchanged a message with that number');
    expect(unknown.stdout).toBe('');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('not a phone number');
  });

  it('receipts --unmatched says there are none; without --unmatched it is a usage error', async () => {
    const [none, bare] = await Promise.all([runCli(['receipts', '--unmatched', '-c', config]), runCli(['receipts', '-c', config])]);
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe('no unmatched receipts older than 1h');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('say --unmatched');
  });
});

describe('parley --help', () => {
  it('lists every command of the contract, and receipts', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'migrate', 'check-config', 'send', 'status <id>', 'receipts', 'conversation <number>', 'smsc-sim', 'demo', 'report']) {
      expect(help.stdout).toContain(`parley ${command}`);
    }
  });
});
