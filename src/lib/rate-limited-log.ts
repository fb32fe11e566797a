/**
 * Log lines that a peer can set off at will (one per bad PDU) are limited: at most `burst` lines
 * per message per `intervalMs`; the rest are counted, and the count is said in the next line that
 * goes out (`suppressed: n`) or by `flush()` (when the session closes). A generic_nack storm wrote
 * 20,000 warn lines before (issue 9); now it writes a few, and how many more there were.
 */
import type { Logger } from './logger.ts';

export interface RateLimitedLogOptions {
  /** Lines of one message per interval. Default 10. */
  readonly burst?: number;
  /** Default 10 s. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  level: 'warn' | 'error' | 'info';
}

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly burst: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.burst = options.burst ?? 10;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  warn(obj: object, msg: string): void {
    this.write('warn', obj, msg);
  }

  error(obj: object, msg: string): void {
    this.write('error', obj, msg);
  }

  /** Says how many lines of each message were held back and not yet reported. */
  flush(): void {
    for (const [msg, w] of this.windows) {
      if (w.suppressed > 0) this.log[w.level]({ suppressed: w.suppressed }, `${msg} (${w.suppressed} more suppressed)`);
      w.suppressed = 0;
    }
  }

  private write(level: Window['level'], obj: object, msg: string): void {
    const now = this.now();
    let w = this.windows.get(msg);
    if (w === undefined) this.windows.set(msg, (w = { start: now, logged: 0, suppressed: 0, level }));
    if (now - w.start >= this.intervalMs) {
      w.start = now;
      w.logged = 0;
    }
    if (w.logged >= this.burst) {
      w.suppressed++;
      return;
    }
    w.logged++;
    if (w.suppressed > 0) {
      this.log[level]({ ...obj, suppressed: w.suppressed }, msg);
      w.suppressed = 0;
    } else {
      this.log[level](obj, msg);
    }
  }
}
