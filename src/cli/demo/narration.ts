/**
 * How the demo tells what it sees: the narrator (acts, relative times, lines held and printed in
 * time order) and one line per kind of happening (a submit_sm, a customer part, a status change,
 * a handled reply, an inbound stream entry, an order-service call).
 */
import type { ParleyConfig, SmscConfig } from '../../config/index.ts';
import type { Arrival } from '../../simulator/index.ts';
import { commandStatusName } from '../../smpp/command-status.ts';
import { decodeText, describeDataCoding } from '../../smpp/text/index.ts';
import type { CustomerPart, ThreadInbound } from '../../domain/customer-thread.ts';
import type { MessageTimeline } from '../../domain/timeline.ts';
import { out, preview } from '../common.ts';
import type { OrderCall } from './order-service.ts';

/** A line to print, with the moment it describes (epoch ms) so lines from different sources interleave in order. */
export interface Happening {
  readonly atMs: number;
  readonly line: string;
  /** Among lines at the same moment, causes first: 0 PDUs and decisions, 1 status changes they bring about. */
  readonly rank?: number;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function dataCodingName(dataCoding: number, smsc: SmscConfig): string {
  const hex = `0x${dataCoding.toString(16).padStart(2, '0')}`;
  const alphabet = describeDataCoding(dataCoding, smsc.defaultAlphabet).alphabet;
  const names: Record<string, string> = { gsm7: 'GSM-7', ucs2: 'UCS-2', latin1: 'Latin-1', ascii: 'ASCII', binary: 'binary' };
  return `data_coding ${hex} (${dataCoding === 0 ? `SMSC default, ${names[alphabet] ?? alphabet}` : (names[alphabet] ?? alphabet)})`;
}

export class Narrator {
  /** When the current act began: times are shown relative to it. */
  private startMs = Date.now();

  mark(): void {
    this.startMs = Date.now();
  }

  get start(): number {
    return this.startMs;
  }

  at(atMs: number): string {
    const s = (atMs - this.startMs) / 1000;
    return `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(3)}s`.padStart(9);
  }

  say(line = ''): void {
    out(line);
  }

  step(title: string): void {
    out('');
    out(title);
  }

