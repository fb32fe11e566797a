/**
 * What happens to a customer's reply once it is stored, as named steps run in order (`handle`):
 * it joins its conversation and is linked to the message it answers (`conversations.ts`);
 * compliance keywords (STOP, START, HELP) are handled first (`compliance-step.ts`); a conversation
 * assigned to a person, or a possible opt-out, goes to the apps (`handoff.ts`); an answer to a
 * survey moves it on (`survey-step.ts`); then the expected replies of that message and the
 * number's keyword rules, read with the reply's intent, decide the actions (`rules-step.ts`),
 * each kind run by its own file in `actions/`. Every reply is published on the inbound stream.
 *
 * Replies are handled from the replies table (claimed with a lease), so a daemon that stops or dies
 * mid-way leaves them to be handled again; answers carry ids derived from the reply, so handling
 * twice never texts the customer twice.
 *
 * A webhook can take seconds to answer. A customer whose reply goes to one is handled aside from
 * the batch (its later replies queue behind it, in order), and each webhook has its own
 * concurrency limit: one slow webhook never delays the answers of customers who do not call it.
 */
import type { Logger } from '../lib/logger.ts';
import { Wakeup } from '../lib/wakeup.ts';
import { describeError } from '../lib/errors.ts';
import { Backoff } from '../lib/backoff.ts';
import { classifyFault, isTransientFault } from '../lib/faults.ts';
import type { Progress } from '../lib/progress.ts';
import { writeSplittingPoison } from '../lib/split-on-poison.ts';
import { normaliseAddress } from '../domain/address.ts';
import type { MessageInboundEvent } from '../domain/events.ts';
import type { PendingReply, ReplyOutcome } from '../domain/reply.ts';
import type { NumberConfig } from '../config/types.ts';
import type { WebhookTarget } from '../webhooks/post.ts';
import { Answers, type Answer } from './actions/reply.ts';
import { WebhookLimits } from './actions/webhook.ts';
import { handleCompliance } from './compliance-step.ts';
import { answeredBy, pairOf, readBatchFacts, type BatchFacts } from './conversations.ts';
import { handleAssigned, handleReview } from './handoff.ts';
import { intentMetricName, readReply, type ReplyReading } from './intent/reading.ts';
import { DEFAULT_SETTINGS, settingsOf, type NumberSettings } from './number-settings.ts';
import { inboundEvent, replyOutcome, type ReplyContext, type SurveyRecord } from './reply-context.ts';
import type { ReplyObserver, ReplyStore } from './reply-store.ts';
import { handleRules, mayCallWebhook } from './rules-step.ts';
import { answerSurvey } from './survey-step.ts';

interface Handled {
  readonly id: string;
  readonly answers: readonly Answer[];
  readonly outcome: ReplyOutcome;
  readonly event: MessageInboundEvent;
  /** A survey answer to store once the answers are sent (`survey-step.ts`). */
  readonly survey?: SurveyRecord;
}

export interface ReplyHandlerOptions {
  readonly store: ReplyStore;
  readonly numbers: readonly NumberConfig[];
  readonly webhooks: ReadonlyMap<string, WebhookTarget>;
  send(answers: readonly Answer[]): Promise<void>;
  publish(event: MessageInboundEvent): void;
  readonly conversationTtlSeconds: number;
  readonly logger: Logger;
  readonly observer?: ReplyObserver;
  /** How long a claimed reply is ours before another daemon may take it; longer than any webhook. */
  readonly leaseMs: number;
  /** How often replies left by a stopped daemon are looked for. */
  readonly pollMs?: number;
  /** Told of replies waiting and handled (health: a stalled reply handler). */
  readonly progress?: Progress;
  /** Told of each reply set aside as failed. */
  onFailed?(): void;
}

/** Customers handled aside at once (each waiting on a webhook) before batches wait for them. */
const MAX_ASIDE = 1000;

export class ReplyHandler {
  private numbers: Map<string, NumberSettings>;
  private webhooks: ReadonlyMap<string, WebhookTarget>;
  private readonly wakeup = new Wakeup();
  private readonly controller = new AbortController();
  private claimed: PendingReply[] = [];
  private readonly arrivedAt = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private readonly log: Logger;
  /** Backoff of transient faults (Postgres down): the replies stay claimed and are tried again. */
  private readonly backoff = new Backoff(100, 10_000);
  private readonly webhookLimits = new WebhookLimits();
  /** Per customer (`from\0to`): the replies handled aside, waiting on a webhook. */
  private readonly aside = new Map<string, Promise<void>>();
  private readonly asideRunning = new Set<Promise<void>>();

