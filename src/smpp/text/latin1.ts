/** data_coding 3 (ISO-8859-1), and what data_coding 0 means on SMSCs configured for Latin-1. */

/** One octet per character, or undefined when any character is above U+00FF. */
export function encodeLatin1(text: string): Buffer | undefined {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return undefined;
  }
  return Buffer.from(text, 'latin1');
}

/** Every octet is a valid ISO-8859-1 character, so decoding cannot fail. */
export function decodeLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
