/** `parley check-bind`: binds to an SMSC once with the configured credentials and reports what it answered. */
import { readFileSync } from 'node:fs';
import { CliFailure, CONFIG_OPTION, EXIT, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from '../common.ts';
import { json } from './connections.ts';

export interface CheckBindArgs extends ConfigArgs {
  readonly smsc: string;
  readonly json?: boolean | undefined;
}

/** Binds once with the SMSC's configured credentials, asks for an enquire_link, unbinds. */
export async function runCheckBind(args: CheckBindArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const smsc = config.smscs.find((s) => s.name === args.smsc);
  if (!smsc) throw new CliFailure(`no SMSC named ${JSON.stringify(args.smsc)} (smscs: ${config.smscs.map((s) => s.name).join(', ')})`, EXIT.usage);
  const [{ connectSession }, { SmppSessionError }, { commandStatusName }] = await Promise.all([
    import('../../smpp/connection.ts'),
    import('../../smpp/session.ts'),
    import('../../smpp/command-status.ts'),
  ]);
  const type = smsc.bind === 'transceiver' ? 'transceiver' : 'transmitter';
  const where = `${smsc.host}:${smsc.port}${smsc.tls.enabled ? ' (TLS)' : ''}`;
  const steps: { step: string; ok: boolean; detail: string; ms: number }[] = [];
  const t0 = performance.now();
  const step = (name: string, ok: boolean, detail: string): void => {
    steps.push({ step: name, ok, detail, ms: Math.round(performance.now() - t0) });
  };
  try {
    const session = await connectSession(
      {
        host: smsc.host,
        port: smsc.port,
        connectTimeoutMs: smsc.connectTimeoutMs,
        tls: smsc.tls.enabled
          ? { ca: smsc.tls.caFile ? readFileSync(smsc.tls.caFile) : undefined, servername: smsc.tls.servername ?? smsc.host, rejectUnauthorized: smsc.tls.rejectUnauthorized }
          : undefined,
      },
      { timers: { bindTimeoutMs: smsc.bindTimeoutMs, responseTimeoutMs: smsc.responseTimeoutMs, enquireLinkIntervalMs: 3_600_000 } },
    );
    step('connect', true, `connected to ${where}`);
    try {
      try {
        const resp = await session.bind(type, { system_id: smsc.systemId, password: smsc.password, system_type: smsc.systemType });
        step('bind', true, `bound as ${type} (system_id ${smsc.systemId}); the SMSC calls itself ${JSON.stringify(resp.system_id ?? '')}`);
      } catch (e) {
        const status = e instanceof SmppSessionError && e.commandStatus !== undefined ? commandStatusName(e.commandStatus) : (e as Error).message;
        const hint = /RINVPASWD|RINVSYSID|RBINDFAIL/.test(status) ? ': check system_id and password' : /RALYBND/.test(status) ? ': the account is bound already (its bind limit is reached)' : '';
        step('bind', false, `the SMSC refused the ${type} bind with ${status}${hint}`);
        return report();
      }
      const link = await session.request('enquire_link', {});
      step('enquire_link', link.command_status === 0, `enquire_link answered with ${commandStatusName(link.command_status)}`);
      await session.unbind(2_000);
      step('unbind', true, 'unbound');
    } finally {
      session.close();
    }
  } catch (e) {
    step(steps.length === 0 ? 'connect' : 'session', false, (e as Error).message);
  }
  return report();

  function report(): ExitCode {
    const ok = steps.every((s) => s.ok) && steps.some((s) => s.step === 'bind');
    if (args.json) json({ smsc: smsc!.name, address: where, ok, steps });
    else {
      for (const s of steps) out(`${s.ok ? 'ok  ' : 'FAIL'} ${String(s.ms).padStart(5)} ms  ${s.step}: ${s.detail}`);
      out(ok ? `SMSC ${smsc!.name} accepts Parley's bind` : `SMSC ${smsc!.name}: the bind check failed`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  }
}

export const checkBindCommand: CliCommand<CheckBindArgs> = {
  command: 'check-bind <smsc>',
  describe: "bind once to an SMSC with its configured credentials, enquire_link, unbind, and say what happened",
  builder: (y) =>
    y
      .positional('smsc', { type: 'string', describe: "the SMSC's name in the config" })
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', describe: 'print JSON' }) as never,
  run: runCheckBind,
};
