/**
 * Delivery receipts (DLRs) as carriers really send them (ARCHITECTURE.md "Statuses", "Matching
 * receipts"). A receipt states the carrier's message id and a state in TLVs (receipted_message_id,
 * message_state, network_error_code) and/or in the SMPP 3.4 Appendix B text
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 *
 * which the specification calls an example format and carriers treat as a suggestion: keys and
 * values in any case, fields missing or reordered, `submit_date`/`submitdate` spellings, seconds
 * in the dates, long state names, extra fields. This module reads all of that; it does not
 * normalise the id (`domain/smsc-message-id.ts` does, per SMSC) nor decide what the state does
 * to a message (`mapReceiptState` says which status it stands for; the receipt flow applies it).
 *
 * Pure: plain inputs (the caller decodes short_message or message_payload to a string and reads
 * the TLVs), no I/O.
 */
import type { MessageStatus } from '../domain/status.ts';
import { splitFields, trimValue } from './receipt-fields.ts';
import type { Mutable } from '../domain/mutable.ts';

/** SMPP message_state (3.4 section 5.2.28, plus 5.0's SCHEDULED and SKIPPED). */
export type ReceiptState =
  | 'SCHEDULED'
  | 'ENROUTE'
  | 'DELIVERED'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIVERABLE'
  | 'ACCEPTED'
  | 'UNKNOWN'
  | 'REJECTED'
  | 'SKIPPED';

/** The message_state TLV's values: index = value (0 SCHEDULED and 9 SKIPPED are SMPP 5.0). */
export const MESSAGE_STATE_VALUES: readonly ReceiptState[] = [
  'SCHEDULED',
  'ENROUTE',
  'DELIVERED',
  'EXPIRED',
  'DELETED',
  'UNDELIVERABLE',
  'ACCEPTED',
  'UNKNOWN',
  'REJECTED',
  'SKIPPED',
];

/** The network_error_code TLV (network type 1 ANSI-136, 2 IS-95, 3 GSM, ...). */
export interface ReceiptNetworkError {
  readonly networkType: number;
  readonly errorCode: number;
}

export interface ReceiptInput {
  /** short_message (or message_payload) decoded as text; may be empty. */
  readonly text: string;
  readonly receiptedMessageId?: string;
  readonly messageState?: number;
  readonly networkErrorCode?: ReceiptNetworkError;
}

export interface ParsedReceipt {
  readonly ok: true;
  /** The carrier's id as given (trimmed); `receiptIdKeys` turns it into lookup keys. */
  readonly smscMessageId: string;
  readonly state: ReceiptState;
  /** False for states that say "not yet" (ENROUTE, ACCEPTED, SCHEDULED). */
  readonly final: boolean;
  /** Read as UTC: the text carries no zone (most SMSCs write their local time). */
  readonly submitDate?: Date;
  readonly doneDate?: Date;
  /** `sub:` and `dlvrd:` as numbers (`001` -> 1). */
  readonly submitted?: number;
  readonly delivered?: number;
  /** `err:` as written (`000`, `0x0B`, `B1`): carriers mean different bases by it. */
  readonly errorCode?: string;
  readonly networkError?: ReceiptNetworkError;
  /** `text:` to the end of the string (the first characters of the original message). */
  readonly text?: string;
  /** Fields Parley does not read (`mcc:`, `imsi:`, ...): lower-cased key -> value as written. */
  readonly extra: Record<string, string>;
}

export interface UnreadableReceipt {
  readonly ok: false;
  readonly reason: string;
}

/**
 * State names in receipt texts, upper-cased: the 7-character ones of Appendix B, the
 * message_state names, and what carriers send besides. BUFFRED (held for retry) is ENROUTE;
 * FAILED and UNDELIVR are UNDELIVERABLE.
 */
const STAT_NAMES: Readonly<Record<string, ReceiptState>> = {
  DELIVRD: 'DELIVERED',
  DELIVERED: 'DELIVERED',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIVERABLE',
  UNDELIVR: 'UNDELIVERABLE',
  UNDELIVERABLE: 'UNDELIVERABLE',
  UNDELIVERED: 'UNDELIVERABLE',
  FAILED: 'UNDELIVERABLE',
  ACCEPTD: 'ACCEPTED',
  ACCEPTED: 'ACCEPTED',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTED',
  REJECTED: 'REJECTED',
  ENROUTE: 'ENROUTE',
  BUFFRED: 'ENROUTE',
  BUFFERED: 'ENROUTE',
  SKIPPED: 'SKIPPED',
  SCHEDULED: 'SCHEDULED',
};

const INTERMEDIATE: ReadonlySet<ReceiptState> = new Set(['ENROUTE', 'ACCEPTED', 'SCHEDULED']);

/** The state a `stat:` value names (any case; a message_state digit is accepted too). */
export function receiptStateOfStat(stat: string): ReceiptState | undefined {
  const upper = stat.trim().toUpperCase();
  if (/^[0-9]$/.test(upper)) return MESSAGE_STATE_VALUES[Number(upper)];
  return Object.hasOwn(STAT_NAMES, upper) ? STAT_NAMES[upper] : undefined;
}

/** The state a message_state TLV value stands for, undefined outside 0..9. */
export function receiptStateOfMessageState(value: number): ReceiptState | undefined {
  return Number.isInteger(value) ? MESSAGE_STATE_VALUES[value] : undefined;
}

/**
 * True when the state ends the message's delivery. ACCEPTED is final in the specification but in
 * practice means "taken by the next hop" and is followed by the real outcome, so it counts as
 * intermediate, as ENROUTE and SCHEDULED do.
 */
export function isFinalReceiptState(state: ReceiptState): boolean {
  return !INTERMEDIATE.has(state);
}

