import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../../src/lib/rate-limited-log.ts';
import type { Logger } from '../../../src/lib/logger.ts';

function capture(): { log: Logger; lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

describe('RateLimitedLog', () => {
  it('lets `burst` lines of a message through per interval, counts the rest and says so in the next line', () => {
    let now = 0;
    const { log, lines } = capture();
    const limited = new RateLimitedLog(log, { burst: 3, intervalMs: 1_000, now: () => now });
    for (let i = 0; i < 1_000; i++) limited.warn({ i }, 'smpp malformed pdu');
    expect(lines.map((l) => l.obj.i)).toEqual([0, 1, 2]);
    now = 1_000;
    limited.warn({ i: 1_000 }, 'smpp malformed pdu');
    expect(lines[3]).toEqual({ level: 'warn', obj: { i: 1_000, suppressed: 997 }, msg: 'smpp malformed pdu' });
    limited.warn({ i: 1_001 }, 'smpp malformed pdu');
    expect(lines[4]!.obj).toEqual({ i: 1_001 });
  });

  it('limits each message on its own', () => {
    const { log, lines } = capture();
    const limited = new RateLimitedLog(log, { burst: 1, intervalMs: 1_000, now: () => 0 });
    limited.warn({}, 'a');
    limited.warn({}, 'a');
    limited.error({}, 'b');
    expect(lines.map((l) => `${l.level}:${l.msg}`)).toEqual(['warn:a', 'error:b']);
  });

  it('flush says what is still held back, once', () => {
    const { log, lines } = capture();
    const limited = new RateLimitedLog(log, { burst: 1, intervalMs: 60_000, now: () => 0 });
    for (let i = 0; i < 5; i++) limited.warn({}, 'smpp response matches no request');
    limited.flush();
    limited.flush();
    expect(lines.slice(1)).toEqual([{ level: 'warn', obj: { suppressed: 4 }, msg: 'smpp response matches no request (4 more suppressed)' }]);
  });
});
