import { decodeAscii } from './ascii.ts';
import { decodeGsm7Checked } from './gsm7.ts';
import { decodeLatin1 } from './latin1.ts';
import { decodeUcs2 } from './ucs2.ts';

/** How the octets of a short_message are to be read. */
export type Alphabet = 'gsm7' | 'ascii' | 'latin1' | 'ucs2' | 'binary' | 'unsupported';

/** What data_coding 0 ("SMSC default alphabet") means; a per-SMSC setting, gsm7 unless told. */
export type DefaultAlphabet = 'gsm7' | 'ascii' | 'latin1';

export const DATA_CODING = {
  smscDefault: 0x00,
  ia5: 0x01,
  octetUnspecified: 0x02,
  latin1: 0x03,
  octetUnspecified2: 0x04,
  ucs2: 0x08,
} as const;

export type DataCodingInfo = {
  alphabet: Alphabet;
  /** GSM message class 0-3 (0 = flash), present only when the coding group carries one. */
  messageClass?: number;
  /** Text compressed per 3GPP TS 23.042; nobody implements it, so such text is not decodable. */
  compressed?: boolean;
  /** Message waiting indication groups: whether the handset may discard the text. */
  messageWaiting?: 'discard' | 'store';
};

/** The SMPP 3.4 table (5.2.19) for 0x00-0x0F, which overrides GSM 03.38 in that range. */
function describeSmppRange(dc: number, smscDefault: DefaultAlphabet): DataCodingInfo {
  switch (dc) {
    case 0x00:
      return { alphabet: smscDefault };
    case 0x01:
      return { alphabet: 'ascii' };
    case 0x02:
    case 0x04:
      return { alphabet: 'binary' };
    case 0x03:
      return { alphabet: 'latin1' };
    case 0x08:
      return { alphabet: 'ucs2' };
    default:
      // 5 JIS, 6 Cyrillic, 7 Hebrew, 9 pictogram, 10 ISO-2022-JP, 13 extended kanji, 14 KS C
      // 5601, and the reserved 11, 12, 15: no SMSC we route through sends them.
      return { alphabet: 'unsupported' };
  }
}

/** Bits 3-2 of the general data coding group (and bit 2 of group 0xF). */
function alphabetFromBits(bits: number): Alphabet {
  switch (bits) {
    case 0:
      return 'gsm7';
    case 1:
      // "8-bit data" in GSM terms is not text in any alphabet.
      return 'binary';
    case 2:
      return 'ucs2';
    default:
      return 'unsupported';
  }
}

/**
 * Reads a data_coding octet. 0x00-0x0F follow SMPP 3.4; everything above follows the GSM 03.38 /
 * 23.038 coding groups. GSM 7-bit is assumed to arrive unpacked whatever group announced it,
 * because SMPP carries septets one per octet.
 */
export function describeDataCoding(dc: number, smscDefault: DefaultAlphabet): DataCodingInfo {
  if (!Number.isInteger(dc) || dc < 0 || dc > 0xff) return { alphabet: 'unsupported' };
  if (dc <= 0x0f) return describeSmppRange(dc, smscDefault);

  const group = dc >> 4;
  if (group <= 0x7) {
    // 00xx general data coding and 01xx "marked for automatic deletion" share the same layout.
    const info: DataCodingInfo = { alphabet: alphabetFromBits((dc >> 2) & 0x3) };
    if (dc & 0x20) info.compressed = true;
    if (dc & 0x10) info.messageClass = dc & 0x3;
    return info;
  }
  if (group <= 0xb) return { alphabet: 'unsupported' }; // reserved coding groups
  if (group === 0xc) return { alphabet: 'gsm7', messageWaiting: 'discard' };
  if (group === 0xd) return { alphabet: 'gsm7', messageWaiting: 'store' };
  if (group === 0xe) return { alphabet: 'ucs2', messageWaiting: 'store' };
  // 0xF: data coding / message class; bit 3 reserved, bit 2 picks GSM 7-bit or 8-bit data.
  return { alphabet: (dc & 0x04) === 0 ? 'gsm7' : 'binary', messageClass: dc & 0x3 };
}

export type DecodeErrorCode =
  | 'gsm7_septet_out_of_range'
  | 'non_ascii_byte'
  | 'odd_length_ucs2'
  | 'binary_data'
  | 'compressed_text'
  | 'unsupported_data_coding';

export type DecodedText =
  | { ok: true; text: string; alphabet: Alphabet }
  /** `text` is the best effort: what could be decoded, U+FFFD where an octet made no sense. */
  | { ok: false; code: DecodeErrorCode; reason: string; alphabet: Alphabet; text: string };

function hexOf(dc: number): string {
  return `0x${dc.toString(16).padStart(2, '0')}`;
}

/**
 * Decodes a short_message (UDH already removed) or message_payload. Bad input from a carrier is a
 * value, never an exception: the caller decides whether a flagged text is stored, shown or
 * dead-lettered.
 */
export function decodeText(
  bytes: Uint8Array,
  dataCoding: number,
  smscDefault: DefaultAlphabet,
): DecodedText {
  const info = describeDataCoding(dataCoding, smscDefault);
  const { alphabet } = info;
  if (info.compressed) {
    return {
      ok: false,
      code: 'compressed_text',
      reason: `data_coding ${hexOf(dataCoding)} announces compressed text, which is not supported`,
      alphabet,
      text: '',
    };
  }
  switch (alphabet) {
    case 'gsm7': {
      const decoded = decodeGsm7Checked(bytes);
      if (decoded.malformed === undefined) return { ok: true, text: decoded.text, alphabet };
      return {
        ok: false,
        code: decoded.malformed,
        reason: 'GSM 7-bit text contains octets above 0x7F (packed septets or mislabelled data?)',
        alphabet,
        text: decoded.text,
      };
    }
    case 'ascii': {
      const decoded = decodeAscii(bytes);
      if (decoded.malformed === undefined) return { ok: true, text: decoded.text, alphabet };
      return {
        ok: false,
        code: decoded.malformed,
        reason: 'IA5/ASCII text contains octets above 0x7F',
        alphabet,
        text: decoded.text,
      };
    }
    case 'latin1':
      return { ok: true, text: decodeLatin1(bytes), alphabet };
    case 'ucs2': {
      const decoded = decodeUcs2(bytes);
      if (decoded.malformed === undefined) return { ok: true, text: decoded.text, alphabet };
      return {
        ok: false,
        code: decoded.malformed,
        reason: `UCS-2 text has an odd number of octets (${bytes.length}); the last one was dropped`,
        alphabet,
        text: decoded.text,
      };
    }
    case 'binary':
      return {
        ok: false,
        code: 'binary_data',
        reason: `data_coding ${hexOf(dataCoding)} carries binary data, not text`,
        alphabet,
        text: '',
      };
    case 'unsupported':
      return {
        ok: false,
        code: 'unsupported_data_coding',
        reason: `data_coding ${hexOf(dataCoding)} names an alphabet Parley does not decode`,
        alphabet,
        text: '',
      };
  }
}
