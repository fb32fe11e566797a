/** A deliver_sm or data_sm as Parley reads it (InboundSm): addresses, the message, and the receipt and concatenation TLVs. */
import { ESM_CLASS, type PduOf } from './pdu.ts';
import { readTlv } from './tlv.ts';
import type { InboundSm } from './bind-types.ts';

/** `frame` is the PDU's octets as received, kept for quarantine. */
export function readInboundSm(pdu: PduOf<'deliver_sm'> | PduOf<'data_sm'>, frame: Buffer, smsc: string, bind: string): InboundSm {
  const sarRef = readTlv(pdu.tlvs, 'sar_msg_ref_num');
  const sarTotal = readTlv(pdu.tlvs, 'sar_total_segments');
  const sarSeq = readTlv(pdu.tlvs, 'sar_segment_seqnum');
  const receiptedMessageId = readTlv(pdu.tlvs, 'receipted_message_id');
  return {
    command: pdu.command,
    smsc,
    bind,
    source: { address: pdu.source_addr, ton: pdu.source_addr_ton, npi: pdu.source_addr_npi },
    destination: { address: pdu.destination_addr, ton: pdu.dest_addr_ton, npi: pdu.dest_addr_npi },
    esmClass: pdu.esm_class,
    dataCoding: pdu.data_coding,
    shortMessage: pdu.command === 'deliver_sm' ? pdu.short_message : Buffer.alloc(0),
    udhi: (pdu.esm_class & ESM_CLASS.UDHI) !== 0,
    receiptedMessageId,
    messageState: readTlv(pdu.tlvs, 'message_state'),
    networkErrorCode: readTlv(pdu.tlvs, 'network_error_code'),
    messagePayload: readTlv(pdu.tlvs, 'message_payload'),
    sar: sarRef !== undefined && sarTotal !== undefined && sarSeq !== undefined ? { reference: sarRef, total: sarTotal, seq: sarSeq } : undefined,
    frame,
  };
}
