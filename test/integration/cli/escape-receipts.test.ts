/**
 * Issue 9: CLI output escapes control characters. `parley receipts --unmatched` prints the
 * carrier's id and the receipt's text, both the carrier's to write. End to end: a raw SMSC on
 * loopback sends a receipt for no message whose id holds escape sequences (an erase and a terminal
 * retitle) and whose UCS-2 text holds a one-byte CSI (U+009B) and a right-to-left override; the
 * daemon stores it as it came; the real CLI (a subprocess, as bin/parley runs it) lists it, as
 * text and as JSON, with nothing a terminal acts on (test/unit/cli has the escaping itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createWorld, runCli } from './cli-harness.ts';
import { freePort } from '../../support/ports.ts';
import { cstr, id, rawPdu, startRawServer, wire, type RawPeer } from '../../support/smpp-raw-peer.ts';
import { testConfig } from '../../support/services.ts';
import { shortMessageFields } from '../../../src/smpp/pdu.ts';
import { makeTlv } from '../../../src/smpp/tlv.ts';
import { buildDaemon } from '../../../src/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const world = createWorld();
let config: string;
let smsc: RawPeer | undefined;
let server: Awaited<ReturnType<typeof startRawServer>>;

beforeAll(async () => {
  server = await startRawServer((peer) => {
    smsc = peer;
    peer.onPdu = (pdu, p) => {
      if (pdu.commandId === id('bind_transceiver')) p.send(wire('bind_transceiver_resp', { system_id: 'evil', sequence_number: pdu.sequenceNumber }));
      else if (pdu.commandId === id('enquire_link')) p.send(rawPdu(id('enquire_link_resp'), pdu.sequenceNumber));
      else if (pdu.commandId === id('unbind')) p.send(rawPdu(id('unbind_resp'), pdu.sequenceNumber));
      else if (pdu.commandId === id('submit_sm')) p.send(rawPdu(id('submit_sm_resp'), pdu.sequenceNumber, cstr('x')));
    };
  });
  config = world.writeConfig('parley.yaml', world.configYaml({ smscPort: server.port, httpPort: await freePort() }));
  const migrated = await runCli(['migrate', '-c', config]);
  expect(migrated.code, migrated.stderr).toBe(0);
}, 30_000);
afterAll(async () => {
  await server?.close();
  await world.cleanup();
});

/** Anything a terminal acts on: C0 but newline, DEL, C1, bidi overrides and isolates. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_ID = '\u001b[2J\u001b]0;owned\u0007X1';
const HOSTILE_TEXT = 'ok \u009b2J \u202eevil';

describe('parley receipts --unmatched prints the carrier data escaped', () => {
  it('a receipt for no message with a hostile carrier id and text, as text and as JSON', async () => {
    const daemon = buildDaemon(
      testConfig(
        {
          database: { url: world.databaseUrl, pool_size: 2 },
          smscs: [{ name: 'evil', host: '127.0.0.1', port: server.port, system_id: 'parley', reconnect_min: '50ms', reconnect_max: '200ms' }],
          routes: [{ name: 'default', prefixes: ['*'], smscs: ['evil'], tps: 100, default_from: '12345' }],
        },
        world.prefix,
      ),
      { logger: silentLogger, http: false },
    );
    await daemon.service.start();
    const db = new pg.Client({ connectionString: world.databaseUrl });
    await db.connect();
    let body: string;
    try {
      const deadline = Date.now() + 10_000;
      while (smsc === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const receipt = `id:${HOSTILE_ID} sub:001 dlvrd:001 submit date:2611220000 done date:2611220001 stat:DELIVRD err:000 text:${HOSTILE_TEXT}`;
      smsc!.send(
        wire('deliver_sm', {
          ...shortMessageFields({
            source_addr: '14155550003',
            destination_addr: '12345',
            esm_class: 0x04,
            data_coding: 8,
            short_message: Buffer.from(receipt, 'utf16le').swap16(),
          }),
          tlvs: [makeTlv('receipted_message_id', HOSTILE_ID), makeTlv('message_state', 2)],
          sequence_number: 7,
        }),
      );
      let rows: { smsc_message_id: string; message_id: string | null; body: string }[] = [];
      while (rows.length === 0 && Date.now() < deadline) {
        rows = (await db.query('SELECT smsc_message_id, message_id, body FROM receipts')).rows;
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows).toHaveLength(1);
      // Stored as the carrier wrote it, matched to nothing.
      expect(rows[0]).toMatchObject({ smsc_message_id: HOSTILE_ID, message_id: null });
      body = rows[0]!.body;
      expect(body).toContain(HOSTILE_TEXT);
    } finally {
      await db.end();
      await daemon.service.stop();
    }

    const [text, json] = await Promise.all([
      runCli(['receipts', '--unmatched', '--older-than', '0ms', '-c', config]),
      runCli(['receipts', '--unmatched', '--older-than', '0ms', '--json', '-c', config]),
    ]);
    expect(text.code, text.stderr).toBe(0);
    for (const line of text.stdout.split('\n')) expect(line).not.toMatch(UNSAFE);
    expect(text.stdout).toContain('1 receipt matched no message for more than 0ms');
    expect(text.stdout).toMatch(/receipt \d+ from evil: carrier id \\u001b\[2J\\u001b\]0;owned\\u0007X1, state DELIVERED/);
    expect(text.stdout).toContain('text:ok \\u009b2J \\u202eevil');

    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toMatch(UNSAFE);
    // Escaped the way JSON reads back: a program gets the carrier's data exactly.
    const parsed = JSON.parse(json.stdout) as { count: number; receipts: { smsc_message_id: string; body: string }[] };
    expect(parsed.count).toBe(1);
    expect(parsed.receipts[0]).toMatchObject({ smsc_message_id: HOSTILE_ID, body });
  }, 60_000);
});
