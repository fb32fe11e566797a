import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../../src/simulator/index.ts';
import { adminQuery, createWorld, runCli, spawnCli, waitForOutput } from './cli-harness.ts';
import { freePort } from '../../support/ports.ts';

const world = createWorld();
let sim: Simulator;
let config: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, controlPort: false });
  config = world.writeConfig('parley.yaml', world.configYaml({ smscPort: sim.port, httpPort: await freePort() }));
});
afterAll(async () => {
  await sim.stop();
  await world.cleanup();
});

describe('parley start', () => {
  it('refuses a database that does not exist, or is not migrated, and says to run parley migrate', async () => {
    const missing = await runCli(['start', '-c', config]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/database parley_cli_\w+ on .* does not exist: run `parley migrate`/);

    await adminQuery(`CREATE DATABASE ${world.database}`);
    const empty = await runCli(['start', '-c', config]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/migration\(s\) to apply \(0001-outbound.*\): run `parley migrate` first/);
    expect(sim.binds).toHaveLength(0);
  });

  it('runs until SIGTERM, then drains, unbinds and exits 0', async () => {
    const migrated = await runCli(['migrate', '-c', config]);
    expect(migrated.code).toBe(0);

    const daemon = spawnCli(['start', '-c', config]);
    await waitForOutput(daemon.output, (text) => text.includes('"parley running"'));
    const deadline = Date.now() + 10_000;
    while (sim.binds.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sim.binds).toHaveLength(1);

    daemon.child.kill('SIGTERM');
    const r = await daemon.result;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"signal":"SIGTERM"');
    expect(r.stdout).toMatch(/"result":"clean","msg":"parley stopped"/);
    // Unbound on the way out: the simulator holds no bind any more.
    expect(sim.binds).toHaveLength(0);
  });
});

describe('parley smsc-sim', () => {
  it('listens on the given ports and stops cleanly on SIGINT', async () => {
    const [port, controlPort] = [await freePort(), await freePort()];
    const simulator = spawnCli(['smsc-sim', '--port', String(port), '--control-port', String(controlPort), '--receipt-mix', 'DELIVRD=0.9,UNDELIV=0.1', '--handset']);
    await waitForOutput(simulator.output, (text) => text.includes(`smsc-sim listening on 127.0.0.1:${port}`));
    const stats = (await (await fetch(`http://127.0.0.1:${controlPort}/stats`)).json()) as { state?: string };
    expect(stats.state).toBe('running');
    simulator.child.kill('SIGINT');
    const r = await simulator.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('smsc-sim stopped');
  });

  it('rejects a malformed receipt mix with exit 2', async () => {
    const r = await runCli(['smsc-sim', '--receipt-mix', 'DELIVRD', '--port', String(await freePort())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--receipt-mix');
  });
});
