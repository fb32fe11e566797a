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
 * (dlr-mask 3: delivered or failed) on a URL served here. Its final msg/s is the delivered count /
 * (first sendsms request -> the last delivered DLR callback).
 *
 * Parley: `npm run bench -- --no-two-way --binds 1` with the same count, window and receipt
 * delay (test/bench/outbound.ts: entries on the Redis stream, final msg/s = count / (first
 * dequeue -> the poll, every 100 ms, that saw every message `delivered` in Postgres)). Parley is
 * durable at every step; Kannel keeps the message and its DLR in memory only. Rounds alternate
 * which of the two runs first. Only rounds where both delivered every message count towards the
 * ratio; a Kannel box that exits, or a request unanswered past --seconds, fails the run (its config
 * and logs are kept and named).
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
import { freePort } from '../support/ports.ts';
import {
  booleanFlag,
  fileHeader,
  cpuMsSince,
  exited,
  fmt,
  fmtInt,
  forkTs,
  machineLine,
  nextMessage,
  numberFlag,
  percentile,
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
  /** Messages whose DLR said failed or rejected by the SMSC. */
  readonly failed: number;
  readonly finalRate: number;
  /** Requests answered 202 (Accepted), msg/s from the first request to the last 202. */
  readonly acceptRate: number;
  readonly refused: number;
  /** bearerbox + smsbox user+system CPU over the run, ms. */
  readonly cpuMs: number;
  /** This process (the sendsms requests and the DLR server: the apps' side) over the run, ms. */
  readonly appsCpuMs: number;
  readonly partial: boolean;
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

/** One GET, cut off (rejected) after `timeoutMs`: a box that stops answering never hangs the bench. */
function get(url: string, timeoutMs: number, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(Math.max(1, timeoutMs), () => req.destroy(new Error(`no answer in ${Math.round(timeoutMs)} ms`)));
    req.on('error', reject);
  });
}

