/**
 * The segments this daemon sent lately, by the carrier id their submit's response gave (its match
 * key, domain/smsc-message-id.ts), so that a receipt for one of them names its segment to the store
 * instead of having Postgres look the id up among every submit's ids (store/receipts.ts
 * attemptByKeys: an index lookup, a sort and a limit per receipt, about a tenth of the receipt
 * statement's time). Postgres stays the authority: a receipt whose best key is not here (another
 * daemon's segment, one sent before a restart, one forgotten to stay in bounds) is looked up there
 * as before, and the store applies a named segment only where it would have applied the one it
 * found (a submitted single-part message that is no possible duplicate).
 *
 * Only answers already committed are remembered (SubmitRecorder), so a segment named here is
 * always in Postgres. The latest segment to get a key wins, as Postgres takes the latest submit; a
 * carrier that gives one id to two segments of this daemon's within the bound would be a carrier
 * that cannot be matched reliably by anyone. Bounded: past `limit` keys of an SMSC its oldest are
 * forgotten.
 */

/** A segment as the receipt statement takes it. */
export interface SentSegment {
  readonly messageId: string;
  readonly seq: number;
}

/**
 * Keys kept per SMSC by default: five seconds of this machine's fastest submits, a minute at 1,000 a
 * second; about 8 MB when full (a key whose final receipt came is forgotten at once, so it fills
 * only when receipts come late or to another daemon).
 */
export const RECENT_CARRIER_IDS_LIMIT = 50_000;

export class RecentCarrierIds {
  /** Per SMSC (a map each: no key string made per lookup), match key -> segment, oldest first. */
  private readonly bySmsc = new Map<string, Map<string, SentSegment>>();

  constructor(private readonly limit = RECENT_CARRIER_IDS_LIMIT) {}

  /** Keys held, all SMSCs together. */
  get size(): number {
    let n = 0;
    for (const m of this.bySmsc.values()) n += m.size;
    return n;
  }

  /** Remembers a committed, accepted answer's carrier id. */
  remember(smsc: string, matchKey: string, segment: SentSegment): void {
    let segments = this.bySmsc.get(smsc);
    if (segments === undefined) {
      segments = new Map();
      this.bySmsc.set(smsc, segments);
    }
    // Deleted first, so that a key given again moves to the newest end and is forgotten last.
    segments.delete(matchKey);
    segments.set(matchKey, segment);
    if (segments.size > this.limit) {
      const oldest = segments.keys().next();
      if (!oldest.done) segments.delete(oldest.value);
    }
  }

  /** The segment a receipt's best key names, when this daemon sent it lately. */
  find(smsc: string, bestKey: string): SentSegment | undefined {
    return this.bySmsc.get(smsc)?.get(bestKey);
  }

  /** Forgets a key whose final receipt is stored: a resend of it is found by its fingerprint. */
  forget(smsc: string, matchKey: string): void {
    this.bySmsc.get(smsc)?.delete(matchKey);
  }
}
