/**
 * The one place a submit's result becomes a decision (courier's sender.go): accepted, throttled,
 * retry later, failed for good, or uncertain (it may have reached the SMSC).
 */
import { commandStatusInfo } from '../smpp/command-status.ts';
import type { SubmitResult } from '../smpp/smsc-bind.ts';
import type { ErrorCode } from '../domain/error-code.ts';

/** `error` says why; for an SMSC's refusal it names the command_status (domain/error-code.ts). */
export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly smscMessageId: string }
  | { readonly kind: 'throttled'; readonly status: string }
  | { readonly kind: 'retry'; readonly error: ErrorCode; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: ErrorCode; readonly reason: string }
  /** Sent, but no usable response: the SMSC may or may not have it. */
  | { readonly kind: 'uncertain'; readonly error: ErrorCode; readonly reason: string }
  /** Never left: no bind, full window. Send again without a duplicate flag. */
  | { readonly kind: 'not_sent'; readonly reason: string };

export function classifySubmit(result: SubmitResult): SubmitOutcome {
  if (result.kind === 'response') {
    const info = commandStatusInfo(result.commandStatus);
    switch (info.policy) {
      case 'accepted':
        return { kind: 'accepted', smscMessageId: result.smscMessageId };
      case 'throttled':
        return { kind: 'throttled', status: info.name };
      case 'retry':
        return { kind: 'retry', error: { code: 'smsc_rejected', commandStatus: info.name }, reason: info.description };
      case 'permanent':
        return { kind: 'failed', error: { code: 'smsc_rejected', commandStatus: info.name }, reason: info.description };
    }
  }
  switch (result.code) {
    case 'not_bound':
    case 'window_full':
      return { kind: 'not_sent', reason: result.reason };
    case 'encode_failed':
      return { kind: 'failed', error: { code: 'encode_failed' }, reason: result.reason };
    case 'generic_nack':
      return { kind: 'retry', error: { code: 'generic_nack' }, reason: result.reason };
    default:
      return { kind: 'uncertain', error: { code: result.code }, reason: result.reason };
  }
}
