/**
 * How fast the SMSC simulator answers, so that it is never the bottleneck of a benchmark.
 *
 *   npx tsx test/bench/sim-capacity.ts [--count 100000] [--seconds 10] [--binds 4] [--window 200] [--keep 10000] [--phases baseline,submit,dlr]
 *
 * The simulator runs in this process; a minimal Parley ESME (connectSession + request, `binds`
 * transceiver binds at `window` each) runs in a forked child, so the two do not share a core's
 * event loop. Three phases, each bounded by `count` messages and `seconds`:
 *   1. baseline  a bare SmppServer that answers every submit_sm with an id: the wire's ceiling;
 *   2. submit    the simulator, no receipts requested: submit + submit_sm_resp per second;
 *   3. dlr       the simulator, registered_delivery 1 and receipts at once: submit + resp +
 *                deliver_sm + deliver_sm_resp per second, end to end.
 * For each phase: the rate, and the CPU each side used as a share of one core (whichever is near
 * 100% is the bottleneck).
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { SmppServer, connectSession } from '../../src/smpp/connection.ts';
import { shortMessageFields } from '../../src/smpp/pdu.ts';
import type { SmppSession } from '../../src/smpp/session.ts';
import { startSimulator } from '../../src/simulator/index.ts';

interface ChildConfig {
  port: number;
  count: number;
  seconds: number;
  binds: number;
  window: number;
  receipts: boolean;
}

interface ChildResult {
  sent: number;
  responses: number;
  errors: number;
  receipts: number;
  submitMs: number;
  receiptMs: number;
  cpuMs: number;
  wallMs: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0`);
  return v;
}

// ------------------------------------------------------------------------------------- child

async function runClient(cfg: ChildConfig): Promise<ChildResult> {
  let receipts = 0;
  let lastReceiptAt = 0;
  const sessions: SmppSession[] = [];
  for (let i = 0; i < cfg.binds; i++) {
    const s = await connectSession(
      { host: '127.0.0.1', port: cfg.port },
      {
        timers: { windowSize: cfg.window, responseTimeoutMs: 30_000, incomingWindow: 10_000 },
        handlers: {
          onRequest: (pdu) => {
            if (pdu.command === 'deliver_sm') {
              receipts++;
              lastReceiptAt = performance.now();
            }
            return {};
          },
        },
      },
    );
    await s.bind('transceiver', { system_id: 'bench', password: '' });
    sessions.push(s);
  }
  const fields = shortMessageFields({
    source_addr: '12345',
    destination_addr: '447700900001',
    registered_delivery: cfg.receipts ? 1 : 0,
    short_message: Buffer.from('Benchmark message: the quick brown fox jumps over the lazy dog'),
  });
  process.send?.({ type: 'start' });
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + cfg.seconds * 1000;
  let sent = 0;
  let responses = 0;
  let errors = 0;
  let lastResponseAt = started;
  const onResponse = (): void => {
    responses++;
    lastResponseAt = performance.now();
  };
  const onError = (): void => {
    errors++;
  };
  const pump = async (s: SmppSession): Promise<void> => {
    while (sent < cfg.count && performance.now() < deadline && s.isBound) {
      if (s.freeWindow === 0) {
        await s.waitForWindow();
        continue;
      }
      sent++;
      s.request('submit_sm', fields).then(onResponse, onError);
      // Yield now and then so responses are read while the window is being filled.
      if ((sent & 63) === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(sessions.map(pump));
  const settleBy = performance.now() + 10_000;
  while (responses + errors < sent && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 5));
  if (cfg.receipts) {
    const receiptsBy = performance.now() + 10_000;
    while (receipts < responses && performance.now() < receiptsBy) await new Promise((r) => setTimeout(r, 5));
  }
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - started;
  process.send?.({ type: 'end' });
  await Promise.all(sessions.map((s) => s.unbind(500)));
  return {
    sent,
    responses,
    errors,
    receipts,
    submitMs: lastResponseAt - started,
    receiptMs: lastReceiptAt > 0 ? lastReceiptAt - started : 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
  };
}

// ------------------------------------------------------------------------------------ parent

/** Runs the client; `serverCpuMs` is this process's CPU between the child's start and end marks. */
function runChild(cfg: ChildConfig): Promise<{ result: ChildResult; serverCpuMs: number }> {
  return new Promise((resolve, reject) => {
    let cpuStart: NodeJS.CpuUsage | undefined;
    let serverCpuMs = 0;
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(cfg)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (cfg.seconds + 30) * 1000);
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'start') cpuStart = process.cpuUsage();
      else if (m.type === 'end') {
        const cpu = process.cpuUsage(cpuStart);
        serverCpuMs = (cpu.user + cpu.system) / 1000;
      } else resolve({ result: m as ChildResult, serverCpuMs });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code !== 0) reject(new Error(`client process exited with ${code}`));
    });
  });
}

