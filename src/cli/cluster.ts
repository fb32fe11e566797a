/**
 * `parley cluster [--json]`: the daemons sharing this Postgres and Redis, with their heartbeat age
 * and the queued messages each owns, who holds the binds of each SMSC capped by `max_binds`, and
 * each route's global rate now (segments leased across every daemon in the last full second,
 * against the configured rate and any slow-down in force).
 */
import type { ParleyConfig } from '../config/types.ts';
import { CliFailure, CONFIG_OPTION, EXIT, describeRedis, explainDatabaseError, loadCliConfig, out, within, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';
import { cliJson } from './json.ts';

export interface ClusterArgs extends ConfigArgs {
  readonly json?: boolean | undefined;
}

/** A daemon whose heartbeat is older than this is shown as dead (the reclaim horizon of main.ts). */
const DEAD_AFTER_S = 20;
const REDIS_TIMEOUT_MS = 3000;

export interface ClusterReport {
  readonly daemons: readonly { name: string; host: string; pid: number; heartbeatAgeSeconds: number; alive: boolean; ownedQueued: number }[];
  readonly binds: readonly { smsc: string; maxBinds: number | null; holders: readonly { daemon: string; member: string; expiresInMs: number }[] }[];
  readonly routes: readonly { route: string; tps: number; factor: number; rateInForce: number; lastSecond: number }[];
}

export async function readClusterReport(config: ParleyConfig, schema?: string): Promise<ClusterReport> {
  const [{ openDb }, { listDaemons }, { openRedis, closeRedis }, coordination] = await Promise.all([
    import('../store/db.ts'),
    import('../store/daemons.ts'),
    import('../queue/redis.ts'),
    import('../queue/coordination.ts'),
  ]);
  const db = openDb({ url: config.database.url, poolSize: 2, schema });
  let daemons;
  try {
    daemons = await listDaemons(db);
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
  const redis = openRedis({ url: config.redis.url, name: 'parley:cli:cluster', failFastMs: REDIS_TIMEOUT_MS });
  try {
    await within(
      new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()))),
      REDIS_TIMEOUT_MS,
      () => `cannot reach Redis at ${describeRedis(config.redis.url)} within ${REDIS_TIMEOUT_MS / 1000} s`,
    );
    const binds = [];
    for (const smsc of config.smscs) {
      const holders = await coordination.readBindHolders(redis, config.redis.prefix, smsc.name);
      binds.push({ smsc: smsc.name, maxBinds: smsc.maxBinds ?? null, holders });
    }
    const routes = [];
    for (const route of config.routes) {
      const state = await coordination.readBucket(redis, config.redis.prefix, route.name);
      const factor = state?.factor ?? 1;
      routes.push({ route: route.name, tps: route.tps, factor, rateInForce: route.tps * factor, lastSecond: state?.lastSecond ?? 0 });
    }
    return {
      daemons: daemons.map((d) => ({ ...d, heartbeatAgeSeconds: Math.round(d.heartbeatAgeSeconds * 10) / 10, alive: d.heartbeatAgeSeconds < DEAD_AFTER_S })),
      binds,
      routes,
    };
  } finally {
    await closeRedis(redis);
  }
}

export async function runCluster(args: ClusterArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const report = await readClusterReport(config);
  if (args.json) {
    out(cliJson(report));
    return EXIT.ok;
  }
  out(`daemons (${report.daemons.filter((d) => d.alive).length} alive):`);
  if (report.daemons.length === 0) out('  none running');
  for (const d of report.daemons) {
    const binds = report.binds.flatMap((b) => b.holders.filter((h) => h.daemon === d.name).map((h) => `${b.smsc}#${h.member.slice(d.name.length + 1)}`));
    out(
      `  ${d.name}  ${d.host} pid ${d.pid}  heartbeat ${d.heartbeatAgeSeconds}s ago${d.alive ? '' : ' (DEAD: its queued messages are being taken over)'}` +
        `  queued ${d.ownedQueued}${binds.length ? `  leased binds ${binds.join(', ')}` : ''}`,
    );
  }
  out('binds:');
  for (const b of report.binds) {
    if (b.maxBinds === null) {
      out(`  ${b.smsc}: no max_binds (each daemon holds its own binds)`);
      continue;
    }
    out(`  ${b.smsc}: ${b.holders.length} of max_binds ${b.maxBinds} leased${b.holders.length ? ': ' : ''}${b.holders.map((h) => `${h.member} (lease ${(h.expiresInMs / 1000).toFixed(1)}s left)`).join(', ')}`);
  }
  out('routes (across every daemon):');
  for (const r of report.routes) {
    const slowed = r.factor < 1 ? ` slowed to ${r.rateInForce.toFixed(1)}/s by SMSC throttling (factor ${r.factor.toFixed(3)})` : '';
    out(`  ${r.route}: ${r.lastSecond} segments in the last second, limit ${r.tps}/s${slowed}`);
  }
  return EXIT.ok;
}

export const clusterCommand: CliCommand<ClusterArgs> = {
  command: 'cluster',
  describe: "the daemons, their binds and heartbeats, and each route's global rate now (--json for JSON)",
  builder: (y) =>
    y
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' }),
  run: runCluster,
};
