import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../../src/config/config-error.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import { ParleyError } from '../../../src/lib/errors.ts';

type Raw = Record<string, unknown>;

/** The smallest valid configuration: one SMSC, one route. */
const minimal = (): Raw => ({
  smscs: [{ name: 'a', host: '127.0.0.1', system_id: 'parley' }],
  routes: [{ name: 'r', smscs: ['a'], tps: 10 }],
});

/** `minimal()` with `path` (like `smscs.0.port`) set to `value`, or deleted when `value` is undefined. */
function withValue(path: string, value: unknown, raw: Raw = minimal()): Raw {
  const parts = path.split('.');
  let node = raw as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1] ?? '';
  if (value === undefined) delete node[last];
  else node[last] = value;
  return raw;
}

function problemsOf(raw: unknown): readonly ConfigProblem[] {
  try {
    validateConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be invalid');
}

describe('validateConfig: defaults', () => {
  it('fills every default of the minimal configuration', () => {
    const config = validateConfig(minimal());
    expect(config.database).toEqual({ url: 'postgres://postgres@127.0.0.1:5432/parley', poolSize: 10, pipelinePoolSize: 4, preparedStatements: true, genericPlans: true, outageUnbindAfterMs: 60_000 });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'parley:' });
    expect(config.http).toEqual({ listen: { host: '127.0.0.1', port: 9464 } });
    expect(config.log).toEqual({ level: 'info', messageText: false });
    expect(config.intake).toEqual({ batchSize: 500, blockMs: 1_000, claimIdleMs: 30_000, maxMetadataBytes: 8192, maxMetadataDepth: 32 });
    expect(config.health).toEqual({ stallAfterMs: 60_000 });
    expect(config.daemon).toEqual({ name: hostname(), takeoverMs: 5_000 });
    expect(config.store).toEqual({ batchDelayMs: 5, batchSize: 500 });
    expect(config.shutdown).toEqual({ graceMs: 10_000, forceMs: 30_000 });
    expect(config.numbers).toEqual([]);
    expect(config.smscs).toEqual([
      {
        name: 'a',
        host: '127.0.0.1',
        port: 2775,
        tls: { enabled: false, rejectUnauthorized: true },
        systemId: 'parley',
        password: '',
        systemType: '',
        bind: 'transceiver',
        binds: 1,
        window: 100,
        connectTimeoutMs: 10_000,
        bindTimeoutMs: 10_000,
        responseTimeoutMs: 10_000,
        enquireLinkIntervalMs: 30_000,
        reconnectMinMs: 1_000,
        reconnectMaxMs: 60_000,
        maxPduLength: 65_536,
        defaultAlphabet: 'gsm7',
        concatenation: 'udh8',
        sourceTon: 'auto',
        sourceNpi: 'auto',
        destTon: 'auto',
        destNpi: 'auto',
        idFormat: 'auto',
        detectReceiptText: false,
      },
    ]);
    expect(config.routes).toEqual([{ name: 'r', prefixes: ['*'], smscs: ['a'], tps: 10, burst: 1, uncertainSubmit: 'resend', uncertainMaxAttempts: 3 }]);
  });

  it.each<[number, number]>([
    [1, 1],
    [0.5, 1],
    [10, 1],
    [11, 2],
    [100, 10],
    [250, 25],
  ])('burst defaults to ceil(tps / 10), at least 1: tps %d -> burst %d', (tps, burst) => {
    expect(validateConfig(withValue('routes.0.tps', tps)).routes[0]?.burst).toBe(burst);
  });

  it('keeps an explicit burst', () => {
    expect(validateConfig(withValue('routes.0.burst', 3)).routes[0]?.burst).toBe(3);
  });

  it('treats an empty (null) key as absent', () => {
    const config = validateConfig({ ...withValue('smscs.0.password', null), database: null, numbers: null });
    expect(config.smscs[0]?.password).toBe('');
    expect(config.database.poolSize).toBe(10);
    expect(config.numbers).toEqual([]);
  });

  it.each<[string, unknown, unknown]>([
    ['false', false, { enabled: false, rejectUnauthorized: true }],
    ['true', true, { enabled: true, rejectUnauthorized: true }],
    ['an empty mapping', {}, { enabled: true, rejectUnauthorized: true }],
    [
      'a full mapping',
      { enabled: true, ca_file: '/ca.pem', servername: 'smsc.example', reject_unauthorized: false },
      { enabled: true, caFile: '/ca.pem', servername: 'smsc.example', rejectUnauthorized: false },
    ],
    ['a disabled mapping', { enabled: false }, { enabled: false, rejectUnauthorized: true }],
  ])('reads tls written as %s', (_, tls, expected) => {
    expect(validateConfig(withValue('smscs.0.tls', tls)).smscs[0]?.tls).toEqual(expected);
  });

  it.each<[string, unknown, unknown]>([
    ['127.0.0.1:9464', '127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:80', '0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['localhost:1', 'localhost:1', { host: 'localhost', port: 1 }],
    ['[::1]:9464', '[::1]:9464', { host: '::1', port: 9464 }],
  ])('reads http.listen %s', (_, listen, expected) => {
    expect(validateConfig(withValue('http.listen', listen)).http.listen).toEqual(expected);
  });

  it.each<[unknown, number | 'auto']>([
    ['auto', 'auto'],
    [0, 0],
    [5, 5],
    [255, 255],
    ['1', 1],
  ])('reads TON/NPI %j', (value, expected) => {
    expect(validateConfig(withValue('smscs.0.source_ton', value)).smscs[0]?.sourceTon).toBe(expected);
  });
});

