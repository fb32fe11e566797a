/**
 * Parley against Kannel on this machine: the same simulator, the same messages, one after the
 * other, so the ratio holds whatever the machine (issue 10 asks for three times Kannel).
 *
 *   npm run bench:kannel -- [--count 10000] [--rounds 3] [--receipt-delay 200] [--window 100]
 *                           [--concurrency 50] [--seconds 120] [--no-parley]
 *
 * Kannel: Debian's kannel 1.4.5 (bearerbox + smsbox; `apt-get install --no-install-recommends
 * kannel-extras` brings it), one SMPP transceiver bind to Parley's simulator (the outbound bench's
 * `--role sim` child: `window` deliver_sm in flight, receipts `receipt-delay` ms after each
 * submit_sm_resp, ids in hex both ways), `max-pending-submits` = window, DLRs in bearerbox's memory
 * (`dlr-storage = internal`: nothing durable). Messages go in through smsbox's sendsms HTTP
 * interface, `concurrency` requests at a time on keep-alive connections, each asking for a DLR
 * (dlr-mask 3: delivered or failed) on a URL served here. Its final msg/s is count / (first
 * sendsms request -> the last delivered DLR callback).
 *
 * Parley: `npm run bench -- --no-two-way --binds 1` with the same count, window and receipt
 * delay (test/bench/outbound.ts: entries on the Redis stream, final msg/s = count / (first
 * dequeue -> every message `delivered` in Postgres)). Parley is durable at every step; Kannel
 * keeps the message and its DLR in memory only.
 *
 * CPU per message: bearerbox + smsbox from /proc over the run; Parley's daemon and its Postgres
 * backends as the outbound bench reads them. The sendsms requests and the DLR server (this
 * process) stand for the apps on Kannel's side, as the XADDs do on Parley's; their CPU is shown
 * apart ("apps"). They run while Kannel does, where Parley's XADDs are made before its daemon
 * starts: Kannel cannot be filled with its SMSC stopped (bearerbox then rejects each message, DLR
 * 16), so this is the nearest like-for-like, and the apps' share of the machine is printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutboundResult, SimChildOptions } from './outbound.ts';
import {
  booleanFlag,
  cpuMsSince,
  exited,
  fmt,
  fmtInt,
  forkTs,
  machineLine,
  nextMessage,
  numberFlag,
  procCpuMs,
  table,
  typed,
} from './bench-support.ts';

const OUTBOUND = path.join(path.dirname(fileURLToPath(import.meta.url)), 'outbound.ts');
const BEARERBOX = '/usr/sbin/bearerbox';
const SMSBOX = '/usr/sbin/smsbox';

interface Options {
  readonly count: number;
  readonly rounds: number;
  readonly receiptDelayMs: number;
  readonly window: number;
  readonly concurrency: number;
  readonly seconds: number;
}

interface KannelRun {
  readonly delivered: number;
  readonly finalRate: number;
  /** Every sendsms request answered (202 Accepted), msg/s from the first request. */
  readonly acceptRate: number;
  readonly refused: number;
  /** bearerbox + smsbox user+system CPU over the run, ms. */
  readonly cpuMs: number;
  /** This process (the sendsms requests and the DLR server: the apps' side) over the run, ms. */
  readonly appsCpuMs: number;
  readonly partial: boolean;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function kannelConfig(dir: string, ports: { admin: number; smsbox: number; sendsms: number; smsc: number }, window: number): string {
  return `group = core
admin-port = ${ports.admin}
admin-password = bench
smsbox-port = ${ports.smsbox}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-level = 3
log-file = "${dir}/bearerbox.log"

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = ${ports.smsc}
transceiver-mode = true
smsc-username = kannel
smsc-password = secret
system-type = ""
max-pending-submits = ${window}
msg-id-type = 0x03

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = ${ports.sendsms}
log-level = 3
log-file = "${dir}/smsbox.log"

group = sendsms-user
username = bench
password = bench
max-messages = 1
concatenation = false
`;
}