  constructor(private readonly options: ReplyHandlerOptions) {
    this.numbers = new Map(options.numbers.map((n) => [normaliseAddress(n.address), settingsOf(n)]));
    this.webhooks = options.webhooks;
    this.log = options.logger.child({ component: 'reply-handler' });
  }

  /** Applies new numbers (rules, keywords, templates) and webhooks to replies handled from now on. */
  reconfigure(numbers: readonly NumberConfig[], webhooks: ReadonlyMap<string, WebhookTarget>): void {
    this.numbers = new Map(numbers.map((n) => [normaliseAddress(n.address), settingsOf(n)]));
    this.webhooks = webhooks;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.wakeup.notify();
    await this.loop;
    // Replies handled aside finish (each webhook call ends by its timeout) before the store goes.
    await Promise.all(this.asideRunning);
    await this.recording;
    const left = this.claimed.splice(0).map((r) => r.id);
    if (left.length > 0) {
      try {
        await this.options.store.release(left);
      } catch (err) {
        this.log.warn({ err: describeError(err), replies: left.length }, 'could not give claimed replies back; they are handled after their lease');
      }
    }
  }

  /** New replies are committed, already claimed for this daemon: handle them now. */
  take(replies: readonly PendingReply[], arrivedAt: number): void {
    for (const r of replies) {
      this.claimed.push(r);
      this.arrivedAt.set(r.id, arrivedAt);
    }
    this.options.progress?.waiting(replies.length);
    this.wakeup.notify();
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    const leaseMs = this.options.leaseMs;
    let nextPoll = 0;
    while (!signal.aborted) {
      let batch: PendingReply[] = [];
      try {
        if (this.claimed.length > 0) {
          batch = this.claimed.splice(0, 200);
        } else if (Date.now() >= nextPoll) {
          batch = await this.options.store.claim(100, leaseMs);
          if (batch.length === 0) nextPoll = Date.now() + (this.options.pollMs ?? 1000);
          else this.options.progress?.waiting(batch.length);
        }
        if (batch.length === 0) {
          // Nothing claimed and nothing left to claim: no reply waits on this daemon.
          if (this.claimed.length === 0) this.options.progress?.idle();
          if (this.claimed.length === 0) await this.wakeup.wait(Math.max(10, nextPoll - Date.now()), signal);
          continue;
        }
        const again: PendingReply[] = [];
        // Poison in what a batch reads (before any webhook is called or answer sent) is found by
        // splitting; a transient fault is waited out with backoff, the replies still claimed.
        await writeSplittingPoison(batch, {
          write: async (chunk) => {
            const retry = await this.handleBatch(chunk);
            again.push(...retry);
            this.options.progress?.advanced(chunk.length - retry.length);
          },
          setAside: async (reply, err) => {
            await this.setAside([{ id: reply.id, error: describeError(err) }]);
            this.options.progress?.advanced(1);
          },
          onError: (err, items, attempt) => this.log.error({ err: describeError(err), items, attempt }, 'handling replies failed; retried, or split to find the one that fails'),
          backoff: this.backoff,
          signal,
        });
        if (again.length > 0) {
          // Tried again first, after a pause: a transient fault hit them mid-way.
          this.claimed.unshift(...again);
          await this.wakeup.wait(this.backoff.next(), signal);
        }
      } catch (err) {
        // Claiming failed (Postgres down: paused with backoff), or the daemon is stopping mid-batch
        // (a transient fault is then thrown): unhandled replies are handled after their lease.
        if (isTransientFault(err)) {
          const delay = this.backoff.next();
          this.log.warn({ err: describeError(err), delayMs: delay }, 'handling replies paused by a service fault; retrying');
          await this.wakeup.wait(delay, signal);
        } else {
          this.log.error({ err: describeError(err) }, 'handling replies failed; they are retried after their lease');
          await this.wakeup.wait(1000, signal);
        }
      }
    }
  }

  /** Replies that can never be handled: `failed` with the reason, so they are not handled again every lease. */
  private async setAside(items: readonly { id: string; error: string }[]): Promise<void> {
    await this.options.store.fail(items);
    for (const i of items) {
      this.arrivedAt.delete(i.id);
      this.options.onFailed?.();
      this.log.warn({ reply: i.id, err: i.error }, 'a reply that cannot be handled was set aside as failed');
    }
  }

