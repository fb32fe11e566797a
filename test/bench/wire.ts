/**
 * Parley's SMPP session against node-smpp's (npm `smpp` 0.5.1), as ESME clients of one server.
 *
 *   npm run bench:wire -- [--count 100000] [--window 100] [--seconds 120] [--only a,b,c,d]
 *                         [--nodelay] [--profile DIR]
 *
 * Every side runs in its own process so that client and server never share an event loop: this
 * process only orchestrates; each scenario forks a fresh server and a fresh client (tsx children).
 *
 * The server is a lean SMSC on Parley's `SmppServer`: it accepts any bind, answers each submit_sm
 * with an incrementing hex id and, when the submit asks for a receipt (registered_delivery 1),
 * sends a deliver_sm receipt (esm_class 0x04, the Appendix B text, receipted_message_id and
 * message_state TLVs) right after the response: the receipts of one read are written in the same
 * tick as their responses, so they leave in the same TCP segments. An ESME that leaves Nagle on
 * then has two small writes per message (next submit, deliver_sm_resp) racing delayed ACKs.
 *
 * Scenarios, each `count` submits on one transceiver bind with at most `window` outstanding:
 *   a  Parley client, submit + submit_sm_resp
 *   b  Parley client, submit + DLR: done when every receipt was received and answered
 *   c  node-smpp client, submit + submit_sm_resp (node-smpp has no window: the driver keeps one)
 *   d  node-smpp client, submit + DLR, each deliver_sm answered with `session.send(pdu.response())`
 *   e  (--nodelay) as d, with TCP_NODELAY set on node-smpp's socket: how much of d is Nagle
 * Both clients send the same octets: short_message as a Buffer, data_coding 0.
 *
 * Each scenario stops sending after `seconds` and reports what completed (marked partial).
 * --profile DIR writes a .cpuprofile per process (node --cpu-prof) into DIR; summarise one with
 * `npx tsx test/bench/profile-summary.ts FILE`.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmppServer, connectSession } from '../../src/smpp/connection.ts';
import { shortMessageFields, type PduOf } from '../../src/smpp/pdu.ts';
import type { SmppSession } from '../../src/smpp/session.ts';
import { buildReceiptPdu, receiptTextSnippet } from '../../src/simulator/receipts.ts';
import { connectNodeSmpp, type NodeSmppPdu, type NodeSmppSession } from '../support/node-smpp.ts';
import {
  booleanFlag,
  cpuMsSince,
  exited,
  failChild,
  fmt,
  fmtInt,
  forkTs,
  machineLine,
  nextMessage,
  numberFlag,
  peakRssMb,
  rssMb,
  stringFlag,
  table,
  tellParent,
  typed,
} from './bench-support.ts';
import { summarise } from './profile-summary.ts';

const SELF = fileURLToPath(import.meta.url);

type Impl = 'parley' | 'node-smpp';

interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly impl: Impl;
  readonly dlr: boolean;
  readonly noDelay: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { key: 'a', label: 'a parley    submit+resp', impl: 'parley', dlr: false, noDelay: false },
  { key: 'b', label: 'b parley    submit+DLR', impl: 'parley', dlr: true, noDelay: false },
  { key: 'c', label: 'c node-smpp submit+resp', impl: 'node-smpp', dlr: false, noDelay: false },
  { key: 'd', label: 'd node-smpp submit+DLR', impl: 'node-smpp', dlr: true, noDelay: false },
  { key: 'e', label: 'e node-smpp submit+DLR, TCP_NODELAY', impl: 'node-smpp', dlr: true, noDelay: true },
];

interface ClientConfig {
  readonly port: number;
  readonly impl: Impl;
  readonly dlr: boolean;
  readonly noDelay: boolean;
  readonly count: number;
  readonly window: number;
  readonly seconds: number;
}

interface ClientResult {
  readonly type: 'client-result';
  readonly sent: number;
  readonly responses: number;
  readonly errors: number;
  readonly receipts: number;
  /** Submits completed: answered (resp mode) or receipted and the receipt answered (DLR mode). */
  readonly completed: number;
  /** From the first submit to the last completion. */
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  readonly partial: boolean;
  /** Socket reads and writes of the client during the measured span. */
  readonly reads: number;
  readonly writes: number;
  /** process.hrtime µs of the first submit and of the last completion: the profile's measured span. */
  readonly windowUs: { fromUs: number; toUs: number };
}

