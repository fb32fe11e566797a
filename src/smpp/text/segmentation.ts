import { chooseEncoding, encodeIn, type EncodedText, type TextAlphabet } from './choose-encoding.ts';
import type { DefaultAlphabet } from './data-coding.ts';
import { gsm7CharSeptets } from './gsm7.ts';
import { buildConcatUdh } from './udh.ts';

/** Concatenation counters are one octet wide (UDH total/seq, sar_total_segments). */
export const MAX_PARTS = 255;
/** message_payload's TLV length field is 16 bits. */
export const MAX_PAYLOAD_OCTETS = 0xffff;

/**
 * How a long text reaches the SMSC:
 * - udh8 / udh16: we split it and prefix each short_message with a concatenation UDH (esm_class
 *   UDHI set);
 * - sar: we split it and the caller sends sar_msg_ref_num / sar_total_segments / sar_segment_seqnum
 *   TLVs, the SMSC building the UDH;
 * - payload: the whole text goes in one message_payload TLV and the SMSC splits it.
 */
export type Concatenation = 'udh8' | 'udh16' | 'sar' | 'payload';

export type SplitOptions = {
  smscDefault: DefaultAlphabet;
  concatenation: Concatenation;
  /**
   * Concatenation reference shared by every part; a non-negative integer, taken modulo 2^8 for
   * udh8 and 2^16 for udh16 and sar, so a caller can feed any counter.
   */
  reference: number;
};

export type Part = {
  /** Octets for short_message: UDH then body for udh8/udh16; empty in payload mode. */
  shortMessage: Buffer;
  /** Whether esm_class must carry UDHI (0x40). */
  udhi: boolean;
  /** Values for the sar_* TLVs, only in sar mode and only when there is more than one part. */
  sar?: { reference: number; total: number; seq: number };
  /** The whole encoded text for message_payload, only in payload mode. */
  payload?: Buffer;
  /** The characters this part carries. */
  text: string;
};

export type SplitErrorCode = 'empty_text' | 'too_many_parts' | 'payload_too_large' | 'invalid_reference';

export type SplitResult =
  | { ok: true; dataCoding: number; alphabet: TextAlphabet; parts: Part[] }
  | { ok: false; code: SplitErrorCode; reason: string };

type Sizes = { single: number; udh8: number; udh16: number };

/**
 * Units per message: septets for GSM, UTF-16 code units for UCS-2, octets for the 8-bit defaults.
 * The air interface has 140 octets. A 6-octet 8-bit-reference UDH leaves 153 septets (the SMSC
 * pads the header to a septet boundary), 67 UCS-2 units or 134 octets; the 7-octet 16-bit UDH
 * leaves 152, 66 or 133.
 */
const SIZES: Record<'gsm7' | 'ucs2' | 'octet', Sizes> = {
  gsm7: { single: 160, udh8: 153, udh16: 152 },
  ucs2: { single: 70, udh8: 67, udh16: 66 },
  octet: { single: 140, udh8: 134, udh16: 133 },
};

function sizesFor(alphabet: TextAlphabet): Sizes {
  if (alphabet === 'gsm7') return SIZES.gsm7;
  if (alphabet === 'ucs2') return SIZES.ucs2;
  return SIZES.octet;
}

/**
 * Per-part body size. udh8, sar and payload use the 8-bit-reference size, which is what
 * commercial SMS APIs bill by (153 / 67) and what the SMSC itself needs when it builds the UDH
 * for sar or payload. udh16 must use its real fit: the header we put in is one octet longer, so
 * 153 septets would overflow 140 octets and the SMSC would reject or truncate the part; such texts
 * may take one part more than the billed count.
 */
function perPartSize(sizes: Sizes, concatenation: Concatenation): number {
  return concatenation === 'udh16' ? sizes.udh16 : sizes.udh8;
}

type Token = { chars: string; cost: number };

/**
 * The indivisible pieces of the text with their cost: a GSM extension character costs two
 * septets and a surrogate pair two UCS-2 units, and neither may be cut across parts.
 */
function tokenize(text: string, alphabet: TextAlphabet): Token[] {
  const tokens: Token[] = [];
  if (alphabet === 'ucs2') {
    for (const chars of text) tokens.push({ chars, cost: chars.length });
    return tokens;
  }
  for (let i = 0; i < text.length; i++) {
    const chars = text.charAt(i);
    tokens.push({ chars, cost: alphabet === 'gsm7' ? (gsm7CharSeptets(chars) ?? 1) : 1 });
  }
  return tokens;
}

