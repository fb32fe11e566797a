/**
 * classifySubmit: what the dispatcher does with each answer to a submit_sm. Rows follow SMPP 3.4
 * section 5.1.3's meaning of each command_status: ESME_ROK accepted; ESME_RTHROTTLED and
 * ESME_RMSGQFUL mean "slow down", not "this message is bad"; system and transient errors are
 * retried; errors about the message's own fields are final (sending it again gets the same answer).
 */
import { describe, expect, it } from 'vitest';
import { classifySubmit } from '../../../src/outbound/submit-outcome.ts';
import { formatErrorCode, type ErrorCode } from '../../../src/domain/error-code.ts';
import type { SubmitResult } from '../../../src/smpp/smsc-bind.ts';

const response = (commandStatus: number, smscMessageId = ''): SubmitResult => ({ kind: 'response', commandStatus, smscMessageId });

describe('classifySubmit: an SMSC answer (submit_sm_resp command_status)', () => {
  // [command_status, name, outcome]
  const rows: [number, string, string][] = [
    [0x00, 'ESME_ROK', 'accepted'],
    [0x14, 'ESME_RMSGQFUL', 'throttled'],
    [0x58, 'ESME_RTHROTTLED', 'throttled'],
    [0x08, 'ESME_RSYSERR', 'retry'],
    [0x04, 'ESME_RINVBNDSTS', 'retry'],
    [0x45, 'ESME_RSUBMITFAIL', 'retry'],
    [0x64, 'ESME_RX_T_APPN', 'retry'],
    [0xff, 'ESME_RUNKNOWNERR', 'retry'],
    [0x01, 'ESME_RINVMSGLEN', 'failed'],
    [0x0a, 'ESME_RINVSRCADR', 'failed'],
    [0x0b, 'ESME_RINVDSTADR', 'failed'],
    [0x48, 'ESME_RINVSRCTON', 'failed'],
    [0x51, 'ESME_RINVDSTNPI', 'failed'],
    [0x62, 'ESME_RINVEXPIRY', 'failed'],
    [0x65, 'ESME_RX_P_APPN', 'failed'],
    [0x66, 'ESME_RX_R_APPN', 'failed'],
    [0xc2, 'ESME_RINVPARLEN', 'failed'],
  ];
  it.each(rows)('command_status %i %s -> %s', (status, name, kind) => {
    const outcome = classifySubmit(response(status, 'abc'));
    expect(outcome.kind).toBe(kind);
    if (outcome.kind === 'throttled') expect(outcome.status).toBe(name);
    if (outcome.kind === 'retry' || outcome.kind === 'failed') expect(outcome.error).toEqual({ code: 'smsc_rejected', commandStatus: name });
  });

  it('accepted carries the SMSC message_id', () => {
    expect(classifySubmit(response(0, '0a1b2c'))).toEqual({ kind: 'accepted', smscMessageId: '0a1b2c' });
  });

  it.each([
    // 0x400-0x4FF: reserved for SMSC vendors; unknown meaning, so never retried in a loop.
    [0x400, 'smsc_rejected:0x00000400'],
    [0x4ff, 'smsc_rejected:0x000004ff'],
    // Reserved, unassigned in 3.4.
    [0x09, 'smsc_rejected:0x00000009'],
  ])('an unlisted command_status %i fails for good', (status, code) => {
    const outcome = classifySubmit(response(status));
    expect(outcome.kind).toBe('failed');
    expect('error' in outcome ? formatErrorCode(outcome.error) : undefined).toBe(code);
  });
});

describe('classifySubmit: no usable answer', () => {
  const failed = (code: Extract<SubmitResult, { kind: 'failed' }>['code']): SubmitResult => ({ kind: 'failed', code, reason: `because ${code}` });
  // [session error, outcome kind, code]
  const rows: [Extract<SubmitResult, { kind: 'failed' }>['code'], string, string | undefined][] = [
    // Never written to the socket: send again, no duplicate risk.
    ['not_bound', 'not_sent', undefined],
    ['window_full', 'not_sent', undefined],
    // The PDU could not be built: the same message fails the same way again.
    ['encode_failed', 'failed', 'encode_failed'],
    // generic_nack: the SMSC could not parse the PDU (3.4 4.3), so it did not take the message.
    ['generic_nack', 'retry', 'generic_nack'],
    // Written, then no readable submit_sm_resp: the SMSC may have it.
    ['response_timeout', 'uncertain', 'response_timeout'],
    ['connection_closed', 'uncertain', 'connection_closed'],
    ['malformed_response', 'uncertain', 'malformed_response'],
    ['unexpected_response', 'uncertain', 'unexpected_response'],
  ];
  it.each(rows)('%s -> %s', (sessionCode, kind, code) => {
    const outcome = classifySubmit(failed(sessionCode));
    expect(outcome.kind).toBe(kind);
    expect('error' in outcome ? formatErrorCode(outcome.error) : undefined).toBe(code);
    expect(outcome).toMatchObject({ reason: `because ${sessionCode}` });
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
