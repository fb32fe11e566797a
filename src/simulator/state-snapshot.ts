/**
 * What of a running simulator goes into its state file and how it comes back: receipts and handset
 * replies still on the timeline (their due times as epoch milliseconds, since the monotonic clock
 * restarts with the process), deliver_sm not yet acknowledged, the id counter.
 */
import type { MessageIdGenerator } from './message-ids.ts';
import type { Outbox, OutItem } from './outbox.ts';
import type { ReceiptScheduler } from './receipt-scheduler.ts';
import type { ReplyRequest } from './replies.ts';
import type { Due, ReceiptJob } from './simulator-types.ts';
import { STATE_VERSION, type PersistedState } from './state-file.ts';
import type { Timeline } from './timeline.ts';

export type SimulatorSnapshot = PersistedState<ReceiptJob, ReplyRequest, OutItem['fields']>;

export function snapshotState(timeline: Timeline<Due>, outbox: Outbox, ids: MessageIdGenerator): SimulatorSnapshot {
  const toEpoch = Date.now() - performance.now();
  const receipts: { dueAtMs: number; job: ReceiptJob }[] = [];
  const handset: { dueAtMs: number; reply: ReplyRequest }[] = [];
  const deliveries: { kind: 'receipt' | 'reply'; target: string | undefined; fields: OutItem['fields'] }[] = [];
  for (const { atMs, item } of timeline.entries()) {
    if (item.kind === 'receipt') receipts.push({ dueAtMs: atMs + toEpoch, job: item.job });
    else if (item.kind === 'handset') handset.push({ dueAtMs: atMs + toEpoch, reply: item.reply });
    else if (item.kind === 'retry' && !item.item.settled) deliveries.push({ kind: item.item.kind, target: item.item.target, fields: item.item.fields });
  }
  for (const item of outbox.unsettledItems()) deliveries.push({ kind: item.kind, target: item.target, fields: item.fields });
  return { version: STATE_VERSION, savedAtMs: Date.now(), ids: ids.state, receipts, handset, deliveries };
}

export interface RestoreTargets {
  readonly ids: MessageIdGenerator;
  readonly receipts: ReceiptScheduler;
  readonly timeline: Timeline<Due>;
  readonly outbox: Outbox;
}

export function restoreState(state: SimulatorSnapshot, to: RestoreTargets): void {
  to.ids.restore(state.ids);
  const fromEpoch = performance.now() - Date.now();
  for (const r of state.receipts) to.receipts.restore(r.dueAtMs + fromEpoch, r.job);
  for (const h of state.handset) to.timeline.schedule(h.dueAtMs + fromEpoch, { kind: 'handset', reply: h.reply });
  for (const d of state.deliveries) to.outbox.add(d.kind, d.target, d.fields);
}
