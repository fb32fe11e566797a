/**
 * The operations endpoint of a real daemon (http on a free port) against the simulator:
 * `/metrics` passes `promtool check metrics`, each metric moves when its event happens (submit,
 * receipt, reply, throttle, bind drop), `/healthz` and `/readyz` answer as the contract says; and
 * promtool accepts the alert rules (and their unit tests), the example Prometheus config and
 * every dashboard expression.
 *
 * promtool comes from Debian's `prometheus` package; without it these tests fail and say so.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDaemon, type Daemon } from '../../../src/main.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { ParleyConfig } from '../../../src/config/types.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { createHarness, simSmsc, type Harness } from '../../support/daemon.ts';
import { findPromtool, runPromtool } from '../../support/promtool.ts';
import { ALERT_RULES, ALERT_RULE_TESTS, REPO, dashboardExpressions, dashboardFiles, toPlainPromql, type Dashboard } from '../../unit/ops/ops-files.ts';

/** A port nobody listens on right now (the daemon binds it next). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let h: Harness;
let sim: Simulator;
let daemon: Daemon;
let daemonConfig: ParleyConfig;
let base: string;

async function get(pathname: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(`${base}${pathname}`);
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

async function scrape(): Promise<Sample[]> {
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  return parseExposition(res.body);
}

/** Polls /metrics until `check` holds for the samples; on timeout the error shows `describe` of the last scrape. */
async function untilMetrics(what: string, check: (samples: Sample[]) => boolean, describe: (samples: Sample[]) => unknown, timeoutMs = 8_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await scrape();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last scrape: ${JSON.stringify(describe(last))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('operations: promtool on the rules, the config and the dashboards', () => {
  it('promtool is on PATH', () => {
    expect(findPromtool()).toMatch(/promtool$/);
  });

  it('promtool check rules accepts config/alerts/parley.rules.yaml', async () => {
    const res = await runPromtool(['check', 'rules', ALERT_RULES]);
    expect(res.code, res.output).toBe(0);
    expect(res.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires (and stays quiet) as its unit tests expect', async () => {
    const res = await runPromtool(['test', 'rules', ALERT_RULE_TESTS]);
    expect(res.code, res.output).toBe(0);
  });

  it('promtool check config accepts the example Prometheus config (which loads the rules)', async () => {
    const res = await runPromtool(['check', 'config', path.join(REPO, 'grafana/prometheus.yml')]);
    expect(res.code, res.output).toBe(0);
  });

  it('every dashboard expression is valid PromQL (parsed by promtool as a recording rule)', async () => {
    const rules = dashboardFiles().flatMap(({ file, text }) =>
      dashboardExpressions(file, JSON.parse(text) as Dashboard).map((e, i) => ({
        record: `dashboard:${file.replace(/\.json$/, '')}_${i}`,
        expr: toPlainPromql(e.expr),
        labels: { where: e.where },
      })),
    );
    expect(rules.length).toBeGreaterThan(20);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-dash-'));
    try {
      const file = path.join(dir, 'dashboards.rules.json');
      // JSON is YAML: promtool reads it as a rules file.
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
      const res = await runPromtool(['check', 'rules', file]);
      expect(res.code, res.output).toBe(0);
      expect(res.output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operations: a live daemon', () => {
  beforeAll(async () => {
    h = await createHarness();
    sim = await h.startSim({ receiptDelayMs: 20 });
    const port = await freePort();
    const config = h.config({
      http: { listen: `127.0.0.1:${port}` },
      smscs: [simSmsc('sim', sim)],
      routes: [
        { name: 'default', prefixes: ['*'], smscs: ['sim'], tps: 500, default_from: '12345' },
        // 10 segments a second and no burst to speak of: the second message already waits.
        { name: 'slow', prefixes: ['1999'], smscs: ['sim'], tps: 10, burst: 1, default_from: '12345' },
      ],
      numbers: [{ address: '12345' }],
    });
    daemonConfig = config;
    daemon = buildDaemon(config, { logger: silentLogger, schema: h.schema.schema, http: true });
    h.daemons.push(daemon);
    await daemon.service.start();
    expect(daemon.httpPort).toBe(port);
    base = `http://127.0.0.1:${port}`;
    await h.until('bound', () => daemon.pools.get('sim')!.canSubmit);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('/healthz answers 200 and /readyz 200 once every route has a bound bind', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready, ready.body).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('submits, receipts, replies and route throttling move their metrics', async () => {
    const before = await scrape();
    const accepted = (s: Sample[]): number => total(s, 'parley_submits_total', { route: 'default', smsc: 'sim', outcome: 'accepted', status: 'ESME_ROK' });
    const delivered = (s: Sample[]): number => total(s, 'parley_receipts_total', { smsc: 'sim', state: 'DELIVERED' });
    const replies = (s: Sample[]): number => total(s, 'parley_replies_total');
    const waited = (s: Sample[]): number => total(s, 'parley_route_throttle_wait_seconds_total', { route: 'slow' });
    const slowAccepted = (s: Sample[]): number => total(s, 'parley_submits_total', { route: 'slow', outcome: 'accepted' });

    await h.send([
      ...[1, 2, 3].map((i) => ({ id: `m${i}`, to: `+1415555010${i}`, text: `metrics ${i}` })),
      ...[1, 2, 3, 4].map((i) => ({ id: `slow${i}`, to: `+199955501${i}`, text: `slow ${i}` })),
    ]);
    const afterSends = await untilMetrics(
      'submits and receipts counted',
      (s) => accepted(s) - accepted(before) === 3 && delivered(s) - delivered(before) >= 3 && slowAccepted(s) === 4,
      (s) => s.filter((x) => /^parley_(submits|receipts)_total$/.test(x.name)),
    );
    expect(total(afterSends, 'parley_submit_response_seconds_count', { smsc: 'sim' })).toBeGreaterThanOrEqual(7);
    expect(total(afterSends, 'parley_message_status_changes_total', { route: 'default', status: 'delivered' })).toBeGreaterThanOrEqual(3);
    // Four segments at 10 a second after a burst of 1: the last three waited about 0.1 s each.
    expect(waited(afterSends) - waited(before)).toBeGreaterThan(0.1);
    expect(total(afterSends, 'parley_route_rate_segments_per_second', { route: 'slow' })).toBe(10);

    const injected = sim.injectReply({ from: '14155550101', to: '12345', text: 'hello there' });
    expect(await injected.acked).toBe(true);
    const afterReply = await untilMetrics(
      'reply counted',
      (s) => replies(s) - replies(before) === 1,
      (s) => s.filter((x) => x.name === 'parley_replies_total'),
    );
    expect(total(afterReply, 'parley_replies_total', { matched: 'none', resolved: 'false' }) - total(before, 'parley_replies_total', { matched: 'none', resolved: 'false' })).toBe(1);
    // Every deliver_sm is counted per SMSC as what it was read as: one per receipt stored (7 messages
    // sent, each with its receipt) and the 1 reply.
    const deliverSm = (s: Sample[], kind: string): number => total(s, 'parley_deliver_sm_total', { smsc: 'sim', kind }) - total(before, 'parley_deliver_sm_total', { smsc: 'sim', kind });
    const receipts = (s: Sample[]): number => total(s, 'parley_receipts_total', { smsc: 'sim' }) - total(before, 'parley_receipts_total', { smsc: 'sim' });
    const counted = await untilMetrics(
      'deliver_sm counted',
      (s) => deliverSm(s, 'reply') === 1 && receipts(s) >= 7 && deliverSm(s, 'receipt') === receipts(s),
      (s) => s.filter((x) => /^parley_(deliver_sm|receipts)_total$/.test(x.name)),
    );
    expect(deliverSm(counted, 'receipt')).toBe(7);
  });

  it('/metrics passes promtool check metrics', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // promtool passes an empty input: make sure it reads the real thing.
    expect(res.body).toContain('# TYPE parley_submits_total counter');
    expect(res.body).toContain('parley_submit_response_seconds_bucket{');
    const check = await runPromtool(['check', 'metrics'], { stdin: res.body });
    expect(check.code, `promtool check metrics:\n${check.output}`).toBe(0);
    expect(check.output.trim(), 'promtool lint findings').toBe('');
  });

  it('a bind drop takes parley_bind_state{state="bound"} to 0 and /readyz to 503 naming the routes, and both come back', async () => {
    const bound = (s: Sample[]): number => total(s, 'parley_bind_state', { smsc: 'sim', state: 'bound' });
    const states = (s: Sample[]): Sample[] => s.filter((x) => x.name === 'parley_bind_state' && x.value === 1);
    const beforeDrop = await scrape();
    expect(bound(beforeDrop)).toBe(1);
    const reconnects = (s: Sample[]): number => total(s, 'parley_bind_reconnects_total', { smsc: 'sim' }) - total(beforeDrop, 'parley_bind_reconnects_total', { smsc: 'sim' });
    const connectFailures = (s: Sample[]): number =>
      total(s, 'parley_bind_failures_total', { smsc: 'sim', reason: 'connect_failed' }) - total(beforeDrop, 'parley_bind_failures_total', { smsc: 'sim', reason: 'connect_failed' });
    const restarting = sim.restart({ downMs: 1_500 });
    try {
      const down = await untilMetrics('bind down', (s) => bound(s) === 0, states);
      const otherState = down.filter((s) => s.name === 'parley_bind_state' && s.labels.smsc === 'sim' && s.value === 1).map((s) => s.labels.state);
      expect(otherState).toHaveLength(1);
      expect(otherState[0]).not.toBe('bound');
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toContain('route default: no bound bind on sim');
      expect(ready.body).toContain('route slow: no bound bind on sim');
      expect((await get('/healthz')).status).toBe(200);
    } finally {
      await restarting;
    }
    const back = await untilMetrics('bind back', (s) => bound(s) === 1, states);
    await h.until('ready again', async () => (await get('/readyz')).status === 200);
    // One lost connection; while the SMSC was down for 1.5 s the retries (every 50-500 ms) found nobody listening.
    expect(reconnects(back)).toBe(1);
    expect(connectFailures(back)).toBeGreaterThanOrEqual(1);
  });

  it('config reloads are counted by outcome: applied, or partial when a change needs a restart', async () => {
    const reloads = (s: Sample[], outcome: string): number => total(s, 'parley_config_reloads_total', { outcome });
    const before = await scrape();
    const config = daemonConfig;
    expect(daemon.reload(config)).toEqual({ applied: [], needsRestart: [] });
    expect(daemon.reload({ ...config, log: { ...config.log, level: config.log.level === 'debug' ? 'info' : 'debug' } }).needsRestart).toEqual(['log']);
    const after = await scrape();
    expect(reloads(after, 'applied') - reloads(before, 'applied')).toBe(1);
    expect(reloads(after, 'partial') - reloads(before, 'partial')).toBe(1);
    expect(reloads(after, 'refused') - reloads(before, 'refused')).toBe(0);
  });
});
