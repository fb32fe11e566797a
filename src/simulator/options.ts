/**
 * The simulator's options: one zod schema fills the defaults, turns ranges into {minMs, maxMs} and
 * rejects a bad value with a message naming the option (ParleyError 'invalid_simulator_option').
 * `setOptions` goes through the same function, so a change mid-test is validated the same way.
 */
import { z } from 'zod';
import { ParleyError } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
import type { SessionOptions } from '../smpp/session.ts';
import type { Concatenation, DefaultAlphabet } from '../smpp/text/index.ts';
import type { Arrival } from './arrival-log.ts';
import { checkHandsetOptions, type HandsetOptions } from './handset.ts';
import { ID_FORMATS, RECEIPT_ID_FORMATS, type IdFormat, type ReceiptIdFormat } from './message-ids.ts';
import { RECEIPT_FORMS, checkReceiptMix, type ReceiptForm, type ReceiptMix, type ReceiptStat } from './receipts.ts';
import { CONCATENATIONS } from './replies.ts';

/** A fixed delay, or a range `[minMs, maxMs]` drawn uniformly per message. */
export type DelayOption = number | readonly [number, number];

export interface SimulatorCredentials {
  systemId: string;
  password: string;
}

export interface SimulatorOptions {
  /** Listening address for SMPP; 127.0.0.1. */
  host?: string;
  /** SMPP port; 0 (any free port) by default. */
  port?: number;
  /** Address of the HTTP control endpoint; 127.0.0.1. */
  controlHost?: string;
  /** Port of the HTTP control endpoint; 0 (any free port); false to run without one. */
  controlPort?: number | false;
  /** system_id answered in bind_resp; 'parley-sim'. */
  systemId?: string;
  /**
   * Accepted system_id/password pairs. Absent or empty: any bind is accepted. Otherwise an unknown
   * system_id is refused with ESME_RINVSYSID and a wrong password with ESME_RINVPASWD.
   */
  credentials?: readonly SimulatorCredentials[];
  /** Form of the message ids in submit_sm_resp / data_sm_resp; 'hex'. */
  idFormat?: IdFormat;
  /** Submits per second over the whole simulator; 0 = unlimited (default). */
  tps?: number;
  /** Submits that may arrive at once above `tps`; `tps` (one second's worth) by default. */
  tpsBurst?: number;
  /** Submits per second per bind; 0 = unlimited (default). */
  tpsPerBind?: number;
  /** Burst per bind; `tpsPerBind` by default. */
  tpsPerBindBurst?: number;
  /** Hold every submit_sm_resp this long (a slow SMSC); 0. */
  responseDelayMs?: number;
  /** Time from submit to final receipt; 100 ms. */
  receiptDelayMs?: DelayOption;
  /** Outcome weights of final receipts; `{ DELIVRD: 1 }`. */
  receiptMix?: ReceiptMix;
  /** Where receipts carry id and state: 'text', 'tlv' or 'both' (default). */
  receiptForm?: ReceiptForm;
  /** How receipts spell the id relative to the response; 'same'. */
  receiptIdFormat?: ReceiptIdFormat;
  /** Send an ENROUTE receipt half-way through the delay before the final one; false. */
  receiptIntermediate?: boolean;
  /** esm_class of the ENROUTE receipt: 0x04 (what most carriers send) or 0x20 (SMPP 3.4's intermediate notification). */
  intermediateEsmClass?: number;
  /**
   * Send the final receipt at once, before the submit_sm_resp: the response is held until the
   * receipt's deliver_sm_resp arrives, at most `receiptBeforeResponseMaxWaitMs`. No ENROUTE then.
   * When no receiving bind has room right now the receipt is queued as usual and the response is
   * not held.
   */
  receiptBeforeResponse?: boolean;
  /** Cap on how long a response is held for receiptBeforeResponse; 1,000 ms. */
  receiptBeforeResponseMaxWaitMs?: number;
  /** Delay before a receipt or reply refused (error status, generic_nack) or unanswered is sent again; 5,000 ms. */
  receiptRetryMs?: number;
  /** Deliver_sm waiting for deliver_sm_resp longer than this count as unanswered; 10,000 ms. */
  responseTimeoutMs?: number;
  /** Most deliver_sm in flight per bind; 100. */
  window?: number;
  /** Idle time before the simulator sends enquire_link; 30,000 ms. */
  enquireLinkIntervalMs?: number;
  /** Forces a receipt outcome for some submits (tests); the mix decides when it returns undefined. */
  pickReceiptStat?: (arrival: Arrival) => ReceiptStat | undefined;
  /** Answers some submits with an error command_status (tests); accepted when it returns undefined or 0. */
  rejectSubmit?: (arrival: Arrival) => number | undefined;
  /** The virtual handset; off by default. */
  handset?: HandsetOptions | false;
  /** How injected replies longer than one message are concatenated by default; 'udh8'. */
  replyConcatenation?: Concatenation;
  /** What data_coding 0 means when decoding submits and encoding replies; 'gsm7'. */
  defaultAlphabet?: DefaultAlphabet;
  /** Arrivals kept in the log (a ring buffer); 10,000. 0 keeps none. */
  keep?: number;
  /** Resolution of the one timer behind every delay; 10 ms. */
  tickMs?: number;
  /** Seed for outcomes, delay ranges, shuffles and id prefixes; random when absent. */
  seed?: number;
  /**
   * A file that keeps the SMSC's store across a restart of the process, as a real SMSC's does:
   * receipts and replies not yet acknowledged (with when they are due) and the message id counter.
   * Written on stop and every `stateSaveMs`, read on start (then replaced as it goes). None by default.
   */
  stateFile?: string;
  /** How often the state file is written while running; 1000 ms. 0: only on stop. */
  stateSaveMs?: number;
  logger?: Logger;
}

