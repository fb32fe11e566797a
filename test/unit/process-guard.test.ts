import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installProcessGuard, type InternalErrorKind } from '../../src/process-guard.ts';
import type { Logger } from '../../src/lib/logger.ts';

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (obj: object, msg?: string) => lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

function guarded() {
  const target = new EventEmitter();
  const counted: InternalErrorKind[] = [];
  const stops: string[] = [];
  const lines: string[] = [];
  const remove = installProcessGuard({
    logger: recordingLogger(lines),
    count: (kind) => counted.push(kind),
    stopFailed: (reason) => stops.push(reason),
    target: target as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
  });
  return { target, counted, stops, lines, remove };
}

describe('process guard', () => {
  it('a connection that died without a listener (57P01, ECONNRESET) is logged and counted; the daemon runs on', () => {
    const g = guarded();
    g.target.emit('uncaughtException', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    g.target.emit('unhandledRejection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(g.counted).toEqual(['uncaught_exception', 'unhandled_rejection']);
    expect(g.stops).toEqual([]);
    expect(g.lines.every((l) => l.startsWith('error '))).toBe(true);
  });

  it('anything else may have corrupted state: counted, logged, and one orderly stop with a failure', () => {
    const g = guarded();
    g.target.emit('uncaughtException', new TypeError("Cannot read properties of undefined (reading 'id')"));
    g.target.emit('unhandledRejection', new Error('second problem while stopping'));
    expect(g.counted).toEqual(['uncaught_exception', 'unhandled_rejection']);
    expect(g.stops).toEqual(["uncaught_exception: Cannot read properties of undefined (reading 'id')"]);
    expect(g.lines.some((l) => l.includes('stopping in order and exiting non-zero'))).toBe(true);
  });

  it('removes its handlers', () => {
    const g = guarded();
    g.remove();
    expect(g.target.listenerCount('uncaughtException')).toBe(0);
    expect(g.target.listenerCount('unhandledRejection')).toBe(0);
  });
});