interface ServerResult {
  readonly type: 'server-result';
  readonly submits: number;
  readonly receiptsSent: number;
  readonly receiptsAcked: number;
  readonly receiptsFailed: number;
  /** Receipts that waited for the server's own deliver_sm window. */
  readonly receiptsQueued: number;
  /** CPU from the bind to the end of the session. */
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly peakRssMb: number;
  readonly windowUs: { fromUs: number; toUs: number };
  readonly reads: number;
  readonly writes: number;
}

const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Counts this process's socket reads (chunks libuv read and pushed into the socket: one per read
 * syscall that returned data) and writes (one per `_write`/`_writev` into libuv: one send or
 * writev syscall, or one queued write request).
 */
const io = { reads: 0, writes: 0 };
function countSocketIo(): void {
  const proto = net.Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const writeGeneric = proto._writeGeneric!;
  proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
    io.writes++;
    return writeGeneric.apply(this, args);
  };
  const push = proto.push!;
  proto.push = function (this: net.Socket, chunk: unknown, ...args: unknown[]) {
    if (chunk !== null) io.reads++;
    return push.call(this, chunk, ...args);
  };
}

const SUBMIT_TEXT = Buffer.from('Benchmark message: the quick brown fox jumps over the lazy dog', 'latin1');
const SOURCE = '12345';
const DESTINATION = '447700900001';

// ------------------------------------------------------------------------------ server

