/**
 * `parley migrate`: creates the database named in `database.url` when it does not exist, applies
 * the pending migrations, and says what it did.
 */
import { CliFailure, CONFIG_OPTION, EXIT, describeDatabase, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

/** What `migrate` did, for callers (the demo) that print it their own way. */
export interface MigrateOutcome {
  readonly created: boolean;
  readonly applied: readonly string[];
}

/** Creates the database when missing and applies every pending migration. Throws a CliFailure. */
export async function migrateDatabase(url: string): Promise<MigrateOutcome> {
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const { ensureDatabase, migrateToLatest, openDb } = await import('../store/db.ts');
  let created: boolean;
  try {
    created = await ensureDatabase(url);
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, url));
  }
  const db = openDb({ url, poolSize: 1 });
  try {
    const applied = await migrateToLatest(db);
    return { created, applied };
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, url));
  } finally {
    await db.destroy();
  }
}

export async function runMigrate(args: ConfigArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const where = describeDatabase(config.database.url);
  const { created, applied } = await migrateDatabase(config.database.url);
  if (created) out(`created ${where}`);
  if (applied.length === 0) {
    out(`${where} is already up to date`);
  } else {
    for (const name of applied) out(`applied ${name}`);
    out(`${where} is up to date (${applied.length} migration${applied.length === 1 ? '' : 's'} applied)`);
  }
  return EXIT.ok;
}

export const migrateCommand: CliCommand<ConfigArgs> = {
  command: 'migrate',
  describe: 'create the database if it is missing, apply database migrations and exit',
  builder: (y) => y.option('config', CONFIG_OPTION),
  run: runMigrate,
};
