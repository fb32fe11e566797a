/**
 * The coordination scripts on a 3-node Redis Cluster the test starts (ports 21000-21002, bus 21003-21005): every
 * key a script touches carries its route or SMSC as a hash tag, so each call lands on one node,
 * and routes spread over the nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { openRedisCluster, RouteBuckets, BindLeases, readBindHolders, readBucket, bucketKey } from '../../../src/queue/coordination.ts';

// Private ports sit below Linux's ephemeral range (32768-60999): a port there can be taken at any
// moment by another test's outgoing connection or listen(0), and the node then fails to bind.
const PORTS = [21000, 21001, 21002];
const exits: string[] = [];
let dir: string;
const servers: ChildProcess[] = [];
let cluster: Cluster;

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A node that could not start is reported with its own words rather than as a timeout.
    if (exits.length > 0) throw new Error(exits.join('\n'));
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function cli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  for (const port of PORTS) {
    servers.push(
      // The cluster bus port defaults to port + 10000, out of range here: set it within ours.
      spawn('redis-server', ['--port', String(port), '--cluster-port', String(port + PORTS.length), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
        '--dir', dir, '--save', '', '--appendonly', 'no', '--dbfilename', `dump-${port}.rdb`], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const server = servers.at(-1)!;
    let output = '';
    server.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-2000); });
    server.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-2000); });
    server.once('exit', (code) => exits.push(`redis-server on ${port} exited (${code}): ${output}`));
  }
  await waitFor('the nodes to answer', () => PORTS.every((p) => { try { return cli(p, 'ping').trim() === 'PONG'; } catch { return false; } }));
  execFileSync('redis-cli', ['--cluster', 'create', ...PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore', timeout: 30_000 });
  await waitFor('cluster_state:ok', () => PORTS.every((p) => cli(p, 'cluster', 'info').includes('cluster_state:ok')));
  cluster = openRedisCluster(PORTS.map((port) => ({ host: '127.0.0.1', port })));
}, 60_000);

afterAll(async () => {
  cluster?.disconnect();
  for (const s of servers) s.kill('SIGKILL');
  await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null || s.signalCode !== null ? r(undefined) : s.once('exit', r)))));
  rmSync(dir, { recursive: true, force: true });
});

describe('coordination on Redis Cluster', () => {
  it('route buckets on different nodes grant at most burst + rate × time, and a slow-down halves one route only', async () => {
    const buckets = new RouteBuckets(cluster, 'parley:');
    const routes = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    // The hash tags put the routes' keys in different slots, served by more than one node.
    await cluster.ping();
    const nodes = new Set(routes.map((r) => cluster.slots[calcSlot(bucketKey('parley:', r))]?.[0]));
    expect(nodes.size).toBeGreaterThan(1);

    const rate = 100;
    const burst = 10;
    const started = Date.now();
    const granted = new Map(routes.map((r) => [r, 0]));
    // Bounded: 300 leases per route, at most ~1.5 s.
    for (let i = 0; i < 300 && Date.now() - started < 1500; i++) {
      for (const r of routes) {
        const lease = await buckets.lease(r, rate, burst, 5, 0, 0.01);
        expect(lease.factor).toBe(1);
        granted.set(r, granted.get(r)! + lease.granted);
        if (lease.granted === 0) expect(lease.waitMs).toBeGreaterThan(0);
      }
    }
    const elapsedS = (Date.now() - started) / 1000;
    for (const r of routes) {
      expect(granted.get(r)!).toBeLessThanOrEqual(burst + rate * elapsedS + 1);
      expect(granted.get(r)!).toBeGreaterThan(burst);
    }
    expect(await buckets.slowDown('alpha', 1000, 1 / 64)).toBe(0.5);
    // Within the interval a second throttling answer does not halve again.
    expect(await buckets.slowDown('alpha', 1000, 1 / 64)).toBe(0.5);
    expect((await buckets.lease('alpha', rate, burst, 1, 0, 0.01)).factor).toBe(0.5);
    expect((await buckets.lease('beta', rate, burst, 1, 0, 0.01)).factor).toBe(1);
    // Accepted segments lift it back.
    expect((await buckets.lease('alpha', rate, burst, 1, 10, 0.01)).factor).toBeCloseTo(0.6, 5);
    const state = await readBucket(cluster, 'parley:', 'alpha');
    expect(state?.rate).toBe(rate);
    expect(state?.factor).toBeCloseTo(0.6, 5);
  });

  it('bind leases cap the binds per SMSC across daemons, on whichever node holds the SMSC', async () => {
    const leases = new BindLeases(cluster, 'parley:');
    expect(await leases.lease('carrier-a', ['d1#1'], 5000, 2)).toBe(true);
    expect(await leases.lease('carrier-a', ['d2#1'], 5000, 2)).toBe(true);
    expect(await leases.lease('carrier-a', ['d3#1'], 5000, 2)).toBe(false);
    // A transmitter+receiver pair is two binds: all or nothing.
    expect(await leases.lease('carrier-b', ['d1#1/tx', 'd1#1/rx'], 5000, 3)).toBe(true);
    expect(await leases.lease('carrier-b', ['d2#1/tx', 'd2#1/rx'], 5000, 3)).toBe(false);
    // Renewing a held lease is always room for itself.
    expect(await leases.lease('carrier-a', ['d1#1'], 5000, 2)).toBe(true);
    expect((await readBindHolders(cluster, 'parley:', 'carrier-a')).map((h) => h.daemon).sort()).toEqual(['d1', 'd2']);
    // A lease that is not renewed lapses, and the slot goes to the next daemon.
    expect(await leases.lease('carrier-c', ['d1#1'], 200, 1)).toBe(true);
    expect(await leases.lease('carrier-c', ['d2#1'], 200, 1)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(await leases.lease('carrier-c', ['d2#1'], 200, 1)).toBe(true);
    await leases.release('carrier-a', ['d2#1']);
    expect(await leases.lease('carrier-a', ['d3#1'], 5000, 2)).toBe(true);
  });
});

/** Redis Cluster's key slot: CRC16 (XMODEM) of the hash tag, mod 16384. */
function calcSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
