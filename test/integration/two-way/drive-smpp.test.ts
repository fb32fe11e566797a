/**
 * Issue 9: Kannel's drive_smpp (Debian `kannel-extras`, /usr/lib/kannel/test/drive_smpp) is an
 * SMSC written by others: once an ESME binds as a receiver it floods it with customer messages
 * (deliver_sm, esm_class 0, from 456 to 123, texts "1", "2", ...), each carrying a stray
 * receipted_message_id TLV. Parley used to file all of them as unreadable receipts: 1,100
 * customer messages, 0 recorded. Here a running Parley binds to it (transmitter+receiver, as
 * Kannel's own bearerbox does) and every message of a bounded flood is recorded as a customer
 * message, none as a receipt.
 *
 * The test installs nothing: without drive_smpp it fails and says what to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness } from '../../support/daemon.ts';
import { createTwoWayHarness } from '../../support/two-way.ts';

const DRIVE_SMPP = '/usr/lib/kannel/test/drive_smpp';
/** Where drive_smpp connects as an smsbox (fixed in its code). */
const SMSBOX_PORT = 13001;
/** Bounded: a few hundred customer messages. */
const FLOOD = 500;

let h: Harness;
let driver: ChildProcess | undefined;
let closeBearerbox: (() => Promise<void>) | undefined;
beforeEach(async () => {
  h = await createTwoWayHarness();
});
afterEach(async () => {
  await h.close();
  if (driver && driver.exitCode === null && driver.signalCode === null) {
    const exited = new Promise<void>((r) => driver!.once('exit', () => r()));
    driver.kill('SIGKILL');
    await exited;
  }
  driver = undefined;
  await closeBearerbox?.();
  closeBearerbox = undefined;
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Whether something listens on 127.0.0.1:`port` (read from /proc: connecting would count as an ESME). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) === true && f[3] === '0A';
    });
}

/**
 * drive_smpp plays the bearerbox's SMSC and, from its first ESME connection on, connects as an
 * smsbox to 127.0.0.1:13001 (fixed in its code) and dies when nobody is there. This stands in for
 * the bearerbox: it accepts and holds the connection. When the port is already taken, whatever
 * listens there takes that role.
 */
async function startFakeBearerbox(): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.resume();
  });
  const started = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen(SMSBOX_PORT, '127.0.0.1', () => resolve(true));
  });
  if (!started) return async () => undefined;
  return () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
}

/** Starts drive_smpp on `port`; resolves once it listens there. */
async function startDriveSmpp(port: number, messages: number): Promise<{ child: ChildProcess; output: () => string }> {
  let output = '';
  const child = spawn(DRIVE_SMPP, ['-v', '0', '-p', String(port), '-m', String(messages)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/tmp' });
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 10_000;
  while (!listening(port)) {
    if (child.exitCode !== null) throw new Error(`drive_smpp exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`drive_smpp did not listen on ${port}: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => output };
}

describe("Kannel's drive_smpp MO flood", () => {
  it(`${FLOOD} customer messages with a stray receipted_message_id are recorded as customer messages, not receipts`, async () => {
    expect(
      existsSync(DRIVE_SMPP),
      `${DRIVE_SMPP} is missing: install Debian's kannel-extras (apt-get install -y --no-install-recommends kannel-extras; .ci/run does it)`,
    ).toBe(true);
    closeBearerbox = await startFakeBearerbox();
    const port = await freePort();
    const drive = await startDriveSmpp(port, FLOOD);
    driver = drive.child;
    await h.startDaemon(
      h.config({
        smscs: [
          {
            name: 'kannel',
            host: '127.0.0.1',
            port,
            system_id: 'parley',
            password: 'bar',
            bind: 'transmitter+receiver',
            reconnect_min: '100ms',
            reconnect_max: '1s',
          },
        ],
        routes: [{ name: 'default', prefixes: ['*'], smscs: ['kannel'], tps: 100, default_from: '123' }],
        // Silent: the flood is about what is recorded, not about answering 456 five hundred times.
        numbers: [{ address: '123', unmatched: 'silent' }],
      }),
    );

    const count = async (table: 'replies' | 'receipts'): Promise<number> =>
      Number((await h.schema.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    try {
      await h.until(`${FLOOD} customer messages recorded`, async () => (await count('replies')) >= FLOOD, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${await count('replies')} replies, ${await count('receipts')} receipts; drive_smpp said: ${drive.output().slice(-2_000)}`, { cause: err });
    }

    expect(await count('receipts')).toBe(0);
    const replies = await h.schema.db.selectFrom('replies').select(['from_addr', 'to_addr', 'body']).execute();
    expect(replies).toHaveLength(FLOOD);
    expect(new Set(replies.map((r) => `${r.from_addr}>${r.to_addr}`))).toEqual(new Set(['456>123']));
    // Every message of the flood, once: drive_smpp numbers them 1..N.
    expect(replies.map((r) => Number(r.body)).sort((a, b) => a - b)).toEqual(Array.from({ length: FLOOD }, (_, i) => i + 1));
  }, 120_000);
});
