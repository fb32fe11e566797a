/**
 * `runSimulator` is what `parley smsc-sim` calls: it starts the simulator (port 2775, control
 * endpoint on 2776 unless told otherwise), logs where it listens, and every `summaryIntervalMs`
 * logs one readable line per bind and one in total, only when something changed. It does not
 * install signal handlers: the CLI stops it with `sim.stop()` or through `signal`.
 */
import type { Logger } from '../lib/logger.ts';
import { describeError } from '../lib/errors.ts';
import type { SimulatorOptions } from './options.ts';
import { startSimulator, type Simulator, type SimulatorStats } from './simulator.ts';

export interface RunSimulatorOptions extends SimulatorOptions {
  logger: Logger;
  /** Time between summary lines; 10,000 ms. 0 turns them off. */
  summaryIntervalMs?: number;
  /** Stops the simulator when aborted. */
  signal?: AbortSignal;
}

export const RUN_DEFAULTS = { port: 2775, controlPort: 2776, summaryIntervalMs: 10_000 } as const;

function totalsLine(s: SimulatorStats): string {
  return (
    `binds ${s.binds.current} (tx ${s.binds.transmitter}, rx ${s.binds.receiver}, trx ${s.binds.transceiver}), ` +
    `submits ${s.submits}, throttled ${s.throttled}, rejected ${s.rejected}, ` +
    `receipts sent/acked/pending ${s.receipts.sent}/${s.receipts.acked}/${s.receipts.pending}, ` +
    `replies sent/acked/pending ${s.replies.sent}/${s.replies.acked}/${s.replies.pending}`
  );
}

/** Logs one line per bind and a total line, only for what changed since the last call. */
export function createSummaryLogger(sim: Simulator, log: Logger): () => void {
  const last = new Map<string, string>();
  let lastTotals = '';
  let lastSubmits = 0;
  let lastAt = performance.now();
  return () => {
    const now = performance.now();
    const stats = sim.stats;
    const seen = new Set<string>();
    for (const b of sim.binds) {
      seen.add(b.id);
      const line =
        `bind ${b.id} ${b.systemId || '(no system_id)'} ${b.type} from ${b.remote}: submits ${b.submits}, throttled ${b.throttled}, ` +
        `receipts sent/acked ${b.receiptsSent}/${b.receiptsAcked}, replies sent/acked ${b.repliesSent}/${b.repliesAcked}, in flight ${b.inFlight}`;
      if (last.get(b.id) !== line) log.info({ bind: b.id, systemId: b.systemId, type: b.type, submits: b.submits }, line);
      last.set(b.id, line);
    }
    for (const id of [...last.keys()]) if (!seen.has(id)) last.delete(id);
    const totals = totalsLine(stats);
    if (totals !== lastTotals) {
      const seconds = (now - lastAt) / 1000;
      const rate = seconds > 0 ? Math.round((stats.submits - lastSubmits) / seconds) : 0;
      log.info({ ...stats, submitsPerSecond: rate }, `smsc-sim: ${totals}, ${rate} submits/s`);
    }
    lastTotals = totals;
    lastSubmits = stats.submits;
    lastAt = now;
  };
}

export async function runSimulator(options: RunSimulatorOptions): Promise<Simulator> {
  const { summaryIntervalMs = RUN_DEFAULTS.summaryIntervalMs, signal, ...simOptions } = options;
  const sim = await startSimulator({
    ...simOptions,
    port: simOptions.port ?? RUN_DEFAULTS.port,
    controlPort: simOptions.controlPort ?? RUN_DEFAULTS.controlPort,
  });
  const log = options.logger.child({ component: 'smsc-sim' });
  log.info(
    { host: sim.host, port: sim.port, controlPort: sim.controlPort ?? null },
    `smsc-sim listening on ${sim.host}:${sim.port}` + (sim.controlPort === undefined ? '' : `, control on http://${sim.options.controlHost}:${sim.controlPort}`),
  );
  let timer: NodeJS.Timeout | undefined;
  if (summaryIntervalMs > 0) {
    const summarize = createSummaryLogger(sim, log);
    timer = setInterval(summarize, summaryIntervalMs);
    timer.unref();
  }
  const onAbort = (): void => {
    sim.stop().catch((err: unknown) => log.error({ err: describeError(err) }, 'smsc-sim did not stop cleanly'));
  };
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  // sim.closed only ever resolves (simulator.ts), and the reaction below only clears and logs.
  // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
  void sim.closed.then(() => {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    log.info(sim.stats, 'smsc-sim stopped');
  });
  return sim;
}
