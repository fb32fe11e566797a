import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/lib/logger.ts';
import { runSimulator, startSimulator } from '../../../src/simulator/index.ts';
import { openSimClient, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

function captureLogger(lines: { level: string; msg: string; obj: object }[]): Logger {
  const make = (): Logger => ({
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg: msg ?? '' }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg: msg ?? '' }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg: msg ?? '' }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg: msg ?? '' }),
    child: () => make(),
  });
  return make();
}

describe('runSimulator (what `parley smsc-sim` calls)', () => {
  it('logs where it listens, a summary line per bind when counts change, and stops on abort', async () => {
    const lines: { level: string; msg: string; obj: object }[] = [];
    const abort = new AbortController();
    const sim = await runSimulator({ port: 0, controlPort: 0, summaryIntervalMs: 40, logger: captureLogger(lines), signal: abort.signal });
    cleanups.push(() => sim.stop());
    expect(lines.some((l) => l.msg === `smsc-sim listening on 127.0.0.1:${sim.port}, control on http://127.0.0.1:${sim.controlPort}`)).toBe(true);
    const c = await openSimClient({ port: sim.port, systemId: 'acme' }, cleanups);
    await c.submitMany(3, { registered_delivery: 0 });
    const bindLine = await waitFor(() => lines.find((l) => l.msg.startsWith('bind b1 acme transceiver') && l.msg.includes('submits 3')), 2000, 'bind summary');
    expect(bindLine.level).toBe('info');
    await waitFor(() => lines.find((l) => l.msg.startsWith('smsc-sim: binds 1') && l.msg.includes('submits 3,')), 2000, 'totals line');
    // Nothing changed: no new summary lines. Several summary ticks pass (a wait that is only ever
    // longer than asked), then a sentinel change is logged; before it, no line repeated the counts.
    await new Promise((r) => setTimeout(r, 150));
    await c.submit({ registered_delivery: 0 });
    await waitFor(() => lines.find((l) => l.msg.startsWith('smsc-sim: binds 1') && l.msg.includes('submits 4,')), 10_000, 'the sentinel totals line');
    const summaries = lines.filter((l) => l.msg.startsWith('bind b1') || l.msg.startsWith('smsc-sim:'));
    expect(summaries.filter((l) => l.msg.includes('submits 3'))).toHaveLength(2);
    abort.abort();
    await sim.closed;
    expect(sim.state).toBe('stopped');
    expect(lines.some((l) => l.msg === 'smsc-sim stopped')).toBe(true);
    // No per-message logging.
    expect(lines.filter((l) => /submit_sm|deliver_sm/.test(l.msg))).toEqual([]);
  });
});

describe('simulator lifecycle', () => {
  it('can be stopped and started again on the same port', async () => {
    const first = await startSimulator({ controlPort: false });
    const port = first.port;
    const c1 = await openSimClient({ port }, cleanups);
    await c1.submit({ registered_delivery: 0 });
    await first.stop();
    await c1.session.closed;
    const second = await startSimulator({ controlPort: false, port });
    cleanups.push(() => second.stop());
    expect(second.port).toBe(port);
    const c2 = await openSimClient({ port }, cleanups);
    expect((await c2.submit({ registered_delivery: 0 })).command_status).toBe(0);
  });

  it('refuses to start on a port in use, naming the cause', async () => {
    const first = await startSimulator({ controlPort: false });
    cleanups.push(() => first.stop());
    await expect(startSimulator({ controlPort: false, port: first.port })).rejects.toMatchObject({ code: 'simulator_listen' });
  });

  it('refuses connections while restarting with downMs, and accepts them after', async () => {
    const sim = await startSimulator({ controlPort: false });
    cleanups.push(() => sim.stop());
    // downMs far longer than the steps below take, so the refusal is not a race against it.
    const restarting = sim.restart({ downMs: 1_000 });
    await waitFor(() => sim.state === 'restarting', 1000, 'restarting');
    await new Promise((r) => setTimeout(r, 50));
    await expect(openSimClient({ port: sim.port }, cleanups)).rejects.toMatchObject({ code: 'connect_failed' });
    await restarting;
    expect(sim.state).toBe('running');
    const c = await openSimClient({ port: sim.port }, cleanups);
    expect(c.session.state).toBe('bound_trx');
  });

  it('answers held responses when it stops', async () => {
    const sim = await startSimulator({ controlPort: false, responseDelayMs: 10_000 });
    const c = await openSimClient({ port: sim.port }, cleanups);
    const pending = c.submit({ registered_delivery: 0 });
    await waitFor(() => sim.stats.submits === 1, 1000, 'submit arrived');
    await sim.stop();
    expect((await pending).command_status).toBe(0);
  });
});