  /**
   * One customer's replies in order; different customers side by side; reads and writes batched.
   * Customers whose replies go to a webhook (or who already wait on one) are handled aside.
   * Returns the replies a transient fault stopped (to try again); a reply that fails for good is
   * set aside as failed, here, so that what was done for the others is not done twice.
   */
  private async handleBatch(batch: readonly PendingReply[]): Promise<PendingReply[]> {
    // Bounded: with every webhook slow, the batches behind wait rather than pile up in memory.
    while (this.asideRunning.size >= MAX_ASIDE) await Promise.race(this.asideRunning);
    const facts = await readBatchFacts(this.options.store, batch, this.options.conversationTtlSeconds);
    const byCustomer = new Map<string, PendingReply[]>();
    for (const r of batch) byCustomer.set(pairOf(r), [...(byCustomer.get(pairOf(r)) ?? []), r]);
    const now: PendingReply[][] = [];
    for (const [pair, replies] of byCustomer) {
      const callsWebhook = (r: PendingReply): boolean => {
        const settings = this.settingsFor(r);
        return mayCallWebhook(r, this.readingOf(r, settings), facts, settings, this.webhooks);
      };
      if (this.aside.has(pair) || replies.some(callsWebhook)) this.handleAside(pair, replies, facts);
      else now.push(replies);
    }
    const { handled, retry } = await this.handleCustomers(now, facts);
    await this.finishHandled(handled);
    return retry;
  }

  /** Handles the replies; one that fails for good is set aside, one a transient fault stopped is returned. */
  private async handleCustomers(
    customers: readonly (readonly PendingReply[])[],
    facts: BatchFacts,
  ): Promise<{ handled: Handled[]; retry: PendingReply[] }> {
    const handled: Handled[] = [];
    const retry: PendingReply[] = [];
    const failed: { id: string; error: string }[] = [];
    await Promise.all(
      customers.map(async (replies) => {
        for (const r of replies) {
          try {
            handled.push(await this.handle(r, facts));
          } catch (err) {
            if (classifyFault(err) === 'transient') {
              this.log.warn({ err: describeError(err), reply: r.id }, 'handling a reply met a transient fault; tried again');
              retry.push(r);
            } else failed.push({ id: r.id, error: describeError(err) });
          }
        }
      }),
    );
    if (failed.length > 0) await this.setAside(failed);
    return { handled, retry };
  }

  /**
   * Sends the batch's answers, then records the replies' outcomes. The record is written while
   * the next batch is handled (one write in flight at a time, so they stay in order and bounded):
   * nothing a batch reads depends on the previous batch's outcomes, except a survey's position,
   * so a batch that moved a survey on is recorded before the next starts, as is any batch when
   * `settled` is asked for.
   */
  private async finishHandled(handled: readonly Handled[], settled = false): Promise<void> {
    const o = this.options;
    // Answers first, then the record: a crash in between handles the replies again, and the
    // answers' ids (derived from the reply) keep the customer from getting them twice. Each step
    // splits on poison, so one reply whose answer or record cannot be stored fails alone.
    const sent: Handled[] = [];
    await writeSplittingPoison(
      handled.filter((h) => h.answers.length > 0),
      {
        write: async (chunk) => {
          await o.send(chunk.flatMap((h) => h.answers));
          sent.push(...chunk);
        },
        setAside: (h, err) => this.setAside([{ id: h.id, error: `its answer could not be stored: ${describeError(err)}` }]),
        onError: (err, items) => this.log.error({ err: describeError(err), items }, 'storing answers failed; retried, or split to find the one that fails'),
        backoff: this.backoff,
        signal: this.controller.signal,
      },
    );
    const sentIds = new Set(sent.map((h) => h.id));
    const ready = handled.filter((h) => h.answers.length === 0 || sentIds.has(h.id));
    // At most one record waits while this batch's is written: chained, so they stay in order.
    await this.recording;
    const recording = this.recording.then(() => this.record(ready)).catch((err: unknown) => {
      // Only a stop cuts a record short (poison is set aside, other faults retried): those
      // replies are handled again after their lease, and their answers are not sent twice.
      this.log.warn({ err: describeError(err), replies: ready.length }, 'recording replies was cut short; they are handled again after their lease');
    });
    this.recording = recording;
    if (settled || ready.some((h) => h.survey !== undefined)) await recording;
  }

  /** The last batch's record being written (finishHandled). */
  private recording: Promise<void> = Promise.resolve();

