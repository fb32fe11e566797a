/**
 * Customer replies (mobile-originated messages) as deliver_sm PDUs: encoded, split and
 * concatenated with Parley's own text layer, in any of the four ways a carrier may send a long
 * text (UDH with an 8- or 16-bit reference, sar_* TLVs, or one message_payload).
 */
import { ParleyError } from '../lib/errors.ts';
import { shortMessageFields, type PduInit } from '../smpp/pdu.ts';
import { makeTlv, type Tlv } from '../smpp/tlv.ts';
import {
  DATA_CODING,
  buildConcatUdh,
  chooseEncoding,
  encodeUcs2,
  splitText,
  type Concatenation,
  type DefaultAlphabet,
  type Part,
} from '../smpp/text/index.ts';
import { shuffleInPlace, type Random } from './random.ts';

export const CONCATENATIONS: readonly Concatenation[] = ['udh8', 'udh16', 'sar', 'payload'];

export interface ReplyRequest {
  /** The customer's number (deliver_sm source_addr); a leading '+' is dropped. */
  from: string;
  /** Our number (destination_addr). */
  to: string;
  text: string;
  /**
   * Force an alphabet: 0 (the SMSC default, gsm7 unless `defaultAlphabet` says otherwise),
   * 1 (IA5/ASCII), 3 (Latin-1) or 8 (UCS-2). Chosen like Parley does (default alphabet, else
   * UCS-2) when absent.
   */
  dataCoding?: number;
  /** How a text too long for one message is sent; the simulator's `replyConcatenation` when absent. */
  concatenation?: Concatenation;
  /** Send the parts in a random order. */
  shuffle?: boolean;
  /** Deliver only on receiving binds of this system_id; any receiving bind when absent. */
  systemId?: string;
}

export interface BuiltReply {
  readonly dataCoding: number;
  readonly parts: PduInit<'deliver_sm'>[];
}

/** TON/NPI for an address: alphanumeric 5/0, short code (<= 8 digits) 3/1, else international 1/1. */
export function addressOf(raw: string): { addr: string; ton: number; npi: number } {
  const addr = raw.startsWith('+') ? raw.slice(1) : raw;
  if (!/^[0-9]+$/.test(addr)) return { addr, ton: 5, npi: 0 };
  if (addr.length <= 8 && !raw.startsWith('+')) return { addr, ton: 3, npi: 1 };
  return { addr, ton: 1, npi: 1 };
}

function invalid(reason: string): ParleyError {
  return new ParleyError('invalid_reply', reason);
}

/** UCS-2 parts for a text that would fit the default alphabet but is asked for in UCS-2. */
function splitUcs2(text: string, concatenation: Concatenation, reference: number): Part[] {
  if (concatenation === 'payload') return [{ shortMessage: Buffer.alloc(0), udhi: false, payload: encodeUcs2(text), text }];
  if (text.length <= 70) return [{ shortMessage: encodeUcs2(text), udhi: false, text }];
  const size = concatenation === 'udh16' ? 66 : 67;
  const chunks: string[] = [];
  let current = '';
  for (const ch of text) {
    if (current.length + ch.length > size) {
      chunks.push(current);
      current = '';
    }
    current += ch;
  }
  if (current !== '') chunks.push(current);
  if (chunks.length > 255) throw invalid(`text needs ${chunks.length} parts; at most 255`);
  const total = chunks.length;
  return chunks.map((chunkText, i): Part => {
    const body = encodeUcs2(chunkText);
    if (concatenation === 'sar') return { shortMessage: body, udhi: false, sar: { reference: reference & 0xffff, total, seq: i + 1 }, text: chunkText };
    const udh = concatenation === 'udh8' ? buildConcatUdh(reference & 0xff, total, i + 1, 8) : buildConcatUdh(reference & 0xffff, total, i + 1, 16);
    return { shortMessage: Buffer.concat([udh, body]), udhi: true, text: chunkText };
  });
}