export type ReceiptStatus = Extract<MessageStatus, 'delivered' | 'undeliverable' | 'expired' | 'rejected' | 'unknown'>;

/**
 * The message status a receipt state stands for; undefined for intermediate states, which are kept
 * as history and never change a status. DELETED (removed at the SMSC, e.g. by cancel_sm) and
 * SKIPPED (SMPP 5.0: not delivered by design) are undeliverable.
 */
export function mapReceiptState(state: ReceiptState): ReceiptStatus | undefined {
  switch (state) {
    case 'DELIVERED':
      return 'delivered';
    case 'UNDELIVERABLE':
    case 'DELETED':
    case 'SKIPPED':
      return 'undeliverable';
    case 'EXPIRED':
      return 'expired';
    case 'REJECTED':
      return 'rejected';
    case 'UNKNOWN':
      return 'unknown';
    case 'ENROUTE':
    case 'ACCEPTED':
    case 'SCHEDULED':
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The text (its fields: receipt-fields.ts)

/**
 * A receipt date, read as UTC: YYMMDDhhmm (Appendix B), YYMMDDhhmmss, or YYYYMMDDhhmmss, with or
 * without separators (`23-01-31 12:30`). Years of two digits are 20YY. Undefined when it is
 * none of those or names no real time (month 13, 31 February).
 */
export function parseReceiptDate(raw: string): Date | undefined {
  if (!DATE_CHARACTERS.test(raw)) return undefined;
  // The digits, read in place (no string of them is made): at most 14 count, and a date of more
  // is none of the forms.
  let count = 0;
  for (let i = 0; i < raw.length; i++) {
    const d = raw.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    if (count < DATE_DIGITS.length) DATE_DIGITS[count] = d;
    count++;
  }
  let year: number;
  let at: number;
  if (count === 10 || count === 12) {
    year = 2000 + DATE_DIGITS[0]! * 10 + DATE_DIGITS[1]!;
    at = 2;
  } else if (count === 14) {
    year = DATE_DIGITS[0]! * 1000 + DATE_DIGITS[1]! * 100 + DATE_DIGITS[2]! * 10 + DATE_DIGITS[3]!;
    at = 4;
  } else {
    return undefined;
  }
  // Seconds are 0 when the date has none (YYMMDDhhmm).
  const month = dateDigitPair(at, count);
  const day = dateDigitPair(at + 2, count);
  const hour = dateDigitPair(at + 4, count);
  const minute = dateDigitPair(at + 6, count);
  const second = dateDigitPair(at + 8, count);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date;
}

const DATE_CHARACTERS = /^[0-9\s\-/:.T]+$/;
/** Scratch for parseReceiptDate's digits (it never yields, so one array serves every call). */
const DATE_DIGITS = new Uint8Array(14);

/** The two digits at `at` as a number; 0 past the `count` digits read. */
function dateDigitPair(at: number, count: number): number {
  return at + 1 < count ? DATE_DIGITS[at]! * 10 + DATE_DIGITS[at + 1]! : 0;
}

function parseCount(raw: string | undefined): number | undefined {
  return raw !== undefined && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Reads a receipt. The TLVs win where present: receipted_message_id for the id, message_state for
 * the state (a value outside 0..9 is ignored); network_error_code is kept as given. Everything
 * else comes from the text. Fails, with a reason for the log, when no id or no recognisable state
 * can be found.
 */
export function parseReceipt(input: ReceiptInput): ParsedReceipt | UnreadableReceipt {
  const { known, extra } = splitFields(input.text);

  const rawTlvId = input.receiptedMessageId;
  const tlvId = rawTlvId === undefined ? undefined : trimValue(rawTlvId, 0, rawTlvId.length, false);
  const smscMessageId = tlvId !== undefined && tlvId !== '' ? tlvId : known.id;
  if (smscMessageId === undefined || smscMessageId === '') {
    return { ok: false, reason: 'no message id: no receipted_message_id TLV and no id: field in the text' };
  }

  const tlvState = input.messageState === undefined ? undefined : receiptStateOfMessageState(input.messageState);
  let state = tlvState;
  if (state === undefined && known.stat !== undefined && known.stat !== '') {
    state = receiptStateOfStat(known.stat);
    if (state === undefined) return { ok: false, reason: `unrecognised stat: ${JSON.stringify(known.stat)}` };
  }
  if (state === undefined) {
    const tlvNote =
      input.messageState === undefined ? 'no message_state TLV' : `message_state ${input.messageState} is not 0..9`;
    return { ok: false, reason: `no state: ${tlvNote} and no stat: field in the text` };
  }

  const submitDate = known.submitdate === undefined ? undefined : parseReceiptDate(known.submitdate);
  const doneDate = known.donedate === undefined ? undefined : parseReceiptDate(known.donedate);
  const submitted = parseCount(known.sub);
  const delivered = parseCount(known.dlvrd);
  // Set one by one rather than spread from conditional objects: each spread made an object of its
  // own, for every receipt.
  const parsed: Mutable<ParsedReceipt> = { ok: true, smscMessageId, state, final: isFinalReceiptState(state), extra };
  if (submitDate) parsed.submitDate = submitDate;
  if (doneDate) parsed.doneDate = doneDate;
  if (submitted !== undefined) parsed.submitted = submitted;
  if (delivered !== undefined) parsed.delivered = delivered;
  if (known.err !== undefined && known.err !== '') parsed.errorCode = known.err;
  if (input.networkErrorCode) {
    parsed.networkError = { networkType: input.networkErrorCode.networkType, errorCode: input.networkErrorCode.errorCode };
  }
  if (known.text !== undefined) parsed.text = known.text;
  return parsed;
}
