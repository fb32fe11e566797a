/**
 * The simulator's store on disk (`stateFile`): what a real SMSC keeps across a restart of its
 * process, so that a test which restarts "the SMSC" measures the ESME and not a forgetful
 * simulator. Receipts not yet sent (with when they are due), deliver_sm not yet acknowledged
 * (receipts and replies, sent again after the restart: at least once, as an SMSC does), handset
 * replies not yet sent, and the message id counter (ids stay unique, and kept receipts refer to
 * them). Octet fields are kept as base64.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ParleyError, describeError } from '../lib/errors.ts';

export const STATE_VERSION = 1;

export interface PersistedState<Job, Reply, Fields> {
  readonly version: number;
  /** Date.now() when written. */
  readonly savedAtMs: number;
  readonly ids: { readonly counter: number; readonly prefix: string };
  /** Receipts waiting for their delay; `dueAtMs` is epoch milliseconds. */
  readonly receipts: readonly { readonly dueAtMs: number; readonly job: Job }[];
  /** Handset replies waiting for their delay. */
  readonly handset: readonly { readonly dueAtMs: number; readonly reply: Reply }[];
  /** deliver_sm (receipts and replies) queued, in flight or waiting for a retry. */
  readonly deliveries: readonly { readonly kind: 'receipt' | 'reply'; readonly target: string | undefined; readonly fields: Fields }[];
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (Buffer.isBuffer(raw)) return { $base64: raw.toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { $base64?: unknown }).$base64 === 'string') {
    return Buffer.from((value as { $base64: string }).$base64, 'base64');
  }
  return value;
}

/** Writes the state whole or not at all (a temporary file renamed over the old one). */
export function writeState<J, R, F>(file: string, state: PersistedState<J, R, F>): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, replacer));
  renameSync(tmp, file);
}

/** The state in `file`; undefined when there is none yet. */
export function readState<J, R, F>(file: string): PersistedState<J, R, F> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ParleyError('simulator_state_file', `cannot read the simulator state file ${file}: ${describeError(err)}`, { cause: err });
  }
  let state: PersistedState<J, R, F>;
  try {
    state = JSON.parse(text, reviver) as PersistedState<J, R, F>;
  } catch (err) {
    throw new ParleyError('simulator_state_file', `the simulator state file ${file} is not valid JSON (${describeError(err)}); move it away to start empty`, { cause: err });
  }
  if (state.version !== STATE_VERSION || !Array.isArray(state.receipts) || !Array.isArray(state.deliveries) || !Array.isArray(state.handset)) {
    throw new ParleyError('simulator_state_file', `the simulator state file ${file} is not a version ${STATE_VERSION} state; move it away to start empty`);
  }
  return state;
}
