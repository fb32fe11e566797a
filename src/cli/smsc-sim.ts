/**
 * `parley smsc-sim`: the built-in SMSC simulator in the foreground (binds, receipts, throttling,
 * customer replies), with its HTTP control endpoint, until SIGTERM/SIGINT.
 */
import type { Argv } from 'yargs';
import { RECEIPT_STATS, RUN_DEFAULTS, runSimulator, type DelayOption, type ReceiptMix, type SimulatorOptions } from '../simulator/index.ts';
import { describeError } from '../lib/errors.ts';
import { CliFailure, EXIT, onStopSignals, type CliCommand, type ExitCode } from './common.ts';
import { demoHandset } from './handset-script.ts';

export interface SmscSimArgs {
  readonly host: string;
  readonly port: number;
  readonly controlPort: number;
  readonly control: boolean;
  readonly idFormat: 'hex' | 'decimal' | 'alnum';
  readonly tps: number;
  readonly tpsPerBind: number;
  readonly responseDelay: number;
  readonly receiptDelay: string;
  readonly receiptMix: string;
  readonly receiptForm: 'text' | 'tlv' | 'both';
  readonly receiptIdFormat: 'same' | 'decimal' | 'hex' | 'leading_zeros' | 'uppercase';
  readonly receiptIntermediate: boolean;
  readonly handset: boolean;
  readonly handsetReply?: string | undefined;
  readonly systemId?: string | undefined;
  readonly password?: string | undefined;
  readonly seed?: number | undefined;
  readonly stateFile?: string | undefined;
  readonly logLevel: string;
  readonly summaryInterval: number;
}

/** `DELIVRD=0.9,UNDELIV=0.1` -> `{ DELIVRD: 0.9, UNDELIV: 0.1 }`; the simulator checks the stats and weights. */
export function parseReceiptMix(text: string): ReceiptMix {
  const mix: Record<string, number> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const match = /^([A-Za-z]+)\s*[=:]\s*([0-9]*\.?[0-9]+)$/.exec(item);
    if (!match) throw new CliFailure(`--receipt-mix: ${JSON.stringify(item)} is not STAT=weight (e.g. DELIVRD=0.9,UNDELIV=0.1; stats: ${RECEIPT_STATS.join(', ')})`, EXIT.usage);
    mix[(match[1] ?? '').toUpperCase()] = Number(match[2]);
  }
  return mix as ReceiptMix;
}

/** `500` or a range `200-800` (milliseconds). */
export function parseDelay(text: string): DelayOption {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (range) return [Number(range[1]), Number(range[2])];
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  throw new CliFailure(`--receipt-delay: ${JSON.stringify(text)} is not milliseconds (500) or a range (200-800)`, EXIT.usage);
}

export function simulatorOptionsOf(args: SmscSimArgs): SimulatorOptions {
  if (args.password !== undefined && args.systemId === undefined) throw new CliFailure('--password needs --system-id', EXIT.usage);
  const handset = args.handset || args.handsetReply !== undefined ? demoHandset(args.handsetReply) : false;
  return {
    host: args.host,
    port: args.port,
    controlPort: args.control ? args.controlPort : false,
    idFormat: args.idFormat,
    tps: args.tps,
    tpsPerBind: args.tpsPerBind,
    responseDelayMs: args.responseDelay,
    receiptDelayMs: parseDelay(args.receiptDelay),
    receiptMix: parseReceiptMix(args.receiptMix),
    receiptForm: args.receiptForm,
    receiptIdFormat: args.receiptIdFormat,
    receiptIntermediate: args.receiptIntermediate,
    handset,
    ...(args.systemId === undefined ? {} : { credentials: [{ systemId: args.systemId, password: args.password ?? '' }] }),
    ...(args.seed === undefined ? {} : { seed: args.seed }),
    ...(args.stateFile === undefined ? {} : { stateFile: args.stateFile }),
  };
}