async function runServer(): Promise<void> {
  let nextId = 0x10000000;
  let submits = 0;
  let receiptsSent = 0;
  let receiptsAcked = 0;
  let receiptsFailed = 0;
  let receiptsQueued = 0;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let boundAt = 0;
  let boundAtUs = 0;
  let reported = false;
  const snippet = receiptTextSnippet(SUBMIT_TEXT.toString('latin1'));

  interface Due {
    readonly session: SmppSession;
    readonly pdu: PduOf<'submit_sm'>;
    readonly id: string;
    readonly atMs: number;
  }
  let due: Due[] = [];
  const overflow: Due[] = [];
  let flushScheduled = false;

  const sendReceipt = (d: Due): void => {
    if (d.session.freeWindow === 0) {
      receiptsQueued++;
      overflow.push(d);
      return;
    }
    receiptsSent++;
    const init = buildReceiptPdu(
      { receiptId: d.id, stat: 'DELIVRD', submitAtMs: d.atMs, doneAtMs: d.atMs, snippet },
      {
        source: d.pdu.destination_addr,
        sourceTon: d.pdu.dest_addr_ton,
        sourceNpi: d.pdu.dest_addr_npi,
        destination: d.pdu.source_addr,
        destTon: d.pdu.source_addr_ton,
        destNpi: d.pdu.source_addr_npi,
      },
      'both',
    );
    d.session.request('deliver_sm', init).then(
      () => {
        receiptsAcked++;
        while (overflow.length > 0 && d.session.freeWindow > 0) sendReceipt(overflow.shift()!);
      },
      () => {
        receiptsFailed++;
      },
    );
  };
  const flush = (): void => {
    flushScheduled = false;
    const list = due;
    due = [];
    for (const d of list) sendReceipt(d);
  };

  const server = new SmppServer({
    session: {
      // The server's own deliver_sm window; receipts past it wait in `overflow`.
      timers: { windowSize: 1000, responseTimeoutMs: 60_000, incomingWindow: 10_000, bindTimeoutMs: 30_000 },
      handlers: {
        onBind: () => {
          cpuFrom = process.cpuUsage();
          boundAt = performance.now();
          boundAtUs = hrUs();
          io.reads = 0;
          io.writes = 0;
          return { system_id: 'wire-bench' };
        },
        onRequest: (pdu, session) => {
          if (pdu.command !== 'submit_sm') return {};
          submits++;
          const id = (nextId++).toString(16);
          if ((pdu.registered_delivery & 0x03) !== 0) {
            due.push({ session, pdu, id, atMs: Date.now() });
            if (!flushScheduled) {
              flushScheduled = true;
              // The session writes this submit's response a few microtasks from now and uncorks
              // on the next tick; a tick queued from a microtask runs after every microtask, so
              // the receipts follow their responses into the same corked write.
              queueMicrotask(() => process.nextTick(flush));
            }
          }
          return { message_id: id };
        },
        onClose: () => {
          if (reported || cpuFrom === undefined) return;
          reported = true;
          const result: ServerResult = {
            type: 'server-result',
            submits,
            receiptsSent,
            receiptsAcked,
            receiptsFailed,
            receiptsQueued,
            cpuMs: cpuMsSince(cpuFrom),
            wallMs: performance.now() - boundAt,
            peakRssMb: peakRssMb(),
            windowUs: { fromUs: boundAtUs, toUs: hrUs() },
            reads: io.reads,
            writes: io.writes,
          };
          tellParent(result)
            .then(() => server.close(100))
            .then(() => process.exit(0), failChild);
        },
      },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  await tellParent({ type: 'listening', port });
}

// ------------------------------------------------------------------------------ clients

/** Called by a client for each receipt it answered; `drive` points it at its completion check. */
let receiptHook: () => void = () => {};

/** The common driver: keeps `window` submits outstanding, counts completions, stops on time. */
interface Driver {
  submit(onResponse: (ok: boolean) => void): void;
  readonly receipts: () => number;
  unbind(): Promise<void>;
}

async function drive(cfg: ClientConfig, driver: Driver): Promise<ClientResult> {
  const rssBefore = rssMb();
  let sent = 0;
  let inFlight = 0;
  let responses = 0;
  let errors = 0;
  let stopped = false;
  let lastCompletionAt = 0;
  let lastCompletionUs = 0;
  const target = cfg.count;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const completed = (): number => (cfg.dlr ? Math.min(driver.receipts(), responses) : responses);
  const check = (): void => {
    if (completed() >= target || (stopped && inFlight === 0 && (!cfg.dlr || driver.receipts() >= responses))) finish();
  };
  const onResponse = (ok: boolean): void => {
    inFlight--;
    if (ok) {
      responses++;
      if (!cfg.dlr) {
        lastCompletionAt = performance.now();
        lastCompletionUs = hrUs();
      }
    } else errors++;
    pump();
    check();
  };
  const pump = (): void => {
    while (!stopped && inFlight < cfg.window && sent < target) {
      sent++;
      inFlight++;
      driver.submit(onResponse);
    }
  };
  receiptHook = (): void => {
    lastCompletionAt = performance.now();
    lastCompletionUs = hrUs();
    check();
  };

  io.reads = 0;
  io.writes = 0;
  const cpuFrom = process.cpuUsage();
  const started = performance.now();
  const startedUs = hrUs();
  const deadline = setTimeout(() => {
    stopped = true;
    check();
    // Whatever is still out after 10 s more is abandoned.
    setTimeout(finish, 10_000).unref();
  }, cfg.seconds * 1000);
  pump();
  await finished;
  clearTimeout(deadline);
  const cpuMs = cpuMsSince(cpuFrom);
  const { reads, writes } = io;
  const result: ClientResult = {
    type: 'client-result',
    sent,
    responses,
    errors,
    receipts: driver.receipts(),
    completed: completed(),
    wallMs: (lastCompletionAt || performance.now()) - started,
    cpuMs,
    rssBeforeMb: rssBefore,
    peakRssMb: peakRssMb(),
    partial: completed() < target,
    windowUs: { fromUs: startedUs, toUs: lastCompletionUs || hrUs() },
    reads,
    writes,
  };
  // Let the last deliver_sm_resp leave before unbinding.
  await new Promise((r) => setImmediate(r));
  await driver.unbind();
  return result;
}


async function runParleyClient(cfg: ClientConfig): Promise<ClientResult> {
  let receipts = 0;
  const session = await connectSession(
    { host: '127.0.0.1', port: cfg.port },
    {
      timers: { windowSize: cfg.window, responseTimeoutMs: 60_000, incomingWindow: 10_000 },
      handlers: {
        onRequest: (pdu) => {
          if (pdu.command === 'deliver_sm') {
            receipts++;
            receiptHook();
          }
          return {};
        },
      },
    },
  );
  await session.bind('transceiver', { system_id: 'bench', password: 'bench' });
  const fields = shortMessageFields({
    source_addr: SOURCE,
    destination_addr: DESTINATION,
    registered_delivery: cfg.dlr ? 1 : 0,
    short_message: SUBMIT_TEXT,
  });
  return drive(cfg, {
    submit: (onResponse) => {
      session.request('submit_sm', fields).then(
        (resp) => onResponse(resp.command_status === 0),
        () => onResponse(false),
      );
    },
    receipts: () => receipts,
    unbind: () => session.unbind(1000),
  });
}

async function runNodeSmppClient(cfg: ClientConfig): Promise<ClientResult> {
  let receipts = 0;
  const session: NodeSmppSession = connectNodeSmpp({ host: '127.0.0.1', port: cfg.port });
  session.on('error', (err: Error) => console.error(`node-smpp client: ${err.message}`));
  await once(session, 'connect');
  if (cfg.noDelay) session.socket.setNoDelay(true);
  const bound = await new Promise<NodeSmppPdu>((resolve) => session.bind_transceiver({ system_id: 'bench', password: 'bench' }, resolve));
  if (bound.command_status !== 0) throw new Error(`node-smpp bind refused: ${bound.command_status}`);
  session.on('deliver_sm', (pdu: NodeSmppPdu) => {
    session.send(pdu.response());
    receipts++;
    receiptHook();
  });
  const options = {
    source_addr: SOURCE,
    destination_addr: DESTINATION,
    registered_delivery: cfg.dlr ? 1 : 0,
    data_coding: 0,
    short_message: SUBMIT_TEXT,
  };
  return drive(cfg, {
    submit: (onResponse) => {
      session.submit_sm({ ...options }, (resp) => onResponse(resp.command_status === 0));
    },
    receipts: () => receipts,
    unbind: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          session.destroy();
          resolve();
        }, 1000);
        session.unbind({}, () => {
          clearTimeout(t);
          session.close(() => resolve());
        });
      }),
  });
}

