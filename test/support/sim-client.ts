/**
 * A minimal Parley ESME for the simulator's tests: one client session that records every
 * deliver_sm and answers it as the test says (a status, or never), plus helpers to submit text,
 * read receipts and put concatenated replies back together.
 */
import { connectSession } from '../../src/smpp/connection.ts';
import { ESME_ROK } from '../../src/smpp/command-status.ts';
import { shortMessageFields, type PduOf, type ShortMessageFields } from '../../src/smpp/pdu.ts';
import type { BindType, SessionTimers, SmppSession } from '../../src/smpp/session.ts';
import { decodeText, parseUdh, splitText, type Concatenation } from '../../src/smpp/text/index.ts';
import { makeTlv, readTlv, type Tlv } from '../../src/smpp/tlv.ts';

export type Cleanup = () => Promise<void> | void;

/** How the client answers the n-th deliver_sm it receives (0-based): a command_status or 'none'. */
export type DeliverAnswer = (pdu: PduOf<'deliver_sm'>, index: number) => number | 'none';

export interface SimClientOptions {
  port: number;
  type?: BindType;
  systemId?: string;
  password?: string;
  answer?: DeliverAnswer;
  timers?: Partial<SessionTimers>;
}

export interface SimClient {
  readonly session: SmppSession;
  /** Every deliver_sm received, resends included, in arrival order. */
  readonly delivered: PduOf<'deliver_sm'>[];
  /** 'deliver:<receipt id or text>' and 'resp:<message id>' in the order they happened. */
  readonly events: string[];
  /** Session states in the order they were entered. */
  readonly states: string[];
  submit(fields?: Partial<ShortMessageFields> & { text?: string }): Promise<PduOf<'submit_sm_resp'>>;
  /** Submits `count` messages keeping at most the window in flight; resolves with every response. */
  submitMany(count: number, fields?: Partial<ShortMessageFields> & { text?: string }): Promise<PduOf<'submit_sm_resp'>[]>;
  /** Submits a text split with Parley's text layer; resolves with every part's response. */
  submitText(text: string, concatenation: Concatenation, fields?: Partial<ShortMessageFields>): Promise<PduOf<'submit_sm_resp'>[]>;
  close(): void;
}

export async function openSimClient(options: SimClientOptions, cleanups: Cleanup[]): Promise<SimClient> {
  const delivered: PduOf<'deliver_sm'>[] = [];
  const events: string[] = [];
  const states: string[] = [];
  const answer = options.answer ?? (() => ESME_ROK);
  const session = await connectSession(
    { host: '127.0.0.1', port: options.port },
    {
      timers: { responseTimeoutMs: 5000, ...options.timers },
      handlers: {
        onStateChange: (state) => {
          states.push(state);
        },
        onRequest: (pdu) => {
          if (pdu.command !== 'deliver_sm') return {};
          const index = delivered.length;
          delivered.push(pdu);
          const r = readReceipt(pdu);
          events.push(`deliver:${r.id ?? r.text}`);
          const status = answer(pdu, index);
          if (status === 'none') return new Promise<never>(() => {});
          return { command_status: status };
        },
      },
    },
  );
  cleanups.push(() => session.close());
  await session.bind(options.type ?? 'transceiver', { system_id: options.systemId ?? 'parley', password: options.password ?? '' });
  const submit = async (fields: Partial<ShortMessageFields> & { text?: string } = {}): Promise<PduOf<'submit_sm_resp'>> => {
    const { text, ...rest } = fields;
    const resp = await session.request(
      'submit_sm',
      shortMessageFields({
        source_addr: '12345',
        destination_addr: '447700900001',
        registered_delivery: 1,
        short_message: Buffer.from(text ?? 'hello', 'latin1'),
        ...rest,
      }),
    );
    if (resp.command !== 'submit_sm_resp') throw new Error(`expected submit_sm_resp, got ${resp.command}`);
    events.push(`resp:${resp.message_id}`);
    return resp;
  };
  const submitMany = async (
    count: number,
    fields: Partial<ShortMessageFields> & { text?: string } = {},
  ): Promise<PduOf<'submit_sm_resp'>[]> => {
    const out: Promise<PduOf<'submit_sm_resp'>>[] = [];
    for (let i = 0; i < count; i++) {
      while (session.freeWindow === 0 && session.isBound) await session.waitForWindow();
      out.push(submit(fields));
    }
    return Promise.all(out);
  };
  const submitText = async (
    text: string,
    concatenation: Concatenation,
    fields: Partial<ShortMessageFields> = {},
  ): Promise<PduOf<'submit_sm_resp'>[]> => {
    const split = splitText(text, { smscDefault: 'gsm7', concatenation, reference: 42 });
    if (!split.ok) throw new Error(split.reason);
    return Promise.all(
      split.parts.map((part) => {
        const tlvs: Tlv[] = [];
        if (part.sar) {
          tlvs.push(
            makeTlv('sar_msg_ref_num', part.sar.reference),
            makeTlv('sar_total_segments', part.sar.total),
            makeTlv('sar_segment_seqnum', part.sar.seq),
          );
        }
        if (part.payload) tlvs.push(makeTlv('message_payload', part.payload));
        return session
          .request('submit_sm', {
            ...shortMessageFields({
              source_addr: '12345',
              destination_addr: '447700900001',
              registered_delivery: 0,
              data_coding: split.dataCoding,
              esm_class: part.udhi ? 0x40 : 0,
              short_message: part.shortMessage,
              ...fields,
            }),
            tlvs,
          })
          .then((r) => r as PduOf<'submit_sm_resp'>);
      }),
    );
  };
  return { session, delivered, events, states, submit, submitMany, submitText, close: () => session.close() };
}

