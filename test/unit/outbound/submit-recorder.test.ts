import { describe, expect, it } from 'vitest';
import { SubmitRecorder, type SubmitStore } from '../../../src/outbound/submit-recorder.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { SegmentRecord } from '../../../src/domain/segment.ts';
import type { StatusChange } from '../../../src/domain/events.ts';
import { acceptedSegment } from '../../support/receipt-records.ts';
import { RecentCarrierIds } from '../../../src/domain/recent-carrier-ids.ts';

const segment = (messageId: string, seq = 1): SegmentRecord =>
  acceptedSegment(messageId, `c-${messageId}-${seq}`, { seq, matchKey: `c-${messageId}-${seq}` });

const submitted = (id: string): StatusChange => ({ id, status: 'submitted', previous: 'queued' });

const submittedParts = (id: string, segments: number): StatusChange => ({ ...submitted(id), segments });

/**
 * The writes the recorder makes, in order: what a store would be asked to commit. `appliesWithAnswers`:
 * the messages whose change to submitted the answers' statement applies when it is offered.
 */
function recordingStore(appliesWithAnswers: ReadonlySet<string> = new Set()): {
  store: SubmitStore;
  answers: string[][];
  offered: string[][];
  submits: { segments: string[]; changes: string[]; answeredBefore: string[] }[];
} {
  const answers: string[][] = [];
  const offered: string[][] = [];
  const submits: { segments: string[]; changes: string[]; answeredBefore: string[] }[] = [];
  return {
    answers,
    offered,
    submits,
    store: {
      recordAnswers: async (segments, changes) => {
        answers.push(segments.map((s) => s.messageId));
        offered.push(changes.map((c) => c.id));
        return changes.filter((c) => appliesWithAnswers.has(c.id));
      },
      recordSubmits: async (segments, changes, answeredBefore) => {
        submits.push({ segments: segments.map((s) => s.messageId), changes: changes.map((c) => c.id), answeredBefore: [...answeredBefore].sort() });
        return [...changes];
      },
    },
  };
}

describe('SubmitRecorder', () => {
  it("tells the store which changes had their answers recorded through it, so only the others' carrier ids are looked up", async () => {
    const { store, answers, submits } = recordingStore();
    const published: string[] = [];
    const recorder = new SubmitRecorder({ store, published: (c) => published.push(...c.map((x) => x.id)), batchSize: 2, batchDelayMs: 0, logger: silentLogger });
    // m1 and m2 answered through this recorder; m3's answer never was (a daemon restarted between
    // recording it and its change): only m3 needs its carrier ids looked up.
    recorder.recordSegment(segment('m1'));
    recorder.recordSegment(segment('m2'));
    await recorder.recordChange(submitted('m1'));
    await recorder.recordChange(submitted('m2'));
    await recorder.recordChange(submitted('m3'));
    await recorder.flush();
    expect(answers.flat()).toEqual(['m1', 'm2']);
    expect(submits.flatMap((s) => s.changes)).toEqual(['m1', 'm2', 'm3']);
    expect(submits.flatMap((s) => s.answeredBefore)).toEqual(['m1', 'm2']);
    expect(published).toEqual(['m1', 'm2', 'm3']);
    // Every answer reached a status batch before or with its own change.
    for (const id of ['m1', 'm2']) {
      const answerBatch = submits.findIndex((s) => s.segments.includes(id));
      const changeBatch = submits.findIndex((s) => s.changes.includes(id));
      expect(answerBatch).toBeGreaterThanOrEqual(0);
      expect(answerBatch).toBeLessThanOrEqual(changeBatch);
    }
  });

  it('a second change for the same message (sent again after a requeue) is looked up, its answers being consumed', async () => {
    const { store, submits } = recordingStore();
    const recorder = new SubmitRecorder({ store, published: () => {}, batchSize: 10, batchDelayMs: 0, logger: silentLogger });
    recorder.recordSegment(segment('m1'));
    await recorder.recordChange(submitted('m1'));
    await recorder.recordChange({ id: 'm1', status: 'failed', previous: 'queued' });
    await recorder.flush();
    const flags = submits.flatMap((s) => s.answeredBefore);
    expect(flags).toEqual(['m1']);
    expect(submits.flatMap((s) => s.changes)).toEqual(['m1', 'm1']);
  });

  it('offers a change to submitted to the answers\' write when all its parts are in it; one applied there goes no further', async () => {
    // m1 (one part) and m2 (two parts) answered with their changes in one batch; m3's second part
    // and its change come in a later batch than its first part.
    const { store, answers, offered, submits } = recordingStore(new Set(['m1']));
    const published: string[] = [];
    const recorder = new SubmitRecorder({ store, published: (c) => published.push(...c.map((x) => x.id)), batchSize: 10, batchDelayMs: 0, logger: silentLogger });
    recorder.recordSegment(segment('m1'));
    recorder.recordSegment(segment('m2', 1));
    recorder.recordSegment(segment('m2', 2));
    recorder.recordSegment(segment('m3', 1));
    const changes = [recorder.recordChange(submittedParts('m1', 1)), recorder.recordChange(submittedParts('m2', 2))];
    await Promise.all(changes);
    recorder.recordSegment(segment('m3', 2));
    await recorder.recordChange(submittedParts('m3', 2));
    await recorder.flush();
    expect(answers).toEqual([['m1', 'm2', 'm2', 'm3'], ['m3']]);
    // m3's change is not offered: its first part was answered in the batch before.
    expect(offered).toEqual([['m1', 'm2'], []]);
    // m1 was applied with its answers: neither its segment nor its change reaches recordSubmits.
    expect(submits.flatMap((s) => s.segments)).toEqual(['m2', 'm2', 'm3', 'm3']);
    expect(submits.flatMap((s) => s.changes)).toEqual(['m2', 'm3']);
    expect(submits.flatMap((s) => s.answeredBefore)).toEqual(['m2', 'm3']);
    expect(published).toEqual(['m1', 'm2', 'm3']);
    expect(recorder.pending).toBe(0);
  });

  it('tells the carrier ids of accepted answers once they are committed, never before, and never a refusal', async () => {
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const store: SubmitStore = {
      recordAnswers: async () => {
        await committed;
        return [];
      },
      recordSubmits: async (_segments, changes) => [...changes],
    };
    const carrierIds = new RecentCarrierIds();
    const recorder = new SubmitRecorder({ store, published: () => {}, batchSize: 10, batchDelayMs: 0, logger: silentLogger, carrierIds });
    const refused: SegmentRecord = { ...segment('m2'), status: 'failed', smscMessageId: null, matchKey: null, commandStatus: 0x45 };
    recorder.recordSegment(segment('m1'));
    recorder.recordSegment(refused);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Written but not committed: a receipt looking now must not be told of it.
    expect(carrierIds.find('sim', 'c-m1-1')).toBeUndefined();
    commit();
    await recorder.flush();
    expect(carrierIds.find('sim', 'c-m1-1')).toMatchObject({ messageId: 'm1', seq: 1 });
    expect(carrierIds.size).toBe(1);
  });
});
