/**
 * What happens to a customer's reply once it is stored: it joins its conversation and is linked to
 * the message it answers; compliance keywords (STOP, START, HELP) are handled first; then the
 * expected replies of that message and the number's keyword rules decide the actions: a templated
 * reply, a webhook whose answer is texted back, tags or state on the conversation, or handing it
 * to the apps. A conversation assigned to a person skips the rules: its replies go to the apps
 * (and the agent inbox) until it is handed back. Every reply is published on the inbound stream.
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
import { LinearPattern } from '../lib/linear-pattern.ts';
import { ConcurrencyLimit } from '../lib/concurrency-limit.ts';
import { describeError } from '../lib/errors.ts';
import { Backoff } from '../lib/backoff.ts';
import { classifyFault, isTransientFault } from '../lib/faults.ts';
import type { Progress } from '../lib/progress.ts';
import { writeSplittingPoison } from '../lib/split-on-poison.ts';
import { toStorableText } from '../domain/storable-text.ts';
import type { MessageInboundEvent } from '../domain/events.ts';
import type { IntentsConfig, NumberConfig } from '../config/types.ts';
import { helpReplyOf } from '../config/warnings.ts';
import type { WebhookTarget } from '../webhooks/post.ts';
import type { ConversationView, AnsweredMessage } from '../store/conversations.ts';
import type { SurveyAnswer, SurveyRunRow } from '../store/surveys.ts';
import { parseSurvey, type Survey } from '../domain/survey.ts';
import { nextStep, readSurveyAnswer } from './survey.ts';
import type { PendingReply, ReplyOutcome } from '../store/replies.ts';
import { DEFAULT_COMPLIANCE, classifyCompliance, type ComplianceSettings } from './compliance.ts';
import { matchReply, type KeywordRule, type RuleAction, type RuleMatch, type Unmatched } from './rules.ts';
import { renderTemplate, type TemplateValues } from './template.ts';
import { askWebhook } from './actions/webhook.ts';
import { readReply, intentMetricName, type ReplyReading } from './intent/reading.ts';
import { askNlu } from './intent/nlu.ts';

/**
 * What the handler needs of the store. Everything a batch of replies needs to know is read in a
 * few statements for the whole batch, and their outcomes are written in one: the per-reply
 * round trips are only the rare ones (an opt-out changing, tags or state set).
 */
export interface ReplyStore {
  /** Replies nobody holds (left by a stopped daemon, or past their lease). */
  claim(limit: number, leaseMs: number): Promise<PendingReply[]>;
  finishAll(items: readonly { id: string; outcome: ReplyOutcome; event: MessageInboundEvent }[]): Promise<void>;
  /** Keyed by `customer\0ourNumber`. */
  joinConversations(pairs: readonly { customer: string; ourNumber: string }[], ttlSeconds: number): Promise<Map<string, ConversationView>>;
  updateConversation(id: string, change: { tags?: Record<string, unknown>; state?: string }): Promise<void>;
  /** Keyed by the item's key (the reply id). */
  latestOutbounds(items: readonly { key: string; customer: string; ourNumber: string; before: Date }[]): Promise<Map<string, AnsweredMessage>>;
  /** The pairs (`customer\0ourNumber`) opted out. */
  blockedPairs(pairs: readonly { customer: string; ourNumber: string }[]): Promise<Set<string>>;
  setOptOut(change: { customer: string; scope: string; optedOut: boolean; keyword: string; replyId: string }): Promise<boolean>;
  /** Gives claimed replies back (a clean stop), so the next daemon handles them without waiting for the lease. */
  release(ids: readonly string[]): Promise<void>;
  /** Sets replies aside as `failed` with the reason: poison, never to be handled again. */
  fail(items: readonly { id: string; error: string }[]): Promise<void>;
  /** Surveys (`store/surveys.ts`); without them, survey messages' replies are handled like any. */
  surveyRuns?(messageIds: readonly string[]): Promise<Map<string, SurveyRunRow>>;
  startSurvey?(run: { messageId: string; name: string; customer: string; ourNumber: string; definition: Record<string, unknown> }): Promise<SurveyRunRow>;
  recordSurveyAnswer?(runId: string, answer: SurveyAnswer, next: { position: number; reasked: boolean; completed: boolean }): Promise<boolean>;
}

