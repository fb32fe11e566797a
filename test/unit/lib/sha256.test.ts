import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/lib/sha256.ts';

describe('sha256', () => {
  // Stored fingerprints, reply ids and opt-out keys were made by createHash: the one-call form must
  // give the same digest, or a receipt resent across an upgrade would be stored twice.
  const pieces: (string | Buffer)[][] = [
    ['parley-opt-out:+15551234567'],
    ['sim\0+1555\x0012345\0{"message_state":2}\0', Buffer.from('id:1f3a9c04b2 stat:DELIVRD', 'latin1')],
    ['héllo \u{1f600} \0', Buffer.from([0, 0xff, 0x80, 0x1b])],
    ['', Buffer.alloc(0), ''],
  ];
  it.each(pieces.map((p, i) => [i, p] as const))('case %i: as createHash with each piece given to update in turn', (_i, parts) => {
    for (const encoding of ['hex', 'base64url'] as const) {
      const reference = createHash('sha256');
      for (const p of parts) reference.update(p);
      expect(sha256(parts, encoding)).toBe(reference.digest(encoding));
      if (parts.length === 1) expect(sha256(parts[0]!, encoding)).toBe(createHash('sha256').update(parts[0]!).digest(encoding));
    }
  });
});
