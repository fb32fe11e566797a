/**
 * The simulator's options: one function fills the defaults, turns ranges into {minMs, maxMs} and
 * rejects a bad value with a message naming the option (ParleyError 'invalid_simulator_option').
 * `setOptions` goes through the same function, so a change mid-test is validated the same way.
 */
import { ParleyError } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/logger.ts';
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

function num(option: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw bad(option, `must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) throw bad(option, `must be within ${min}..${max}, got ${value}`);
  return value;
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw bad(option, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw bad(option, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function str(option: string, value: unknown, fallback: string, maxLength = 255): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > maxLength) throw bad(option, `must be a string of at most ${maxLength} characters`);
  return value;
}

function delay(option: string, value: unknown, fallback: number): { minMs: number; maxMs: number } {
  if (value === undefined) return { minMs: fallback, maxMs: fallback };
  if (typeof value === 'number') {
    const ms = num(option, value, fallback, 0, 86_400_000);
    return { minMs: ms, maxMs: ms };
  }
  if (Array.isArray(value) && value.length === 2) {
    const minMs = num(`${option}[0]`, value[0], 0, 0, 86_400_000);
    const maxMs = num(`${option}[1]`, value[1], 0, 0, 86_400_000);
    if (maxMs < minMs) throw bad(option, `range [${minMs}, ${maxMs}] ends before it starts`);
    return { minMs, maxMs };
  }
  if (typeof value === 'object' && value !== null && 'minMs' in value && 'maxMs' in value) {
    return delay(option, [(value as { minMs: unknown }).minMs, (value as { maxMs: unknown }).maxMs], fallback);
  }
  throw bad(option, 'must be milliseconds or a [minMs, maxMs] range');
}

function fn<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw bad(option, 'must be a function');
  return value as F;
}

/** Fills defaults and validates. */
export function resolveSimulatorOptions(input: SimulatorOptions = {}): ResolvedSimulatorOptions {
  if (typeof input !== 'object' || input === null) throw bad('(all)', 'must be an object');
  const known = new Set<string>([
    'host', 'port', 'controlHost', 'controlPort', 'systemId', 'credentials', 'idFormat', 'tps', 'tpsBurst', 'tpsPerBind',
    'tpsPerBindBurst', 'responseDelayMs', 'receiptDelayMs', 'receiptMix', 'receiptForm', 'receiptIdFormat',
    'receiptIntermediate', 'intermediateEsmClass', 'receiptBeforeResponse', 'receiptBeforeResponseMaxWaitMs',
    'receiptRetryMs', 'responseTimeoutMs', 'window', 'enquireLinkIntervalMs', 'pickReceiptStat', 'rejectSubmit', 'handset',
    'replyConcatenation', 'defaultAlphabet', 'keep', 'tickMs', 'seed', 'stateFile', 'stateSaveMs', 'logger',
  ]);
  for (const key of Object.keys(input)) if (!known.has(key)) throw bad(key, 'is not an option of the simulator');

  const credentials = input.credentials ?? [];
  if (!Array.isArray(credentials as unknown)) throw bad('credentials', 'must be a list of { systemId, password }');
  for (const [i, c] of credentials.entries()) {
    if (typeof c !== 'object' || c === null || typeof c.systemId !== 'string' || typeof c.password !== 'string') {
      throw bad(`credentials[${i}]`, 'must be { systemId: string, password: string }');
    }
    if (c.systemId.length > 15 || c.password.length > 8) throw bad(`credentials[${i}]`, 'has a system_id over 15 or a password over 8 characters (SMPP 3.4 limits)');
  }
  const receiptMix = input.receiptMix ?? { DELIVRD: 1 };
  const mixProblem = checkReceiptMix(receiptMix);
  if (mixProblem) throw bad('receiptMix', mixProblem);
  const handset = input.handset ?? false;
  if (handset !== false) {
    const problem = checkHandsetOptions(handset);
    if (problem) throw bad('handset', problem);
    if (handset.concatenation !== undefined) oneOf('handset.concatenation', handset.concatenation, CONCATENATIONS, 'udh8');
  }
  const controlPort = input.controlPort === false ? false : num('controlPort', input.controlPort, 0, 0, 65_535);
  const tps = num('tps', input.tps, 0, 0, 10_000_000, false);
  const tpsPerBind = num('tpsPerBind', input.tpsPerBind, 0, 0, 10_000_000, false);
  const logger = input.logger ?? silentLogger;
  if (typeof logger.info !== 'function' || typeof logger.child !== 'function') throw bad('logger', 'must implement the Logger interface');
  const intermediateEsmClass = num('intermediateEsmClass', input.intermediateEsmClass, 0x04, 0, 0xff);
  if (intermediateEsmClass !== 0x04 && intermediateEsmClass !== 0x20) throw bad('intermediateEsmClass', 'must be 0x04 or 0x20');

  return Object.freeze({
    host: str('host', input.host, '127.0.0.1'),
    port: num('port', input.port, 0, 0, 65_535),
    controlHost: str('controlHost', input.controlHost, '127.0.0.1'),
    controlPort,
    systemId: str('systemId', input.systemId, 'parley-sim', 15),
    credentials: credentials.map((c) => ({ systemId: c.systemId, password: c.password })),
    idFormat: oneOf('idFormat', input.idFormat, ID_FORMATS, 'hex'),
    tps,
    tpsBurst: num('tpsBurst', input.tpsBurst, Math.max(1, Math.ceil(tps)), 1, 10_000_000),
    tpsPerBind,
    tpsPerBindBurst: num('tpsPerBindBurst', input.tpsPerBindBurst, Math.max(1, Math.ceil(tpsPerBind)), 1, 10_000_000),
    responseDelayMs: num('responseDelayMs', input.responseDelayMs, 0, 0, 3_600_000),
    receiptDelayMs: delay('receiptDelayMs', input.receiptDelayMs, 100),
    receiptMix: { ...receiptMix },
    receiptForm: oneOf('receiptForm', input.receiptForm, RECEIPT_FORMS, 'both'),
    receiptIdFormat: oneOf('receiptIdFormat', input.receiptIdFormat, RECEIPT_ID_FORMATS, 'same'),
    receiptIntermediate: bool('receiptIntermediate', input.receiptIntermediate, false),
    intermediateEsmClass,
    receiptBeforeResponse: bool('receiptBeforeResponse', input.receiptBeforeResponse, false),
    receiptBeforeResponseMaxWaitMs: num('receiptBeforeResponseMaxWaitMs', input.receiptBeforeResponseMaxWaitMs, 1000, 0, 600_000),
    receiptRetryMs: num('receiptRetryMs', input.receiptRetryMs, 5000, 0, 86_400_000),
    responseTimeoutMs: num('responseTimeoutMs', input.responseTimeoutMs, 10_000, 10, 3_600_000),
    window: num('window', input.window, 100, 1, 100_000),
    enquireLinkIntervalMs: num('enquireLinkIntervalMs', input.enquireLinkIntervalMs, 30_000, 100, 86_400_000),
    pickReceiptStat: fn<ResolvedSimulatorOptions['pickReceiptStat']>('pickReceiptStat', input.pickReceiptStat),
    rejectSubmit: fn<ResolvedSimulatorOptions['rejectSubmit']>('rejectSubmit', input.rejectSubmit),
    handset,
    replyConcatenation: oneOf('replyConcatenation', input.replyConcatenation, CONCATENATIONS, 'udh8'),
    defaultAlphabet: oneOf<DefaultAlphabet>('defaultAlphabet', input.defaultAlphabet, ['gsm7', 'ascii', 'latin1'], 'gsm7'),
    keep: num('keep', input.keep, 10_000, 0, 10_000_000),
    tickMs: num('tickMs', input.tickMs, 10, 1, 1000),
    seed: input.seed === undefined ? undefined : num('seed', input.seed, 0, 0, 2 ** 32 - 1),
    stateFile: input.stateFile === undefined ? undefined : str('stateFile', input.stateFile, ''),
    stateSaveMs: num('stateSaveMs', input.stateSaveMs, 1000, 0, 3_600_000),
    logger,
  });
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