// ------------------------------------------------------------------------------ parent

interface Row {
  readonly scenario: Scenario;
  readonly client: ClientResult;
  readonly server: ServerResult | undefined;
  /** The main thread's .cpuprofile of each side, when profiling. */
  readonly profiles?: { client: string | undefined; server: string | undefined };
}

/** The biggest .cpuprofile in `dir`: the main thread's (tsx's loader thread writes a small one). */
function mainProfile(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  } catch {
    return undefined;
  }
}

async function runScenario(scenario: Scenario, base: Omit<ClientConfig, 'port' | 'impl' | 'dlr' | 'noDelay'>, profileDir: string | undefined): Promise<Row> {
  const killAfterMs = (base.seconds + 60) * 1000;
  const prof = (who: string): string | undefined => (profileDir ? path.join(profileDir, `${scenario.key}-${who}`) : undefined);
  const server = forkTs(SELF, ['--role', 'server'], { killAfterMs, profileDir: prof('server') });
  let client: ChildProcess | undefined;
  try {
    const serverResult = nextMessage(server, typed<ServerResult>('server-result'), 'server');
    serverResult.catch(() => undefined);
    const { port } = await nextMessage(server, typed<{ type: 'listening'; port: number }>('listening'), 'server');
    const cfg: ClientConfig = { ...base, port, impl: scenario.impl, dlr: scenario.dlr, noDelay: scenario.noDelay };
    client = forkTs(SELF, ['--role', 'client', JSON.stringify(cfg)], { killAfterMs, profileDir: prof('client') });
    const result = await nextMessage(client, typed<ClientResult>('client-result'), 'client');
    const serverSide = await Promise.race([serverResult, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]).catch(() => undefined);
    await Promise.all([exited(client, 5000), exited(server, 5000)]);
    return { scenario, client: result, server: serverSide, profiles: { client: mainProfile(prof('client')), server: mainProfile(prof('server')) } };
  } finally {
    await Promise.all([client ? exited(client, 5000) : Promise.resolve(), exited(server, 5000)]);
  }
}

function rate(row: Row | undefined): number {
  return row ? (row.client.completed / row.client.wallMs) * 1000 : Number.NaN;
}

