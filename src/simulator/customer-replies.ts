/**
 * Customer replies (MO): builds the deliver_sm parts of an injected reply, queues them in the
 * outbox until acknowledged, and plays the virtual handset, which reassembles what it receives and
 * answers by its rules after a delay.
 */
import type { Arrival } from './arrival-log.ts';
import { Handset, Reassembler } from './handset.ts';
import { buildReplyPdus, type ReplyRequest } from './replies.ts';
import type { BindRecord, InjectedReply, SimulatorCore } from './simulator-types.ts';

export class CustomerReplies {
  private readonly reassembler = new Reassembler();
  private handset: Handset | undefined;
  private replyReference: number;

  constructor(private readonly core: SimulatorCore) {
    this.replyReference = Math.floor(core.random() * 0xffff);
    this.configureHandset();
  }

  /** Builds the handset of the current options again (after setOptions). */
  configureHandset(): void {
    const handset = this.core.opts.handset;
    this.handset = handset === false ? undefined : new Handset(handset);
  }

  get handsetEnabled(): boolean {
    return this.handset !== undefined;
  }

  /** Forgets partial messages the handset was reassembling. */
  clear(): void {
    this.reassembler.clear();
  }

  /** Queues a customer reply's parts; see Simulator.injectReply. */
  inject(request: ReplyRequest): InjectedReply {
    const counters = this.core.counters;
    const built = buildReplyPdus(request, {
      defaultAlphabet: this.core.opts.defaultAlphabet,
      concatenation: request.concatenation ?? this.core.opts.replyConcatenation,
      reference: this.replyReference,
      random: this.core.random,
    });
    this.replyReference = (this.replyReference + 1) & 0xffff;
    counters.repliesInjected++;
    counters.replyParts += built.parts.length;
    let remaining = built.parts.length;
    let allAcked = true;
    let resolveAcked!: (acked: boolean) => void;
    const acked = new Promise<boolean>((resolve) => {
      resolveAcked = resolve;
    });
    const settle = (ok: boolean): void => {
      if (!ok) allAcked = false;
      if (--remaining === 0) resolveAcked(allAcked);
    };
    const target = request.systemId === undefined || request.systemId === '' ? undefined : request.systemId;
    for (const fields of built.parts) this.core.outbox.add('reply', target, fields, settle);
    return { parts: built.parts.length, dataCoding: built.dataCoding, acked };
  }

  /** The virtual handset reads a submit and, when its rules answer, schedules the reply. */
  answerAsHandset(arrival: Arrival, bind: BindRecord, now: number): void {
    const handset = this.handset;
    if (!handset) return;
    const whole = this.reassembler.add(`${bind.systemId}|${arrival.source}|${arrival.destination}`, arrival.concat, arrival.text, now);
    if (whole === undefined) return;
    try {
      const answer = handset.answer({ text: whole, from: arrival.source, to: arrival.destination, systemId: bind.systemId });
      if (!answer) return;
      const handsetOptions = this.core.opts.handset === false ? undefined : this.core.opts.handset;
      const reply: ReplyRequest = {
        from: arrival.destination,
        to: arrival.source,
        text: answer.text,
        concatenation: handsetOptions?.concatenation ?? this.core.opts.replyConcatenation,
        systemId: bind.systemId,
      };
      this.core.timeline.schedule(now + answer.delayMs, { kind: 'handset', reply });
    } catch (err) {
      this.core.log.error({ err }, 'smsc simulator handset rule failed');
    }
  }
}
