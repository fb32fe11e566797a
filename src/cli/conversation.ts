/**
 * `parley conversation <number>`: the thread with one customer number, as Postgres records it:
 * every message we sent to it and every message it sent us, oldest first, grouped by our number
 * and by conversation, with how each customer message was matched and answered, and the
 * customer's opt-out state per number of ours. `--json` for JSON.
 */
import { normaliseNumber } from '../domain/address.ts';
import type { CustomerThread, OptOutRecord, ThreadConversation, ThreadEntry } from '../domain/customer-thread.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, escapeTerminal, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';
import { describeMatch } from './status.ts';
import { cliJson } from './json.ts';

export interface ConversationArgs extends ConfigArgs {
  readonly number: string;
  readonly json?: boolean | undefined;
  readonly limit?: number | undefined;
}

const DEFAULT_LIMIT = 200;

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

export async function runConversation(args: ConversationArgs): Promise<ExitCode> {
  const customer = normaliseNumber(String(args.number));
  if (customer === undefined) {
    throw new CliFailure(`not a phone number: ${JSON.stringify(args.number)} (E.164 such as +14155550101, or digits)`, EXIT.usage);
  }
  const limit = args.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new CliFailure('--limit must be a whole number of at least 1', EXIT.usage);
  const config = loadCliConfig(args);
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const [{ openDb }, { readCustomerThread }] = await Promise.all([import('../store/db.ts'), import('../store/reports-conversation.ts')]);
  const db = openDb({ url: config.database.url, poolSize: 2 });
  let thread: CustomerThread;
  try {
    thread = await readCustomerThread(db, customer, limit);
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
  if (thread.total === 0 && thread.optOuts.length === 0) {
    throw new CliFailure(`no messages to or from ${customer}: Parley has never exchanged a message with that number`);
  }
  if (args.json) out(escapeTerminal(cliJson(threadJson(thread)), true));
  else for (const line of formatConversation(thread)) out(line);
  return EXIT.ok;
}

/** One of our numbers with the customer: its conversations, their entries, the opt-out state. */
interface NumberThread {
  readonly ourNumber: string;
  readonly optOut: OptOutState;
  readonly conversations: { readonly conversation: ThreadConversation | null; readonly entries: ThreadEntry[] }[];
}

interface OptOutState {
  readonly optedOut: boolean;
  /** The record that decides it: this number's, or the global one ('*'). */
  readonly record: OptOutRecord | null;
}

/** An opt-out for the number or a global one blocks it, as intake checks (store/opt-outs.ts). */
function optOutFor(ourNumber: string, records: readonly OptOutRecord[]): OptOutState {
  const own = records.find((r) => r.scope === ourNumber);
  const global = records.find((r) => r.scope === '*');
  const blocking = [own, global].find((r) => r?.optedOut);
  return { optedOut: blocking !== undefined, record: blocking ?? own ?? global ?? null };
}

/** Groups the entries by our number (in order of first appearance), then by conversation. */
export function groupThread(thread: CustomerThread): NumberThread[] {
  const conversations = new Map(thread.conversations.map((c) => [c.id, c]));
  const numbers = new Map<string, Map<string, ThreadEntry[]>>();
  for (const e of thread.entries) {
    const ours = e.ourNumber ?? '(none)';
    const byConversation = numbers.get(ours) ?? new Map<string, ThreadEntry[]>();
    numbers.set(ours, byConversation);
    const key = e.conversationId ?? '';
    byConversation.set(key, [...(byConversation.get(key) ?? []), e]);
  }
  // Numbers with an opt-out record but nothing in the window still say so.
  for (const o of thread.optOuts) if (o.scope !== '*' && !numbers.has(o.scope)) numbers.set(o.scope, new Map());
  return [...numbers].map(([ourNumber, byConversation]) => ({
    ourNumber,
    optOut: optOutFor(ourNumber, thread.optOuts),
    conversations: [...byConversation]
      .map(([id, entries]) => ({ conversation: conversations.get(id) ?? null, entries }))
      .sort((a, b) => (a.entries[0]?.at.getTime() ?? 0) - (b.entries[0]?.at.getTime() ?? 0)),
  }));
}

function describeOptOut(o: OptOutState): string {
  const r = o.record;
  if (!r) return 'subscribed (never opted out)';
  const scope = r.scope === '*' ? 'every number of ours' : 'this number';
  const by = `${r.keyword ?? '?'} on ${dateTime(r.changedAt)}${r.replyId ? `, message ${r.replyId}` : ''}`;
  return o.optedOut ? `OPTED OUT of ${scope} (${by}): sends to it fail as opted_out` : `subscribed again (${by})`;
}

/** Lines a person reads. */
export function formatConversation(thread: CustomerThread): string[] {
  const lines: string[] = [];
  const outCount = thread.entries.filter((e) => e.direction === 'out').length;
  const inCount = thread.entries.length - outCount;
  lines.push(
    `customer ${thread.customer}: ${plural(thread.total, 'message')}` +
      (thread.entries.length < thread.total ? `, the latest ${thread.entries.length} shown` : '') +
      ` (${outCount} to the customer, ${inCount} from them${thread.entries.length < thread.total ? ' among those shown' : ''}), oldest first`,
  );
  for (const n of groupThread(thread)) {
    lines.push('');
    lines.push(`with our number ${n.ourNumber}: ${describeOptOut(n.optOut)}`);
    for (const { conversation: c, entries } of n.conversations) {
      lines.push(
        c
          ? `  conversation ${c.id}: opened ${dateTime(c.openedAt)}, ${c.expiresAt.getTime() > Date.now() ? 'open until' : 'expired'} ${dateTime(c.expiresAt)}` +
              `${c.state ? `, state ${c.state}` : ''}${Object.keys(c.tags).length > 0 ? `, tags ${JSON.stringify(c.tags)}` : ''}`
          : '  outside any conversation (refused before sending, or sent without one of our numbers)',
      );
      for (const e of entries) lines.push(...formatEntry(e));
    }
  }
  // Customer numbers, texts, tags and keywords come from outside: printed escaped.
  return lines.map((l) => escapeTerminal(l));
}

function formatEntry(e: ThreadEntry): string[] {
  const head = `    ${dateTime(e.at)}  ${e.direction === 'out' ? 'out ->' : 'in  <-'}  ${e.id}`;
  if (e.direction === 'out') {
    const status =
      `${e.status}${e.errorCode ? ` (${e.errorCode})` : ''}` + (e.segments !== null && e.segments > 1 ? `, ${e.segments} parts` : '');
    const notes = [
      e.replyTo ? `answers ${e.replyTo}` : undefined,
      e.expects.length > 0 ? `expects ${e.expects.join('/')}` : undefined,
    ].filter((x) => x !== undefined);
    return [`${head}  ${status}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`, `        ${JSON.stringify(e.text)}`];
  }
  const match = describeMatch(e, false);
  const notes = [
    e.parts > 1 ? `${e.parts} parts${e.incomplete ? ', INCOMPLETE' : ''}` : e.incomplete ? 'INCOMPLETE' : undefined,
    e.inReplyTo ? `in reply to ${e.inReplyTo}` : undefined,
    match,
    e.error ? `error: ${e.error}` : undefined,
  ].filter((x) => x !== undefined);
  return [`${head}  ${notes.join('; ')}`, `        ${JSON.stringify(e.text)}`];
}

/** The JSON form (camelCase, as `parley status --json`): numbers, each with its opt-out state and conversations with their entries. */
function threadJson(thread: CustomerThread): object {
  return {
    customer: thread.customer,
    total: thread.total,
    shown: thread.entries.length,
    numbers: groupThread(thread).map((n) => ({
      ourNumber: n.ourNumber,
      optedOut: n.optOut.optedOut,
      optOut: n.optOut.record,
      conversations: n.conversations.map(({ conversation, entries }) => ({ conversation, entries })),
    })),
    optOuts: thread.optOuts,
  };
}

export const conversationCommand: CliCommand<ConversationArgs> = {
  command: 'conversation <number>',
  describe: 'the thread with one customer number (--json for JSON)',
  builder: (y) =>
    y
      .positional('number', { type: 'string', demandOption: true, describe: 'the customer number, E.164 (+14155550101) or digits' })
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' })
      .option('limit', { type: 'number', requiresArg: true, describe: `show the latest N messages (default ${DEFAULT_LIMIT})` }),
  run: runConversation,
};