export async function runSmscSim(args: SmscSimArgs): Promise<ExitCode> {
  const options = simulatorOptionsOf(args);
  const { createLogger } = await import('../observability/logger.ts');
  const logger = createLogger({ level: args.logLevel });
  const controller = new AbortController();
  const removeSignals = onStopSignals((signal) => {
    logger.info({ signal }, 'smsc-sim stopping; a second signal exits at once');
    controller.abort();
  });
  try {
    let sim;
    try {
      sim = await runSimulator({ ...options, logger, summaryIntervalMs: args.summaryInterval, signal: controller.signal });
    } catch (e) {
      throw new CliFailure(`smsc-sim: ${describeError(e).replace(/^[a-z_]+: /, '')}`);
    }
    await sim.closed;
    return EXIT.ok;
  } finally {
    removeSignals();
  }
}

export const smscSimCommand: CliCommand<SmscSimArgs> = {
  command: 'smsc-sim',
  describe: 'the built-in SMSC simulator (binds, receipts, throttling, customer replies)',
  // The typings know kebab-case options only as written; yargs also passes them in camelCase, as SmscSimArgs reads them.
  builder: (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', requiresArg: true, describe: 'address to listen on' })
      .option('port', { type: 'number', default: RUN_DEFAULTS.port, requiresArg: true, describe: 'SMPP port' })
      .option('control-port', { type: 'number', default: RUN_DEFAULTS.controlPort, requiresArg: true, describe: 'port of the HTTP control endpoint (stats, arrivals, POST /mo)' })
      .option('control', { type: 'boolean', default: true, describe: 'run the HTTP control endpoint (--no-control to turn it off)' })
      .option('id-format', { choices: ['hex', 'decimal', 'alnum'] as const, default: 'hex' as const, describe: 'form of the message ids in submit_sm_resp' })
      .option('tps', { type: 'number', default: 0, requiresArg: true, describe: 'submits per second accepted over the whole simulator, ESME_RTHROTTLED above (0: unlimited)' })
      .option('tps-per-bind', { type: 'number', default: 0, requiresArg: true, describe: 'submits per second per bind (0: unlimited)' })
      .option('response-delay', { type: 'number', default: 0, requiresArg: true, describe: 'hold every submit_sm_resp this many ms (a slow SMSC)' })
      .option('receipt-delay', { type: 'string', default: '100', requiresArg: true, describe: 'ms from submit to final receipt, or a range such as 200-800' })
      .option('receipt-mix', { type: 'string', default: 'DELIVRD=1', requiresArg: true, describe: `outcome weights of receipts, e.g. DELIVRD=0.9,UNDELIV=0.1 (${RECEIPT_STATS.join(', ')})` })
      .option('receipt-form', { choices: ['text', 'tlv', 'both'] as const, default: 'both' as const, describe: 'where receipts carry id and state' })
      .option('receipt-id-format', {
        choices: ['same', 'decimal', 'hex', 'leading_zeros', 'uppercase'] as const,
        default: 'same' as const,
        describe: 'how receipts spell the id relative to the response',
      })
      .option('receipt-intermediate', { type: 'boolean', default: false, describe: 'send an ENROUTE receipt half-way before the final one' })
      .option('handset', { type: 'boolean', default: false, describe: 'turn on the virtual handset: it answers "Reply YES" with YES and a results notice with thanks' })
      .option('handset-reply', { type: 'string', requiresArg: true, describe: 'the handset answers every other message with this text (turns the handset on)' })
      .option('system-id', { type: 'string', requiresArg: true, describe: 'accept binds only with this system_id (any when absent)' })
      .option('password', { type: 'string', requiresArg: true, describe: 'and this password' })
      .option('seed', { type: 'number', requiresArg: true, describe: 'seed for outcomes and delays (repeatable runs)' })
      .option('state-file', { type: 'string', requiresArg: true, describe: 'keep pending receipts and replies and the id counter in this file across restarts (written every second and on stop, read on start), as a real SMSC keeps its store' })
      .option('log-level', { choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info', describe: 'log level (JSON logs on stdout)' })
      .option('summary-interval', { type: 'number', default: RUN_DEFAULTS.summaryIntervalMs, requiresArg: true, describe: 'ms between summary log lines (0: none)' })
      .example('$0 smsc-sim --receipt-mix DELIVRD=0.9,UNDELIV=0.1 --receipt-delay 200-800 --handset', 'a simulator with some failures and a customer who answers') as unknown as Argv<SmscSimArgs>,
  run: runSmscSim,
};
