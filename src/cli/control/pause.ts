/** `parley route|smsc pause|resume|list`: stop and restart sending on a route or to an SMSC, for every daemon. */
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { DAEMON_POLL, json, withDb } from './connections.ts';

export interface PauseArgs extends ConfigArgs {
  readonly action: 'pause' | 'resume' | 'list';
  readonly name?: string | undefined;
  readonly reason?: string | undefined;
  readonly json?: boolean | undefined;
}

function pauseCommand(kind: 'route' | 'smsc'): CliCommand<PauseArgs> {
  const plural = kind === 'route' ? 'routes' : 'SMSCs';
  const run = async (args: PauseArgs): Promise<ExitCode> => {
    const config = loadCliConfig(args);
    const known = kind === 'route' ? config.routes.map((r) => r.name) : config.smscs.map((s) => s.name);
    const ops = await import('../../store/operations.ts');
    if (args.action === 'list') {
      const pauses = (await withDb(config, (db) => ops.listPauses(db))).filter((p) => p.kind === kind);
      const byName = new Map(pauses.map((p) => [p.name, p]));
      const names = [...new Set([...known, ...byName.keys()])];
      if (args.json) {
        json({
          [kind === 'route' ? 'routes' : 'smscs']: names.map((name) => ({
            name,
            paused: byName.has(name),
            paused_at: byName.get(name)?.pausedAt.toISOString() ?? null,
            reason: byName.get(name)?.reason ?? null,
            in_config: known.includes(name),
          })),
        });
        return EXIT.ok;
      }
      for (const name of names) {
        const p = byName.get(name);
        out(`${name}: ${p ? `paused since ${dateTime(p.pausedAt)}${p.reason ? ` (${p.reason})` : ''}` : 'running'}${known.includes(name) ? '' : ' [not in this config]'}`);
      }
      return EXIT.ok;
    }
    const name = args.name;
    if (name === undefined) throw new CliFailure(`parley ${kind} ${args.action}: name the ${kind} (${plural}: ${known.join(', ')})`, EXIT.usage);
    // Resuming a name the config no longer has is allowed: it clears a stale pause.
    if (args.action === 'pause' && !known.includes(name)) {
      throw new CliFailure(`no ${kind} named ${JSON.stringify(name)} in the config (${plural}: ${known.join(', ')})`, EXIT.usage);
    }
    const changed = await withDb(config, (db) => ops.setPaused(db, kind, name, args.action === 'pause', args.reason));
    if (args.action === 'pause') {
      out(changed ? `${kind} ${name} paused: every daemon stops sending on it within ${DAEMON_POLL}; messages stay queued (max_queue_age still applies)` : `${kind} ${name} was already paused`);
    } else {
      out(changed ? `${kind} ${name} resumed: every daemon sends on it again within ${DAEMON_POLL}` : `${kind} ${name} was not paused`);
    }
    return EXIT.ok;
  };
  return {
    command: `${kind} <action> [name]`,
    describe: `pause or resume a ${kind} on every daemon (list: show which are paused)`,
    builder: (y) =>
      y
        .positional('action', { choices: ['pause', 'resume', 'list'] as const, describe: 'what to do' })
        .positional('name', { type: 'string', describe: `the ${kind}'s name in the config` })
        .option('config', CONFIG_OPTION)
        .option('reason', { type: 'string', requiresArg: true, describe: 'with pause: why (shown by list)' })
        .option('json', { type: 'boolean', describe: 'with list: print JSON' }) as never,
    run,
  };
}

export const routeCommand = pauseCommand('route');
export const smscCommand = pauseCommand('smsc');