describe('validateConfig: durations', () => {
  it.each<[string, unknown, (c: ReturnType<typeof validateConfig>) => number, number]>([
    ['smscs.0.connect_timeout', '500ms', (c) => c.smscs[0]?.connectTimeoutMs ?? -1, 500],
    ['smscs.0.bind_timeout', '10s', (c) => c.smscs[0]?.bindTimeoutMs ?? -1, 10_000],
    ['smscs.0.response_timeout', 2500, (c) => c.smscs[0]?.responseTimeoutMs ?? -1, 2_500],
    ['smscs.0.enquire_link_interval', '5m', (c) => c.smscs[0]?.enquireLinkIntervalMs ?? -1, 300_000],
    ['smscs.0.reconnect_max', '1h', (c) => c.smscs[0]?.reconnectMaxMs ?? -1, 3_600_000],
    ['smscs.0.reconnect_min', '1.5s', (c) => c.smscs[0]?.reconnectMinMs ?? -1, 1_500],
    ['intake.block', '250ms', (c) => c.intake.blockMs, 250],
    ['intake.claim_idle', '2m', (c) => c.intake.claimIdleMs, 120_000],
    ['store.batch_delay', 0, (c) => c.store.batchDelayMs, 0],
    ['shutdown.grace', '0s', (c) => c.shutdown.graceMs, 0],
    ['shutdown.force', '1h', (c) => c.shutdown.forceMs, 3_600_000],
  ])('%s: %j', (path, value, read, ms) => {
    expect(read(validateConfig(withValue(path, value)))).toBe(ms);
  });
});

