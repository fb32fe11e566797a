/**
 * Turns a message into the submit_sm requests one SMSC needs: alphabet and split as that SMSC is
 * configured (what data_coding 0 means, how parts are concatenated), addresses with TON/NPI.
 */
import { splitText } from '../smpp/text/index.ts';
import type { SmppAddress, SubmitRequest } from '../smpp/smsc-bind.ts';
import { addressKind } from '../domain/address.ts';
import type { SmscConfig } from '../config/types.ts';

export type SmscEncoding = Pick<
  SmscConfig,
  'defaultAlphabet' | 'concatenation' | 'sourceTon' | 'sourceNpi' | 'destTon' | 'destNpi'
>;

export interface PlannedSegment {
  /** 1-based, as in the UDH. */
  readonly seq: number;
  readonly total: number;
  readonly request: SubmitRequest;
}

export type SegmentPlan =
  | { readonly ok: true; readonly segments: readonly PlannedSegment[] }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** TON/NPI as most SMSCs expect them when the operator leaves them on auto. */
function tonNpi(address: string, ton: number | 'auto', npi: number | 'auto'): SmppAddress {
  const kind = addressKind(address);
  const auto =
    kind === 'alphanumeric' ? { ton: 5, npi: 0 } : kind === 'short_code' ? { ton: 3, npi: 0 } : { ton: 1, npi: 1 };
  return { address, ton: ton === 'auto' ? auto.ton : ton, npi: npi === 'auto' ? auto.npi : npi };
}

export interface PlanInput {
  readonly to: string;
  readonly from: string;
  readonly text: string;
  readonly dlr: boolean;
  readonly validitySeconds?: number;
}

export function planSegments(message: PlanInput, smsc: SmscEncoding, reference: number): SegmentPlan {
  const split = splitText(message.text, {
    smscDefault: smsc.defaultAlphabet,
    concatenation: smsc.concatenation,
    reference,
  });
  if (!split.ok) return { ok: false, code: split.code, reason: split.reason };
  const source = tonNpi(message.from, smsc.sourceTon, smsc.sourceNpi);
  const destination = tonNpi(message.to, smsc.destTon, smsc.destNpi);
  const total = split.parts.length;
  return {
    ok: true,
    segments: split.parts.map((part, i) => ({
      seq: i + 1,
      total,
      request: {
        source,
        destination,
        dataCoding: split.dataCoding,
        shortMessage: part.shortMessage,
        udhi: part.udhi,
        sar: part.sar,
        payload: part.payload,
        registeredDelivery: message.dlr,
        validitySeconds: message.validitySeconds,
        // Parley's priority orders its own queue; the SMSC's priority_flag can change tariffs,
        // so it is left at 0.
        priority: 0,
      },
    })),
  };
}
