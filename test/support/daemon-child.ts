/**
 * A daemon in a process of its own, for tests that must kill it (-9) at a precise moment.
 * Reads PARLEY_TEST_CONFIG (validated config as raw YAML-shaped JSON) and PARLEY_TEST_SCHEMA;
 * prints "ready" once started.
 */
import { buildDaemon } from '../../src/main.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { logSubmitWritesTo } from './wire-times.ts';

// PARLEY_TEST_WIRE_LOG: a file to log each submit_sm written (time and PARLEY_TEST_WIRE_TAG's match).
const wireLog = process.env.PARLEY_TEST_WIRE_LOG ? logSubmitWritesTo(process.env.PARLEY_TEST_WIRE_LOG, new RegExp(process.env.PARLEY_TEST_WIRE_TAG ?? '$^')) : undefined;

const config = validateConfig(JSON.parse(process.env.PARLEY_TEST_CONFIG ?? '{}'));
const daemon = buildDaemon(config, { logger: silentLogger, schema: process.env.PARLEY_TEST_SCHEMA, http: false });
await daemon.service.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void daemon.service.stop().then(() => {
    wireLog?.flush();
    process.exit(0);
  });
});
