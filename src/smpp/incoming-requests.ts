/**
 * The peer's requests that reach the application: each one runs its handler and is answered when
 * the handler's reply settles. A throw or rejection becomes ESME_RX_T_APPN, a temporary error, so
 * the peer retries instead of the message being lost; and while too many are unanswered the socket
 * stops being read, so a slow application cannot be flooded.
 */
import type { CommandName } from './commands.ts';
import { ESME_RX_T_APPN } from './command-status.ts';
import type { SmppSession } from './session.ts';
import type { SessionLink } from './session-link.ts';
import { SETTLED, isThenable } from './session-rules.ts';
import type { IncomingRequest, Reply, SessionHandlers } from './session-types.ts';
import type { Logger } from '../lib/logger.ts';

export class IncomingRequests {
  private unanswered = 0;

  constructor(
    private readonly session: SmppSession,
    private readonly handlers: SessionHandlers,
    private readonly link: SessionLink,
    private readonly incomingWindow: number,
    private readonly log: Logger,
  ) {}

  dispatch(pdu: IncomingRequest, responseCommand: CommandName | undefined, frame: Buffer): void {
    const handler = this.handlers.onRequest;
    this.unanswered++;
    if (this.unanswered >= this.incomingWindow) this.link.pauseReading('incoming');
    const sequence = pdu.sequence_number;
    let reply: Reply | undefined;
    let later: PromiseLike<Reply | void> | undefined;
    try {
      const outcome = handler?.(pdu, this.session, frame);
      if (isThenable(outcome)) later = outcome;
      else reply = outcome ?? undefined;
    } catch (err) {
      reply = this.handlerFailed(err);
    }
    if (later !== undefined) {
      // One promise per asynchronous answer (there were three): the handler's own, adopted.
      void Promise.resolve(later).then(
        (r) => this.settle(responseCommand, sequence, r ?? undefined),
        (err: unknown) => this.settle(responseCommand, sequence, this.handlerFailed(err)),
      );
    } else {
      // A synchronous answer is still sent after the rest of this read is handled, as before.
      // (A reaction on a settled promise: queueMicrotask costs more in Node, an AsyncResource each.)
      // Cannot reject: answer() catches an encode failure and answers ESME_RX_T_APPN; no .catch here,
      // it would cost a second promise per PDU on the hot path.
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
      void SETTLED.then(() => this.settle(responseCommand, sequence, reply));
    }
  }

  /** Runs application code (a bind decision): a throw or rejection becomes ESME_RX_T_APPN. */
  call(fn: () => Promise<Reply | void> | Reply | void): Promise<Reply | undefined> {
    return new Promise<Reply | void>((resolve) => resolve(fn())).then(
      (r) => r ?? undefined,
      (err: unknown) => this.handlerFailed(err),
    );
  }

  private settle(responseCommand: CommandName | undefined, sequence: number, reply: Reply | undefined): void {
    this.unanswered--;
    if (this.link.isPausedFor('incoming') && this.unanswered < this.incomingWindow) this.link.resumeReading('incoming');
    if (responseCommand !== undefined) this.link.answer(responseCommand, sequence, reply ?? {});
  }

  private handlerFailed(err: unknown): Reply {
    this.log.error({ err, peer: this.link.remoteAddress }, 'smpp handler failed; answering ESME_RX_T_APPN');
    return { command_status: ESME_RX_T_APPN };
  }
}
