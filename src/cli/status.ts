/**
 * `parley status <id>`: one message as Postgres records it: the message, its segments as the
 * SMSC answered them, the delivery receipts matched to it (raw text, state, when), every status
 * change and the final state, and the customer messages it is linked to: for an auto-reply the
 * reply it answers, for any message the replies that answered it. A timeline, or JSON with `--json`.
 */
import { commandStatusName } from '../smpp/command-status.ts';
import type { LinkedReply, MessageTimeline } from '../domain/timeline.ts';
import { isFinalStatus } from '../domain/status.ts';
import { CliFailure, CONFIG_OPTION, EXIT, dateTime, escapeTerminal, explainDatabaseError, loadCliConfig, out, type CliCommand, type ConfigArgs, type ExitCode } from './common.ts';
import { cliJson } from './json.ts';

export interface StatusArgs extends ConfigArgs {
  readonly id: string;
  readonly json?: boolean | undefined;
}

export async function runStatus(args: StatusArgs): Promise<ExitCode> {
  const config = loadCliConfig(args);
  // Loaded here rather than at the top so that commands without Postgres start without pg and kysely.
  const [{ openDb }, { readMessageTimeline }] = await Promise.all([import('../store/db.ts'), import('../store/timeline.ts')]);
  const db = openDb({ url: config.database.url, poolSize: 2 });
  let timeline: MessageTimeline | undefined;
  try {
    timeline = await readMessageTimeline(db, args.id);
  } catch (e) {
    throw new CliFailure(explainDatabaseError(e, config.database.url));
  } finally {
    await db.destroy();
  }
  if (!timeline) throw new CliFailure(`no message with id ${JSON.stringify(args.id)}`);
  if (args.json) out(escapeTerminal(cliJson(timeline), true));
  else for (const line of formatTimeline(timeline)) out(line);
  return EXIT.ok;
}

const ms = (from: Date, to: Date): string => `${Math.max(0, to.getTime() - from.getTime())} ms`;

