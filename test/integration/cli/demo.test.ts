import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, createWorld, runCli, type CliResult } from './cli-harness.ts';
import { freePort } from '../../support/ports.ts';

const world = createWorld();
let config: string;
let ordersPort: number;
let demo: CliResult;

/** config/demo.yaml itself, on this test's database, Redis prefix and ports. */
function demoConfig(smscPort: number, httpPort: number): string {
  const c = parse(readFileSync(join(ROOT, 'config/demo.yaml'), 'utf8')) as {
    database: { url: string };
    redis: { prefix: string; url: string };
    http: { listen: string };
    smscs: { port: number }[];
    webhooks: { name: string; url: string }[];
  };
  c.database.url = world.databaseUrl;
  c.redis = { url: world.redisUrl, prefix: world.prefix };
  c.http.listen = `127.0.0.1:${httpPort}`;
  c.smscs[0]!.port = smscPort;
  const orders = c.webhooks.find((w) => w.name === 'orders')!;
  orders.url = orders.url.replace(':9471/', `:${ordersPort}/`);
  return stringify({ ...c, intake: { block: '100ms' }, store: { batch_delay: '2ms' } });
}

beforeAll(async () => {
  ordersPort = await freePort();
  config = world.writeConfig('demo.yaml', demoConfig(await freePort(), await freePort()));
  // runCli kills the demo and fails after timeoutMs: an exit of its own with code 0 is the bound.
  demo = await runCli(['demo', '-c', config], { timeoutMs: 40_000 });
}, 45_000);
afterAll(async () => {
  await world.cleanup();
});

const lines = (text: string, has: string): string[] => text.split('\n').filter((l) => l.includes(has));

