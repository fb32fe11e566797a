/**
 * `parley start`: runs the daemon until SIGTERM/SIGINT. The first signal stops it in order (intake,
 * sending, windows drain, unbind, writers flush, connections close; Service caps it at
 * shutdown.force); exit 0 when that was clean, 1 otherwise. A second signal exits at once (130).
 * SIGHUP re-reads the config file and applies what can change without dropping binds.
 */
import { redactConfig } from '../config/index.ts';
import { ParleyError, describeError } from '../lib/errors.ts';
import { installProcessGuard } from '../process-guard.ts';
import { tuneOptimisingCompiler } from '../compiler-tuning.ts';
import type { ParleyConfig } from '../config/index.ts';
import {
  CONFIG_OPTION,
  EXIT,
  err,
  explainDatabaseError,
  isDatabaseError,
  loadCliConfig,
  onStopSignals,
  type CliCommand,
  type ConfigArgs,
  type ExitCode,
} from './common.ts';

export async function runStart(args: ConfigArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  tuneOptimisingCompiler();
  // Loaded here rather than at the top so that every other command starts without them.
  const [{ buildDaemon }, { createLogger }] = await Promise.all([import('../main.ts'), import('../observability/logger.ts')]);
  const logger = createLogger({ level: config.log.level, messageText: config.log.messageText });
  logger.info({ config: redactConfig(config) }, 'parley starting');
  const daemon = buildDaemon(config, { logger });

  let signalled!: (signal: NodeJS.Signals | 'internal_error') => void;
  const stopRequested = new Promise<NodeJS.Signals | 'internal_error'>((resolve) => {
    signalled = resolve;
  });
  // An error nothing handled: counted and logged; when state may be inconsistent, the same
  // orderly stop as a signal, then exit 1 so the supervisor restarts the daemon.
  let failedInternally = false;
  const removeGuard = installProcessGuard({
    logger,
    count: (kind) => daemon.metrics.internalErrors.inc({ kind }),
    stopFailed: () => {
      failedInternally = true;
      signalled('internal_error');
    },
  });
  const removeSignals = onStopSignals(
    (signal) => {
      logger.info({ signal }, 'stop requested; a second signal exits at once');
      signalled(signal);
    },
    (signal) => logger.warn({ signal }, 'second signal: exiting without finishing the stop'),
  );

  // SIGHUP: re-read the file; a file that no longer validates is refused and the running config kept.
  const onHangup = (): void => {
    try {
      const next = loadCliConfig(args);
      const { needsRestart } = daemon.reload(next);
      if (needsRestart.length > 0) logger.warn({ needsRestart }, 'these changes take effect at the next start');
    } catch (e) {
      daemon.metrics.configReloads.inc({ outcome: 'refused' });
      logger.error({ err: describeError(e) }, 'config reload refused; the running config stays');
    }
  };
  process.on('SIGHUP', onHangup);

  try {
    try {
      await daemon.service.start();
    } catch (e) {
      // Service.start has already stopped whatever had started.
      err(`parley start: ${startFailure(e, config)}`);
      return EXIT.failed;
    }
    logger.info({ consumer: daemon.consumer, http: daemon.httpPort ?? null }, 'parley running');
    await stopRequested;
    const result = await daemon.service.stop();
    if (failedInternally) {
      logger.error({ result }, 'parley stopped after an internal error');
      return EXIT.failed;
    }
    if (result === 'clean') {
      logger.info({ result }, 'parley stopped');
      return EXIT.ok;
    }
    logger.error({ result }, 'parley stopped with problems');
    return EXIT.failed;
  } finally {
    removeSignals();
    removeGuard();
    process.off('SIGHUP', onHangup);
  }
}

function startFailure(e: unknown, config: ParleyConfig): string {
  if (e instanceof ParleyError) return e.message;
  const code = (e as { code?: unknown } | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return `cannot listen on http.listen ${config.http.listen.host}:${config.http.listen.port}: ${describeError(e)}`;
  }
  if (isDatabaseError(e)) return explainDatabaseError(e, config.database.url);
  return describeError(e);
}

export const startCommand: CliCommand<ConfigArgs> = {
  command: 'start',
  describe: 'run the daemon until SIGTERM/SIGINT; drains and unbinds on the way out',
  builder: (y) => y.option('config', CONFIG_OPTION),
  run: runStart,
};
