/**
 * data_coding 1 (IA5, treated as US-ASCII), and what data_coding 0 means on SMSCs configured for
 * ASCII. Never routed through the GSM table: in ASCII 0x11 is a control code and `_` is 0x5F.
 */

/** One octet per character, or undefined when any character is above U+007F. */
export function encodeAscii(text: string): Buffer | undefined {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return undefined;
  }
  return Buffer.from(text, 'latin1');
}

export type AsciiDecoded = { text: string; malformed?: 'non_ascii_byte' };

/**
 * Octets above 0x7F are not IA5; they decode as U+FFFD and the result is flagged, so a carrier
 * that mislabels Latin-1 as IA5 is visible instead of silently garbled.
 */
export function decodeAscii(bytes: Uint8Array): AsciiDecoded {
  let text = '';
  let nonAscii = false;
  for (const byte of bytes) {
    if (byte > 0x7f) {
      nonAscii = true;
      text += '\ufffd';
    } else {
      text += String.fromCharCode(byte);
    }
  }
  return nonAscii ? { text, malformed: 'non_ascii_byte' } : { text };
}