describe('validateConfig: problems', () => {
  it.each<[string, Raw, string, string | RegExp]>([
    // Unknown keys, with the nearest known key suggested.
    ['a misspelt SMSC key', withValue('smscs.0.pasword', 'x'), 'smscs[0].pasword', 'unknown key (did you mean password?)'],
    ['a camelCase key', withValue('smscs.0.systemId', 'x'), 'smscs[0].systemId', 'unknown key (did you mean system_id?)'],
    ['a transposed key', withValue('routes.0.tsp', 5), 'routes[0].tsp', 'unknown key (did you mean tps?)'],
    ['a misspelt section', withValue('databse', {}), 'databse', 'unknown key (did you mean database?)'],
    ['a key with no near match', withValue('log.colour_scheme', 'dark'), 'log.colour_scheme', 'unknown key'],
    // Types and ranges.
    ['a bad duration', withValue('smscs.0.bind_timeout', 'soon'), 'smscs[0].bind_timeout', /^must be a duration such as "500ms", "10s", "5m" or "1h", or a whole number of milliseconds, got "soon"$/],
    ['a zero timeout', withValue('smscs.0.response_timeout', 0), 'smscs[0].response_timeout', 'must be longer than 0'],
    ['a non-numeric tps', withValue('routes.0.tps', 'fast'), 'routes[0].tps', 'must be a positive number, got "fast"'],
    ['a zero tps', withValue('routes.0.tps', 0), 'routes[0].tps', 'must be a positive number, got 0'],
    ['a zero burst', withValue('routes.0.burst', 0), 'routes[0].burst', 'must be a positive integer, got 0'],
    ['a zero window', withValue('smscs.0.window', 0), 'smscs[0].window', 'must be a positive integer, got 0'],
    ['a fractional binds', withValue('smscs.0.binds', 1.5), 'smscs[0].binds', 'must be a positive integer, got 1.5'],
    ['a port too high', withValue('smscs.0.port', 70_000), 'smscs[0].port', 'must be an integer from 1 to 65535, got 70000'],
    ['a port of 0', withValue('smscs.0.port', 0), 'smscs[0].port', 'must be an integer from 1 to 65535, got 0'],
    ['a bad enum', withValue('smscs.0.bind', 'transciever'), 'smscs[0].bind', 'must be one of transceiver, transmitter+receiver, got "transciever" (did you mean transceiver?)'],
    ['a TON out of range', withValue('smscs.0.dest_ton', 256), 'smscs[0].dest_ton', 'must be "auto" or an integer from 0 to 255, got 256'],
    ['a bad tls', withValue('smscs.0.tls', 'yes'), 'smscs[0].tls', /^must be true, false or a mapping/],
    ['an unknown tls key', withValue('smscs.0.tls', { ca: '/x' }), 'smscs[0].tls.ca', 'unknown key (did you mean ca_file?)'],
    ['a number where text belongs', withValue('numbers', [{ address: 12345 }]), 'numbers[0].address', 'must be a string, got 12345 (quote it)'],
    ['a too-long system_id', withValue('smscs.0.system_id', 'a-very-long-system-id'), 'smscs[0].system_id', 'must be at most 15 characters, got 21'],
    ['a too-long password', withValue('smscs.0.password', 'secret123'), 'smscs[0].password', 'must be at most 8 characters, got 9'],
    ['a section that is not a mapping', withValue('redis', 'redis://x'), 'redis', 'must be a mapping, got "redis://x"'],
    ['a bad log level', withValue('log.level', 'verbose'), 'log.level', /^must be one of trace, debug, info, warn, error, fatal, got "verbose"/],
    ['a non-boolean', withValue('log.message_text', 'yes'), 'log.message_text', 'must be true or false, got "yes"'],
    ['a bad database URL', withValue('database.url', 'mysql://db/x'), 'database.url', 'must be a URL starting with postgres:// or postgresql://, got "mysql://db/x"'],
    ['a bad redis URL', withValue('redis.url', 'localhost:6379'), 'redis.url', /^must be a URL starting with redis:\/\/ or rediss:\/\//],
    ['an empty redis prefix', withValue('redis.prefix', ''), 'redis.prefix', 'must not be empty'],
    ['a host with a port', withValue('smscs.0.host', 'smsc.example:2775'), 'smscs[0].host', /without a port/],
    ['a bad SMSC name', withValue('smscs.0.name', 'carrier a'), 'smscs[0].name', /^must be letters, digits/],
    // Required keys.
    ['a route without tps', withValue('routes.0.tps', undefined), 'routes[0].tps', 'is required'],
    ['a route without smscs', withValue('routes.0.smscs', undefined), 'routes[0].smscs', 'is required: list at least one SMSC'],
    ['an SMSC without host', withValue('smscs.0.host', undefined), 'smscs[0].host', 'is required'],
    ['a number without address', withValue('numbers', [{}]), 'numbers[0].address', 'is required'],
    ['no SMSCs', withValue('smscs', undefined), 'smscs', 'is required: list at least one SMSC'],
    ['an empty SMSC list', withValue('smscs', []), 'smscs', 'must list at least one SMSC'],
    ['no routes', withValue('routes', []), 'routes', 'must list at least one route'],
    ['an empty prefix list', withValue('routes.0.prefixes', []), 'routes[0].prefixes', 'must list at least one prefix'],
    // Prefixes and listen.
    ['a prefix with letters', withValue('routes.0.prefixes', ['44', '4a']), 'routes[0].prefixes[1]', 'must be digits (optionally starting with +) or "*", got "4a"'],
    ['a prefix with a star inside', withValue('routes.0.prefixes', ['44*']), 'routes[0].prefixes[0]', 'must be digits (optionally starting with +) or "*", got "44*"'],
    ['a listen without port', withValue('http.listen', 'localhost'), 'http.listen', 'must be host:port (such as 127.0.0.1:9464), got "localhost"'],
    ['a listen without host', withValue('http.listen', ':9464'), 'http.listen', 'must be host:port (such as 127.0.0.1:9464), got ":9464"'],
    ['a listen as a bare port', withValue('http.listen', 9464), 'http.listen', 'must be host:port (such as 127.0.0.1:9464), got 9464'],
    ['a listen port out of range', withValue('http.listen', '127.0.0.1:0'), 'http.listen', 'port must be from 1 to 65535, got "127.0.0.1:0"'],
    // Checks across keys.
    ['force equal to grace', withValue('shutdown', { grace: '10s', force: '10s' }), 'shutdown.force', 'must be longer than shutdown.grace (10s), got 10s'],
    ['force shorter than grace', withValue('shutdown', { grace: '1m', force: '30s' }), 'shutdown.force', 'must be longer than shutdown.grace (1m), got 30s'],
    ['force shorter than the default grace', withValue('shutdown.force', '5s'), 'shutdown.force', 'must be longer than shutdown.grace (10s), got 5s'],
    ['reconnect min above max', withValue('smscs.0.reconnect_min', '2m'), 'smscs[0].reconnect_min', 'must not be longer than reconnect_max (1m), got 2m'],
    [
      'duplicate SMSC names',
      withValue('smscs', [{ name: 'a', host: 'h', system_id: 's' }, { name: 'a', host: 'h', system_id: 's' }]),
      'smscs[1].name',
      '"a" is already the name of smscs[0]',
    ],
    [
      'duplicate route names',
      withValue('routes', [{ name: 'r', smscs: ['a'], tps: 1 }, { name: 'r', smscs: ['a'], tps: 1 }]),
      'routes[1].name',
      '"r" is already the name of routes[0]',
    ],
    ['a route naming an unknown SMSC', withValue('routes.0.smscs', ['a', 'b']), 'routes[0].smscs[1]', 'unknown SMSC "b" (SMSCs: a)'],
    [
      'a route naming a misspelt SMSC',
      withValue('smscs.0.name', 'carrier-a', withValue('routes.0.smscs', ['carier-a'])),
      'routes[0].smscs[0]',
      'unknown SMSC "carier-a" (did you mean carrier-a?)',
    ],
    ['a route listing an SMSC twice', withValue('routes.0.smscs', ['a', 'a']), 'routes[0].smscs[1]', '"a" is already listed as smscs[0]'],
    ['duplicate numbers', withValue('numbers', [{ address: '12345' }, { address: '12345' }]), 'numbers[1].address', '"12345" is already listed as numbers[0]'],
    ['a bad number', withValue('numbers', [{ address: 'Far Too Long Sender' }]), 'numbers[0].address', /^must be digits \(optionally starting with \+\) or an alphanumeric sender id/],
    // Webhooks: an HMAC key short enough to guess offline is refused (and never echoed).
    ['a 1-character webhook secret', withValue('webhooks', [{ name: 'w', url: 'https://h/x', secret: 'x' }]), 'webhooks[0].secret', 'must be at least 16 characters'],
    ['a 15-character webhook secret', withValue('webhooks', [{ name: 'w', url: 'https://h/x', secret: '0123456789abcde' }]), 'webhooks[0].secret', 'must be at least 16 characters'],
    ['a zero webhook concurrency', withValue('webhooks', [{ name: 'w', url: 'https://h/x', secret: '0123456789abcdef', concurrency: 0 }]), 'webhooks[0].concurrency', /^must be an integer from 1 to 1000/],
    // Rule patterns run on RE2 (linear time): what needs backtracking is refused with why.
    ...(
      [
        ['a backreference', String.raw`^(\w)\1$`, /^uses a backreference \(\\1\), which the linear-time engine \(RE2\) cannot run/],
        ['a named backreference', String.raw`^(?<c>\w)\k<c>$`, /^uses a named backreference/],
        ['a lookahead', String.raw`^(?=.*\d)\w+$`, /^uses a lookahead \(\?=\.\.\.\), which the linear-time engine \(RE2\) cannot run/],
        ['a negative lookahead', String.raw`^(?!STOP)\w+$`, /^uses a negative lookahead/],
        ['a lookbehind', String.raw`(?<=ORDER )\d+`, /^uses a lookbehind/],
        ['a negative lookbehind', String.raw`(?<!NO )ORDER`, /^uses a negative lookbehind/],
        ['an unclosed class', '^[a-z', /^is not a valid RE2 regular expression: .*missing closing \]/],
      ] as const
    ).map(([what, pattern, reason]): [string, Raw, string, RegExp] => [
      `a rule pattern with ${what}`,
      withValue('numbers', [{ address: '12345', rules: [{ name: 'r', keywords: ['K'], pattern, actions: [{ reply: 'x' }] }] }]),
      'numbers[0].rules[0].pattern',
      reason,
    ]),
  ])('%s', (_, raw, path, reason) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(path);
    if (typeof reason === 'string') expect(problems[0]?.reason).toBe(reason);
    else expect(problems[0]?.reason).toMatch(reason);
  });

  it('collects every problem into one ConfigError whose message lists each as "<path>: <reason>"', () => {
    const raw = minimal();
    withValue('smscs.0.pasword', 'x', raw);
    withValue('routes', [{ name: 'r', smscs: ['a'], tps: 1 }, { name: 'r2', smscs: ['a'], tps: 'fast' }], raw);
    withValue('shutdown.force', '1s', raw);
    let error: unknown;
    try {
      validateConfig(raw, { source: 'config/parley.yaml' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(ParleyError);
    const configError = error as ConfigError;
    expect(configError.code).toBe('invalid_config');
    expect(configError.source).toBe('config/parley.yaml');
    expect(configError.problems).toEqual([
      { path: 'shutdown.force', reason: 'must be longer than shutdown.grace (10s), got 1s' },
      { path: 'smscs[0].pasword', reason: 'unknown key (did you mean password?)' },
      { path: 'routes[1].tps', reason: 'must be a positive number, got "fast"' },
    ]);
    expect(configError.message).toBe(
      [
        'invalid configuration in config/parley.yaml (3 problems):',
        '  shutdown.force: must be longer than shutdown.grace (10s), got 1s',
        '  smscs[0].pasword: unknown key (did you mean password?)',
        '  routes[1].tps: must be a positive number, got "fast"',
      ].join('\n'),
    );
  });

  it('still checks route references when another SMSC field is invalid', () => {
    const problems = problemsOf(withValue('smscs.0.port', 'x', withValue('routes.0.smscs', ['b'])));
    expect(problems.map((p) => p.path)).toEqual(['smscs[0].port', 'routes[0].smscs[0]']);
  });

  it('does not judge route references when an SMSC name is itself invalid', () => {
    const problems = problemsOf(withValue('smscs.0.name', 'a b'));
    expect(problems.map((p) => p.path)).toEqual(['smscs[0].name']);
  });

  it('reports the required sections of an empty file', () => {
    expect(problemsOf(null)).toEqual([
      { path: 'smscs', reason: 'is required: list at least one SMSC' },
      { path: 'routes', reason: 'is required: list at least one route' },
    ]);
  });

  it.each<[unknown, string]>([
    [[1, 2], 'a list'],
    ['smscs', '"smscs"'],
  ])('refuses a top level that is not a mapping (%j)', (raw, got) => {
    expect(problemsOf(raw)).toEqual([{ path: '', reason: expect.stringContaining(`got ${got}`) }]);
  });

  it('accepts RE2 patterns with named groups, classes holding lookaround-like text, and the catastrophic-for-V8 ones', () => {
    for (const pattern of [String.raw`^ORDER\s+(?<order>\d+)$`, String.raw`^[(?=]+$`, String.raw`^\(\?=$`, String.raw`^(\w+\s?)*$`, String.raw`^\p{L}+$`]) {
      expect(() => validateConfig(withValue('numbers', [{ address: '12345', rules: [{ name: 'r', pattern, actions: [{ reply: 'x' }] }] }]))).not.toThrow();
    }
  });

  it('a webhook takes a 16-character secret and a concurrency of 8 by default', () => {
    const config = validateConfig(withValue('webhooks', [{ name: 'w', url: 'https://h/x', secret: '0123456789abcdef' }]));
    expect(config.webhooks[0]).toMatchObject({ secret: '0123456789abcdef', concurrency: 8, maxAttempts: 8, timeoutMs: 5_000 });
  });

  it('never echoes a password in a reason', () => {
    const problems = problemsOf(withValue('smscs.0.password', 'hunter2-and-more'));
    expect(problems[0]?.reason).not.toContain('hunter2');
    const urlProblems = problemsOf(withValue('database.url', 'mysql://u:hunter2@db/x'));
    expect(urlProblems[0]?.reason).not.toContain('hunter2');
    expect(urlProblems[0]?.reason).toContain('mysql://u:***@db/x');
  });
});

describe('validateConfig: result', () => {
  it('is deeply frozen', () => {
    const config = validateConfig(withValue('smscs.0.tls', { ca_file: '/ca.pem' }));
    const frozen: unknown[] = [
      config,
      config.database,
      config.http,
      config.http.listen,
      config.smscs,
      config.smscs[0],
      config.smscs[0]?.tls,
      config.routes,
      config.routes[0],
      config.routes[0]?.prefixes,
      config.routes[0]?.smscs,
      config.numbers,
    ];
    for (const value of frozen) expect(Object.isFrozen(value)).toBe(true);
    expect(() => {
      (config.routes[0]?.prefixes as string[]).push('44');
    }).toThrow(TypeError);
  });

  it('does not keep references into the raw input', () => {
    const raw = minimal();
    const config = validateConfig(raw);
    ((raw['routes'] as Raw[])[0]?.['smscs'] as string[]).push('b');
    expect(config.routes[0]?.smscs).toEqual(['a']);
    expect(Object.isFrozen(raw)).toBe(false);
  });
});

describe('validateConfig: poison limits and health', () => {
  const minimal = { smscs: [{ name: 'a', host: '127.0.0.1', system_id: 'p' }], routes: [{ name: 'r', smscs: ['a'], tps: 1 }] };
  it.each([
    [{ intake: { max_metadata_bytes: 10 } }, 'intake.max_metadata_bytes'],
    [{ intake: { max_metadata_depth: 0 } }, 'intake.max_metadata_depth'],
    [{ intake: { max_metadata_depth: 5000 } }, 'intake.max_metadata_depth'],
    [{ health: { stall_after: '0s' } }, 'health.stall_after'],
  ])('%j is refused at %s', (raw, path) => {
    expect(() => validateConfig({ ...minimal, ...raw })).toThrow(path);
  });
});