/** Lines a person reads: the message, its segments, then its history. */
export function formatTimeline(t: MessageTimeline, indent = ''): string[] {
  const m = t.message;
  const lines: string[] = [];
  // Each line holds carrier and customer data (ids, errors, texts): printed escaped.
  const add = (s: string): void => {
    lines.push(`${indent}${escapeTerminal(s)}`);
  };
  const delivered = m.segments !== null && m.segments > 1 && m.deliveredSegments > 0 ? `, ${m.deliveredSegments}/${m.segments} parts delivered` : '';
  add(`message ${m.id}: ${m.status}${delivered}${m.errorCode ? ` (${m.errorCode}${m.errorReason ? `: ${m.errorReason}` : ''})` : ''}`);
  add(`  to ${m.to}, from ${m.from ?? "(the route's default)"}, route ${m.route || '(none)'}, smsc ${m.smsc ?? '(not yet)'}`);
  add(
    `  priority ${m.priority}, receipts ${m.dlr ? 'requested' : 'not requested'}` +
      (m.validitySeconds === null ? '' : `, validity ${m.validitySeconds}s`) +
      `, dispatch attempts ${m.attempts}` +
      (m.possibleDuplicate ? ', POSSIBLE DUPLICATE' : ''),
  );
  add(`  text (${[...m.text].length} characters${m.segments === null ? '' : `, ${m.segments} part${m.segments === 1 ? '' : 's'}`}): ${JSON.stringify(m.text)}`);
  if (m.expects.length > 0) add(`  expects the replies ${m.expects.join(', ')}`);
  if (m.metadata) add(`  metadata ${JSON.stringify(m.metadata)}`);
  if (m.owner) add(`  being worked on by daemon ${m.owner}`);
  if (m.replyTo !== null) {
    const r = t.answers;
    add(
      r
        ? `  answers the customer's message ${r.id} from ${r.from} (${dateTime(r.receivedAt)}): ${JSON.stringify(r.text)}; ${describeMatch(r)}`
        : `  answers the customer's message ${m.replyTo} (not found)`,
    );
  }
  add('');
  if (t.segments.length === 0) {
    add('  segments: none submitted yet');
  } else {
    add('  segments (one submit_sm each):');
    for (const s of t.segments) {
      const answer =
        s.commandStatus === null ? 'no answer recorded' : `${commandStatusName(s.commandStatus)}${s.respondedAt ? ` after ${ms(s.submittedAt, s.respondedAt)}` : ''}`;
      add(
        `    ${s.seq}/${s.total}  ${s.status.padEnd(8)} smsc ${s.smsc}${s.bind ? ` (${s.bind})` : ''}, carrier id ${s.smscMessageId ?? '-'}, ` +
          `submitted ${dateTime(s.submittedAt)}, ${answer}` +
          (s.attempts > 1 ? `, ${s.attempts} attempts` : '') +
          (s.possibleDuplicate ? ', POSSIBLE DUPLICATE' : '') +
          (s.receiptState ? `; receipt ${s.receiptState}${s.errorCode ? ` err ${s.errorCode}` : ''}${s.finalAt ? ` (final, ${dateTime(s.finalAt)})` : ''}` : ''),
      );
    }
  }
  add('');
  if (t.receipts.length === 0) {
    add(`  receipts: ${m.dlr ? 'none yet' : 'not requested'}`);
  } else {
    add('  receipts (deliver_sm from the SMSC, matched by carrier id):');
    for (const r of t.receipts) {
      add(
        `    ${dateTime(r.receivedAt)}  ${r.seq === null ? '' : `part ${r.seq}: `}${r.state}${r.final ? '' : ' (intermediate)'}` +
          `, carrier id ${r.smscMessageId}${r.errorCode ? `, err ${r.errorCode}` : ''}${r.networkError ? `, network error ${r.networkError}` : ''}` +
          (r.text ? `  ${JSON.stringify(r.text)}` : ''),
      );
    }
  }
  if (t.replies.length > 0) {
    add('');
    add('  replies from the customer that answer it:');
    for (const r of t.replies) {
      add(`    ${dateTime(r.receivedAt)}  ${r.id} from ${r.from}: ${JSON.stringify(r.text)}; ${describeMatch(r)}`);
    }
  }
  add('');
  add('  status history:');
  for (const h of t.history) {
    const detail = h.detail ? Object.entries(h.detail).filter(([, v]) => v !== undefined && v !== null) : [];
    add(
      `    ${dateTime(h.at)}  ${h.previous ? `${h.previous} -> ${h.status}` : h.status}` +
        (detail.length > 0 ? `  (${detail.map(([k, v]) => `${k} ${String(v)}`).join(', ')})` : ''),
    );
  }
  add('');
  add(
    isFinalStatus(m.status)
      ? `  final state: ${m.status}${m.finalAt ? ` at ${dateTime(m.finalAt)}` : ''}${m.errorCode ? ` (${m.errorCode})` : ''}`
      : `  not final yet: ${m.status}${m.status === 'submitted' && m.dlr ? ' (waiting for a final receipt)' : ''}`,
  );
  return lines;
}

/** How a customer message was handled, in a few words. */
export function describeMatch(
  r: Pick<LinkedReply, 'status' | 'matchedKind' | 'keyword' | 'rule' | 'answerMessageId' | 'conversationId'>,
  withConversation = true,
): string {
  if (r.status !== 'handled' || r.matchedKind === null) return 'not handled yet';
  const how =
    r.matchedKind === 'compliance'
      ? `compliance keyword ${r.keyword ?? '?'}`
      : r.matchedKind === 'expected_reply'
        ? `the expected reply ${r.keyword ?? '?'}`
        : r.matchedKind === 'keyword'
          ? `rule ${r.rule ?? '?'}${r.keyword ? ` (keyword ${r.keyword})` : ''}`
          : 'nothing (unmatched)';
  return (
    `matched ${how}` +
    (withConversation && r.conversationId ? `, conversation ${r.conversationId}` : '') +
    (r.answerMessageId ? `, answered by ${r.answerMessageId}` : ', no answer sent')
  );
}

export const statusCommand: CliCommand<StatusArgs> = {
  command: 'status <id>',
  describe: 'the message, its segments and receipts as a timeline (--json for JSON)',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: "the message id (the app's id, or s-<stream entry id>)" })
      .option('config', CONFIG_OPTION)
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a timeline' }),
  run: runStatus,
};