export interface ResolvedSimulatorOptions {
  readonly host: string;
  readonly port: number;
  readonly controlHost: string;
  readonly controlPort: number | false;
  readonly systemId: string;
  readonly credentials: readonly SimulatorCredentials[];
  readonly idFormat: IdFormat;
  readonly tps: number;
  readonly tpsBurst: number;
  readonly tpsPerBind: number;
  readonly tpsPerBindBurst: number;
  readonly responseDelayMs: number;
  readonly receiptDelayMs: { readonly minMs: number; readonly maxMs: number };
  readonly receiptMix: ReceiptMix;
  readonly receiptForm: ReceiptForm;
  readonly receiptIdFormat: ReceiptIdFormat;
  readonly receiptIntermediate: boolean;
  readonly intermediateEsmClass: number;
  readonly receiptBeforeResponse: boolean;
  readonly receiptBeforeResponseMaxWaitMs: number;
  readonly receiptRetryMs: number;
  readonly responseTimeoutMs: number;
  readonly window: number;
  readonly enquireLinkIntervalMs: number;
  readonly pickReceiptStat: ((arrival: Arrival) => ReceiptStat | undefined) | undefined;
  readonly rejectSubmit: ((arrival: Arrival) => number | undefined) | undefined;
  readonly handset: HandsetOptions | false;
  readonly replyConcatenation: Concatenation;
  readonly defaultAlphabet: DefaultAlphabet;
  readonly keep: number;
  readonly tickMs: number;
  readonly seed: number | undefined;
  readonly stateFile: string | undefined;
  readonly stateSaveMs: number;
  readonly logger: Logger;
}

/** Options fixed for the simulator's life: `setOptions` refuses to change them. */
export const FIXED_OPTIONS = ['host', 'port', 'controlHost', 'controlPort', 'tickMs', 'seed', 'stateFile', 'logger'] as const;

function bad(option: string, reason: string): ParleyError {
  return new ParleyError('invalid_simulator_option', `simulator option ${option} ${reason}`);
}

const MAX_RATE = 10_000_000;

function num(min: number, max = Number.MAX_SAFE_INTEGER, integer = true): z.ZodNumber {
  const kind = integer ? 'an integer' : 'a number';
  const schema = z.number({
    // Checks (min, max) without a message of their own fall back to this map.
    error: (issue) => ((issue.code as string) === 'too_small' || (issue.code as string) === 'too_big' ? `must be within ${min}..${max}, got ${String(issue.input)}` : `must be ${kind}, got ${JSON.stringify(issue.input)}`),
  });
  return (integer ? schema.int({ abort: true }) : schema).min(min).max(max);
}

