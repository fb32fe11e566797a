/**
 * Logs of a full run contain no password and no message text by default. A daemon (and the
 * simulator it talks to) log through the real pino logger at debug level into a captured stream
 * while messages go out, receipts come back, customers reply (one of them in three parts), rules
 * and expected replies answer, a webhook fails, one SMSC refuses our bind for a wrong password,
 * and the daemon stops. The config carries an SMSC password, a wrong one, a password inside the
 * database URL and a webhook secret; every text carries a marker. Then the captured lines are
 * searched for each of them.
 *
 * The logger's own rules (secrets by key and inside URLs, text keys, the message_text switch,
 * the level from the environment, the readable form) are checked directly at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { TEST_DATABASE_URL } from '../../support/services.ts';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { createLogger, formatLine, resolveLogLevel, scrub, scrubUrls } from '../../../src/observability/logger.ts';
import { configToYamlObject, redactConfig } from '../../../src/config/index.ts';
import type { Simulator } from '../../../src/simulator/index.ts';

const SMSC_PASSWORD = 'Pw0rd7x';
const WRONG_PASSWORD = 'Wr0ng9q';
const DB_PASSWORD = 'DbPw-5150-secret';
const WEBHOOK_SECRET = 'WhSecret-4242-4242';
const SECRETS = [SMSC_PASSWORD, WRONG_PASSWORD, DB_PASSWORD, WEBHOOK_SECRET];
/** Every outbound text, customer reply and answer carries one of these. */
const TEXT_MARKERS = ['TXTMARK', 'RPLMARK', 'ANSMARK'];
/**
 * In the reply template of a configured rule: configuration written by the business, the same for
 * every customer, so it may appear where the config is logged (at start-up), and nowhere else.
 */
const TEMPLATE_MARKER = 'TPLMARK';
/** Sent as a stream entry that is not JSON at all: its text must not leak through the parse error. */
const DEAD_LETTER_MARKER = 'DLQMARK';