describe('parley demo', () => {
  it('plays the two-way loop and stops cleanly on its own', () => {
    expect(demo.stderr).toBe('');
    // Stopped by itself, not killed: the demo ends without anyone waiting it out.
    expect(demo.signal).toBeNull();
    expect(demo.code).toBe(0);
    const out = demo.stdout;
    expect(out).toContain(`created database ${world.database}`);
    expect(out).not.toContain('no reply path');
    expect(out).not.toContain('left from an earlier run');

    // Act 1: the handset's YES matches the reminder's expected reply; the confirmation goes out.
    expect(out).toMatch(/<- deliver_sm \(customer message\) from 1415555\d{4} to 12345: data_coding 0x00 [^\n]*"YES"; stored in Postgres/);
    expect(out).toMatch(/reply path: r-\w+ "YES" matches the expected reply YES of demo-\w+-reminder/);
    expect(lines(out, '-> submit_sm').filter((l) => l.includes('"Great, see you tomorrow'))).toHaveLength(1);

    // Act 2: the Unicode notice in three UCS-2 parts, each receipted.
    const ucs2 = lines(out, '-> submit_sm').filter((l) => l.includes('data_coding 0x08 (UCS-2), UDH'));
    expect(ucs2.map((l) => /part (\d\/3)/.exec(l)?.[1]).sort()).toEqual(['1/3', '2/3', '3/3']);
    expect(lines(out, 'delivery receipt').filter((l) => /part \d\/3 of demo-\w+-results/.test(l))).toHaveLength(3);
    expect(out).toContain('In short: 3 parts, 3 receipts matched, the notice is delivered');
    // Every message's first event is narrated, each message's own (all have event id 0).
    expect(out).toMatch(/Postgres: demo-\w+-reminder inserted as queued/);
    expect(out).toMatch(/Postgres: demo-\w+-results inserted as queued/);
    expect(out).toMatch(/Postgres: a0-r-\w+ \(the answer to r-\w+\) inserted as queued/);

    // Act 3: ORDER 1234 through the signed webhook to the local service, its answer texted back.
    expect(out).toContain('X-Parley-Signature verified with the shared secret; order 1234 -> 200 {"reply":"Order 1234 shipped today; it arrives Thursday."}');
    expect(out).toMatch(/"ORDER 1234" matches rule order-status [^\n]*answer a0-r-\w+: "Order 1234 shipped today; it arrives Thursday\."/);
    expect(lines(out, '-> submit_sm').filter((l) => l.includes('"Order 1234 shipped today'))).toHaveLength(1);

    // Act 4: STOP gets exactly one confirmation; the next send fails as opted_out with nothing on the wire.
    expect(out).toMatch(/"STOP" compliance keyword STOP: the customer is now opted out of 12345/);
    expect(lines(out, '-> submit_sm').filter((l) => l.includes('"You are unsubscribed'))).toHaveLength(1);
    expect(out).toMatch(/demo-\w+-promo queued -> failed \(opted_out\)/);
    expect(lines(out, '-> submit_sm').filter((l) => l.includes('Spring offer'))).toHaveLength(0);
    expect(out).toMatch(/In short: STOP opted the customer out; 1 confirmation sent; demo-\w+-promo is failed \(opted_out\), and no submit_sm for it reached the SMSC/);

    // Four customer messages on the inbound stream; the record and the clean stop.
    expect(lines(out, `XADD ${world.prefix}inbound`)).toHaveLength(4);
    expect(out).toContain(`${world.prefix}inbound: 4 message.inbound events`);
    expect(out).toContain('daemon: intake stopped, windows drained, unbound, writers flushed (clean)');
    expect(out).toContain('Done.');
  });

  it('leaves a thread `parley conversation` prints, as text and JSON', async () => {
    const customer = /The customer is (\+1415555\d{4})/.exec(demo.stdout)?.[1] ?? '';
    expect(customer).not.toBe('');
    const digits = customer.slice(1);
    const [text, json] = await Promise.all([
      runCli(['conversation', customer, '-c', config, '--limit', '4']),
      runCli(['conversation', digits, '-c', config, '--json']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`customer ${digits}: 11 messages, the latest 4 shown (3 to the customer, 1 from them among those shown), oldest first`);
    expect(text.stdout).toMatch(/with our number 12345: OPTED OUT of this number \(STOP on /);
    // STOP answers the last message sent to the customer, not Parley's own answer to ORDER 1234.
    expect(text.stdout).toMatch(/in {2}<- {2}r-\w+ {2}in reply to demo-\w+-results; matched compliance keyword STOP, answered by c-r-\w+\n +"STOP"/);
    expect(text.stdout).toContain('"Order 1234 shipped today; it arrives Thursday."');
    expect(text.stdout).toMatch(/out -> {2}demo-\w+-promo {2}failed \(opted_out\)/);
    expect(text.stdout).not.toContain('"YES"');

    expect(json.code).toBe(0);
    const thread = JSON.parse(json.stdout) as {
      customer: string;
      total: number;
      numbers: {
        our_number: string;
        opted_out: boolean;
        conversations: { conversation: { id: string } | null; entries: { direction: string; text: string; matched_kind?: string; keyword?: string; in_reply_to?: string; reply_to?: string; status: string; error_code?: string }[] }[];
      }[];
    };
    expect(thread).toMatchObject({ customer: digits, total: 11 });
    expect(thread.numbers).toHaveLength(1);
    expect(thread.numbers[0]).toMatchObject({ our_number: '12345', opted_out: true });
    const entries = thread.numbers[0]!.conversations.flatMap((c) => c.entries);
    expect(entries.map((e) => `${e.direction} ${e.matched_kind ?? e.status}`)).toEqual([
      'out delivered',
      'in expected_reply',
      'out delivered',
      'out delivered',
      'in none',
      'out delivered',
      'in keyword',
      'out delivered',
      'in compliance',
      'out delivered',
      'out failed',
    ]);
    expect(entries.at(-1)).toMatchObject({ direction: 'out', status: 'failed', error_code: 'opted_out' });
  });

  it('`parley status` shows the receipts, the final state, and the links between answers and replies', async () => {
    const reminder = /XADD \S+ \* payload '\{"id":"(demo-\w+-reminder)"/.exec(demo.stdout)?.[1] ?? '';
    const answer = /"YES" matches the expected reply YES of \S+ \(the message it answers\); conversation \d+; answer (a0-r-\w+)/.exec(demo.stdout)?.[1] ?? '';
    const [status, answerStatus] = await Promise.all([runCli(['status', reminder, '-c', config]), runCli(['status', answer, '-c', config])]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('receipts (deliver_sm from the SMSC, matched by carrier id):');
    expect(status.stdout).toMatch(/part 1: DELIVERED, carrier id \w+, err 000 {2}"id:\w+ sub:001 dlvrd:001 submit date:\d+ done date:\d+ stat:DELIVRD err:000 text:Hi Sam, your appoint"/);
    expect(status.stdout).toContain('expects the replies');
    expect(status.stdout).toMatch(/replies from the customer that answer it:\n .*"YES"; matched the expected reply YES, conversation \d+, answered by a0-r-\w+/);
    expect(status.stdout).toMatch(/final state: delivered at \d{4}-\d\d-\d\d/);

    expect(answerStatus.code).toBe(0);
    expect(answerStatus.stdout).toMatch(new RegExp(`answers the customer's message r-\\w+ from 1415555\\d{4} \\([^)]+\\): "YES"; matched the expected reply YES`));
    expect(answerStatus.stdout).toContain('"Great, see you tomorrow at 10:00!"');
  });
});

describe('parley receipts --unmatched', () => {
  it('lists a receipt that matched no message, past the horizon only', async () => {
    const client = new pg.Client({ connectionString: world.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO receipts (fingerprint, smsc, bind, smsc_message_id, match_keys, state, final, body, received_at)
         VALUES ('test-unmatched-1', 'sim', 'sim#1', '0A1B2C', ARRAY['x:0a1b2c'], 'DELIVERED', true,
           'id:0A1B2C sub:001 dlvrd:001 submit date:2503011200 done date:2503011201 stat:DELIVRD err:000 text:', now() - interval '2 hours')`,
      );
    } finally {
      await client.end();
    }
    const [listed, younger] = await Promise.all([
      runCli(['receipts', '--unmatched', '-c', config]),
      runCli(['receipts', '--unmatched', '--older-than', '3h', '--json', '-c', config]),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('1 receipt matched no message for more than 1h, oldest first:');
    expect(listed.stdout).toMatch(/receipt \d+ from sim: carrier id 0A1B2C, state DELIVERED/);
    expect(listed.stdout).toContain('"id:0A1B2C sub:001 dlvrd:001');
    // The demo's own receipts all matched.
    expect(listed.stdout.match(/ receipt \d+ from /g)).toHaveLength(1);

    expect(younger.code).toBe(0);
    expect(JSON.parse(younger.stdout)).toEqual({ older_than: '3h', count: 0, limit: 1000, receipts: [] });
  });
});
