/**
 * data_coding 8. SMPP calls it UCS-2, but every handset and SMSC in use treats it as UTF-16BE, so
 * characters outside the BMP (emoji) travel as surrogate pairs and must be kept whole.
 */

/** UTF-16BE: each code unit as two octets, high byte first; surrogate pairs stay as two units. */
export function encodeUcs2(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

export type Ucs2Decoded = { text: string; malformed?: 'odd_length_ucs2' };

/**
 * Decodes UTF-16BE. A carrier can hand us an odd number of octets (a truncated message); the
 * complete code units are decoded and the result flagged rather than thrown, because the text is
 * still worth storing and showing.
 */
export function decodeUcs2(bytes: Uint8Array): Ucs2Decoded {
  const units = Math.floor(bytes.length / 2);
  let text = '';
  for (let i = 0; i < units; i++) {
    text += String.fromCharCode(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  }
  return bytes.length % 2 === 0 ? { text } : { text, malformed: 'odd_length_ucs2' };
}
