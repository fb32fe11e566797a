/**
 * Reassembly, the pure part: a deliver_sm becomes a part keyed by SMSC, sender, recipient,
 * reference and total (so two senders using one reference never mix), whether it came
 * concatenated by UDH (8- or 16-bit references), by SAR TLVs or whole in message_payload; and the
 * parts of one message, once all are in (or the wait for the rest is over), become one reply.
 * Storing the parts and finding complete groups is the store's (`store/replies.ts`).
 */
import { sha256 } from '../lib/sha256.ts';
import { normaliseAddress } from '../domain/address.ts';
import type { AssembledReply, NewPart, StoredPart } from '../domain/reply.ts';
import { toStorableText } from '../domain/storable-text.ts';
import type { InboundSm } from '../smpp/smsc-bind.ts';
import { decodeText, parseUdh, type DefaultAlphabet } from '../smpp/text/index.ts';

/** The part a deliver_sm carries, with the fingerprint a resend of it is recognised by. */
export function partOf(sm: InboundSm): NewPart {
  let body = sm.messagePayload ?? sm.shortMessage;
  let concat: { scheme: string; reference: number; total: number; seq: number } | undefined;
  if (sm.udhi && !sm.messagePayload) {
    const udh = parseUdh(sm.shortMessage);
    if (udh.ok) {
      body = udh.payload;
      if (udh.concat) concat = { scheme: `udh${udh.concat.referenceBits}`, ...udh.concat };
    }
    // A UDH that cannot be read is kept as part of the text rather than dropped: nothing the
    // customer sent is lost, and the flag on the reply says why it reads oddly.
  }
  if (!concat && sm.sar && sm.sar.total > 1) concat = { scheme: 'sar', ...sm.sar };
  const fingerprint = sha256(
    [`${sm.smsc}\0${sm.source.address}\0${sm.destination.address}\0${sm.esmClass}\0${sm.dataCoding}\0${JSON.stringify(sm.sar ?? null)}`, sm.messagePayload ?? sm.shortMessage],
    'hex',
  );
  return {
    fingerprint,
    smsc: sm.smsc,
    bind: sm.bind,
    // Numbers are kept as outbound messages keep them, so threads line up.
    from: normaliseAddress(sm.source.address),
    to: normaliseAddress(sm.destination.address),
    concatKey: concat && concat.total > 1 ? `${concat.scheme}:${concat.reference}` : null,
    total: concat && concat.total > 1 ? concat.total : 1,
    seq: concat && concat.total > 1 ? concat.seq : 1,
    dataCoding: sm.dataCoding,
    body: Buffer.from(body),
  };
}

/**
 * Joins the parts' octets before decoding, so an escape sequence or a surrogate pair split
 * across two parts still reads right. The id derives from the stored parts (their rows, not
 * only their content): the same parts assembled twice are the same reply, while a customer
 * sending the same text again after the duplicate window (STOP, START, STOP) is a new reply.
 */
export function assembleParts(parts: readonly StoredPart[], incomplete: boolean, defaultAlphabetOf: (smsc: string) => DefaultAlphabet): AssembledReply {
  const sorted = [...parts].sort((a, b) => a.seq - b.seq);
  const first = sorted[0]!;
  const decoded = decodeText(Buffer.concat(sorted.map((p) => p.body)), first.dataCoding, defaultAlphabetOf(first.smsc));
  // UCS-2 or Latin-1 text may hold U+0000 (or a UCS-2 lone surrogate), which Postgres cannot
  // store: replaced here, while the parts keep the carrier's octets.
  const storable = toStorableText(decoded.text);
  const id = `r-${sha256(sorted.map((p) => `${p.fingerprint}:${p.partId}`).sort().join('\0'), 'hex').slice(0, 30)}`;
  return {
    id,
    smsc: first.smsc,
    from: first.from,
    to: first.to,
    text: storable.text,
    parts: sorted.length,
    incomplete,
    dataCoding: first.dataCoding,
    decodeProblem: decoded.ok ? (storable.replaced > 0 ? 'unstorable_characters_replaced' : null) : decoded.code,
    receivedAt: new Date(Math.min(...sorted.map((p) => p.receivedAt.getTime()))),
  };
}
