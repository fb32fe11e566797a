/**
 * What one round trip over loopback costs on this machine, between two processes: the floor
 * under every SQL statement and Redis command the daemon sends (write, wake the peer, read the
 * answer), whatever the statement does.
 *
 *   npx tsx test/bench/loopback-rtt.ts [--count 10000] [--bytes 200]
 *
 * A child echoes one byte for each chunk it reads; this process writes `bytes`, waits for the
 * byte, `count` times (at most 30 s). Reported per round trip: this process's CPU (user and
 * system) and the wall time. For comparison, the same writes to a socket served by this process
 * itself (no other process to wake).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { exited, fmt, forkTs, loadLine, machineLine, nextMessage, numberFlag, typed } from './bench-support.ts';

const SELF = fileURLToPath(import.meta.url);

async function server(): Promise<void> {
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => s.write(d.subarray(0, 1)));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  process.send?.({ type: 'listening', port: (srv.address() as AddressInfo).port });
}

async function roundTrips(port: number, count: number, bytes: number): Promise<{ n: number; cpuUs: number; sysUs: number; wallUs: number; involuntary: number }> {
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => c.once('connect', () => r()));
  c.setNoDelay(true);
  const buf = Buffer.alloc(bytes, 1);
  let wake: (() => void) | undefined;
  c.on('data', () => wake?.());
  const deadline = performance.now() + 30_000;
  const ru0 = process.resourceUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < count && performance.now() < deadline) {
    const answered = new Promise<void>((r) => (wake = r));
    c.write(buf);
    await answered;
    n++;
  }
  const wallUs = ((performance.now() - t0) * 1000) / n;
  const cpu = process.cpuUsage(cpu0);
  const involuntary = process.resourceUsage().involuntaryContextSwitches - ru0.involuntaryContextSwitches;
  c.destroy();
  return { n, cpuUs: (cpu.user + cpu.system) / n, sysUs: cpu.system / n, wallUs, involuntary };
}

async function main(): Promise<void> {
  if (process.argv.includes('--role')) {
    await server();
    return;
  }
  const count = numberFlag('count', 10_000);
  const bytes = numberFlag('bytes', 200);
  console.log(`loopback round trips: ${count} x ${bytes} bytes, answered with 1 byte; ${machineLine()}`);
  const child = forkTs(SELF, ['--role', 'server'], { killAfterMs: 60_000 });
  try {
    const { port } = await nextMessage(child, typed<{ type: 'listening'; port: number }>('listening'), 'server');
    const other = await roundTrips(port, count, bytes);
    // The same with the echo in this process: no second process to wake.
    const local = net.createServer((s) => {
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => s.write(d.subarray(0, 1)));
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', () => r()));
    const same = await roundTrips((local.address() as AddressInfo).port, count, bytes);
    local.close();
    for (const [label, r] of [
      ['to another process', other],
      ['within this process', same],
    ] as const) {
      console.log(
        `  ${label}: ${r.n} round trips, ${fmt(r.wallUs, 1)} µs wall each; this process ${fmt(r.cpuUs, 1)} µs CPU each (${fmt(r.sysUs, 1)} system), ` +
          `${fmt(r.involuntary / r.n, 2)} involuntary context switches each`,
      );
    }
    console.log(`  (load ${loadLine()})`);
  } finally {
    child.kill();
    await exited(child, 5000);
  }
}

main().then(
  () => {
    if (!process.argv.includes('--role')) process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
