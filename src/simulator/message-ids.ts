/**
 * Carrier message ids as the simulator hands them out in submit_sm_resp, and the other forms a
 * carrier may use for the same id in its receipts (the reason Parley normalises ids per SMSC).
 */
import type { Random } from './random.ts';

/**
 * - hex: 10 lowercase hex digits, never a leading zero (`1f3a9c04b2`);
 * - decimal: 11-12 digits, never a leading zero (`68719476736`);
 * - alnum: 32 lowercase letters and digits, like carriers that answer with long opaque ids.
 */
export type IdFormat = 'hex' | 'decimal' | 'alnum';

/**
 * How the id of a receipt (receipted_message_id and the text's `id:`) relates to the id in the
 * submit_sm_resp:
 * - same: identical;
 * - decimal: the decimal value of a hex id (hex responses only; other ids are reported unchanged);
 * - hex: the lowercase hex value of a decimal id (decimal responses only);
 * - leading_zeros: left-padded with zeros to 20 characters (at least one zero is added);
 * - uppercase: upper-cased (hex and alnum ids).
 */
export type ReceiptIdFormat = 'same' | 'decimal' | 'hex' | 'leading_zeros' | 'uppercase';

export const ID_FORMATS: readonly IdFormat[] = ['hex', 'decimal', 'alnum'];
export const RECEIPT_ID_FORMATS: readonly ReceiptIdFormat[] = ['same', 'decimal', 'hex', 'leading_zeros', 'uppercase'];

const ALNUM = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Unique ids from one counter. The counter lives as long as the simulator object, so ids stay
 * unique across `restart()`; its random start keeps two simulators apart.
 */
export class MessageIdGenerator {
  private counter: number;
  private prefix: string;

  constructor(random: Random) {
    // 2^36 .. 2^39: ten hex digits, and far from 2^53 however long a benchmark runs.
    this.counter = 2 ** 36 + Math.floor(random() * 7 * 2 ** 36);
    let prefix = '';
    for (let i = 0; i < 22; i++) prefix += ALNUM[Math.floor(random() * ALNUM.length)];
    // A leading digit other than 0 so that leading_zeros is always visible on alnum ids too.
    this.prefix = `s${prefix.slice(1)}`;
  }

  /** What to keep across a restart of the process, so ids stay unique (and receipts kept refer to them). */
  get state(): { counter: number; prefix: string } {
    return { counter: this.counter, prefix: this.prefix };
  }

  restore(state: { counter: number; prefix: string }): void {
    this.counter = Math.max(this.counter, state.counter);
    this.prefix = state.prefix;
  }

  next(format: IdFormat): string {
    const n = this.counter++;
    switch (format) {
      case 'hex':
        return n.toString(16);
      case 'decimal':
        return n.toString(10);
      case 'alnum':
        return this.prefix + n.toString(36).padStart(10, '0');
    }
  }
}

/** The id as the receipt reports it. */
export function formatReceiptId(id: string, idFormat: IdFormat, receiptIdFormat: ReceiptIdFormat): string {
  switch (receiptIdFormat) {
    case 'same':
      return id;
    case 'decimal':
      return idFormat === 'hex' && /^[0-9a-f]+$/i.test(id) ? BigInt(`0x${id}`).toString(10) : id;
    case 'hex':
      return idFormat === 'decimal' && /^[0-9]+$/.test(id) ? BigInt(id).toString(16) : id;
    case 'leading_zeros':
      return id.length >= 20 ? `0${id}` : id.padStart(20, '0');
    case 'uppercase':
      return id.toUpperCase();
  }
}
