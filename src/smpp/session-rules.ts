/**
 * SMPP 3.4's session rules as tables: the bind command and bound state of each bind type, which
 * requests a side may receive in each state (and the status that refuses the rest), each request's
 * response command, and which handler replies can be answered without building a response PDU.
 */
import { COMMAND_IDS, UNANSWERED_REQUESTS, isResponseId, type CommandName } from './commands.ts';
import { ESME_RALYBND, ESME_RINVBNDSTS, ESME_RINVCMDID, ESME_ROK } from './command-status.ts';
import type { BindPdu, BindType, Reply, SessionMode, SessionState } from './session.ts';

export const BIND_COMMAND: Record<BindType, BindPdu['command']> = {
  transmitter: 'bind_transmitter',
  receiver: 'bind_receiver',
  transceiver: 'bind_transceiver',
};

export const BOUND_STATE: Record<BindPdu['command'], SessionState> = {
  bind_transmitter: 'bound_tx',
  bind_receiver: 'bound_rx',
  bind_transceiver: 'bound_trx',
};

export function isBound(state: SessionState): boolean {
  return state === 'bound_tx' || state === 'bound_rx' || state === 'bound_trx';
}

/**
 * Which requests a side may receive in a state (SMPP 3.4 2.3 and 4.x "sent by"). Anything else is
 * answered ESME_RINVBNDSTS; a request valid in no state of this mode is ESME_RINVCMDID.
 */
export function incomingStatus(mode: SessionMode, state: SessionState, command: CommandName): number {
  if (command === 'enquire_link') return ESME_ROK;
  if (command === 'unbind') return isBound(state) ? ESME_ROK : ESME_RINVBNDSTS;
  if (command === 'generic_nack') return ESME_ROK;
  if (mode === 'server') {
    switch (command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        return state === 'open' ? ESME_ROK : ESME_RALYBND;
      case 'submit_sm':
      case 'query_sm':
        return state === 'bound_tx' || state === 'bound_trx' ? ESME_ROK : ESME_RINVBNDSTS;
      case 'data_sm':
        return isBound(state) ? ESME_ROK : ESME_RINVBNDSTS;
      default:
        return ESME_RINVCMDID;
    }
  }
  switch (command) {
    case 'outbind':
      return state === 'open' ? ESME_ROK : ESME_RINVBNDSTS;
    case 'deliver_sm':
    case 'alert_notification':
      return state === 'bound_rx' || state === 'bound_trx' ? ESME_ROK : ESME_RINVBNDSTS;
    case 'data_sm':
      return isBound(state) ? ESME_ROK : ESME_RINVBNDSTS;
    default:
      return ESME_RINVCMDID;
  }
}

/**
 * The message_id ('' when absent) of a reply that is a plain object holding nothing but a string
 * message_id and a numeric command_status, each optional; undefined for any other reply. Such a
 * reply is answered without building the response PDU (see `answer`).
 */
export function simpleReplyMessageId(reply: Reply): string | undefined {
  if (Object.getPrototypeOf(reply) !== Object.prototype || reply.tlvs !== undefined) return undefined;
  let messageId = '';
  for (const key in reply) {
    if (key === 'message_id') {
      const v = reply.message_id;
      if (typeof v === 'string') messageId = v;
      else if (v !== undefined) return undefined;
    } else if (key !== 'command_status' || (reply.command_status !== undefined && typeof reply.command_status !== 'number')) {
      return undefined;
    }
  }
  return messageId;
}

export const SETTLED = Promise.resolve();

export function isThenable(v: unknown): v is PromiseLike<Reply | void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Each request's response command; a response or a request answered by no PDU has none. */
const RESPONSE_COMMAND = new Map<CommandName, CommandName>(
  (Object.keys(COMMAND_IDS) as CommandName[])
    .filter((command) => !isResponseId(COMMAND_IDS[command]) && !UNANSWERED_REQUESTS.has(command))
    .map((command) => [command, `${command}_resp` as CommandName]),
);

export function responseCommandOf(command: CommandName): CommandName | undefined {
  // From a table: a name built per call is a fresh, uninternalized string, slow as a key later.
  return RESPONSE_COMMAND.get(command);
}
