/**
 * `parley send`: puts one message on the outbound stream, exactly as an app would (XADD
 * <prefix>outbound * payload <json>), and prints its message id: the `--id` given, else the id
 * intake derives from the stream entry (`s-<entry id>`). The payload is checked first with the
 * daemon's own validation, so a mistake is reported here instead of in the dead-letter stream.
 */
import { parseOutboundPayload } from '../domain/message.ts';
import { streamKeys } from '../queue/keys.ts';
import { CliFailure, CONFIG_OPTION, EXIT, describeRedis, err, loadCliConfig, out, within, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';

export interface SendArgs extends ConfigArgs {
  readonly to: string;
  readonly text: string;
  readonly from?: string | undefined;
  readonly route?: string | undefined;
  readonly priority?: number | undefined;
  readonly id?: string | undefined;
  readonly dlr?: boolean | undefined;
  readonly validity?: number | undefined;
  readonly expiresAt?: string | undefined;
  readonly metadata?: string | undefined;
  readonly replies?: string | undefined;
  readonly conversation?: string | undefined;
}

/** An option whose value is JSON (metadata, replies, conversation), parsed or refused with its name. */
function jsonOption(name: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliFailure(`not sent: --${name} must be JSON, e.g. --${name} '{"order": 1042}'`, EXIT.usage);
  }
}

/** How long `send` waits for Redis before giving up (the connection itself retries forever). */
const REDIS_TIMEOUT_MS = 10_000;

/** The id intake gives a message whose payload has none (see outbound/intake.ts). */
export function messageIdOfEntry(entryId: string): string {
  return `s-${entryId}`;
}

export async function runSend(args: SendArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  const payload: Record<string, unknown> = { to: args.to, text: args.text };
  if (args.id !== undefined) payload.id = args.id;
  if (args.from !== undefined) payload.from = args.from;
  if (args.route !== undefined) payload.route = args.route;
  if (args.priority !== undefined) payload.priority = args.priority;
  if (args.dlr !== undefined) payload.dlr = args.dlr;
  if (args.validity !== undefined) payload.validity = args.validity;
  if (args.expiresAt !== undefined) payload.expires_at = args.expiresAt;
  for (const [name, field, value] of [
    ['metadata', 'metadata', args.metadata],
    ['replies', 'replies', args.replies],
    ['conversation', 'conversation', args.conversation],
  ] as const) {
    const parsedOption = jsonOption(name, value);
    if (parsedOption !== undefined) payload[field] = parsedOption;
  }

  const parsed = parseOutboundPayload(JSON.stringify(payload), () => 'unused');
  if (!parsed.ok) throw new CliFailure(`not sent: ${parsed.problems.map((p) => p.reason).join('\n  ')}`, EXIT.usage);
  if (args.route !== undefined && !config.routes.some((r) => r.name === args.route)) {
    throw new CliFailure(`not sent: no route named ${JSON.stringify(args.route)} (routes: ${config.routes.map((r) => r.name).join(', ')})`, EXIT.usage);
  }

  const keys = streamKeys(config.redis.prefix);
  // Loaded here rather than at the top so that commands without Redis start without ioredis.
  const [{ closeRedis, openRedis }, { addOutbound }] = await Promise.all([import('../queue/redis.ts'), import('../queue/streams.ts')]);
  let lastError: Error | undefined;
  const redis = openRedis({ url: config.redis.url, name: 'parley:cli:send', onError: (e) => (lastError = e) });
  try {
    const entryId = await within(addOutbound(redis, keys, payload), REDIS_TIMEOUT_MS, () =>
      `not sent: Redis at ${describeRedis(config.redis.url)} did not answer within ${REDIS_TIMEOUT_MS / 1000}s` +
      (lastError ? ` (${lastError.message})` : ''),
    );
    err(`queued on ${keys.outbound} as stream entry ${entryId}`);
    out(args.id ?? messageIdOfEntry(entryId));
    return EXIT.ok;
  } finally {
    await closeRedis(redis);
  }
}

export const sendCommand: CliCommand<SendArgs> = {
  command: 'send',
  describe: 'put one message on the outbound stream and print its id',
  builder: (y) =>
    y
      .option('config', CONFIG_OPTION)
      .option('to', { type: 'string', demandOption: true, requiresArg: true, describe: 'destination, E.164 (+14155550101) or digits' })
      .option('text', { type: 'string', demandOption: true, requiresArg: true, describe: 'message text (any Unicode)' })
      .option('from', { type: 'string', requiresArg: true, describe: "sender: long code, short code or alphanumeric id (the route's default when absent)" })
      .option('route', { type: 'string', requiresArg: true, describe: 'force a route by name' })
      .option('priority', { type: 'number', requiresArg: true, choices: [0, 1, 2, 3], describe: 'higher is sent first within a route (default 0)' })
      .option('id', { type: 'string', requiresArg: true, describe: 'idempotency key (at most 64 characters); generated when absent' })
      .option('dlr', { type: 'boolean', describe: 'request delivery receipts (default true; --no-dlr for none)' })
      .option('validity', { type: 'number', requiresArg: true, describe: 'validity period in seconds, passed to the SMSC' })
      .option('expires-at', { type: 'string', requiresArg: true, describe: 'not sent after this ISO 8601 time with a zone (expired if still queued)' })
      .option('metadata', { type: 'string', requiresArg: true, describe: 'JSON object echoed in every event about the message' })
      .option('replies', { type: 'string', requiresArg: true, describe: 'JSON object of expected replies, e.g. \'{"YES": {"reply": "See you then!"}}\'' })
      .option('conversation', { type: 'string', requiresArg: true, describe: 'JSON object { "ttl": seconds, "tags": {...} }' })
      .example('$0 send --to +14155550101 --text "Hello"', 'queue one message; prints its id'),
  run: runSend,
};
