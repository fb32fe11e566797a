export { decodeAscii, encodeAscii, type AsciiDecoded } from './ascii.ts';
export { chooseEncoding, encodeIn, type EncodedText, type TextAlphabet } from './choose-encoding.ts';
export {
  DATA_CODING,
  decodeText,
  describeDataCoding,
  type Alphabet,
  type DataCodingInfo,
  type DecodeErrorCode,
  type DecodedText,
  type DefaultAlphabet,
} from './data-coding.ts';
export {
  GSM7_BASIC_CHARS,
  GSM7_ESCAPE,
  GSM7_EXTENSION_CHARS,
  decodeGsm7,
  decodeGsm7Checked,
  encodeGsm7,
  gsm7CharSeptets,
  gsm7SeptetCount,
  type Gsm7Decoded,
} from './gsm7.ts';
export { decodeLatin1, encodeLatin1 } from './latin1.ts';
export {
  MAX_PARTS,
  MAX_PAYLOAD_OCTETS,
  countSegments,
  splitText,
  type Concatenation,
  type Part,
  type SplitErrorCode,
  type SplitOptions,
  type SplitResult,
} from './segmentation.ts';
export { decodeUcs2, encodeUcs2, type Ucs2Decoded } from './ucs2.ts';
export {
  IEI_CONCAT_16,
  IEI_CONCAT_8,
  buildConcatUdh,
  parseUdh,
  type ConcatInfo,
  type InformationElement,
  type ParsedUdh,
  type UdhErrorCode,
} from './udh.ts';
