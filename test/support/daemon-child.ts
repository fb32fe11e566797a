/**
 * A daemon in a process of its own, for tests that must kill it (-9) at a precise moment or that
 * check it survives faults of the services under it. Reads PARLEY_TEST_CONFIG (validated config
 * as raw YAML-shaped JSON) and PARLEY_TEST_SCHEMA; prints "ready" once started. With
 * PARLEY_TEST_LOG=<level> it logs JSON to stderr. PARLEY_TEST_HTTP=1 serves the ops endpoint on
 * the config's `http.listen` (for tests that watch the daemon from outside its event loop). The
 * process guard is installed as in `parley start`: an error nothing handled stops the daemon in
 * order and exits 1.
 */
import { buildDaemon } from '../../src/main.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { describeError } from '../../src/lib/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { installProcessGuard } from '../../src/process-guard.ts';
import { logSubmitWritesTo } from './wire-times.ts';

// PARLEY_TEST_WIRE_LOG: a file to log each submit_sm written (time and PARLEY_TEST_WIRE_TAG's match).
const wireLog = process.env.PARLEY_TEST_WIRE_LOG ? logSubmitWritesTo(process.env.PARLEY_TEST_WIRE_LOG, new RegExp(process.env.PARLEY_TEST_WIRE_TAG ?? '$^')) : undefined;

const config = validateConfig(JSON.parse(process.env.PARLEY_TEST_CONFIG ?? '{}'));
const level = process.env.PARLEY_TEST_LOG;
const logger = level ? createLogger({ level, destination: process.stderr }) : silentLogger;
const daemon = buildDaemon(config, { logger, schema: process.env.PARLEY_TEST_SCHEMA, http: process.env.PARLEY_TEST_HTTP === '1' });
installProcessGuard({
  logger,
  count: (kind) => {
    daemon.metrics.internalErrors.inc({ kind });
    // Tests read stderr to check that nothing went unhandled.
    process.stderr.write(`internal error counted: ${kind}\n`);
  },
  stopFailed: (reason) => {
    process.stderr.write(`internal error: ${reason}\n`);
    daemon.service.stop().then(
      () => process.exit(1),
      (err: unknown) => {
        process.stderr.write(`internal error: stopping failed: ${describeError(err)}\n`);
        process.exit(1);
      },
    );
  },
});
await daemon.service.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  daemon.service.stop().then(
    (result) => {
      wireLog?.flush();
      process.exit(result === 'clean' ? 0 : 2);
    },
    (err: unknown) => {
      process.stderr.write(`stopping failed: ${describeError(err)}\n`);
      process.exit(2);
    },
  );
});
