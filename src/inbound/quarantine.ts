/**
 * The set-aside action of the inbound pipelines: a deliver_sm whose receipt or part the store
 * refused as poison is kept whole with the reason, and then answered like any stored one, so the
 * SMSC stops resending it and the deliver_sm behind it are not held up.
 */
import { describeError } from '../lib/errors.ts';
import type { InboundSm } from '../smpp/smsc-bind.ts';
import type { QuarantinedPdu } from '../domain/quarantine.ts';

export type Quarantine = (pdu: QuarantinedPdu) => Promise<void>;

export function toQuarantined(sm: InboundSm, pipeline: QuarantinedPdu['pipeline'], err: unknown): QuarantinedPdu {
  const tlvs: Record<string, unknown> = {};
  if (sm.receiptedMessageId !== undefined) tlvs.receipted_message_id = sm.receiptedMessageId;
  if (sm.messageState !== undefined) tlvs.message_state = sm.messageState;
  if (sm.networkErrorCode !== undefined) tlvs.network_error_code = sm.networkErrorCode;
  if (sm.sar !== undefined) tlvs.sar = sm.sar;
  const code = (err as { code?: unknown } | null)?.code;
  return {
    pipeline,
    command: sm.command,
    smsc: sm.smsc,
    bind: sm.bind,
    source: sm.source.address,
    destination: sm.destination.address,
    esmClass: sm.esmClass,
    dataCoding: sm.dataCoding,
    shortMessage: sm.shortMessage,
    messagePayload: sm.messagePayload ?? null,
    tlvs: Object.keys(tlvs).length > 0 ? tlvs : null,
    reason: typeof code === 'string' ? `${code}: ${describeError(err)}` : describeError(err),
    frame: sm.frame ?? null,
  };
}
