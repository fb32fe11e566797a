/**
 * A daemon in a process of its own, for tests that must kill it (-9) at a precise moment.
 * Reads PARLEY_TEST_CONFIG (validated config as raw YAML-shaped JSON) and PARLEY_TEST_SCHEMA;
 * prints "ready" once started. PARLEY_TEST_HTTP=1 serves the ops endpoint on the config's
 * `http.listen` (for tests that watch the daemon from outside its event loop).
 */
import { buildDaemon } from '../../src/main.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const config = validateConfig(JSON.parse(process.env.PARLEY_TEST_CONFIG ?? '{}'));
const daemon = buildDaemon(config, { logger: silentLogger, schema: process.env.PARLEY_TEST_SCHEMA, http: process.env.PARLEY_TEST_HTTP === '1' });
await daemon.service.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void daemon.service.stop().then(() => process.exit(0));
});