interface PhaseResult {
  phase: string;
  result: ChildResult;
  serverCpuMs: number;
  extra: string;
}

async function measure(phase: string, port: number, cfg: Omit<ChildConfig, 'port'>, extra: () => string): Promise<PhaseResult> {
  const { result, serverCpuMs } = await runChild({ ...cfg, port });
  return { phase, result, serverCpuMs, extra: extra() };
}

function report(r: PhaseResult, receipts: boolean): string {
  const x = r.result;
  const rate = receipts ? (x.receipts / x.receiptMs) * 1000 : (x.responses / x.submitMs) * 1000;
  const span = receipts ? x.receiptMs : x.submitMs;
  return [
    r.phase.padEnd(9),
    `${Math.round(rate).toLocaleString('en-US').padStart(8)} ${receipts ? 'submit+DLR/s' : 'submit+resp/s'}`.padEnd(26),
    `sent ${x.sent}, resp ${x.responses}, err ${x.errors}${receipts ? `, dlr ${x.receipts}` : ''} in ${Math.round(span)} ms;`,
    `cpu: server ${Math.round((r.serverCpuMs / x.wallMs) * 100)}% of a core, ${((r.serverCpuMs * 1000) / x.responses).toFixed(1)} µs/msg;`,
    `client ${Math.round((x.cpuMs / x.wallMs) * 100)}%, ${((x.cpuMs * 1000) / x.responses).toFixed(1)} µs/msg`,
    r.extra,
  ].join('  ');
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    const result = await runClient(JSON.parse(process.argv[childAt + 1] ?? '{}') as ChildConfig);
    process.send?.(result, () => process.exit(0));
    return;
  }
  const base = {
    count: arg('count', 100_000),
    seconds: arg('seconds', 10),
    binds: arg('binds', 4),
    window: arg('window', 200),
  };
  console.log(
    `sim-capacity: ${base.count} messages or ${base.seconds} s per phase, ${base.binds} binds at window ${base.window}, ` +
      `arrival log keep ${arg('keep', 10_000)}, node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0]?.toFixed(1)}`,
  );

  const phasesAt = process.argv.indexOf('--phases');
  const phases = new Set((phasesAt >= 0 ? (process.argv[phasesAt + 1] ?? '') : 'baseline,submit,dlr').split(','));

  // 1. The wire's ceiling: Parley's own server with the least possible handler.
  if (phases.has('baseline')) await runBaseline(base);

  // 2 and 3. The simulator.
  const keep = arg('keep', 10_000);
  const sim = await startSimulator({ controlPort: false, keep, receiptDelayMs: 0, window: base.window, receiptRetryMs: 60_000 });
  try {
    const heap = (): string => `heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`;
    if (phases.has('submit')) {
      const submit = await measure('submit', sim.port, { ...base, receipts: false }, heap);
      console.log(report(submit, false));
      sim.reset();
    }
    if (phases.has('dlr')) {
      const dlr = await measure('dlr', sim.port, { ...base, receipts: true }, () => {
        const r = sim.stats.receipts;
        return `${heap()}; sim receipts sent ${r.sent}, acked ${r.acked}, pending ${r.pending}`;
      });
      console.log(report(dlr, true));
    }
  } finally {
    await sim.stop();
  }
}

async function runBaseline(base: Omit<ChildConfig, 'port' | 'receipts'>): Promise<void> {
  let n = 0;
  const bare = new SmppServer({
    session: {
      timers: { windowSize: base.window, incomingWindow: 10_000 },
      handlers: { onRequest: (pdu) => (pdu.command === 'submit_sm' ? { message_id: (++n).toString(16) } : {}) },
    },
  });
  const { port: barePort } = await bare.listen(0);
  const baseline = await measure('baseline', barePort, { ...base, receipts: false }, () => '');
  await bare.close();
  console.log(report(baseline, false));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
