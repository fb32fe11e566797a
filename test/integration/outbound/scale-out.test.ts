/**
 * Several daemons against one Redis, one Postgres and one SMSC: the route's TPS holds across all of
 * them (the bucket in Redis), every daemon sends a share, and `max_binds` caps the binds they hold
 * together, a dead daemon's lease passing to a survivor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { startChild, killed } from '../../support/child.ts';
import type { Daemon } from '../../../src/main.ts';
import { readClusterReport } from '../../../src/cli/cluster.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arrivalUpperBound, maxInWindow, readWireLog, toWallClockMs } from '../../support/wire-times.ts';

let h: Harness;
let children: ChildProcess[] = [];
let dir: string;
beforeEach(async () => {
  h = await createHarness();
  children = [];
  dir = mkdtempSync(join(tmpdir(), 'parley-scale-'));
});
afterEach(async () => {
  for (const c of children) await killed(c);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function acceptedBy(daemon: Daemon): Promise<number> {
  const m = await daemon.metrics.submits.get();
  return m.values.filter((v) => v.labels.outcome === 'accepted').reduce((n, v) => n + v.value, 0);
}

describe('scale-out', () => {
  it('3 daemons keep one route at 200 TPS together, and each sends a share', { timeout: 90_000 }, async () => {
    const sim = await h.startSim();
    const route = { name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 200, burst: 20, default_from: '12345' };
    // Three processes, as three daemons run: each its own event loop, one Redis bucket between them.
    const base = h.config({ smscs: [simSmsc('sim', sim)], routes: [route] });
    const names = [0, 1, 2].map((i) => `d${i}-${h.prefix}`);
    for (const name of names) {
      children.push(
        await startChild('test/support/daemon-child.ts', {
          PARLEY_TEST_CONFIG: JSON.stringify({
            database: { url: base.database.url, pool_size: 4 },
            redis: { url: base.redis.url, prefix: h.prefix },
            smscs: [simSmsc('sim', sim, { window: 100 })],
            routes: [route],
            // Small intake batches: a daemon holds at most 1,000 messages, so all three take work.
            intake: { consumer: name, batch_size: 50, block: '100ms', claim_idle: '5s' },
          }),
          PARLEY_TEST_SCHEMA: h.schema.schema,
          // Each daemon logs when it writes each submit_sm: the wire time (test/support/wire-times.ts).
          PARLEY_TEST_WIRE_LOG: join(dir, `${name}.wire`),
          PARLEY_TEST_WIRE_TAG: 'scale \\d+',
        }),
      );
    }
    await h.until('three binds', () => sim.stats.binds.current === 3, 10_000);
    const bindOf = new Map(sim.binds.map((b) => [b.id, b.id]));
    // 10 s at the rate: ten one-second windows after the burst, and an average over 10 s within 3%
    // (4,000 took 20 s of a suite that runs this file alone).
    const count = 2000;
    await h.send(Array.from({ length: count }, (_, i) => ({ id: `s${i}`, to: '+14155550100', text: `scale ${i}` })));
    // Mid-run, `parley cluster` sees the three daemons and the route's global rate.
    await new Promise((r) => setTimeout(r, 4000));
    const report = await readClusterReport(base, h.schema.schema);
    expect(report.daemons.filter((d) => d.alive).map((d) => d.name).sort()).toEqual([...names].sort());
    expect(report.routes[0]!.lastSecond).toBeGreaterThan(150);
    expect(report.routes[0]!.lastSecond).toBeLessThanOrEqual(220);
    expect(report.routes[0]!.factor).toBe(1);
    await h.until('all submitted', async () => (await h.acceptedCount()) === count, 60_000);

    const accepted = sim.arrivals.filter((a) => a.status === 'accepted');
    expect(accepted).toHaveLength(count);
    expect(sim.stats.submits).toBe(count);
    // When did each submit reach the SMSC? Between the daemon's stamps around the write that handed
    // it to the kernel and the simulator's read; the count uses the earliest evidence it had
    // arrived (test/support/wire-times.ts says why: a stall of the test process, which runs the
    // simulator, once stamped 234 into one second while the daemons had kept the limit).
    // The children flush their logs every 200 ms.
    await h.until('every submit in the wire logs', () => names.flatMap((name) => readWireLog(join(dir, `${name}.wire`))).length >= count);
    const wire = names.flatMap((name) => readWireLog(join(dir, `${name}.wire`)));
    expect(wire).toHaveLength(count);
    expect(new Set(wire.map((w) => w.tag)).size).toBe(count);
    const simAt = new Map(accepted.map((a) => [a.text, toWallClockMs(a.atMs)]));
    // Cross-check of the clocks, per message: the simulator never reads a submit before its
    // daemon began writing it.
    const leads = wire.map((w) => simAt.get(w.tag)! - w.beforeMs).sort((a, b) => a - b);
    expect(leads[0]!).toBeGreaterThan(-2);
    const times = wire.map((w) => arrivalUpperBound(w, simAt.get(w.tag)!));
    const worst = maxInWindow(times, 1000);
    const q = (p: number): string => leads[Math.min(leads.length - 1, Math.floor(leads.length * p))]!.toFixed(1);
    console.log(
      `scale-out: worst second ${worst} by the earliest evidence of arrival (${maxInWindow(wire.map((w) => w.beforeMs), 1000)} by write start, ` +
        `${maxInWindow(wire.map((w) => w.afterMs), 1000)} by write end, ${maxInWindow([...simAt.values()], 1000)} by the simulator's reads); ` +
        `write start to simulator read p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
    );
    const t0 = Math.min(...times);
    const perSecond: number[] = [];
    for (const t of times) perSecond[Math.floor((t - t0) / 1000)] = (perSecond[Math.floor((t - t0) / 1000)] ?? 0) + 1;
    console.log(`per second: ${[...perSecond].map((n) => n ?? 0).join(' ')}`);
    // Every one-second window: at most the rate plus the burst.
    expect(worst).toBeLessThanOrEqual(200 + 20);
    // The whole run: within 3% of 200/s.
    const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
    const average = count / spanS;
    expect(average).toBeGreaterThan(200 * 0.97);
    expect(average).toBeLessThan(200 * 1.03);
    // Each daemon (its own bind) sent a share.
    const shares = new Map<string, number>();
    for (const a of accepted) shares.set(a.bindId, (shares.get(a.bindId) ?? 0) + 1);
    expect(bindOf.size).toBe(3);
    expect(shares.size).toBe(3);
    for (const share of shares.values()) expect(share).toBeGreaterThan(count / 10);
  });

  it('max_binds caps the binds of all daemons together; a killed daemon\'s bind passes to a survivor', { timeout: 60_000 }, async () => {
    const sim = await h.startSim();
    const raw = (consumer?: string): Record<string, unknown> => ({
      smscs: [simSmsc('sim', sim, { window: 50, binds: 1, max_binds: 2 })],
      routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' }],
      coordination: { bind_lease_ttl: '1500ms' },
      ...(consumer ? { intake: { consumer, block: '100ms', claim_idle: '2s' } } : {}),
    });
    let maxBinds = 0;
    const sampler = setInterval(() => (maxBinds = Math.max(maxBinds, sim.stats.binds.current)), 20);
    try {
      // One daemon in a process of its own (to kill -9), then two in this one.
      const childConfig = h.config(raw('child-daemon'));
      children.push(
        await startChild('test/support/daemon-child.ts', {
          PARLEY_TEST_CONFIG: JSON.stringify({ ...raw('child-daemon'), database: { url: childConfig.database.url, pool_size: 4 }, redis: { url: childConfig.redis.url, prefix: h.prefix } }),
          PARLEY_TEST_SCHEMA: h.schema.schema,
        }),
      );
      await h.until('the child bound', () => sim.stats.binds.current === 1, 10_000);
      const a = await h.startDaemon(h.config(raw()));
      await h.until('a bound', () => sim.stats.binds.current === 2, 10_000);
      const b = await h.startDaemon(h.config(raw()));
      // b holds no lease: it does not bind and takes no work from the stream.
      await new Promise((r) => setTimeout(r, 1000));
      expect(sim.stats.binds.current).toBe(2);
      expect(a.pools.get('sim')!.runningSlots).toBe(1);
      expect(b.pools.get('sim')!.runningSlots).toBe(0);
      const report = await readClusterReport(h.config(raw()), h.schema.schema);
      expect(report.daemons).toHaveLength(3);
      expect(report.binds[0]!.maxBinds).toBe(2);
      expect(report.binds[0]!.holders.map((x) => x.daemon).sort()).toEqual(['child-daemon', a.consumer].sort());

      await h.send(Array.from({ length: 300 }, (_, i) => ({ id: `m${i}`, to: '+14155550100', text: `cap ${i}` })));
      await h.until('first 300 submitted', async () => (await h.acceptedCount()) === 300, 20_000);
      expect(await acceptedBy(b)).toBe(0);

      // kill -9: the child's lease lapses (1.5 s) and b takes the bind.
      const killedAt = Date.now();
      await killed(children[0]!);
      await h.until('b bound', () => b.pools.get('sim')!.canSubmit, 10_000);
      expect(Date.now() - killedAt).toBeLessThan(1500 + 500 + 2000);
      await h.send(Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, to: '+14155550100', text: `after ${i}` })));
      await h.until('all 600 submitted', async () => (await h.acceptedCount()) === 600, 30_000);
      // With a stopped too (its lease given back at once), b alone sends what comes next.
      await a.service.stop();
      const before = await acceptedBy(b);
      await h.send(Array.from({ length: 100 }, (_, i) => ({ id: `o${i}`, to: '+14155550100', text: `b only ${i}` })));
      await h.until('all 700 submitted', async () => (await h.acceptedCount()) === 700, 30_000);
      expect((await acceptedBy(b)) - before).toBe(100);
      expect(b.pools.get('sim')!.runningSlots).toBe(1);
    } finally {
      clearInterval(sampler);
    }
    expect(maxBinds).toBeLessThanOrEqual(2);
    expect(sim.stats.binds.total).toBe(3);
  });
});