  private async record(ready: readonly Handled[]): Promise<void> {
    const o = this.options;
    await writeSplittingPoison(ready, {
      write: async (chunk) => {
        // Survey answers are stored after the next question went out, like the replies' outcomes: a
        // crash in between asks the same question again under the same id, which is not sent twice.
        // Recording is idempotent (per run and reply), so a chunk written again records nothing twice.
        for (const h of chunk) {
          if (h.survey === undefined || !o.store.recordSurveyAnswer) continue;
          const s = h.survey;
          if (await o.store.recordSurveyAnswer(s.runId, s.answer, s.next)) o.observer?.onSurveyAnswer?.(s.name, s.answer.kind, s.answer.valid, s.answer.value);
        }
        await o.store.finishAll(chunk.map((h) => ({ id: h.id, outcome: h.outcome, event: h.event })));
        for (const h of chunk) {
          o.publish(h.event);
          o.observer?.onReply?.(h.event.matched.kind, h.outcome.resolvedAutomatically);
        }
      },
      setAside: (h, err) => this.setAside([{ id: h.id, error: `its outcome could not be recorded: ${describeError(err)}` }]),
      onError: (err, items) => this.log.error({ err: describeError(err), items }, 'recording replies failed; retried, or split to find the one that fails'),
      backoff: this.backoff,
      signal: this.controller.signal,
    });
  }

  /** Handles one customer's replies off the batch, after any of theirs already waiting. */
  private handleAside(pair: string, replies: readonly PendingReply[], facts: BatchFacts): void {
    const before = this.aside.get(pair) ?? Promise.resolve();
    const done = before.then(async () => {
      try {
        const { handled, retry } = await this.handleCustomers([replies], facts);
        // Recorded before this customer's next replies are handled aside.
        await this.finishHandled(handled, true);
        // A transient fault stopped some: they go back to the front of this daemon's claimed work.
        if (retry.length > 0) this.claimed.unshift(...retry);
      } catch (err) {
        this.log.error({ err: describeError(err), replies: replies.length }, 'handling replies failed; they are retried after their lease');
      }
    });
    this.aside.set(pair, done);
    this.asideRunning.add(done);
    // done cannot reject: its body catches and logs every failure.
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
    void done.then(() => {
      this.asideRunning.delete(done);
      if (this.aside.get(pair) === done) this.aside.delete(pair);
    });
  }

  private settingsFor(reply: PendingReply): NumberSettings {
    return this.numbers.get(reply.to) ?? DEFAULT_SETTINGS;
  }

  /**
   * What a reply says (intent, compliance words), read once: deciding whether it goes aside and
   * handling it both need it (read twice, it was 3% of the daemon's CPU in the two-way bench).
   * Read again only when the number's settings were reloaded in between.
   */
  private readingOf(reply: PendingReply, settings: NumberSettings): ReplyReading {
    const known = this.readings.get(reply);
    if (known?.settings === settings) return known.reading;
    const reading = readReply(reply.text, reply.receivedAt, settings.compliance, settings.intents);
    this.readings.set(reply, { settings, reading });
    return reading;
  }

  private readonly readings = new WeakMap<PendingReply, { settings: NumberSettings; reading: ReplyReading }>();

  /**
   * One reply through the steps, in order: its conversation, compliance, a person's hand-off, the
   * survey it may answer, then intent and rules with their actions. The first step that takes the
   * reply decides how it was handled.
   */
  private async handle(reply: PendingReply, facts: BatchFacts): Promise<Handled> {
    const o = this.options;
    const arrivedAt = this.arrivedAt.get(reply.id);
    this.arrivedAt.delete(reply.id);
    const settings = this.settingsFor(reply);
    const pair = pairOf(reply);
    const conversation = facts.conversations.get(pair)!;
    const ctx: ReplyContext = {
      reply,
      settings,
      pair,
      conversation,
      answered: answeredBy(reply, conversation, facts),
      optedOut: facts.blocked.has(pair),
      answers: new Answers(reply, arrivedAt),
      reading: this.readingOf(reply, settings),
    };
    const decision =
      (await handleCompliance(ctx, facts, o.store, o.observer)) ??
      handleAssigned(ctx) ??
      handleReview(ctx) ??
      (await answerSurvey(ctx, facts, o.store, this.log)) ??
      (await handleRules(ctx, { store: o.store, webhooks: this.webhooks, limits: this.webhookLimits, log: this.log, observer: o.observer }));
    o.observer?.onIntent?.(intentMetricName(ctx.reading.event.name), decision.handling);
    return {
      id: reply.id,
      answers: ctx.answers.list,
      outcome: replyOutcome(ctx, decision),
      event: inboundEvent(ctx, decision.matched),
      ...(decision.survey === undefined ? {} : { survey: decision.survey }),
    };
  }
}