class Capture {
  readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
  get lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

let h: Harness;
let sim: Simulator;
let daemon: Daemon;
const capture = new Capture();

function databaseUrlWithPassword(): string {
  // The test Postgres trusts loopback connections, so the password is sent and ignored.
  const u = new URL(TEST_DATABASE_URL);
  if (!u.username) u.username = 'postgres';
  u.password = DB_PASSWORD;
  return u.toString();
}

beforeAll(async () => {
  h = await createHarness();
  const logger = createLogger({ level: 'debug', destination: capture as unknown as NodeJS.WritableStream, env: {} });
  sim = await h.startSim({
    receiptDelayMs: [10, 40],
    credentials: [{ systemId: 'parley', password: SMSC_PASSWORD }],
    pickReceiptStat: (a) => (a.text.includes('undeliv') ? 'UNDELIV' : undefined),
    logger,
  });
  const config = h.config({
    database: { url: databaseUrlWithPassword(), pool_size: 4 },
    log: { level: 'debug' },
    store: { batch_delay: '2ms' },
    smscs: [
      simSmsc('good', sim, { password: SMSC_PASSWORD }),
      simSmsc('bad', sim, { password: WRONG_PASSWORD, reconnect_min: '200ms', reconnect_max: '1s' }),
    ],
    routes: [{ name: 'default', prefixes: ['*'], smscs: ['good', 'bad'], tps: 500, default_from: '12345' }],
    webhooks: [{ name: 'crm', url: 'http://127.0.0.1:9/closed', secret: WEBHOOK_SECRET, timeout: '300ms', max_attempts: 1, subscribe: ['message.status'] }],
    numbers: [{ address: '12345', rules: [{ name: 'hours', keywords: ['HOURS'], actions: [{ reply: 'TPLMARK-hours We are open 9-5.' }] }] }],
  });
  // What `parley start` logs first, and what a careless caller might log: the whole config unredacted.
  logger.info({ config: redactConfig(config) }, 'parley starting');
  logger.debug({ config: configToYamlObject(config) }, 'the config, unredacted by the caller');

  daemon = buildDaemon(config, { logger, schema: h.schema.schema, http: false });
  h.daemons.push(daemon);
  await daemon.service.start();

  await h.send([
    { id: 'm1', to: '+14155550101', text: 'TXTMARK-1 your order shipped', replies: { YES: { reply: 'ANSMARK-yes See you then!' } } },
    { id: 'm2', to: '+14155550102', text: 'TXTMARK-2 undeliv please' },
    { id: 'm3', to: '+14155550103', text: `TXTMARK-3 ${'a long text in several parts '.repeat(8)}` },
    { id: 'm4', to: '+14155550104', text: 'TXTMARK-4 ünïcödé ✓ text' },
    `${DEAD_LETTER_MARKER}: not json, call me on 555`,
  ]);
  await h.until('messages final', async () => {
    const rows = await h.schema.db.selectFrom('messages').select('status').execute();
    return rows.length === 4 && rows.every((r) => r.status !== 'queued' && r.status !== 'submitted');
  });
  for (const [from, text] of [
    ['14155550101', 'yes'],
    ['14155550102', 'HOURS'],
    ['14155550103', `RPLMARK-long ${'this reply is long enough to come in parts '.repeat(5)}`],
    ['14155550104', 'RPLMARK-short what is this?'],
  ] as const) {
    expect(await sim.injectReply({ from, to: '12345', text }).acked).toBe(true);
  }
  await h.until('replies handled and answers final', async () => {
    const replies = await h.schema.db.selectFrom('replies').select('status').execute();
    const pending = await h.schema.db.selectFrom('messages').select('id').where('status', 'in', ['queued', 'submitted']).execute();
    return replies.length === 4 && replies.every((r) => r.status === 'handled') && pending.length === 0 && sim.arrivals.length >= 6;
  });
  await h.until('the wrong password logged as a refused bind', () => capture.text.includes('ESME_RINVPASWD'));
  await h.until('a webhook delivery failed and was logged', () => capture.text.includes('webhook delivery failed'), 10_000);
  await daemon.service.stop();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('logs of a full run', () => {
  it('are JSON lines with the events of the run in them, in context (so the searches below search something)', () => {
    const lines = capture.lines;
    expect(lines.length).toBeGreaterThan(20);
    const msgs = lines.map((l) => String(l.msg));
    expect(msgs).toContain('parley starting');
    expect(msgs).toContain('smsc bind state');
    expect(msgs).toContain('outbound entry dead-lettered');
    expect(msgs).toContain('webhook delivery failed for good');
    expect(msgs).toContain('component stopped');
    expect(lines.some((l) => l.level === 'debug')).toBe(true);
    const refused = lines.find((l) => String(l.msg).includes('refused the bind'));
    expect(refused).toMatchObject({ level: 'error', smsc: 'bad', status: 'ESME_RINVPASWD' });
    expect(lines.some((l) => l.component === 'smsc-sim')).toBe(true);
    // The secrets were there to be hidden.
    const started = lines.find((l) => l.msg === 'parley starting') as { config: { smscs: { password: string }[]; database: { url: string } } };
    expect(started.config.smscs.map((s) => s.password)).toEqual(['***', '***']);
    expect(started.config.database.url).toContain(':***@');
  });

  it('contain no password and no secret', () => {
    for (const secret of SECRETS) expect(capture.text, secret).not.toContain(secret);
  });

  it('contain no message text: no outbound text, no reply, no answer, no receipt text', () => {
    for (const marker of TEXT_MARKERS) expect(capture.text, marker).not.toContain(marker);
    expect(capture.text).not.toContain('your order shipped');
    expect(capture.text).not.toContain('ünïcödé');
    expect(capture.text).not.toContain('See you then');
    const withTemplate = capture.lines.filter((l) => JSON.stringify(l).includes(TEMPLATE_MARKER));
    expect(withTemplate.map((l) => l.msg)).toEqual(['parley starting', 'the config, unredacted by the caller']);
    expect(sim.arrivals.some((a) => a.text.startsWith(TEMPLATE_MARKER))).toBe(true);
  });

  // Known leak, outside the logger: a stream entry whose payload is not JSON is dead-lettered
  // with a reason that embeds V8's JSON.parse error, which quotes the first ten characters of
  // the payload (src/domain/message.ts parseOutboundPayload -> src/outbound/intake.ts "outbound
  // entry dead-lettered"). Remove `.fails` once the reason stops quoting the payload.
  it('contain no text of a payload that is not JSON', () => {
    expect(capture.text).not.toContain(DEAD_LETTER_MARKER);
  });
});

describe('the logger', () => {
  const logTo = (options: Partial<Parameters<typeof createLogger>[0]> = {}) => {
    const c = new Capture();
    const log = createLogger({ level: 'info', destination: c as unknown as NodeJS.WritableStream, env: {}, ...options });
    return { c, log };
  };

  it('hides secrets by key at any depth, in child bindings, errors and URLs, and keeps the rest', () => {
    const { c, log } = logTo();
    const err = Object.assign(new Error('cannot reach redis://:rpw-1@cache:6379'), { code: 'ECONNREFUSED' });
    log.child({ component: 'x', auth: { password: 'cpw-1' } }).warn(
      {
        smscs: [{ name: 'a', password: 'spw-1', system_id: 'parley' }],
        webhook: { secret: 'ws-1', client_secret: 'cs-1', headers: { authorization: 'Bearer t-1' } },
        url: 'postgres://app:dpw-1@db:5432/parley',
        err,
        count: 3,
      },
      'see https://user:mpw-1@example.com/x',
    );
    const [line] = c.lines;
    for (const s of ['rpw-1', 'cpw-1', 'spw-1', 'ws-1', 'cs-1', 't-1', 'dpw-1', 'mpw-1']) expect(c.text).not.toContain(s);
    expect(line).toMatchObject({
      component: 'x',
      auth: { password: '***' },
      smscs: [{ name: 'a', password: '***', system_id: 'parley' }],
      webhook: { secret: '***', client_secret: '***', headers: { authorization: '***' } },
      url: 'postgres://app:***@db:5432/parley',
      err: { type: 'Error', message: 'cannot reach redis://:***@cache:6379', code: 'ECONNREFUSED' },
      count: 3,
      msg: 'see https://user:***@example.com/x',
    });
  });

  it('shows message text only when log.message_text is on; secrets stay hidden either way', () => {
    const entry = { id: 'm1', text: 'hello there', body: Buffer.from('raw'), payload: true, parts: [{ short_message: 'part one' }], password: 'p-1' };
    const off = logTo();
    off.log.info(entry, 'message');
    expect(off.c.lines[0]).toMatchObject({ id: 'm1', text: '[text hidden]', body: '[text hidden]', payload: true, parts: [{ short_message: '[text hidden]' }], password: '***' });
    const on = logTo({ messageText: true });
    on.log.info(entry, 'message');
    expect(on.c.lines[0]).toMatchObject({ id: 'm1', text: 'hello there', parts: [{ short_message: 'part one' }], password: '***' });
    expect(scrub({ a: { b: { text: 'x' } } })).toEqual({ a: { b: { text: '[text hidden]' } } });
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(scrub(circular)).toEqual({ name: 'loop', self: '[Circular]' });
    expect(scrubUrls('no url here')).toBe('no url here');
    expect(scrubUrls('POST https://hooks.example/in?token=wt-1&team=7 failed; retry https://wt-2@hooks.example/x?key=wt-3')).toBe(
      'POST https://hooks.example/in?token=***&team=7 failed; retry https://***@hooks.example/x?key=***',
    );
  });

  it('takes its level from PARLEY_LOG_LEVEL, else LOG_LEVEL, else the config; an unknown name is ignored and said', () => {
    expect(resolveLogLevel('info', {})).toEqual({ level: 'info', ignored: [] });
    expect(resolveLogLevel('info', { LOG_LEVEL: 'debug' }).level).toBe('debug');
    expect(resolveLogLevel('info', { PARLEY_LOG_LEVEL: 'WARN', LOG_LEVEL: 'debug' }).level).toBe('warn');
    expect(resolveLogLevel('error', { PARLEY_LOG_LEVEL: 'loud' })).toEqual({ level: 'error', ignored: ['PARLEY_LOG_LEVEL="loud"'] });

    const quiet = logTo({ env: { PARLEY_LOG_LEVEL: 'warn' } });
    quiet.log.info({}, 'not shown');
    quiet.log.warn({}, 'shown');
    expect(quiet.c.lines.map((l) => l.msg)).toEqual(['shown']);
    const bad = logTo({ env: { LOG_LEVEL: 'chatty' } });
    expect(bad.c.lines[0]).toMatchObject({ level: 'warn', ignored: ['LOG_LEVEL="chatty"'], using: 'info', msg: 'unknown log level in the environment ignored' });
  });

  it('writes readable lines when asked (the demo) or when PARLEY_LOG_FORMAT=pretty, still without secrets or text', () => {
    const pretty = logTo({ env: { PARLEY_LOG_FORMAT: 'pretty' } });
    pretty.log.child({ smsc: 'carrier-a', bind: 'trx-1' }).info({ from: 'binding', to: 'bound', password: 'p-2', text: 'hi' }, 'smsc bind state');
    const line = pretty.c.text;
    expect(line).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}\[smsc carrier-a bind trx-1\] smsc bind state from=binding to=bound password=\*\*\* text="\[text hidden\]"\n$/);
    expect(formatLine('not json')).toBe('not json');
    expect(formatLine(JSON.stringify({ level: 'error', time: '2026-01-01T10:00:00.000Z', component: 'intake', msg: 'x', n: 1 }))).toBe('10:00:00.000 ERROR [intake] x n=1');
  });
});