interface Handled {
  readonly id: string;
  readonly answers: readonly Answer[];
  readonly outcome: ReplyOutcome;
  readonly event: MessageInboundEvent;
  /** A survey answer to store once the answers are sent (`surveyStep`). */
  readonly survey?: SurveyRecord;
}

interface SurveyRecord {
  readonly name: string;
  readonly runId: string;
  readonly answer: SurveyAnswer;
  readonly next: { position: number; reasked: boolean; completed: boolean };
}

interface BatchFacts {
  readonly conversations: ReadonlyMap<string, ConversationView>;
  readonly answered: ReadonlyMap<string, AnsweredMessage>;
  /** Updated as compliance keywords in the batch change a customer's state. */
  readonly blocked: Set<string>;
  /** Survey runs by survey message id; updated as the batch's answers move them on. */
  readonly surveyRuns: Map<string, SurveyRunRow>;
}

/** An answer to send: it enters the outbound path like any message. */
export interface Answer {
  readonly id: string;
  readonly to: string;
  readonly from: string;
  readonly text: string;
  readonly replyTo: string;
  /** Compliance confirmations reach a customer who just opted out. */
  readonly bypassOptOut: boolean;
  /** performance.now() when the reply arrived, for the auto-reply latency. */
  readonly arrivedAt: number | undefined;
}

export interface ReplyObserver {
  onReply?(kind: MessageInboundEvent['matched']['kind'], resolvedAutomatically: boolean): void;
  onCompliance?(kind: 'opt_out' | 'opt_in' | 'help', changed: boolean): void;
  /** `handling`: compliance, automatic, apps, escalated (below the threshold) or review (a possible opt-out). */
  onIntent?(intent: string, handling: string): void;
  onSurveyAnswer?(survey: string, kind: string, valid: boolean, value: number | null): void;
  onWebhook?(webhook: string, outcome: 'answered' | 'no_reply' | 'failed', seconds: number): void;
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

interface NumberSettings {
  readonly compliance: ComplianceSettings;
  readonly synonyms: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly KeywordRule[];
  readonly unmatched: Unmatched;
  readonly intents: IntentsConfig;
}

const DEFAULT_SETTINGS: NumberSettings = {
  compliance: DEFAULT_COMPLIANCE,
  synonyms: {},
  rules: [],
  unmatched: { kind: 'hand_to_apps' },
  intents: { threshold: 0.6, timeZone: 'UTC' },
};

function settingsOf(n: NumberConfig): NumberSettings {
  const c = n.compliance;
  return {
    compliance: {
      ...DEFAULT_COMPLIANCE,
      scope: c.scope,
      optOut: c.optOut ?? DEFAULT_COMPLIANCE.optOut,
      optIn: c.optIn ?? DEFAULT_COMPLIANCE.optIn,
      help: c.help ?? DEFAULT_COMPLIANCE.help,
      optOutReply: c.optOutReply ?? DEFAULT_COMPLIANCE.optOutReply,
      optInReply: c.optInReply ?? DEFAULT_COMPLIANCE.optInReply,
      helpReply: helpReplyOf(n),
    },
    synonyms: n.synonyms,
    rules: n.rules.map((r) => ({
      name: r.name,
      keywords: r.keywords,
      pattern: r.pattern === undefined ? undefined : LinearPattern.compile(r.pattern, 'i'),
      actions: r.actions as readonly RuleAction[],
    })),
    unmatched: n.unmatched,
    intents: n.intents,
  };
}

/** Customers handled aside at once (each waiting on a webhook) before batches wait for them. */
const MAX_ASIDE = 1000;
const DEFAULT_WEBHOOK_CONCURRENCY = 8;

const plain = (address: string): string => address.replace(/^\+(?=\d+$)/, '');

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
  /** Per webhook name: calls in flight at once (`webhooks[].concurrency`). */
  private readonly webhookLimits = new Map<string, ConcurrencyLimit>();
  /** Per customer (`from\0to`): the replies handled aside, waiting on a webhook. */
  private readonly aside = new Map<string, Promise<void>>();
  private readonly asideRunning = new Set<Promise<void>>();