const bool = (): z.ZodBoolean => z.boolean({ error: (issue) => `must be true or false, got ${JSON.stringify(issue.input)}` });

const oneOf = <const T extends string>(allowed: readonly T[]): z.ZodType<T, T> =>
  z.enum(allowed as readonly [T, ...T[]], { error: (issue) => `must be one of ${allowed.join(', ')}, got ${JSON.stringify(issue.input)}` });

const str = (maxLength = 255): z.ZodString => z.string({ error: `must be a string of at most ${maxLength} characters` }).max(maxLength);

const fn = <F>(): z.ZodType<F, F> => z.custom<F>((v) => typeof v === 'function', { error: 'must be a function' });

/** A checker of the module that owns the value (`checkReceiptMix`, `checkHandsetOptions`): its reason is the problem. */
const checkedBy = <T>(check: (value: T) => string | undefined, shape: string): z.ZodType<T, T> =>
  z.custom<T>((v) => typeof v === 'object' && v !== null, { error: `must be ${shape}` }).superRefine((value, ctx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const DAY_MS = 86_400_000;
/** Milliseconds, or a range `[minMs, maxMs]` (also `{ minMs, maxMs }`, as `describeOptions` prints it). */
const delay = z
  .union([num(0, DAY_MS), z.tuple([num(0, DAY_MS), num(0, DAY_MS)]), z.object({ minMs: num(0, DAY_MS), maxMs: num(0, DAY_MS) })], {
    error: 'must be milliseconds or a [minMs, maxMs] range',
  })
  .transform((value, ctx) => {
    const [minMs, maxMs] = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : [value.minMs, value.maxMs];
    if (maxMs < minMs) ctx.addIssue({ code: 'custom', message: `range [${minMs}, ${maxMs}] ends before it starts` });
    return { minMs, maxMs };
  });

const handsetOptions = checkedBy<HandsetOptions>((handset) => {
  const problem = checkHandsetOptions(handset);
  if (problem) return problem;
  if (handset.concatenation !== undefined && !(CONCATENATIONS as readonly string[]).includes(handset.concatenation)) {
    return `concatenation must be one of ${CONCATENATIONS.join(', ')}, got ${JSON.stringify(handset.concatenation)}`;
  }
  return undefined;
}, 'the handset options');

const logger = z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).info === 'function' && typeof (v as Logger).child === 'function', {
  error: 'must implement the Logger interface',
});

/** The simulator's options: what each accepts and its default. Unknown options are refused. */
const SIMULATOR_OPTIONS = z
  .strictObject({
    host: str().default('127.0.0.1'),
    port: num(0, 65_535).default(0),
    controlHost: str().default('127.0.0.1'),
    controlPort: z.union([z.literal(false), num(0, 65_535)], { error: 'must be a port (0 for any free one) or false' }).default(0),
    systemId: str(15).default('parley-sim'),
    credentials: z
      .array(
        z
          .object({ systemId: z.string({ error: 'must be a string' }), password: z.string({ error: 'must be a string' }) }, { error: 'must be { systemId: string, password: string }' })
          .refine((c) => c.systemId.length <= 15 && c.password.length <= 8, { error: 'has a system_id over 15 or a password over 8 characters (SMPP 3.4 limits)' })
          .transform((c) => ({ systemId: c.systemId, password: c.password })),
        { error: 'must be a list of { systemId, password }' },
      )
      .default([]),
    idFormat: oneOf(ID_FORMATS).default('hex'),
    tps: num(0, MAX_RATE, false).default(0),
    tpsBurst: num(1, MAX_RATE).optional(),
    tpsPerBind: num(0, MAX_RATE, false).default(0),
    tpsPerBindBurst: num(1, MAX_RATE).optional(),
    responseDelayMs: num(0, 3_600_000).default(0),
    receiptDelayMs: delay.prefault(100),
    receiptMix: checkedBy<ReceiptMix>(checkReceiptMix, 'a mapping of receipt stat -> weight').default({ DELIVRD: 1 }).transform((mix) => ({ ...mix })),
    receiptForm: oneOf(RECEIPT_FORMS).default('both'),
    receiptIdFormat: oneOf(RECEIPT_ID_FORMATS).default('same'),
    receiptIntermediate: bool().default(false),
    intermediateEsmClass: z.literal([0x04, 0x20], { error: 'must be 0x04 or 0x20' }).default(0x04),
    receiptBeforeResponse: bool().default(false),
    receiptBeforeResponseMaxWaitMs: num(0, 600_000).default(1000),
    receiptRetryMs: num(0, DAY_MS).default(5000),
    responseTimeoutMs: num(10, 3_600_000).default(10_000),
    window: num(1, 100_000).default(100),
    enquireLinkIntervalMs: num(100, DAY_MS).default(30_000),
    pickReceiptStat: fn<(arrival: Arrival) => ReceiptStat | undefined>().optional(),
    rejectSubmit: fn<(arrival: Arrival) => number | undefined>().optional(),
    handset: z.union([z.literal(false), handsetOptions], { error: 'must be false or the handset options' }).default(false),
    replyConcatenation: oneOf(CONCATENATIONS).default('udh8'),
    defaultAlphabet: oneOf<DefaultAlphabet>(['gsm7', 'ascii', 'latin1']).default('gsm7'),
    keep: num(0, MAX_RATE).default(10_000),
    tickMs: num(1, 1000).default(10),
    seed: num(0, 2 ** 32 - 1).optional(),
    stateFile: str().optional(),
    stateSaveMs: num(0, 3_600_000).default(1000),
    logger: logger.default(silentLogger),
  })
  // A burst defaults to one second's worth of the rate, at least 1.
  .transform((o) => ({
    ...o,
    tpsBurst: o.tpsBurst ?? Math.max(1, Math.ceil(o.tps)),
    tpsPerBindBurst: o.tpsPerBindBurst ?? Math.max(1, Math.ceil(o.tpsPerBind)),
    pickReceiptStat: o.pickReceiptStat,
    rejectSubmit: o.rejectSubmit,
    seed: o.seed,
    stateFile: o.stateFile,
  }));