function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function until(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  while (Date.now() < deadlineMs) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kannel bench: ${what} did not happen in time`);
}

function startBox(binary: string, config: string, dir: string): ChildProcess {
  const child = spawn(binary, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') console.error(`${path.basename(binary)} exited (${signal ?? code}); logs in ${dir}: ${stderr}`);
  });
  return child;
}

async function stopBox(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await exited(child, 5000);
}

async function runKannel(o: Options): Promise<KannelRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-kannel-'));
  const killAfterMs = (o.seconds + 60) * 1000;
  const simOptions: SimChildOptions = { window: o.window, count: o.count, dlr: true, receiptDelayMs: o.receiptDelayMs };
  const sim = forkTs(OUTBOUND, ['--role', 'sim', JSON.stringify(simOptions)], { killAfterMs });
  let bearerbox: ChildProcess | undefined;
  let smsbox: ChildProcess | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const delivered = new Set<string>();
  let failed = 0;
  let lastDeliveredMs = 0;
  const dlrServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const id = url.searchParams.get('id') ?? '';
    const status = Number(url.searchParams.get('s'));
    if (status === 1) {
      if (!delivered.has(id)) lastDeliveredMs = performance.now();
      delivered.add(id);
    } else if (status === 2 || status === 16) failed++;
    res.end('ok');
  });
  try {
    const { port: smscPort } = await nextMessage(sim, typed<{ type: 'listening'; port: number }>('listening'), 'simulator');
    await new Promise<void>((resolve) => dlrServer.listen(0, '127.0.0.1', resolve));
    const dlrPort = (dlrServer.address() as net.AddressInfo).port;
    const ports = { admin: await freePort(), smsbox: await freePort(), sendsms: await freePort(), smsc: smscPort };
    const config = path.join(dir, 'kannel.conf');
    writeFileSync(config, kannelConfig(dir, ports, o.window));
    const ready = Date.now() + 20_000;
    bearerbox = startBox(BEARERBOX, config, dir);
    const status = `http://127.0.0.1:${ports.admin}/status.txt?password=bench`;
    await until('the SMPP bind', ready, async () => /sim\[sim\]\s+SMPP:\S+ \(online/.test((await get(status)).body));
    smsbox = startBox(SMSBOX, config, dir);
    const sendsms = `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms?username=bench&password=bench&from=Parley`;
    await until('smsbox connected', ready, async () => /smsbox:\S*, IP 127\.0\.0\.1/.test((await get(status)).body));
    // Answered (a 4xx without a recipient) once smsbox's sendsms interface listens.
    await until('smsbox sendsms', ready, async () => (await get(sendsms)).status > 0);

    const cpu = (): number => (procCpuMs(bearerbox!.pid!) ?? 0) + (procCpuMs(smsbox!.pid!) ?? 0);
    const cpuFrom = cpu();
    const appsCpuFrom = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    let refused = 0;
    let acceptedAt = 0;
    const deadline = started + o.seconds * 1000;
    const worker = async (): Promise<void> => {
      while (next < o.count && performance.now() < deadline) {
        const i = next++;
        const to = String(15550000000 + i);
        const dlrUrl = encodeURIComponent(`http://127.0.0.1:${dlrPort}/dlr?id=${i}&s=%d`);
        const r = await get(`${sendsms}&to=${to}&text=${encodeURIComponent(`bench message ${i}`)}&dlr-mask=3&dlr-url=${dlrUrl}`, agent);
        if (r.status !== 202) refused++;
        acceptedAt = performance.now();
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
    while (delivered.size + failed < o.count - refused && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const cpuMs = cpu() - cpuFrom;
    const appsCpuMs = cpuMsSince(appsCpuFrom);
    return {
      delivered: delivered.size,
      finalRate: (delivered.size * 1000) / Math.max(1, lastDeliveredMs - started),
      acceptRate: ((o.count - refused) * 1000) / Math.max(1, acceptedAt - started),
      refused,
      cpuMs,
      appsCpuMs,
      partial: delivered.size < o.count,
    };
  } finally {
    agent.destroy();
    await stopBox(smsbox);
    await stopBox(bearerbox);
    dlrServer.close();
    if (sim.connected) sim.send({ type: 'stop' });
    await exited(sim, 5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runParley(o: Options): Promise<OutboundResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  const file = path.join(dir, 'result.json');
  try {
    const args = ['--import', 'tsx', OUTBOUND, '--no-two-way', '--binds', '1', '--count', String(o.count), '--window', String(o.window)];
    args.push('--receipt-delay', String(o.receiptDelayMs), '--seconds', String(o.seconds), '--result-json', file);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the outbound bench exited with ${code}`);
    const [result] = JSON.parse(readFileSync(file, 'utf8')) as OutboundResult[];
    if (!result) throw new Error('the outbound bench wrote no result');
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  if (booleanFlag('help')) {
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    console.log(source.slice(source.indexOf('/**') + 3, source.indexOf('*/')).split('\n').map((l) => l.replace(/^ \* ?/, '')).join('\n').trim());
    return;
  }
  for (const binary of [BEARERBOX, SMSBOX]) {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: apt-get install --no-install-recommends kannel-extras (it brings kannel 1.4.5)`);
  }
  const o: Options = {
    count: numberFlag('count', 10_000),
    rounds: numberFlag('rounds', 3),
    receiptDelayMs: numberFlag('receipt-delay', 200),
    window: numberFlag('window', 100),
    concurrency: Math.max(1, numberFlag('concurrency', 50)),
    seconds: numberFlag('seconds', 120),
  };
  const withParley = !booleanFlag('no-parley');
  console.log(
    `kannel bench: ${fmtInt(o.count)} messages, receipts ${o.receiptDelayMs} ms after each answer, window ${o.window}, one bind each, ` +
      `${o.rounds} round(s) of Kannel then Parley; sendsms concurrency ${o.concurrency}; ${machineLine()}`,
  );
  const rows: string[][] = [];
  const ratios: number[] = [];
  const kannelRates: number[] = [];
  const parleyRates: number[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const k = await runKannel(o);
    kannelRates.push(k.finalRate);
    const p = withParley ? await runParley(o) : undefined;
    if (p?.finalRate !== undefined) {
      parleyRates.push(p.finalRate);
      ratios.push(p.finalRate / k.finalRate);
    }
    rows.push([
      String(round),
      `${fmtInt(k.finalRate)}${k.partial ? ` (partial: ${fmtInt(k.delivered)})` : ''}`,
      fmtInt(k.acceptRate),
      fmt((k.cpuMs * 1000) / o.count, 0),
      fmt((k.appsCpuMs * 1000) / o.count, 0),
      p?.finalRate !== undefined ? fmtInt(p.finalRate) + ((p.delivered ?? 0) < o.count ? ` (partial: ${fmtInt(p.delivered ?? 0)})` : '') : '-',
      p ? fmt((p.daemonCpuMs * 1000) / o.count, 0) : '-',
      p ? fmt((p.postgresCpuMs * 1000) / o.count, 0) : '-',
      p?.finalRate !== undefined ? fmt(p.finalRate / k.finalRate, 2) : '-',
    ]);
    console.log(`  round ${round}: Kannel ${fmtInt(k.finalRate)} msg/s final${p?.finalRate !== undefined ? `, Parley ${fmtInt(p.finalRate)} msg/s final` : ''}`);
  }
  console.log('');
  console.log(
    table(
      ['round', 'kannel final msg/s', 'kannel sendsms msg/s', 'kannel cpu µs/msg', 'apps cpu µs/msg', 'parley final msg/s', 'parley daemon µs/msg', 'parley postgres µs/msg', 'parley / kannel'],
      rows,
    ),
  );
  console.log(
    '  kannel cpu: bearerbox + smsbox; apps cpu: the sendsms requests and the DLR callbacks\' server (this process; it shares\n' +
      '  the machine with Kannel, as Parley\'s XADDs, made before its daemon starts, do not); sendsms msg/s: every request answered 202, from the first; final: the last delivered DLR callback\n' +
      '  (Kannel) or every message delivered in Postgres (Parley), from the first request or dequeue.',
  );
  if (ratios.length > 0) {
    const ratio = median(ratios);
    console.log(
      `issue 10 goal: Parley final msg/s >= 3x Kannel's: medians Kannel ${fmtInt(median(kannelRates))}, Parley ${fmtInt(median(parleyRates))}; ` +
        `median ratio ${fmt(ratio, 2)}x -> ${ratio >= 3 ? 'met' : 'NOT met'}  (${machineLine()})`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