/** Greedy fill: each part takes as many whole tokens as fit. */
function chunk(tokens: readonly Token[], size: number): string[] {
  const chunks: string[] = [];
  let current = '';
  let used = 0;
  for (const token of tokens) {
    if (used + token.cost > size) {
      chunks.push(current);
      current = '';
      used = 0;
    }
    current += token.chars;
    used += token.cost;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/**
 * What the tokens' costs add up to, read off the encoded text: GSM septets are written one octet
 * each (an extension character two), UCS-2 units two octets, the 8-bit alphabets one. A text that
 * fits one message, nearly every one, is then never cut into tokens (an object per character).
 */
function unitsOf(encoded: EncodedText): number {
  return encoded.alphabet === 'ucs2' ? encoded.bytes.length / 2 : encoded.bytes.length;
}

/** The part texts as billed: one if it fits a single message, else 8-bit-reference parts. */
function billedChunks(text: string, encoded: EncodedText, sizes: Sizes): number {
  if (unitsOf(encoded) <= sizes.single) return 1;
  return chunk(tokenize(text, encoded.alphabet), sizes.udh8).length;
}

/**
 * Segments a message as commercial APIs bill it (GSM 160/153, UCS-2 70/67, 8-bit 140/134),
 * choosing the alphabet the way splitText does. 0 for an empty text. Not capped at MAX_PARTS, so
 * a caller can report how far over a text is.
 */
export function countSegments(text: string, smscDefault: DefaultAlphabet): number {
  if (text === '') return 0;
  const encoded = chooseEncoding(text, smscDefault);
  return billedChunks(text, encoded, sizesFor(encoded.alphabet));
}

function encodeChunk(alphabet: TextAlphabet, text: string): Buffer {
  // Each chunk is a slice of a text already known to fit the alphabet, so this always encodes.
  return encodeIn(alphabet, text) ?? Buffer.alloc(0);
}

function tooMany(parts: number): SplitResult {
  return {
    ok: false,
    code: 'too_many_parts',
    reason: `text needs ${parts} parts; concatenation allows at most ${MAX_PARTS}`,
  };
}

/**
 * Splits a text into the short messages to submit. A text that fits one message goes as one part
 * without UDH or sar TLVs whatever the concatenation mode (except payload, which always uses
 * message_payload). Limits are reported as values: the caller dead-letters the message.
 */
export function splitText(text: string, options: SplitOptions): SplitResult {
  const { concatenation, smscDefault } = options;
  if (text === '') return { ok: false, code: 'empty_text', reason: 'text is empty' };
  if (!Number.isInteger(options.reference) || options.reference < 0) {
    return {
      ok: false,
      code: 'invalid_reference',
      reason: `reference ${options.reference} is not a non-negative integer`,
    };
  }
  const encoded = chooseEncoding(text, smscDefault);
  const { alphabet, dataCoding } = encoded;
  const sizes = sizesFor(alphabet);

  if (concatenation === 'payload') {
    const billed = billedChunks(text, encoded, sizes);
    if (billed > MAX_PARTS) return tooMany(billed);
    if (encoded.bytes.length > MAX_PAYLOAD_OCTETS) {
      return {
        ok: false,
        code: 'payload_too_large',
        reason: `encoded text is ${encoded.bytes.length} octets; message_payload holds ${MAX_PAYLOAD_OCTETS}`,
      };
    }
    const part: Part = { shortMessage: Buffer.alloc(0), udhi: false, payload: encoded.bytes, text };
    return { ok: true, dataCoding, alphabet, parts: [part] };
  }

  if (unitsOf(encoded) <= sizes.single) {
    return { ok: true, dataCoding, alphabet, parts: [{ shortMessage: encoded.bytes, udhi: false, text }] };
  }

  const chunks = chunk(tokenize(text, alphabet), perPartSize(sizes, concatenation));
  const total = chunks.length;
  if (total > MAX_PARTS) return tooMany(total);

  const parts = chunks.map((chunkText, index): Part => {
    const seq = index + 1;
    const body = encodeChunk(alphabet, chunkText);
    if (concatenation === 'sar') {
      const reference = options.reference & 0xffff;
      return { shortMessage: body, udhi: false, sar: { reference, total, seq }, text: chunkText };
    }
    const udh =
      concatenation === 'udh8'
        ? buildConcatUdh(options.reference & 0xff, total, seq, 8)
        : buildConcatUdh(options.reference & 0xffff, total, seq, 16);
    return { shortMessage: Buffer.concat([udh, body]), udhi: true, text: chunkText };
  });
  return { ok: true, dataCoding, alphabet, parts };
}
