/**
 * `stateFile`: the simulator keeps its store across a restart of the process, as a real SMSC does.
 * Receipts not yet due and deliver_sm not yet acknowledged are written on stop (and every
 * `stateSaveMs`); a new simulator on the same file sends them once an ESME binds again, and its
 * message ids do not repeat the old ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESME_RX_T_APPN } from '../../../src/smpp/command-status.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../src/simulator/index.ts';
import { openSimClient, readReceipt, runCleanups, waitFor, type Cleanup } from '../../support/sim-client.ts';

const cleanups: Cleanup[] = [];
let dir: string;
afterEach(async () => {
  await runCleanups(cleanups);
  rmSync(dir, { recursive: true, force: true });
});

async function sim(options: SimulatorOptions): Promise<Simulator> {
  const s = await startSimulator({ controlPort: false, ...options });
  cleanups.push(() => s.stop());
  return s;
}

describe('simulator state file', () => {
  it('receipts pending at a stop go out after the next start, due when they were due; unacknowledged ones go again; ids keep counting', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-sim-state-'));
    const stateFile = join(dir, 'smsc.json');
    // Receipts due 1.5 s after the submit: the stop comes first.
    const first = await sim({ stateFile, receiptDelayMs: 1500, receiptRetryMs: 60_000 });
    const c1 = await openSimClient({ port: first.port }, cleanups);
    const early = await c1.submitMany(5, { text: 'kept across a restart' });
    // And one receipt that the client refuses: it waits for a retry (60 s) when the SMSC stops.
    const refusing = await sim({ stateFile: join(dir, 'other.json'), receiptDelayMs: 0, receiptRetryMs: 60_000 });
    const c2 = await openSimClient({ port: refusing.port, answer: () => ESME_RX_T_APPN }, cleanups);
    const refused = await c2.submit({ text: 'refused once' });
    await waitFor(() => c2.delivered.length === 1, 2000, 'the refused receipt');
    await waitFor(() => refusing.stats.receipts.pending === 1 && c2.events.length > 0, 2000, 'its retry scheduled');
    c2.close();
    await refusing.stop();
    c1.close();
    const stoppedAt = Date.now();
    await first.stop();
    expect(existsSync(stateFile)).toBe(true);
    expect(c1.delivered).toHaveLength(0);

    // A new process on the same store: the five receipts come when due, the first ids stay unique.
    const second = await sim({ stateFile, receiptDelayMs: 1500, receiptRetryMs: 60_000 });
    expect(second.stats.receipts.pending).toBe(5);
    const c3 = await openSimClient({ port: second.port }, cleanups);
    const later = await c3.submit({ text: 'after the restart', registered_delivery: 0 });
    await waitFor(() => c3.delivered.length === 5, 4000, 'the kept receipts');
    const elapsed = Date.now() - stoppedAt;
    expect(elapsed).toBeGreaterThanOrEqual(1000); // not at once: they were not due yet at the stop
    expect(c3.delivered.map((d) => readReceipt(d).tlvId).sort()).toEqual(early.map((r) => r.message_id).sort());
    expect(early.map((r) => r.message_id)).not.toContain(later.message_id);

    // The refused receipt's SMSC comes back too: the deliver_sm waiting for its retry goes at once.
    const third = await sim({ stateFile: join(dir, 'other.json'), receiptDelayMs: 0 });
    const c4 = await openSimClient({ port: third.port }, cleanups);
    await waitFor(() => c4.delivered.length === 1, 2000, 'the kept retry');
    expect(readReceipt(c4.delivered[0]!).tlvId).toBe(refused.message_id);
    await waitFor(() => third.stats.receipts.acked === 1, 2000, 'acknowledged');
  });

  it('refuses to start on a state file it cannot read, and leaves the file as it was', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-sim-state-'));
    const stateFile = join(dir, 'broken.json');
    writeFileSync(stateFile, '{ not json');
    await expect(startSimulator({ controlPort: false, stateFile })).rejects.toThrow(/state file .* is not valid JSON/);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(stateFile, 'utf8')).toBe('{ not json');
  });
});
