import { describe, expect, it } from 'vitest';
import { classifySubmit } from '../../../src/outbound/submit-outcome.ts';
import { formatErrorCode, type ErrorCode } from '../../../src/domain/error-code.ts';
import type { SubmitResult } from '../../../src/smpp/smsc-bind.ts';

describe('a submit result as a decision', () => {
  const response = (commandStatus: number): SubmitResult => ({ kind: 'response', commandStatus, smscMessageId: 'abc' });
  const failed = (code: 'connection_closed' | 'response_timeout' | 'window_full' | 'not_bound' | 'generic_nack' | 'encode_failed'): SubmitResult =>
    ({ kind: 'failed', code, reason: code }) as SubmitResult;

  it.each([
    ['ESME_ROK', response(0x00), { kind: 'accepted', smscMessageId: 'abc' }],
    ['ESME_RTHROTTLED', response(0x58), { kind: 'throttled', status: 'ESME_RTHROTTLED' }],
    ['ESME_RMSGQFUL', response(0x14), { kind: 'throttled', status: 'ESME_RMSGQFUL' }],
    ['ESME_RSYSERR', response(0x08), { kind: 'retry', error: { code: 'smsc_rejected', commandStatus: 'ESME_RSYSERR' } }],
    ['ESME_RINVDSTADR', response(0x0b), { kind: 'failed', error: { code: 'smsc_rejected', commandStatus: 'ESME_RINVDSTADR' } }],
    ['not bound', failed('not_bound'), { kind: 'not_sent' }],
    ['window full', failed('window_full'), { kind: 'not_sent' }],
    ['encode failed', failed('encode_failed'), { kind: 'failed', error: { code: 'encode_failed' } }],
    ['generic_nack', failed('generic_nack'), { kind: 'retry', error: { code: 'generic_nack' } }],
    ['response timeout', failed('response_timeout'), { kind: 'uncertain', error: { code: 'response_timeout' } }],
    ['connection closed', failed('connection_closed'), { kind: 'uncertain', error: { code: 'connection_closed' } }],
  ] as const)('%s -> %j', (_name, result, expected) => {
    expect(classifySubmit(result)).toMatchObject(expected);
  });
});

describe('an error code as stored and published', () => {
  it.each([
    [{ code: 'smsc_rejected', commandStatus: 'ESME_RTHROTTLED' }, 'smsc_rejected:ESME_RTHROTTLED'],
    [{ code: 'response_timeout' }, 'response_timeout'],
    [{ code: 'no_final_receipt' }, 'no_final_receipt'],
  ] as const)('%j -> %s', (error, text) => {
    expect(formatErrorCode(error as ErrorCode)).toBe(text);
  });
});