async function main(): Promise<void> {
  const role = process.argv[process.argv.indexOf('--role') + 1];
  if (process.argv.includes('--role')) countSocketIo();
  if (process.argv.includes('--role') && role === 'server') {
    await runServer();
    return;
  }
  if (process.argv.includes('--role') && role === 'client') {
    const cfg = JSON.parse(process.argv[process.argv.indexOf('--role') + 2] ?? '{}') as ClientConfig;
    const result = cfg.impl === 'parley' ? await runParleyClient(cfg) : await runNodeSmppClient(cfg);
    await tellParent(result);
    process.exit(0);
  }

  const base = { count: numberFlag('count', 100_000), window: numberFlag('window', 100), seconds: numberFlag('seconds', 120) };
  const only = new Set(stringFlag('only', booleanFlag('nodelay') ? 'a,b,c,d,e' : 'a,b,c,d').split(','));
  const profileDir = process.argv.includes('--profile') ? path.resolve(stringFlag('profile', 'bench-profiles')) : undefined;
  console.log(
    `wire bench: ${fmtInt(base.count)} submits per scenario, window ${base.window}, one transceiver bind, at most ${base.seconds} s each; ` +
      `server and client in separate processes; ${machineLine()}` +
      (profileDir ? `; profiles in ${profileDir}` : ''),
  );
  const rows: Row[] = [];
  for (const scenario of SCENARIOS) {
    if (!only.has(scenario.key)) continue;
    const row = await runScenario(scenario, base, profileDir);
    rows.push(row);
    const c = row.client;
    const s = row.server;
    console.log(
      `  ${scenario.label}: ${fmtInt(rate(row))} msg/s; sent ${c.sent}, resp ${c.responses}, err ${c.errors}, dlr ${c.receipts}` +
        (s ? `; server: submits ${s.submits}, receipts sent ${s.receiptsSent}, acked ${s.receiptsAcked}, queued ${s.receiptsQueued}` : '; server: no report') +
        (c.partial ? '  PARTIAL (time limit)' : ''),
    );
  }

  const header = [
    'scenario',
    'msg/s',
    'done',
    'wall s',
    'client cpu s',
    'client µs/msg',
    'server cpu s',
    'server µs/msg',
    'client reads+writes /msg',
    'server reads+writes /msg',
    'client rss MB',
    'server rss MB',
  ];
  const body = rows.map((r) => {
    const c = r.client;
    const s = r.server;
    return [
      r.scenario.label + (c.partial ? ' (partial)' : ''),
      fmtInt(rate(r)),
      fmtInt(c.completed),
      fmt(c.wallMs / 1000, 2),
      `${fmt(c.cpuMs / 1000, 2)} (${Math.round((c.cpuMs / c.wallMs) * 100)}%)`,
      fmt((c.cpuMs * 1000) / Math.max(1, c.completed), 1),
      s ? `${fmt(s.cpuMs / 1000, 2)} (${Math.round((s.cpuMs / s.wallMs) * 100)}%)` : '-',
      s ? fmt((s.cpuMs * 1000) / Math.max(1, c.completed), 1) : '-',
      `${fmt(c.reads / Math.max(1, c.completed), 2)} + ${fmt(c.writes / Math.max(1, c.completed), 2)}`,
      s ? `${fmt(s.reads / Math.max(1, c.completed), 2)} + ${fmt(s.writes / Math.max(1, c.completed), 2)}` : '-',
      `${fmt(c.peakRssMb, 0)} (start ${fmt(c.rssBeforeMb, 0)})`,
      s ? fmt(s.peakRssMb, 0) : '-',
    ];
  });
  console.log('');
  console.log(table(header, body));
  const by = (k: string): Row | undefined => rows.find((r) => r.scenario.key === k);
  const ratio = (p: string, n: string): string => {
    const v = rate(by(p)) / rate(by(n));
    return Number.isFinite(v) ? `${v.toFixed(2)}x` : '-';
  };
  const cpuRatio = (p: string, n: string): string => {
    const a = by(p);
    const b = by(n);
    if (!a || !b) return '-';
    const per = (r: Row): number => r.client.cpuMs / Math.max(1, r.client.completed);
    return `${(per(b) / per(a)).toFixed(2)}x`;
  };
  console.log('');
  console.log('Parley / node-smpp (msg/s; client CPU per message, node-smpp over Parley):');
  console.log(`  submit+resp: ${ratio('a', 'c')} throughput, ${cpuRatio('a', 'c')} less client CPU per message`);
  console.log(`  submit+DLR:  ${ratio('b', 'd')} throughput, ${cpuRatio('b', 'd')} less client CPU per message  (issue goal: >= 3x)`);
  if (by('e')) console.log(`  submit+DLR vs node-smpp with TCP_NODELAY: ${ratio('b', 'e')} throughput, ${cpuRatio('b', 'e')} less client CPU per message`);
  console.log(`  (${machineLine()} at the end)`);
  for (const r of rows) {
    if (!r.profiles) continue;
    for (const side of ['client', 'server'] as const) {
      const file = r.profiles[side];
      const window = side === 'client' ? r.client.windowUs : r.server?.windowUs;
      if (!file) continue;
      console.log(`\n=== ${r.scenario.label}: ${side} profile ===`);
      console.log(summarise(file, 20, r.scenario.impl === 'parley' || side === 'server' ? 'src/' : 'node_modules/smpp', window));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