export interface ReadReceipt {
  readonly text: string;
  /** From the text's `id:`. */
  readonly id: string | undefined;
  readonly stat: string | undefined;
  readonly tlvId: string | undefined;
  readonly state: number | undefined;
}

export function readReceipt(pdu: PduOf<'deliver_sm'>): ReadReceipt {
  const text = pdu.short_message.toString('latin1');
  const id = /(?:^|\s)id:(\S+)/.exec(text)?.[1];
  const stat = /stat:(\S+)/.exec(text)?.[1];
  return {
    text,
    id: id ?? readTlv(pdu.tlvs, 'receipted_message_id'),
    stat,
    tlvId: readTlv(pdu.tlvs, 'receipted_message_id'),
    state: readTlv(pdu.tlvs, 'message_state'),
  };
}

export interface ReplyPart {
  readonly key: string;
  readonly seq: number;
  readonly total: number;
  readonly text: string;
}

/** One MO deliver_sm's part number and text, from its UDH, sar TLVs or message_payload. */
export function readReplyPart(pdu: PduOf<'deliver_sm'>): ReplyPart {
  let body: Buffer = pdu.short_message;
  let key = 'single';
  let seq = 1;
  let total = 1;
  if (body.length === 0) body = readTlv(pdu.tlvs, 'message_payload') ?? body;
  if ((pdu.esm_class & 0x40) !== 0) {
    const udh = parseUdh(body);
    if (!udh.ok) throw new Error(udh.reason);
    body = udh.payload;
    if (udh.concat) {
      seq = udh.concat.seq;
      total = udh.concat.total;
      key = `udh${udh.concat.referenceBits}:${udh.concat.reference}`;
    }
  } else {
    const ref = readTlv(pdu.tlvs, 'sar_msg_ref_num');
    const t = readTlv(pdu.tlvs, 'sar_total_segments');
    const s = readTlv(pdu.tlvs, 'sar_segment_seqnum');
    if (ref !== undefined && t !== undefined && s !== undefined) {
      key = `sar:${ref}`;
      seq = s;
      total = t;
    }
  }
  const decoded = decodeText(body, pdu.data_coding, 'gsm7');
  return { key, seq, total, text: decoded.text };
}

/** Whole texts from MO parts, in the order their last part arrived. */
export function reassemble(pdus: readonly PduOf<'deliver_sm'>[]): string[] {
  const groups = new Map<string, ReplyPart[]>();
  const done: string[] = [];
  for (const pdu of pdus) {
    const part = readReplyPart(pdu);
    if (part.total === 1) {
      done.push(part.text);
      continue;
    }
    const list = groups.get(part.key) ?? [];
    list.push(part);
    groups.set(part.key, list);
    if (list.length === part.total) {
      done.push(
        list
          .sort((a, b) => a.seq - b.seq)
          .map((p) => p.text)
          .join(''),
      );
      groups.delete(part.key);
    }
  }
  return done;
}

/** Polls until `fn` returns something truthy, at most `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs the registered cleanups in reverse order, every one even if one fails. */
export async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}
