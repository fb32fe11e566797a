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
  // The octets swapped into UTF-16LE, then one string: `+=` per unit built a chain of cons-strings.
  // Lone surrogates are kept as they are, as before.
  const length = bytes.length & ~1;
  const le = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 2) {
    le[i] = bytes[i + 1] ?? 0;
    le[i + 1] = bytes[i] ?? 0;
  }
  const text = le.toString('utf16le');
  return bytes.length % 2 === 0 ? { text } : { text, malformed: 'odd_length_ucs2' };
}
