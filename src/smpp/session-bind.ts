/**
 * A session's state machine: open, binding, bound (tx, rx or trx), unbinding, closed. A client
 * binds and unbinds; a server answers the peer's bind with the application's decision. Every change
 * is logged and reported to the application's onStateChange.
 */
import type { CommandName } from './commands.ts';
import { ESME_ROK, commandStatusName } from './command-status.ts';
import type { InFlightWindow } from './in-flight-window.ts';
import type { IncomingRequests } from './incoming-requests.ts';
import type { BindFields, Pdu, PduOf } from './pdu.ts';
import { SMPP_VERSION_34 } from './pdu.ts';
import type { SmppSession } from './session.ts';
import type { SessionLink } from './session-link.ts';
import { BIND_COMMAND, BOUND_STATE, isBound } from './session-rules.ts';
import { SmppSessionError, type BindPdu, type BindType, type Reply, type SessionHandlers, type SessionMode, type SessionState } from './session-types.ts';
import type { Logger } from '../lib/logger.ts';
import { orTimeout } from '../lib/timeout.ts';

export class SessionBind {
  private value: SessionState = 'open';

  constructor(
    private readonly session: SmppSession,
    private readonly mode: SessionMode,
    private readonly window: InFlightWindow,
    private readonly link: SessionLink,
    private readonly incoming: IncomingRequests,
    private readonly handlers: SessionHandlers,
    private readonly log: Logger,
  ) {}

  get state(): SessionState {
    return this.value;
  }

  /** Client mode: binds and resolves with bind_resp; rejects with bind_refused on a non-zero status. */
  async bind(type: BindType, fields: Partial<BindFields> & Pick<BindFields, 'system_id' | 'password'>): Promise<PduOf<'bind_transceiver_resp'>> {
    if (this.mode !== 'client') throw new SmppSessionError('not_bound', 'only a client session binds');
    if (this.value !== 'open') throw new SmppSessionError('not_bound', `cannot bind while ${this.value}`);
    const command = BIND_COMMAND[type];
    this.set('binding');
    let resp: Pdu;
    try {
      resp = await this.session.request(command, {
        system_type: '',
        interface_version: SMPP_VERSION_34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
        ...fields,
      });
    } catch (err) {
      // A generic_nack is a refusal as definite as a bind_resp with an error: the link is open and
      // may bind again. A timeout or an unreadable answer leaves the peer's view unknown, so the
      // session stays 'binding' until the bind timer closes it.
      if (err instanceof SmppSessionError && err.code === 'generic_nack' && (this.value as SessionState) === 'binding') {
        this.set('open');
      }
      throw err;
    }
    if (resp.command_status !== ESME_ROK) {
      const name = commandStatusName(resp.command_status);
      this.set('open');
      throw new SmppSessionError('bind_refused', `${command} refused: ${name}`, resp.command_status);
    }
    this.set(BOUND_STATE[command]);
    return resp as PduOf<'bind_transceiver_resp'>;
  }

  /** Sends unbind, waits up to `timeoutMs` for unbind_resp, then closes the socket. */
  async unbind(timeoutMs = 1000): Promise<void> {
    if (this.value === 'closed') return;
    if (isBound(this.value)) {
      const answered = this.session.request('unbind', {}).then(
        () => undefined,
        () => undefined,
      );
      this.set('unbinding');
      await orTimeout(answered, timeoutMs, undefined);
    }
    this.session.close('unbound', 'unbind');
  }

  set(next: SessionState): void {
    const previous = this.value;
    if (previous === next) return;
    this.value = next;
    this.log.info({ from: previous, to: next, mode: this.mode, peer: this.link.remoteAddress }, 'smpp session state');
    if (isBound(next)) this.window.releaseWaiters();
    this.safely('onStateChange', () => this.handlers.onStateChange?.(next, previous, this.session));
  }

  onBindRequest(pdu: BindPdu): void {
    this.set('binding');
    const decide = this.handlers.onBind
      ? this.incoming.call(() => this.handlers.onBind!(pdu, this.session))
      : Promise.resolve<Reply | undefined>({ command_status: ESME_ROK });
    decide.then((reply) => {
      if (this.value === 'closed') return;
      const status = this.link.answer(`${pdu.command}_resp` as CommandName, pdu.sequence_number, {
        system_id: reply?.system_id ?? 'parley',
        ...reply,
        command_status: reply?.command_status ?? ESME_ROK,
      });
      this.set(status === ESME_ROK ? BOUND_STATE[pdu.command] : 'open');
    }).catch((err: unknown) => this.log.error({ err, peer: this.link.remoteAddress }, 'answering a bind failed'));
  }

  safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, handler: what }, 'smpp handler threw');
    }
  }
}
