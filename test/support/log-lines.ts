/**
 * A Logger that keeps every line it is given, for tests that check what a daemon logged (and what
 * it did not: secrets, bodies).
 */
import type { Logger } from '../../src/lib/logger.ts';

export interface LogLine {
  readonly level: string;
  /** What `child()` calls on the way added (a component's name, say). */
  readonly bindings: Record<string, unknown>;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

export function recordingLogger(lines: LogLine[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, bindings, obj: obj as Record<string, unknown>, msg });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}
