import { encodeAscii } from './ascii.ts';
import { DATA_CODING, type Alphabet, type DefaultAlphabet } from './data-coding.ts';
import { encodeGsm7 } from './gsm7.ts';
import { encodeLatin1 } from './latin1.ts';
import { encodeUcs2 } from './ucs2.ts';

/** The alphabets Parley sends text in. */
export type TextAlphabet = Extract<Alphabet, 'gsm7' | 'ascii' | 'latin1' | 'ucs2'>;

export type EncodedText = {
  dataCoding: typeof DATA_CODING.smscDefault | typeof DATA_CODING.ucs2;
  alphabet: TextAlphabet;
  bytes: Buffer;
};

/** The text in the given alphabet, or undefined when a character does not fit it. */
export function encodeIn(alphabet: TextAlphabet, text: string): Buffer | undefined {
  switch (alphabet) {
    case 'gsm7':
      return encodeGsm7(text);
    case 'ascii':
      return encodeAscii(text);
    case 'latin1':
      return encodeLatin1(text);
    case 'ucs2':
      return encodeUcs2(text);
  }
}

/**
 * data_coding 0 in the SMSC's default alphabet when every character fits it, UCS-2 otherwise.
 * UCS-2 can carry any string, so no character is ever replaced or dropped to make a text fit.
 */
export function chooseEncoding(text: string, smscDefault: DefaultAlphabet): EncodedText {
  const inDefault = encodeIn(smscDefault, text);
  if (inDefault !== undefined) {
    return { dataCoding: DATA_CODING.smscDefault, alphabet: smscDefault, bytes: inDefault };
  }
  return { dataCoding: DATA_CODING.ucs2, alphabet: 'ucs2', bytes: encodeUcs2(text) };
}
