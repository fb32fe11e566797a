/**
 * The virtual handset: answers messages by simple rules, for the demo. A long message is matched
 * once all its parts are in (reassembled here), and the answer goes back as a customer reply from
 * the message's destination to its source.
 */
import type { Concatenation } from '../smpp/text/index.ts';
import type { ArrivalConcat } from './arrival-log.ts';

/** What a rule sees: the whole text and where it went. */
export interface HandsetMessage {
  readonly text: string;
  /** Our number (the submit's source), where the answer goes. */
  readonly from: string;
  /** The handset's number (the submit's destination), where the answer comes from. */
  readonly to: string;
  readonly systemId: string;
}

export interface HandsetRule {
  /**
   * A RegExp, or a string: `/pattern/flags` is read as a RegExp, anything else matches when the
   * text contains it, ignoring case.
   */
  match: RegExp | string;
  /** The answer; a function may return undefined to stay silent. */
  reply: string | ((message: HandsetMessage) => string | undefined);
  /** Time before the answer is sent; 0 when absent. */
  delayMs?: number;
}

export interface HandsetOptions {
  rules?: readonly HandsetRule[];
  /** The answer when no rule matches; none when absent. */
  default?: string | { reply: HandsetRule['reply']; delayMs?: number };
  /** How long answers are concatenated; the simulator's `replyConcatenation` when absent. */
  concatenation?: Concatenation;
}

export interface HandsetAnswer {
  readonly text: string;
  readonly delayMs: number;
}

interface CompiledRule {
  readonly test: (text: string) => boolean;
  readonly reply: HandsetRule['reply'];
  readonly delayMs: number;
}

/** Why handset options are unusable, or undefined. */
export function checkHandsetOptions(options: unknown): string | undefined {
  if (typeof options !== 'object' || options === null) return 'must be an object { rules, default }';
  const o = options as HandsetOptions;
  if (o.rules !== undefined && !Array.isArray(o.rules as unknown)) return 'rules must be an array';
  for (const [i, rule] of (o.rules ?? []).entries()) {
    if (!(rule.match instanceof RegExp) && typeof rule.match !== 'string') return `rules[${i}].match must be a RegExp or a string`;
    if (typeof rule.match === 'string') {
      try {
        toMatcher(rule.match);
      } catch (err) {
        return `rules[${i}].match is not a valid pattern: ${(err as Error).message}`;
      }
    }
    if (typeof rule.reply !== 'string' && typeof rule.reply !== 'function') return `rules[${i}].reply must be a string or a function`;
    if (rule.delayMs !== undefined && !(Number.isFinite(rule.delayMs) && rule.delayMs >= 0)) return `rules[${i}].delayMs must be >= 0`;
  }
  return undefined;
}

function toMatcher(match: RegExp | string): (text: string) => boolean {
  if (match instanceof RegExp) {
    const re = new RegExp(match.source, match.flags.replace(/[gy]/g, ''));
    return (text) => re.test(text);
  }
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(match);
  if (literal) {
    const re = new RegExp(literal[1] ?? '', (literal[2] ?? '').replace(/[gy]/g, ''));
    return (text) => re.test(text);
  }
  const needle = match.toLowerCase();
  return (text) => text.toLowerCase().includes(needle);
}

export class Handset {
  private readonly rules: CompiledRule[];
  private readonly fallback: CompiledRule | undefined;

  constructor(options: HandsetOptions) {
    this.rules = (options.rules ?? []).map((r) => ({ test: toMatcher(r.match), reply: r.reply, delayMs: r.delayMs ?? 0 }));
    const d = options.default;
    this.fallback =
      d === undefined
        ? undefined
        : typeof d === 'string'
          ? { test: () => true, reply: d, delayMs: 0 }
          : { test: () => true, reply: d.reply, delayMs: d.delayMs ?? 0 };
  }

  /** The answer to a whole message, or undefined for silence. */
  answer(message: HandsetMessage): HandsetAnswer | undefined {
    const rule = this.rules.find((r) => r.test(message.text)) ?? this.fallback;
    if (!rule) return undefined;
    const text = typeof rule.reply === 'function' ? rule.reply(message) : rule.reply;
    if (text === undefined || text === '') return undefined;
    return { text, delayMs: rule.delayMs };
  }
}

interface Pending {
  readonly parts: (string | undefined)[];
  received: number;
  readonly firstAtMs: number;
}

/**
 * Puts the parts of long messages back together, keyed by bind system, addresses and reference.
 * Bounded: incomplete messages are forgotten after `maxAgeMs` or when more than `maxPending` wait.
 */
export class Reassembler {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly maxAgeMs = 300_000,
    private readonly maxPending = 10_000,
  ) {}

  /** The whole text when this part completes it (or when it is not a part at all). */
  add(key: string, concat: ArrivalConcat | undefined, text: string, nowMs: number): string | undefined {
    if (!concat || concat.total <= 1) return text;
    this.expire(nowMs);
    const id = `${key}|${concat.scheme}|${concat.reference}|${concat.total}`;
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { parts: new Array<string | undefined>(concat.total), received: 0, firstAtMs: nowMs };
      this.pending.set(id, entry);
    }
    if (entry.parts[concat.seq - 1] === undefined) entry.received++;
    entry.parts[concat.seq - 1] = text;
    if (entry.received < concat.total) return undefined;
    this.pending.delete(id);
    return entry.parts.join('');
  }

  clear(): void {
    this.pending.clear();
  }

  private expire(nowMs: number): void {
    for (const [id, entry] of this.pending) {
      if (this.pending.size <= this.maxPending && nowMs - entry.firstAtMs < this.maxAgeMs) break;
      this.pending.delete(id);
    }
  }
}
