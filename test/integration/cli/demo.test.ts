import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, freePort, runCli } from './cli-harness.ts';

const world = createWorld();
let config: string;

beforeAll(async () => {
  // The demo's own config, on a database, Redis prefix and SMSC port of this test's.
  config = world.writeConfig('demo.yaml', world.configYaml({ smscPort: await freePort(), httpPort: await freePort() }));
});
afterAll(async () => {
  await world.cleanup();
});

describe('parley demo', () => {
  it('migrates, runs simulator and daemon, narrates the submits, receipts and replies, and stops cleanly', async () => {
    const started = Date.now();
    const r = await runCli(['demo', '-c', config], { timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(elapsed).toBeLessThan(20_000);

    const out = r.stdout;
    expect(out).toContain(`created database ${world.database}`);
    // One submit_sm for the GSM-7 reminder, three UCS-2 parts with a concatenation UDH for the Unicode one.
    const submits = out.split('\n').filter((l) => l.includes('-> submit_sm'));
    expect(submits).toHaveLength(4);
    expect(submits.filter((l) => l.includes('data_coding 0x00') && l.includes('one part'))).toHaveLength(1);
    for (const part of ['1/3', '2/3', '3/3']) {
      expect(submits.some((l) => l.includes('data_coding 0x08 (UCS-2)') && l.includes(`part ${part}`))).toBe(true);
    }
    expect(submits.every((l) => /carrier id \w+/.test(l) && !l.includes('left from earlier'))).toBe(true);
    expect(out).toMatch(/inserted as queued, route default/);
    expect(out).toMatch(/queued -> submitted via SMSC sim/);
    expect(out).toContain('customer reply');
    expect(out).toContain('"YES"');
    expect(out).toContain('daemon: intake stopped, windows drained, unbound, writers flushed (clean)');
    expect(out).toContain('Done.');

    // The ids it printed are in Postgres, and `parley status` shows them.
    const id = /queued (demo-\w+-results) /.exec(out)?.[1];
    expect(id).toBeDefined();
    const status = await runCli(['status', id ?? '', '-c', config, '--json']);
    expect(status.code).toBe(0);
    const timeline = JSON.parse(status.stdout) as { message: { id: string; segments: number }; segments: { seq: number; smscMessageId: string }[] };
    expect(timeline.message).toMatchObject({ id, segments: 3 });
    expect(timeline.segments.map((s) => s.seq)).toEqual([1, 2, 3]);
    for (const s of timeline.segments) expect(out).toContain(`carrier id ${s.smscMessageId}`);
  });
});