function splitForced(
  text: string,
  dataCoding: number,
  concatenation: Concatenation,
  defaultAlphabet: DefaultAlphabet,
  reference: number,
): { dataCoding: number; parts: Part[] } {
  const viaDefault = (alphabet: DefaultAlphabet, dc: number): { dataCoding: number; parts: Part[] } => {
    const split = splitText(text, { smscDefault: alphabet, concatenation, reference });
    if (!split.ok) throw invalid(split.reason);
    if (split.dataCoding !== DATA_CODING.smscDefault) throw invalid(`text does not fit data_coding ${dc} (${alphabet})`);
    return { dataCoding: dc, parts: split.parts };
  };
  switch (dataCoding) {
    case DATA_CODING.smscDefault:
      return viaDefault(defaultAlphabet, dataCoding);
    case DATA_CODING.ia5:
      return viaDefault('ascii', dataCoding);
    case DATA_CODING.latin1:
      return viaDefault('latin1', dataCoding);
    case DATA_CODING.ucs2: {
      if (chooseEncoding(text, defaultAlphabet).dataCoding === DATA_CODING.ucs2) {
        const split = splitText(text, { smscDefault: defaultAlphabet, concatenation, reference });
        if (!split.ok) throw invalid(split.reason);
        return { dataCoding, parts: split.parts };
      }
      return { dataCoding, parts: splitUcs2(text, concatenation, reference) };
    }
    default:
      throw invalid(`dataCoding ${dataCoding} is not one of 0, 1, 3, 8`);
  }
}

/** The deliver_sm PDUs for one reply, in the order to send them. Throws ParleyError('invalid_reply'). */
export function buildReplyPdus(
  request: ReplyRequest,
  options: { defaultAlphabet: DefaultAlphabet; concatenation: Concatenation; reference: number; random: Random },
): BuiltReply {
  if (typeof request.from !== 'string' || request.from === '') throw invalid('from is required');
  if (typeof request.to !== 'string' || request.to === '') throw invalid('to is required');
  if (typeof request.text !== 'string' || request.text === '') throw invalid('text is required');
  const concatenation = request.concatenation ?? options.concatenation;
  if (!CONCATENATIONS.includes(concatenation)) throw invalid(`concatenation must be one of ${CONCATENATIONS.join(', ')}`);
  let dataCoding: number;
  let parts: Part[];
  if (request.dataCoding === undefined) {
    const split = splitText(request.text, { smscDefault: options.defaultAlphabet, concatenation, reference: options.reference });
    if (!split.ok) throw invalid(split.reason);
    dataCoding = split.dataCoding;
    parts = split.parts;
  } else {
    ({ dataCoding, parts } = splitForced(request.text, request.dataCoding, concatenation, options.defaultAlphabet, options.reference));
  }
  const source = addressOf(request.from);
  const destination = addressOf(request.to);
  const pdus = parts.map((part): PduInit<'deliver_sm'> => {
    const tlvs: Tlv[] = [];
    if (part.sar) {
      tlvs.push(
        makeTlv('sar_msg_ref_num', part.sar.reference),
        makeTlv('sar_total_segments', part.sar.total),
        makeTlv('sar_segment_seqnum', part.sar.seq),
      );
    }
    if (part.payload) tlvs.push(makeTlv('message_payload', part.payload));
    return {
      ...shortMessageFields({
        source_addr_ton: source.ton,
        source_addr_npi: source.npi,
        source_addr: source.addr,
        dest_addr_ton: destination.ton,
        dest_addr_npi: destination.npi,
        destination_addr: destination.addr,
        esm_class: part.udhi ? 0x40 : 0,
        data_coding: dataCoding,
        short_message: part.shortMessage,
      }),
      tlvs,
    };
  });
  if (request.shuffle) shuffleInPlace(pdus, options.random);
  return { dataCoding, parts: pdus };
}
