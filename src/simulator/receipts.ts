/**
 * Delivery receipts as an SMSC sends them: deliver_sm with esm_class 0x04, the SMPP 3.4
 * Appendix B text, and/or the receipted_message_id + message_state TLVs.
 */
import { ESM_CLASS, type PduInit } from '../smpp/pdu.ts';
import { makeTlv, type Tlv } from '../smpp/tlv.ts';
import type { Random } from './random.ts';

export const RECEIPT_STATS = ['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'ENROUTE'] as const;
export type ReceiptStat = (typeof RECEIPT_STATS)[number];

/** message_state values (SMPP 3.4 5.2.28) for each stat word. */
export const MESSAGE_STATE: Readonly<Record<ReceiptStat, number>> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

/** The `err:` field for each outcome (carriers put a network or vendor code there). */
export const RECEIPT_ERR: Readonly<Record<ReceiptStat, string>> = {
  ENROUTE: '000',
  DELIVRD: '000',
  EXPIRED: '001',
  DELETED: '002',
  UNDELIV: '003',
  ACCEPTD: '000',
  UNKNOWN: '004',
  REJECTD: '005',
};

/** Where a receipt carries its id and state. */
export type ReceiptForm = 'text' | 'tlv' | 'both';
export const RECEIPT_FORMS: readonly ReceiptForm[] = ['text', 'tlv', 'both'];

/** Relative weights, e.g. `{ DELIVRD: 0.9, UNDELIV: 0.05, EXPIRED: 0.05 }`; they need not sum to 1. */
export type ReceiptMix = Partial<Record<ReceiptStat, number>>;

export interface CompiledMix {
  readonly stats: readonly ReceiptStat[];
  /** Cumulative weights normalised to end at 1. */
  readonly cumulative: readonly number[];
}

/** Why a mix is not usable, or undefined. */
export function checkReceiptMix(mix: unknown): string | undefined {
  if (typeof mix !== 'object' || mix === null || Array.isArray(mix)) return 'must be an object of stat: weight';
  let sum = 0;
  for (const [stat, weight] of Object.entries(mix)) {
    if (!(RECEIPT_STATS as readonly string[]).includes(stat)) return `unknown stat ${stat} (one of ${RECEIPT_STATS.join(', ')})`;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) return `weight of ${stat} must be a number >= 0`;
    sum += weight;
  }
  return sum > 0 ? undefined : 'weights must add up to more than 0';
}

export function compileReceiptMix(mix: ReceiptMix): CompiledMix {
  const entries = (Object.entries(mix) as [ReceiptStat, number][]).filter(([, w]) => w > 0);
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  let acc = 0;
  const cumulative = entries.map(([, w]) => (acc += w / sum));
  if (cumulative.length > 0) cumulative[cumulative.length - 1] = 1;
  return { stats: entries.map(([s]) => s), cumulative };
}

export function pickReceiptStat(mix: CompiledMix, random: Random): ReceiptStat {
  const r = random();
  for (let i = 0; i < mix.cumulative.length; i++) {
    if (r < (mix.cumulative[i] ?? 1)) return mix.stats[i] ?? 'DELIVRD';
  }
  return mix.stats[mix.stats.length - 1] ?? 'DELIVRD';
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

let cachedMinute = -1;
let cachedDate = '';

/** YYMMDDhhmm in UTC, the receipt text's date form (formatted once per minute). */
export function formatReceiptDate(epochMs: number): string {
  const minute = Math.floor(epochMs / 60_000);
  if (minute === cachedMinute) return cachedDate;
  const d = new Date(minute * 60_000);
  const text =
    pad2(d.getUTCFullYear() % 100) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) + pad2(d.getUTCHours()) + pad2(d.getUTCMinutes());
  cachedMinute = minute;
  cachedDate = text;
  return text;
}

/** 1 for the characters that are the same octet in GSM 03.38 and ASCII and safe in a receipt text. */
const SAFE = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,!?:;\'"()+-/=*#%&<>') SAFE[ch.charCodeAt(0)] = 1;

export interface ReceiptFacts {
  /** The id as the receipt reports it (see receiptIdFormat). */
  readonly receiptId: string;
  readonly stat: ReceiptStat;
  readonly submitAtMs: number;
  readonly doneAtMs: number;
  readonly snippet: string;
}

/** `id:<id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:<20 chars>` */
export function formatReceiptText(facts: ReceiptFacts): string {
  const dlvrd = facts.stat === 'DELIVRD' ? '001' : '000';
  return (
    `id:${facts.receiptId} sub:001 dlvrd:${dlvrd} submit date:${formatReceiptDate(facts.submitAtMs)} ` +
    `done date:${formatReceiptDate(facts.doneAtMs)} stat:${facts.stat} err:${RECEIPT_ERR[facts.stat]} text:${facts.snippet}`
  );
}

export interface ReceiptAddresses {
  /** The original destination: the handset the receipt is about. */
  readonly source: string;
  readonly sourceTon: number;
  readonly sourceNpi: number;
  /** The original source. */
  readonly destination: string;
  readonly destTon: number;
  readonly destNpi: number;
}

const EMPTY = Buffer.alloc(0);

/** The deliver_sm for one receipt. */
export function buildReceiptPdu(
  facts: ReceiptFacts,
  addresses: ReceiptAddresses,
  form: ReceiptForm,
  esmClass: number = ESM_CLASS.TYPE_DELIVERY_RECEIPT,
): PduInit<'deliver_sm'> {
  const tlvs: Tlv[] = [];
  if (form !== 'text') {
    tlvs.push(makeTlv('receipted_message_id', facts.receiptId), makeTlv('message_state', MESSAGE_STATE[facts.stat]));
  }
  // Written out rather than through shortMessageFields: this runs once per receipt.
  return {
    service_type: '',
    source_addr_ton: addresses.sourceTon,
    source_addr_npi: addresses.sourceNpi,
    source_addr: addresses.source,
    dest_addr_ton: addresses.destTon,
    dest_addr_npi: addresses.destNpi,
    destination_addr: addresses.destination,
    esm_class: esmClass,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: form === 'tlv' ? EMPTY : Buffer.from(formatReceiptText(facts), 'latin1'),
    tlvs,
  };
}

/**
 * The first 20 characters for `text:`, keeping only characters that are the same octet in GSM
 * 03.38 and ASCII (letters, digits, space and common punctuation) so the receipt reads the same
 * whatever the ESME takes data_coding 0 to mean; anything else becomes '?'.
 */
export function receiptTextSnippet(text: string): string {
  let out = '';
  let clean = true;
  for (let i = 0; i < text.length && i < 20; i++) {
    if (SAFE[text.charCodeAt(i)] !== 1) {
      clean = false;
      break;
    }
  }
  if (clean) return text.length <= 20 ? text : text.slice(0, 20);
  for (const ch of text) {
    if (out.length >= 20) break;
    out += ch.length === 1 && SAFE[ch.charCodeAt(0)] === 1 ? ch : '?';
  }
  return out;
}
