/**
 * `parley migrate`: creates the database named in `database.url` when it does not exist, applies
 * the pending migrations, and says what it did. `--status` only lists the migrations, applied
 * (with when) or pending, and changes nothing.
 */
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, describeDatabase, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

interface MigrateArgs extends ConfigArgs {
  readonly status?: boolean;
  readonly json?: boolean;
}

/** Lists every migration with its state; creates nothing. */
async function printStatus(url: string, json: boolean): Promise<ExitCode> {
  const { migrationStatus, openDb } = await import('../store/db.ts');
  const db = openDb({ url, poolSize: 1 });
  try {
    const states = await migrationStatus(db);
    const pending = states.filter((s) => s.appliedAt === null);
    if (json) {
      out(JSON.stringify({ migrations: states.map((s) => ({ name: s.name, applied_at: s.appliedAt?.toISOString() ?? null })), pending: pending.length }, null, 2));
      return EXIT.ok;
    }
    for (const s of states) out(`${s.appliedAt ? `applied ${dateTime(s.appliedAt)}` : 'pending                '}  ${s.name}`);
    out(pending.length === 0 ? `${describeDatabase(url)} is up to date` : `${pending.length} migration${pending.length === 1 ? '' : 's'} pending: run \`parley migrate\``);
    return EXIT.ok;
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, url));
  } finally {
    await db.destroy();
  }
}

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

export async function runMigrate(args: MigrateArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  if (args.status) return printStatus(config.database.url, args.json === true);
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

export const migrateCommand: CliCommand<MigrateArgs> = {
  command: 'migrate',
  describe: 'create the database if it is missing, apply database migrations and exit (--status: list them, change nothing)',
  builder: (y) =>
    y
      .option('config', CONFIG_OPTION)
      .option('status', { type: 'boolean', describe: 'list every migration, applied (with when) or pending, and change nothing' })
      .option('json', { type: 'boolean', describe: 'with --status: print JSON' }),
  run: runMigrate,
};
