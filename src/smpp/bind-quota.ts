/**
 * Carriers cap binds per account. With several daemons, `max_binds` on an SMSC caps the binds all
 * of them hold together: a daemon binds slot i only while it holds a lease on it in Redis, renews
 * its leases on a timer, and a lease of a daemon that died (kill -9) expires after `leaseTtlMs`,
 * so a survivor takes the slot over on its next round.
 *
 * While the lease store does not answer, a daemon keeps the binds it holds and takes no new ones:
 * nobody else can take a lease meanwhile either, and dropping every bind would stop all sending
 * for a Redis restart. A renewal that Redis refuses (the cap is full of others, after Redis lost
 * its memory) stops the slot at once.
 */
import type { Logger } from '../lib/logger.ts';
import { describeError } from '../lib/errors.ts';
import type { SmscPool } from './smsc-pool.ts';

export interface BindLeaseStore {
  lease(smsc: string, members: readonly string[], ttlMs: number, max: number): Promise<boolean>;
  release(smsc: string, members: readonly string[]): Promise<void>;
}

export interface BindQuotaOptions {
  /** This daemon's name: lease members are `<daemon>#<slot>`. */
  readonly daemon: string;
  readonly store: BindLeaseStore;
  /** The capped SMSCs: pool and cap. */
  readonly capped: readonly { readonly pool: SmscPool; readonly maxBinds: number }[];
  readonly leaseTtlMs: number;
  /** Unbind grace for a slot whose lease is lost. */
  readonly graceMs: number;
  readonly logger: Logger;
  /** After each round: SMSC -> slots held by this daemon. */
  onRound?(held: ReadonlyMap<string, number>): void;
}

export class BindQuota {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: BindQuotaOptions) {
    this.log = options.logger.child({ component: 'bind-quota' });
  }

  private members(pool: SmscPool, slot: number): string[] {
    return pool.slotSessions(slot).map((s) => `${this.options.daemon}#${s}`);
  }

  /** Whether this daemon may bind `smsc` at all now: uncapped, or holding a lease on one slot. */
  holdsAny(smsc: string): boolean {
    const c = this.options.capped.find((x) => x.pool.smsc === smsc);
    return c === undefined || c.pool.runningSlots > 0;
  }

  isCapped(smsc: string): boolean {
    return this.options.capped.some((x) => x.pool.smsc === smsc);
  }

  /** Takes what leases it can and starts those binds, then keeps renewing every third of the TTL. */
  async start(): Promise<void> {
    await this.runRound();
    const every = Math.max(100, Math.floor(this.options.leaseTtlMs / 3));
    this.timer = setInterval(() => {
      if (this.round) return;
      this.runRound().catch((err: unknown) => this.log.error({ err: describeError(err) }, 'bind lease round failed; trying again at the next'));
    }, every);
    this.timer.unref();
  }

  private runRound(): Promise<void> {
    this.round = this.renewAll().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async renewAll(): Promise<void> {
    const held = new Map<string, number>();
    for (const { pool, maxBinds } of this.options.capped) {
      for (let i = 0; i < pool.slots; i++) {
        if (this.stopped) return;
        const running = pool.isSlotRunning(i);
        let granted: boolean;
        try {
          granted = await this.options.store.lease(pool.smsc, this.members(pool, i), this.options.leaseTtlMs, maxBinds);
        } catch (err) {
          this.log.warn({ smsc: pool.smsc, slot: i + 1, err: describeError(err) }, 'bind lease store unreachable; keeping the binds held, taking no new ones');
          continue;
        }
        if (granted && !running) {
          this.log.info({ smsc: pool.smsc, slot: i + 1, maxBinds }, 'bind lease taken; binding');
          pool.startSlot(i);
        } else if (!granted && running) {
          this.log.warn({ smsc: pool.smsc, slot: i + 1, maxBinds }, 'bind lease lost to other daemons; unbinding');
          await pool.stopSlot(i, this.options.graceMs);
        }
      }
      held.set(pool.smsc, pool.runningSlots);
    }
    this.options.onRound?.(held);
  }

  /** Stops renewing and gives the leases back so another daemon can bind at once (the binds are stopped by their pools). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    for (const { pool } of this.options.capped) {
      const members: string[] = [];
      for (let i = 0; i < pool.slots; i++) members.push(...this.members(pool, i));
      try {
        await this.options.store.release(pool.smsc, members);
      } catch (err) {
        this.log.warn({ smsc: pool.smsc, err: describeError(err) }, 'could not give bind leases back; they expire on their own');
      }
    }
  }
}
