import { describe, expect, it } from 'vitest';
import { SubmitRecorder, type SubmitStore } from '../../../src/outbound/submit-recorder.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { SegmentRecord } from '../../../src/domain/segment.ts';
import type { StatusChange } from '../../../src/domain/events.ts';
import { acceptedSegment } from '../../support/receipt-records.ts';

const segment = (messageId: string, seq = 1): SegmentRecord =>
  acceptedSegment(messageId, `c-${messageId}-${seq}`, { seq, matchKey: `c-${messageId}-${seq}` });

const submitted = (id: string): StatusChange => ({ id, status: 'submitted', previous: 'queued' });

/** The writes the recorder makes, in order: what a store would be asked to commit. */
function recordingStore(): { store: SubmitStore; answers: string[][]; submits: { segments: string[]; changes: string[]; answeredBefore: string[] }[] } {
  const answers: string[][] = [];
  const submits: { segments: string[]; changes: string[]; answeredBefore: string[] }[] = [];
  return {
    answers,
    submits,
    store: {
      recordAnswers: async (segments) => void answers.push(segments.map((s) => s.messageId)),
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
});