  constructor(private readonly options: ReplyHandlerOptions) {
    this.numbers = new Map(options.numbers.map((n) => [plain(n.address), settingsOf(n)]));
    this.webhooks = options.webhooks;
    this.log = options.logger.child({ component: 'reply-handler' });
  }

  /** Applies new numbers (rules, keywords, templates) and webhooks to replies handled from now on. */
  reconfigure(numbers: readonly NumberConfig[], webhooks: ReadonlyMap<string, WebhookTarget>): void {
    this.numbers = new Map(numbers.map((n) => [plain(n.address), settingsOf(n)]));
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
    const o = this.options;
    const pairs = batch.map((r) => ({ customer: r.from, ourNumber: r.to }));
    const [conversations, answered, blocked] = await Promise.all([
      o.store.joinConversations(pairs, o.conversationTtlSeconds),
      o.store.latestOutbounds(batch.map((r) => ({ key: r.id, customer: r.from, ourNumber: r.to, before: r.receivedAt }))),
      o.store.blockedPairs(pairs),
    ]);
    const surveyIds = [...answered.values()].filter((a) => a.survey != null).map((a) => a.id);
    const surveyRuns = surveyIds.length > 0 && o.store.surveyRuns ? await o.store.surveyRuns(surveyIds) : new Map<string, SurveyRunRow>();
    const facts: BatchFacts = { conversations, answered, blocked, surveyRuns };
    const byCustomer = new Map<string, PendingReply[]>();
    for (const r of batch) byCustomer.set(`${r.from}\0${r.to}`, [...(byCustomer.get(`${r.from}\0${r.to}`) ?? []), r]);
    const now: PendingReply[][] = [];
    for (const [pair, replies] of byCustomer) {
      if (this.aside.has(pair) || replies.some((r) => this.callsWebhook(r, facts))) this.handleAside(pair, replies, facts);
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

  private async finishHandled(handled: readonly Handled[]): Promise<void> {
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
        await this.finishHandled(handled);
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

  /** Whether handling this reply calls a webhook (the same decision `handle` makes, read-only). */
  private callsWebhook(reply: PendingReply, facts: BatchFacts): boolean {
    const settings = this.numbers.get(reply.to) ?? DEFAULT_SETTINGS;
    const pair = `${reply.from}\0${reply.to}`;
    const reading = readReply(reply.text, reply.receivedAt, settings.compliance, settings.intents);
    if (classifyCompliance(reply.text, settings.compliance, facts.blocked.has(pair)) ?? reading.compliance) return false;
    const conversation = facts.conversations.get(pair);
    if (conversation !== undefined && conversation.assignedTo !== null) return false; // a person answers, no rule
    if (reading.event.review) return false; // a possible opt-out: a person decides
    const answered = conversation === undefined || conversation.opened ? undefined : facts.answered.get(reply.id);
    // A survey answer calls no webhook, but whether the survey takes it is known only once its run
    // is read: counted as the rules would handle it (aside needlessly at worst, never blocking).
    const match = matchReply(reply.text, {
      expected: answered?.replies ?? undefined,
      synonyms: settings.synonyms,
      rules: settings.rules,
      unmatched: settings.unmatched,
      ...reading.meaning,
    });
    // An unclear reply that no rule takes is read by the number's NLU webhook.
    const nlu = settings.intents.nluWebhook === undefined ? undefined : this.webhooks.get(settings.intents.nluWebhook);
    if (match.kind === 'none' && nlu !== undefined && !reading.confident) return true;
    return match.actions.some((a) => a.kind === 'webhook');
  }

  /** The webhook's own limit; a reload's new `concurrency` applies as calls finish. */
  private limitFor(target: WebhookTarget): ConcurrencyLimit {
    const wanted = target.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
    let limit = this.webhookLimits.get(target.name);
    if (limit === undefined) this.webhookLimits.set(target.name, (limit = new ConcurrencyLimit(wanted)));
    else if (limit.limit !== wanted) limit.setLimit(wanted);
    return limit;
  }

  private async handle(reply: PendingReply, facts: BatchFacts): Promise<Handled> {
    const o = this.options;
    const arrivedAt = this.arrivedAt.get(reply.id);
    this.arrivedAt.delete(reply.id);
    const settings = this.numbers.get(reply.to) ?? DEFAULT_SETTINGS;
    const pair = `${reply.from}\0${reply.to}`;
    const conversation = facts.conversations.get(pair)!;
    // Only a reply within a conversation's window answers a message (and its expected replies).
    const answered = conversation.opened ? undefined : facts.answered.get(reply.id);
    const answers: Answer[] = [];
    const answer = (suffix: string, text: string, bypassOptOut = false): void => {
      if (text.trim() === '') return;
      // A webhook's answer (or a template filled from metadata) may hold NUL or lone surrogates.
      answers.push({ id: `${suffix}-${reply.id}`, to: reply.from, from: reply.to, text: toStorableText(text).text, replyTo: reply.id, bypassOptOut, arrivedAt });
    };
    let reading: ReplyReading = readReply(reply.text, reply.receivedAt, settings.compliance, settings.intents);
    const event = (matched: MessageInboundEvent['matched']): MessageInboundEvent => ({
      type: 'message.inbound',
      id: reply.id,
      from: reply.from,
      to: reply.to,
      text: reply.text,
      conversation_id: conversation.id,
      in_reply_to: answered?.id ?? null,
      matched,
      received_at: reply.receivedAt.toISOString(),
      intent: reading.event,
    });

    let outcome: ReplyOutcome;
    let published: MessageInboundEvent;
    let survey: { name: string; action: string; detail: Record<string, unknown>; record: SurveyRecord } | undefined;
    const optedOut = facts.blocked.has(pair);
    // Exact keywords first; then what the reply means: "please stop texting me" opts out and
    // "who is this?" gets the HELP answer, when read with the number's confidence.
    const compliance = classifyCompliance(reply.text, settings.compliance, optedOut) ?? reading.compliance;
    if (compliance) {
      let changed = true;
      if (compliance.kind !== 'help') {
        changed = await o.store.setOptOut({
          customer: reply.from,
          scope: settings.compliance.scope === 'global' ? '*' : reply.to,
          optedOut: compliance.kind === 'opt_out',
          keyword: compliance.keyword,
          replyId: reply.id,
        });
        if (compliance.kind === 'opt_out') facts.blocked.add(pair);
        else facts.blocked.delete(pair);
      }
      // One confirmation per change of state: a second STOP from an opted-out customer gets none.
      if (changed) answer('c', compliance.reply, true);
      o.observer?.onCompliance?.(compliance.kind, changed);
      published = event({ kind: 'compliance', keyword: compliance.keyword, action: compliance.kind });
      outcome = this.outcome(conversation, answered, 'compliance', compliance.keyword, null, [{ kind: compliance.kind }], answers, true);
      o.observer?.onIntent?.(intentMetricName(reading.event.name), 'compliance');
    } else if (conversation.assignedTo !== null) {
      // A person has the conversation (the API's assign): no rule, expected reply, survey or webhook
      // answers in their place. The reply goes to the apps (and the inbox) until it is handed back;
      // a possible opt-out is flagged for their review all the same.
      const actions = [{ kind: 'hand_to_apps', assigned_to: conversation.assignedTo, ...(reading.event.review ? { review: true } : {}) }];
      published = event({ kind: 'none', keyword: null, action: 'hand_to_apps' });
      outcome = this.outcome(conversation, answered, 'none', null, null, actions, answers, false);
      o.observer?.onIntent?.(intentMetricName(reading.event.name), reading.event.review ? 'review' : 'apps');
    } else if (reading.event.review) {
      // Maybe an opt-out: a person decides. Nothing is answered, no rule runs, the apps get it.
      published = event({ kind: 'none', keyword: null, action: 'hand_to_apps' });
      outcome = this.outcome(conversation, answered, 'none', null, null, [{ kind: 'hand_to_apps', review: true }], answers, false);
      o.observer?.onIntent?.(intentMetricName(reading.event.name), 'review');
    } else if ((survey = await this.surveyStep(reply, answered, facts, reading, answer)) !== undefined) {
      published = event({ kind: 'survey', keyword: survey.name, action: survey.action });
      outcome = this.outcome(conversation, answered, 'survey', survey.name, null, [{ kind: 'survey', ...survey.detail }], answers, !optedOut);
      o.observer?.onIntent?.(intentMetricName(reading.event.name), 'automatic');
    } else {
      const input = {
        expected: answered?.replies ?? undefined,
        synonyms: settings.synonyms,
        rules: settings.rules,
        unmatched: settings.unmatched,
      };
      let match = matchReply(reply.text, { ...input, ...reading.meaning });
      const nlu = settings.intents.nluWebhook === undefined ? undefined : this.webhooks.get(settings.intents.nluWebhook);
      if (match.kind === 'none' && nlu !== undefined && !reading.confident) {
        // The NLU webhook is a webhook like any: within its own concurrency limit.
        const asked = await this.limitFor(nlu).run(() => askNlu(nlu, event({ kind: 'none', keyword: null, action: 'nlu' })));
        o.observer?.onWebhook?.(nlu.name, asked.ok ? (asked.intent ? 'answered' : 'no_reply') : 'failed', asked.seconds);
        if (!asked.ok) this.log.warn({ webhook: nlu.name, reply: reply.id, error: asked.error }, 'NLU webhook failed; the built-in reading stands');
        else if (asked.intent !== undefined) {
          reading = reading.withNlu(asked.intent);
          match = reading.event.review ? { kind: 'none', actions: [{ kind: 'hand_to_apps' }] } : matchReply(reply.text, { ...input, ...reading.meaning });
        }
      }
      // Read, but not surely enough to act on: the apps answer, not the unmatched policy.
      if (match.kind === 'none' && reading.escalate) {
        match = { kind: 'none', actions: [{ kind: 'hand_to_apps' }] };
        reading = reading.escalated();
      }
      const values: TemplateValues = {
        metadata: answered?.metadata ?? {},
        tags: conversation.tags,
        groups: match.kind === 'keyword' ? match.groups : {},
        reply: { text: reply.text, from: reply.from, to: reply.to },
      };
      const { handedToApps, actionNames } = await this.runActions(reply, match, values, conversation, answer, event);
      const keyword = match.kind === 'expected_reply' ? match.keyword : match.kind === 'keyword' ? (match.keyword ?? null) : null;
      published = event({ kind: match.kind, keyword, action: actionNames.join(',') || null });
      // An answer to an opted-out customer is refused at intake: that is not a resolution.
      const resolved = match.kind !== 'none' && !handedToApps && answers.length > 0 && !optedOut;
      outcome = this.outcome(conversation, answered, match.kind, keyword, match.kind === 'keyword' ? match.rule : null, match.actions, answers, resolved);
      o.observer?.onIntent?.(intentMetricName(reading.event.name), reading.event.escalated ? 'escalated' : resolved ? 'automatic' : 'apps');
    }
    return { id: reply.id, answers, outcome: { ...outcome, intent: reading.stored }, event: published, ...(survey === undefined ? {} : { survey: survey.record }) };
  }

  /**
   * The reply as an answer to the survey of the message it answers, when that message has one
   * and the survey is not finished: stored, and the next question (or the same again, once, or
   * the closing text) sent. Undefined when the reply is not a survey answer.
   */
  private async surveyStep(
    reply: PendingReply,
    answered: AnsweredMessage | undefined,
    facts: BatchFacts,
    reading: ReplyReading,
    answer: (suffix: string, text: string) => void,
  ): Promise<{ name: string; action: string; detail: Record<string, unknown>; record: SurveyRecord } | undefined> {
    const store = this.options.store;
    if (answered?.survey == null || !store.startSurvey || !store.recordSurveyAnswer) return undefined;
    const parsed = parseSurvey(answered.survey);
    if (typeof parsed === 'string') {
      this.log.warn({ message: answered.id, reason: parsed }, 'a stored survey does not read as one; the reply is handled as any other');
      return undefined;
    }
    const survey: Survey = parsed;
    let run = facts.surveyRuns.get(answered.id);
    run ??= await store.startSurvey({ messageId: answered.id, name: survey.name, customer: reply.from, ourNumber: reply.to, definition: answered.survey });
    if (run.status !== 'active' || run.position >= survey.questions.length) return undefined;
    const question = survey.questions[run.position]!;
    const read = readSurveyAnswer(question, reply.text, reading.intent);
    const step = nextStep(survey, run.position, read.valid, run.reasked);
    const record: SurveyRecord = {
      name: survey.name,
      runId: run.id,
      answer: { position: run.position, kind: question.kind, replyId: reply.id, valid: read.valid, value: read.valid ? read.value : null, answer: reply.text },
      next: { position: step.position, reasked: step.kind === 'ask' && step.reasked, completed: step.kind === 'done' },
    };
    // The customer's next reply in this batch answers the next question.
    facts.surveyRuns.set(answered.id, { ...run, position: step.position, reasked: record.next.reasked, status: step.kind === 'done' ? 'completed' : 'active' });
    if (step.text !== undefined) answer('s', step.text);
    const action = step.kind === 'done' ? 'done' : step.position === run.position ? 'reask' : 'next';
    return { name: survey.name, action, detail: { question: run.position, valid: read.valid, value: read.valid ? read.value : null }, record };
  }

  private outcome(
    conversation: ConversationView,
    answered: AnsweredMessage | undefined,
    kind: string,
    keyword: string | null,
    rule: string | null,
    actions: readonly unknown[],
    answers: readonly Answer[],
    resolved: boolean,
  ): ReplyOutcome {
    return {
      conversationId: conversation.id,
      inReplyTo: answered?.id ?? null,
      matchedKind: kind,
      keyword,
      rule,
      actions,
      resolvedAutomatically: resolved,
      answerMessageId: answers[0]?.id ?? null,
      error: null,
    };
  }

  private async runActions(
    reply: PendingReply,
    match: RuleMatch,
    values: TemplateValues,
    conversation: ConversationView,
    answer: (suffix: string, text: string) => void,
    event: (matched: MessageInboundEvent['matched']) => MessageInboundEvent,
  ): Promise<{ handedToApps: boolean; actionNames: string[] }> {
    let handedToApps = false;
    const actionNames: string[] = [];
    for (const [i, action] of match.actions.entries()) {
      actionNames.push(action.kind);
      switch (action.kind) {
        case 'reply':
          answer(`a${i}`, renderTemplate(action.text, values));
          break;
        case 'set_tags': {
          const tags = Object.fromEntries(Object.entries(action.tags).map(([k, v]) => [k, renderTemplate(v, values)]));
          await this.options.store.updateConversation(conversation.id, { tags });
          break;
        }
        case 'set_state':
          await this.options.store.updateConversation(conversation.id, { state: action.state });
          break;
        case 'hand_to_apps':
          handedToApps = true;
          break;
        case 'webhook': {
          const target = this.webhooks.get(action.webhook);
          const fallback = action.fallback === undefined ? '' : renderTemplate(action.fallback, values);
          if (!target) {
            this.log.error({ webhook: action.webhook, reply: reply.id }, 'a rule names a webhook that is not configured; sending the fallback');
            answer(`a${i}`, fallback);
            break;
          }
          const keyword = match.kind === 'expected_reply' ? match.keyword : match.kind === 'keyword' ? (match.keyword ?? match.rule) : null;
          const ask = event({ kind: match.kind, keyword, action: 'webhook' });
          const result = await this.limitFor(target).run(() => askWebhook(target, ask));
          if (result.ok) {
            this.options.observer?.onWebhook?.(target.name, result.reply ? 'answered' : 'no_reply', result.seconds);
            if (result.reply) answer(`a${i}`, result.reply);
          } else {
            this.options.observer?.onWebhook?.(target.name, 'failed', result.seconds);
            this.log.warn({ webhook: target.name, reply: reply.id, error: result.error }, 'webhook failed; sending the fallback');
            answer(`a${i}`, fallback);
          }
          break;
        }
      }
    }
    return { handedToApps, actionNames };
  }
}
