/**
 * A session's timers, on one ticker: overdue responses fail, and the link is closed when a
 * partial PDU stalls, the bind does not come in time or the peer falls silent. An idle bound link
 * is kept alive with enquire_link.
 */
import type { InFlightWindow } from './in-flight-window.ts';
import type { SmppSession } from './session.ts';
import type { SessionLink } from './session-link.ts';
import type { SessionTimers } from './session-types.ts';
import type { Logger } from '../lib/logger.ts';

export class Keepalive {
  private readonly openedAt = Date.now();
  private enquireOutstanding = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: SmppSession,
    private readonly window: InFlightWindow,
    private readonly link: SessionLink,
    private readonly timers: Readonly<SessionTimers>,
    private readonly log: Logger,
  ) {
    const tick = Math.max(
      5,
      Math.min(
        1000,
        timers.responseTimeoutMs / 4,
        timers.enquireLinkIntervalMs / 4,
        timers.frameTimeoutMs / 4,
        timers.bindTimeoutMs / 4,
        timers.silentPeerTimeoutMs / 4,
      ),
    );
    this.ticker = setInterval(() => this.onTick(), tick);
    this.ticker.unref();
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private onTick(): void {
    const now = Date.now();
    this.window.expire(now);
    const session = this.session;
    if (session.state === 'closed') return;
    const idle = now - this.link.lastReceivedAt;
    const partialSince = this.link.partialSince;
    if (partialSince !== undefined && now - partialSince >= this.timers.frameTimeoutMs) {
      const waited = now - partialSince;
      this.log.warn({ peer: session.remoteAddress, buffered: this.link.bufferedBytes, waitedMs: waited }, 'smpp partial pdu stalled; closing');
      session.close('frame_timeout', `a partial PDU (${this.link.bufferedBytes} octets) was not completed within ${waited} ms`);
      return;
    }
    if (!session.isBound && session.state !== 'unbinding' && now - this.openedAt >= this.timers.bindTimeoutMs) {
      this.log.warn({ peer: session.remoteAddress, state: session.state }, 'smpp not bound in time; closing');
      session.close('bind_timeout', `not bound within ${this.timers.bindTimeoutMs} ms`);
      return;
    }
    if (idle >= this.timers.silentPeerTimeoutMs) {
      this.log.warn({ peer: session.remoteAddress, idleMs: idle }, 'smpp peer silent; closing');
      session.close('silent_peer', `nothing received for ${idle} ms`);
      return;
    }
    if (idle >= this.timers.enquireLinkIntervalMs && !this.enquireOutstanding && session.isBound) {
      this.enquireOutstanding = true;
      // Cleared however the enquire_link ends (answer, nack, malformed answer, timeout), so one
      // bad answer cannot stop the keep-alive for the rest of the session.
      void session
        .request('enquire_link', {})
        .catch((err: unknown) => {
          this.log.debug({ err, peer: session.remoteAddress }, 'smpp enquire_link failed');
        })
        .finally(() => {
          this.enquireOutstanding = false;
        });
    }
  }
}
