/**
 * The field tables of SMPP 3.4's PDU bodies (section 4): each body's fields in wire order, with
 * each C-Octet String's limit and the command_status a breach is answered with. The encoder and
 * decoder of the hot bodies (submit_sm, deliver_sm, the message_id responses) are written out by
 * hand and read their limits from the named specs here; every other body is driven by BODY_SCHEMAS.
 */
import type { CommandName } from './commands.ts';
import { commandStatusCode } from './command-status.ts';

export const HEADER_LENGTH = 16;
/** sm_length is one octet, and 255 is reserved by SMPP 3.4 (5.2.21). */
export const MAX_SHORT_MESSAGE = 254;

export interface CStringSpec {
  readonly kind: 'cstring';
  readonly name: string;
  /** Octets including the NUL. */
  readonly max: number;
  /** The command_status a value without a NUL within `max` octets is answered with. */
  readonly status: number;
}
export interface U8Spec {
  readonly kind: 'u8';
  readonly name: string;
}
export type FieldSpec = CStringSpec | U8Spec | { readonly kind: 'short_message' };

const cs = (name: string, max: number, statusName: string): CStringSpec => ({
  kind: 'cstring',
  name,
  max,
  status: commandStatusCode(statusName),
});
const u8 = (name: string): U8Spec => ({ kind: 'u8', name });

const BIND: readonly FieldSpec[] = [
  cs('system_id', 16, 'ESME_RINVSYSID'),
  cs('password', 9, 'ESME_RINVPASWD'),
  cs('system_type', 13, 'ESME_RINVSYSTYP'),
  u8('interface_version'),
  u8('addr_ton'),
  u8('addr_npi'),
  cs('address_range', 41, 'ESME_RINVCMDLEN'),
];
const BIND_RESP: readonly FieldSpec[] = [cs('system_id', 16, 'ESME_RINVSYSID')];

// The C-Octet Strings of submit_sm/deliver_sm and of the message_id responses, named because the
// hand-written codecs of those hot bodies (below) read their limits from the same objects.
export const SERVICE_TYPE = cs('service_type', 6, 'ESME_RINVSERTYP');
export const SM_SOURCE_ADDR = cs('source_addr', 21, 'ESME_RINVSRCADR');
export const SM_DESTINATION_ADDR = cs('destination_addr', 21, 'ESME_RINVDSTADR');
export const SCHEDULE_DELIVERY_TIME = cs('schedule_delivery_time', 17, 'ESME_RINVSCHED');
export const VALIDITY_PERIOD = cs('validity_period', 17, 'ESME_RINVEXPIRY');
export const MESSAGE_ID_FIELD = cs('message_id', 65, 'ESME_RINVMSGID');

const SHORT_MESSAGE: readonly FieldSpec[] = [
  SERVICE_TYPE,
  u8('source_addr_ton'),
  u8('source_addr_npi'),
  SM_SOURCE_ADDR,
  u8('dest_addr_ton'),
  u8('dest_addr_npi'),
  SM_DESTINATION_ADDR,
  u8('esm_class'),
  u8('protocol_id'),
  u8('priority_flag'),
  SCHEDULE_DELIVERY_TIME,
  VALIDITY_PERIOD,
  u8('registered_delivery'),
  u8('replace_if_present_flag'),
  u8('data_coding'),
  u8('sm_default_msg_id'),
  { kind: 'short_message' },
];
const MESSAGE_ID: readonly FieldSpec[] = [MESSAGE_ID_FIELD];

export const BODY_SCHEMAS: Readonly<Record<CommandName, readonly FieldSpec[]>> = {
  generic_nack: [],
  bind_receiver: BIND,
  bind_receiver_resp: BIND_RESP,
  bind_transmitter: BIND,
  bind_transmitter_resp: BIND_RESP,
  bind_transceiver: BIND,
  bind_transceiver_resp: BIND_RESP,
  outbind: [cs('system_id', 16, 'ESME_RINVSYSID'), cs('password', 9, 'ESME_RINVPASWD')],
  unbind: [],
  unbind_resp: [],
  enquire_link: [],
  enquire_link_resp: [],
  submit_sm: SHORT_MESSAGE,
  submit_sm_resp: MESSAGE_ID,
  deliver_sm: SHORT_MESSAGE,
  deliver_sm_resp: MESSAGE_ID,
  data_sm: [
    cs('service_type', 6, 'ESME_RINVSERTYP'),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 65, 'ESME_RINVSRCADR'),
    u8('dest_addr_ton'),
    u8('dest_addr_npi'),
    cs('destination_addr', 65, 'ESME_RINVDSTADR'),
    u8('esm_class'),
    u8('registered_delivery'),
    u8('data_coding'),
  ],
  data_sm_resp: MESSAGE_ID,
  query_sm: [
    cs('message_id', 65, 'ESME_RINVMSGID'),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 21, 'ESME_RINVSRCADR'),
  ],
  query_sm_resp: [
    cs('message_id', 65, 'ESME_RINVMSGID'),
    cs('final_date', 17, 'ESME_RINVCMDLEN'),
    u8('message_state'),
    u8('error_code'),
  ],
  alert_notification: [
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cs('source_addr', 65, 'ESME_RINVSRCADR'),
    u8('esme_addr_ton'),
    u8('esme_addr_npi'),
    cs('esme_addr', 65, 'ESME_RINVCMDLEN'),
  ],
};

export type Fields = Record<string, unknown>;