/** Polls `check` every 100 ms until it holds; the error says what it saw last. */
async function until(what: string, deadlineMs: number, boxes: readonly Box[], check: () => Promise<boolean>): Promise<void> {
  let last = 'nothing yet';
  while (Date.now() < deadlineMs) {
    for (const box of boxes) box.assertRunning();
    try {
      if (await check()) return;
      last = 'not yet';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kannel bench: ${what} did not happen in 20 s (last: ${last})`);
}

/** bearerbox or smsbox, run from the generated config; an early exit fails the run. */
class Box {
  private readonly child: ChildProcess;
  private stderr = '';
  private failure: string | undefined;
  private stopping = false;

  constructor(binary: string, config: string) {
    this.child = spawn(binary, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    this.child.on('error', (err) => (this.failure = `${path.basename(binary)} could not run: ${err.message}`));
    this.child.once('exit', (code, signal) => {
      if (!this.stopping) this.failure = `${path.basename(binary)} exited (${signal ?? code}) during the run: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  assertRunning(): void {
    if (this.failure) throw new Error(this.failure);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    await exited(this.child, 5000);
  }
}

async function runKannel(o: Options): Promise<KannelRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-kannel-'));
  const killAfterMs = (o.seconds + 60) * 1000;
  const simOptions: SimChildOptions = { window: o.window, count: o.count, dlr: true, receiptDelayMs: o.receiptDelayMs };
  const sim = forkTs(OUTBOUND, ['--role', 'sim', JSON.stringify(simOptions)], { killAfterMs });
  const boxes: Box[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const delivered = new Set<string>();
  const failed = new Set<string>();
  /** DLR callbacks with another status (buffered, SMSC ack: not asked for) or no id. */
  let otherCallbacks = 0;
  let lastDeliveredMs = 0;
  const dlrServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const id = url.searchParams.get('id');
    const status = Number(url.searchParams.get('s'));
    if (id !== null && status === 1) {
      if (!delivered.has(id)) lastDeliveredMs = performance.now();
      delivered.add(id);
    } else if (id !== null && (status === 2 || status === 16)) failed.add(id);
    else otherCallbacks++;
    res.end('ok');
  });
  let ok = false;
  try {
    const { port: smscPort } = await nextMessage(sim, typed<{ type: 'listening'; port: number }>('listening'), 'simulator');
    await new Promise<void>((resolve) => dlrServer.listen(0, '127.0.0.1', resolve));
    const dlrPort = (dlrServer.address() as net.AddressInfo).port;
    const ports = { admin: 0, smsbox: 0, sendsms: 0, smsc: smscPort };
    // Free now; another socket could take one before the boxes bind it (then the start times out, saying so).
    while (new Set([ports.admin, ports.smsbox, ports.sendsms, smscPort, dlrPort]).size < 5) {
      [ports.admin, ports.smsbox, ports.sendsms] = [await freePort(), await freePort(), await freePort()];
    }
    const config = path.join(dir, 'kannel.conf');
    writeFileSync(config, kannelConfig(dir, ports, o.window));
    const ready = Date.now() + 20_000;
    const bearerbox = new Box(BEARERBOX, config);
    boxes.push(bearerbox);
    const status = `http://127.0.0.1:${ports.admin}/status.txt?password=bench`;
    await until('the SMPP bind', ready, boxes, async () => /sim\[sim\]\s+SMPP:\S+ \(online/.test((await get(status, 1000)).body));
    const smsbox = new Box(SMSBOX, config);
    boxes.push(smsbox);
    const sendsms = `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms?username=bench&password=bench&from=Parley`;
    await until('smsbox connected', ready, boxes, async () => /smsbox:\S*, IP 127\.0\.0\.1/.test((await get(status, 1000)).body));
    // Answered (a 4xx without a recipient) once smsbox's sendsms interface listens.
    await until('smsbox sendsms', ready, boxes, async () => (await get(sendsms, 1000)).status > 0);

    const boxCpu = (box: Box): number => {
      const ms = box.pid === undefined ? undefined : procCpuMs(box.pid);
      if (ms === undefined) throw new Error('a Kannel box is gone: its CPU cannot be read');
      return ms;
    };
    const cpu = (): number => boxCpu(bearerbox) + boxCpu(smsbox);
    const cpuFrom = cpu();
    const appsCpuFrom = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    let accepted = 0;
    let refused = 0;
    let acceptedAt = 0;
    const deadline = started + o.seconds * 1000;
    const worker = async (): Promise<void> => {
      while (next < o.count && performance.now() < deadline) {
        const i = next++;
        const to = String(15550000000 + i);
        const dlrUrl = encodeURIComponent(`http://127.0.0.1:${dlrPort}/dlr?id=${i}&s=%d`);
        const text = encodeURIComponent(`bench message ${i}`);
        const r = await get(`${sendsms}&to=${to}&text=${text}&dlr-mask=3&dlr-url=${dlrUrl}`, deadline - performance.now(), agent).catch((err: unknown) => {
          throw new Error(`kannel bench: sendsms request ${i} failed before --seconds ${o.seconds} ran out: ${err instanceof Error ? err.message : String(err)}`);
        });
        if (r.status === 202) {
          accepted++;
          acceptedAt = performance.now();
        } else refused++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
    while (delivered.size + failed.size < accepted && performance.now() < deadline) {
      for (const box of boxes) box.assertRunning();
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpuMs = cpu() - cpuFrom;
    const appsCpuMs = cpuMsSince(appsCpuFrom);
    if (otherCallbacks > 0) console.log(`  kannel: ${otherCallbacks} DLR callbacks with a status not asked for (dlr-mask 3) or no id`);
    ok = true;
    return {
      delivered: delivered.size,
      failed: failed.size,
      finalRate: delivered.size > 0 ? (delivered.size * 1000) / (lastDeliveredMs - started) : 0,
      acceptRate: accepted > 0 ? (accepted * 1000) / (acceptedAt - started) : 0,
      refused,
      cpuMs,
      appsCpuMs,
      partial: delivered.size < o.count,
    };
  } finally {
    agent.destroy();
    for (const box of [...boxes].reverse()) await box.stop();
    dlrServer.close();
    if (sim.connected) sim.send({ type: 'stop' });
    await exited(sim, 5000);
    if (ok) rmSync(dir, { recursive: true, force: true });
    else console.error(`  kannel: the run failed; its config and the boxes' logs are kept in ${dir}`);
  }
}

async function runParley(o: Options): Promise<OutboundResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  const file = path.join(dir, 'result.json');
  try {
    const args = ['--import', 'tsx', OUTBOUND, '--no-two-way', '--binds', '1', '--count', String(o.count), '--window', String(o.window)];
    args.push('--receipt-delay', String(o.receiptDelayMs), '--seconds', String(o.seconds), '--result-json', file);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    // Its own --seconds bounds the run; this bounds set-up and clean-up too.
    const ended = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(signal ?? code))));
    await exited(child, (o.seconds + 120) * 1000);
    const how = await ended;
    if (how !== '0') throw new Error(`the outbound bench exited with ${how}`);
    const [result] = JSON.parse(readFileSync(file, 'utf8')) as OutboundResult[];
    if (!result) throw new Error('the outbound bench wrote no result');
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Middle value by rank (bench-support's percentile): the middle round of an odd count. */
const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 50);

async function main(): Promise<void> {
  if (booleanFlag('help')) {
    console.log(fileHeader(fileURLToPath(import.meta.url)));
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
      `${o.rounds} round(s), Kannel and Parley in turn; sendsms concurrency ${o.concurrency}; ${machineLine()}`,
  );
  const rows: string[][] = [];
  const ratios: number[] = [];
  const kannelRates: number[] = [];
  const parleyRates: number[] = [];
  const incomplete: number[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    // Alternated order (Kannel first in odd rounds, Parley first in even ones), so that neither
    // always runs after the other's clean-up (a dropped schema, a checkpoint).
    let k: KannelRun;
    let p: OutboundResult | undefined;
    if (round % 2 === 1 || !withParley) {
      k = await runKannel(o);
      p = withParley ? await runParley(o) : undefined;
    } else {
      p = await runParley(o);
      k = await runKannel(o);
    }
    const kannelWhole = !k.partial && k.refused === 0;
    const parleyWhole = p?.finalRate !== undefined && p.delivered === o.count;
    if (kannelWhole) kannelRates.push(k.finalRate);
    if (parleyWhole) parleyRates.push(p!.finalRate!);
    if (kannelWhole && parleyWhole) ratios.push(p!.finalRate! / k.finalRate);
    else if (withParley) incomplete.push(round);
    rows.push([
      String(round),
      `${fmtInt(k.finalRate)}${kannelWhole ? '' : ` (partial: ${fmtInt(k.delivered)} delivered, ${fmtInt(k.failed)} failed, ${fmtInt(k.refused)} refused)`}`,
      fmtInt(k.acceptRate),
      fmt((k.cpuMs * 1000) / o.count, 0),
      fmt((k.appsCpuMs * 1000) / o.count, 0),
      p?.finalRate !== undefined ? fmtInt(p.finalRate) + (parleyWhole ? '' : ` (partial: ${fmtInt(p.delivered ?? 0)})`) : '-',
      p ? fmt((p.daemonCpuMs * 1000) / o.count, 0) : '-',
      p ? fmt((p.postgresCpuMs * 1000) / o.count, 0) : '-',
      kannelWhole && parleyWhole ? fmt(p!.finalRate! / k.finalRate, 2) : '-',
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
    "  kannel cpu: bearerbox + smsbox. apps cpu: the sendsms requests and the DLR callbacks' server (this process), which share\n" +
      "  the machine with Kannel, where Parley's XADDs are made before its daemon starts. sendsms msg/s: requests answered 202.\n" +
      '  final: delivered count / (first request -> last delivered DLR callback) for Kannel; count / (first dequeue -> the poll,\n' +
      '  every 100 ms, that saw every message delivered in Postgres) for Parley. Rounds alternate which goes first.',
  );
  if (incomplete.length > 0) console.log(`  left out of the ratio: round(s) ${incomplete.join(', ')}, where not every message was delivered`);
  if (withParley) {
    const ratio = ratios.length > 0 ? median(ratios) : undefined;
    console.log(
      `issue 10 goal: Parley final msg/s >= 3x Kannel's: ` +
        (ratio === undefined
          ? 'no round delivered every message on both sides -> NOT met (nothing to compare)'
          : `medians Kannel ${fmtInt(median(kannelRates))}, Parley ${fmtInt(median(parleyRates))}; median ratio ${fmt(ratio, 2)}x over ${ratios.length} ` +
            `round(s) -> ${ratio >= 3 ? 'met' : 'NOT met'}`) +
        `  (${machineLine()})`,
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
