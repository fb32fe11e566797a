import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createHarness, type Harness } from '../../support/daemon.ts';
import { migrateToLatest, openDb, ensureDatabase } from '../../../src/store/db.ts';
import { TEST_REDIS_URL, uniqueName } from '../../support/services.ts';

let h: Harness;
let child: ChildProcess | undefined;
const databases: string[] = [];
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  child = undefined;
  await h.close();
  for (const name of databases.splice(0)) {
    const admin = openDb({ url: 'postgres://postgres@127.0.0.1:5432/postgres', poolSize: 1 });
    await import('kysely').then(({ sql }) => sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(admin));
    await admin.destroy();
  }
});

describe('SIGHUP', () => {
  it('changes a keyword rule and a route TPS while messages flow, without dropping the bind', async () => {
    const sim = await h.startSim({ keep: 5000 });
    const dbName = uniqueName('parley_reload');
    databases.push(dbName);
    const url = `postgres://postgres@127.0.0.1:5432/${dbName}`;
    await ensureDatabase(url);
    const db = openDb({ url, poolSize: 1 });
    await migrateToLatest(db);
    const dir = mkdtempSync(join(tmpdir(), 'parley-reload-'));
    const file = join(dir, 'parley.yaml');
    const write = (tps: number, answer: string): void =>
      writeFileSync(
        file,
        stringify({
          database: { url },
          redis: { url: TEST_REDIS_URL, prefix: h.prefix },
          http: { listen: '127.0.0.1:19467' },
          log: { level: 'warn' },
          intake: { block: '100ms' },
          smscs: [{ name: 'sim', host: '127.0.0.1', port: sim.port, system_id: 'parley' }],
          routes: [{ name: 'default', prefixes: ['*'], smscs: ['sim'], tps, burst: 1, default_from: '12345' }],
          numbers: [{ address: '12345', rules: [{ name: 'hours', keywords: ['HOURS'], actions: [{ reply: answer }] }] }],
        }),
      );
    write(10, 'Open 9-5');
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'start', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await h.until('bound', () => sim.binds.length === 1, 20_000);

    await h.send(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, to: `+1415${String(i).padStart(6, '0')}`, text: `reload ${i}` })));
    await h.until('sending at 10/s', () => sim.arrivals.length >= 15, 10_000);
    sim.injectReply({ from: '14155559999', to: '12345', text: 'hours' });
    await h.until('old answer', () => sim.arrivals.some((a) => a.text === 'Open 9-5'), 10_000);

    write(200, 'Open 8-8 now');
    const before = sim.arrivals.length;
    const t0 = Date.now();
    child.kill('SIGHUP');
    await h.until('the rest sent at the new rate', () => sim.arrivals.length >= 300, 20_000);
    const rate = ((sim.arrivals.length - before) * 1000) / (Date.now() - t0);
    expect(rate).toBeGreaterThan(30);
    sim.injectReply({ from: '14155559998', to: '12345', text: 'HOURS' });
    await h.until('new answer', () => sim.arrivals.some((a) => a.text === 'Open 8-8 now'), 10_000);

    expect(sim.stats.binds.total).toBe(1);
    expect(sim.binds).toHaveLength(1);

    // A file that no longer validates is refused (the running config stays); both are counted.
    writeFileSync(file, 'smscs: [oops\n');
    child.kill('SIGHUP');
    const reloads = async (): Promise<string[]> =>
      (await (await fetch('http://127.0.0.1:19467/metrics')).text()).split('\n').filter((l) => l.startsWith('parley_config_reloads_total{'));
    await h.until('refused reload counted', async () => (await reloads()).includes('parley_config_reloads_total{outcome="refused"} 1'), 10_000);
    expect((await reloads()).sort()).toEqual(['parley_config_reloads_total{outcome="applied"} 1', 'parley_config_reloads_total{outcome="refused"} 1']);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code, stderr).toBe(0);
    await db.destroy();
  }, 60_000);
});