  happen(items: Happening[]): void {
    items.sort((a, b) => a.atMs - b.atMs || (a.rank ?? 0) - (b.rank ?? 0));
    for (const h of items) out(`  ${this.at(h.atMs)}  ${h.line}`);
  }
}


// ------------------------------------------------------------------ lines

export function describeArrival(a: Arrival, smsc: SmscConfig, customer: string): string {
  const concat = a.concat
    ? a.concat.scheme === 'sar'
      ? `sar_* TLVs ref ${a.concat.reference} part ${a.concat.seq}/${a.concat.total}`
      : `UDH ref 0x${a.concat.reference.toString(16).padStart(2, '0')} part ${a.concat.seq}/${a.concat.total}`
    : 'one part';
  const answer = a.status === 'accepted' ? `ESME_ROK, carrier id ${a.messageId ?? '?'}` : `${commandStatusName(a.commandStatus)} (${a.status})`;
  return (
    `-> ${a.command} to ${a.destination} from ${a.source}: ${dataCodingName(a.dataCoding, smsc)}, ${concat}, ` +
    `${JSON.stringify(preview(a.text, 28))}; answered ${answer}` +
    (a.destination === customer ? '' : ' [another customer: left from an earlier run]')
  );
}

export function describePart(p: CustomerPart, smsc: SmscConfig): string {
  const text = decodeText(p.body, p.dataCoding, smsc.defaultAlphabet).text;
  const part = p.total > 1 ? `, part ${p.seq}/${p.total} (${p.concatKey ?? '?'})` : '';
  return (
    `<- deliver_sm (customer message) from ${p.from} to ${p.to}: ${dataCodingName(p.dataCoding, smsc)}${part}, ${JSON.stringify(text)}; ` +
    'stored in Postgres, then answered deliver_sm_resp'
  );
}

export function describeStatusChange(t: MessageTimeline, status: string, previous: string | null, config: ParleyConfig): string {
  const m = t.message;
  const what = m.replyTo ? `${m.id} (the answer to ${m.replyTo})` : m.id;
  if (previous === null && status === 'queued') {
    const route = config.routes.find((r) => r.name === m.route);
    return `Postgres: ${what} inserted as queued, route ${route?.name ?? (m.route || '(none)')}${m.replyTo ? ' (answers enter the outbound path like any message)' : ''}`;
  }
  if (status === 'submitted') return `Postgres: ${m.id} ${previous ?? '?'} -> submitted: ${plural(m.segments ?? 1, 'part')} accepted, carrier ids recorded`;
  if (status === 'delivered') return `Postgres: ${m.id} ${previous ?? '?'} -> delivered: a final receipt for every part`;
  if (status === 'failed' && m.errorCode === 'opted_out') {
    return `Postgres: ${m.id} ${previous ?? '?'} -> failed (opted_out): refused at intake, in the same transaction as its insert`;
  }
  return `Postgres: ${m.id} ${previous ?? '(new)'} -> ${status}${m.errorCode ? ` (${m.errorCode}${m.errorReason ? `: ${m.errorReason}` : ''})` : ''}`;
}

/** How the reply path handled a customer message: the match and what it set off. */
export function describeHandled(e: ThreadInbound, answer: MessageTimeline | undefined, config: ParleyConfig): string {
  const actions = (e.actions ?? []) as { kind?: string; webhook?: string }[];
  let how: string;
  switch (e.matchedKind) {
    case 'expected_reply':
      how = `matches the expected reply ${e.keyword ?? '?'} of ${e.inReplyTo ?? '?'} (the message it answers)`;
      break;
    case 'keyword': {
      const webhook = actions.find((a) => a.kind === 'webhook')?.webhook;
      const rule = config.numbers.find((n) => n.address === e.ourNumber)?.rules.find((r) => r.name === e.rule);
      how =
        `matches rule ${e.rule ?? '?'}` +
        (e.keyword ? ` (keyword ${e.keyword})` : rule?.pattern ? ` (pattern ${rule.pattern})` : '') +
        (webhook ? `; webhook ${webhook} asked` : '');
      break;
    }
    case 'compliance': {
      const kind = actions[0]?.kind;
      how =
        kind === 'opt_out'
          ? `compliance keyword ${e.keyword ?? '?'}: the customer is now opted out of ${e.ourNumber}`
          : kind === 'opt_in'
            ? `compliance keyword ${e.keyword ?? '?'}: the customer is subscribed again`
            : `compliance keyword ${e.keyword ?? '?'} (${kind ?? '?'})`;
      break;
    }
    default:
      how = `matches nothing: ${e.ourNumber}'s unmatched policy applies`;
  }
  const conversation = e.conversationId ? `conversation ${e.conversationId}` : 'no conversation';
  const sent = answer
    ? `; answer ${answer.message.id}: ${JSON.stringify(preview(answer.message.text, 48))}`
    : e.answerMessageId
      ? `; answer ${e.answerMessageId}`
      : '; no answer';
  return `reply path: ${e.id} ${JSON.stringify(preview(e.text, 24))} ${how}; ${conversation}${sent}`;
}

export function describeInboundEntry(entryId: string, fields: string[], stream: string, customer: string): string | undefined {
  const i = fields.indexOf('event');
  const raw = i >= 0 ? fields[i + 1] : undefined;
  if (raw === undefined) return undefined;
  let ev: { type?: string; id?: string; from?: string; matched?: { kind?: string; keyword?: string | null; action?: string | null } | null };
  try {
    ev = JSON.parse(raw) as typeof ev;
  } catch {
    return undefined;
  }
  if (ev.from !== customer) return undefined;
  const m = ev.matched;
  return (
    `XADD ${stream} ${entryId}: ${ev.type ?? '?'} ${ev.id ?? '?'}, matched ${m?.kind ?? '?'}` +
    `${m?.keyword ? ` ${m.keyword}` : ''}${m?.action ? ` (action ${m.action})` : ''}: what apps and agents read`
  );
}

export function describeOrderCall(c: OrderCall): string {
  if (!c.verified) return `order-status service: POST ${c.path}: X-Parley-Signature did NOT verify; answered ${c.status} ${c.answer}`;
  return (
    `order-status service: POST ${c.path} for ${c.replyId ?? '?'}: X-Parley-Signature verified with the shared secret; ` +
    `order ${c.order ?? '(none)'} -> ${c.status} ${c.answer}`
  );
}