/** `['credentials', 0]` -> `credentials[0]`, as the option is written. */
const optionName = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((name, part) => (typeof part === 'number' ? `${name}[${part}]` : name === '' ? String(part) : `${name}.${String(part)}`), '');

/** Fills defaults and validates; the first problem is thrown, naming the option. */
export function resolveSimulatorOptions(input: SimulatorOptions = {}): ResolvedSimulatorOptions {
  if (typeof input !== 'object' || input === null) throw bad('(all)', 'must be an object');
  const result = SIMULATOR_OPTIONS.safeParse(input);
  if (!result.success) {
    const [issue] = result.error.issues;
    if (issue === undefined) throw bad('(all)', 'are not valid');
    if (issue.code === 'unrecognized_keys') throw bad(issue.keys[0] ?? '(all)', 'is not an option of the simulator');
    throw bad(optionName(issue.path), issue.message);
  }
  return Object.freeze(result.data satisfies ResolvedSimulatorOptions);
}

/** The options as JSON can carry them (functions named, patterns as /source/flags, passwords redacted). */
export function describeOptions(resolved: ResolvedSimulatorOptions): Record<string, unknown> {
  const { logger: _logger, pickReceiptStat, rejectSubmit, handset, credentials, ...rest } = resolved;
  return {
    ...rest,
    credentials: credentials.map((c) => ({ systemId: c.systemId, password: '***' })),
    pickReceiptStat: pickReceiptStat ? 'function' : undefined,
    rejectSubmit: rejectSubmit ? 'function' : undefined,
    handset:
      handset === false
        ? false
        : {
            ...handset,
            rules: (handset.rules ?? []).map((r) => ({
              match: r.match instanceof RegExp ? `/${r.match.source}/${r.match.flags}` : r.match,
              reply: typeof r.reply === 'function' ? 'function' : r.reply,
              delayMs: r.delayMs ?? 0,
            })),
          },
  };
}

/** The session timers of the simulator's SMPP sessions (a silent peer is given at least 45 s). */
export function sessionTimersOf(opts: ResolvedSimulatorOptions): SessionOptions['timers'] {
  return {
    windowSize: opts.window,
    responseTimeoutMs: opts.responseTimeoutMs,
    enquireLinkIntervalMs: opts.enquireLinkIntervalMs,
    silentPeerTimeoutMs: Math.max(45_000, opts.enquireLinkIntervalMs + 15_000),
  };
}
