/**
 * SMPP 3.4 command_status values (section 5.1.3) with the policy Parley applies to each when it is
 * the answer to a submit. Carrier failures live in this one table, flagged, as courier does
 * (`core/channels/errors.go`): a caller never matches on numbers itself.
 */
export type StatusPolicy = 'accepted' | 'retry' | 'throttled' | 'permanent';

export interface CommandStatusInfo {
  readonly code: number;
  readonly name: string;
  readonly description: string;
  readonly policy: StatusPolicy;
}

const TABLE: readonly (readonly [number, string, string, StatusPolicy])[] = [
  [0x00000000, 'ESME_ROK', 'No error', 'accepted'],
  [0x00000001, 'ESME_RINVMSGLEN', 'Message length is invalid', 'permanent'],
  [0x00000002, 'ESME_RINVCMDLEN', 'Command length is invalid', 'permanent'],
  [0x00000003, 'ESME_RINVCMDID', 'Invalid command ID', 'permanent'],
  [0x00000004, 'ESME_RINVBNDSTS', 'Incorrect bind status for given command', 'retry'],
  [0x00000005, 'ESME_RALYBND', 'ESME already in bound state', 'retry'],
  [0x00000006, 'ESME_RINVPRTFLG', 'Invalid priority flag', 'permanent'],
  [0x00000007, 'ESME_RINVREGDLVFLG', 'Invalid registered delivery flag', 'permanent'],
  [0x00000008, 'ESME_RSYSERR', 'System error', 'retry'],
  [0x0000000a, 'ESME_RINVSRCADR', 'Invalid source address', 'permanent'],
  [0x0000000b, 'ESME_RINVDSTADR', 'Invalid destination address', 'permanent'],
  [0x0000000c, 'ESME_RINVMSGID', 'Message ID is invalid', 'permanent'],
  [0x0000000d, 'ESME_RBINDFAIL', 'Bind failed', 'retry'],
  [0x0000000e, 'ESME_RINVPASWD', 'Invalid password', 'retry'],
  [0x0000000f, 'ESME_RINVSYSID', 'Invalid system ID', 'retry'],
  [0x00000011, 'ESME_RCANCELFAIL', 'Cancel SM failed', 'permanent'],
  [0x00000013, 'ESME_RREPLACEFAIL', 'Replace SM failed', 'permanent'],
  [0x00000014, 'ESME_RMSGQFUL', 'Message queue full', 'throttled'],
  [0x00000015, 'ESME_RINVSERTYP', 'Invalid service type', 'permanent'],
  [0x00000033, 'ESME_RINVNUMDESTS', 'Invalid number of destinations', 'permanent'],
  [0x00000034, 'ESME_RINVDLNAME', 'Invalid distribution list name', 'permanent'],
  [0x00000040, 'ESME_RINVDESTFLAG', 'Destination flag is invalid', 'permanent'],
  [0x00000042, 'ESME_RINVSUBREP', 'Invalid submit with replace request', 'permanent'],
  [0x00000043, 'ESME_RINVESMCLASS', 'Invalid esm_class field data', 'permanent'],
  [0x00000044, 'ESME_RCNTSUBDL', 'Cannot submit to distribution list', 'permanent'],
  [0x00000045, 'ESME_RSUBMITFAIL', 'submit_sm or submit_multi failed', 'retry'],
  [0x00000048, 'ESME_RINVSRCTON', 'Invalid source address TON', 'permanent'],
  [0x00000049, 'ESME_RINVSRCNPI', 'Invalid source address NPI', 'permanent'],
  [0x00000050, 'ESME_RINVDSTTON', 'Invalid destination address TON', 'permanent'],
  [0x00000051, 'ESME_RINVDSTNPI', 'Invalid destination address NPI', 'permanent'],
  [0x00000053, 'ESME_RINVSYSTYP', 'Invalid system_type field', 'permanent'],
  [0x00000054, 'ESME_RINVREPFLAG', 'Invalid replace_if_present flag', 'permanent'],
  [0x00000055, 'ESME_RINVNUMMSGS', 'Invalid number of messages', 'permanent'],
  [0x00000058, 'ESME_RTHROTTLED', 'Throttling error (ESME has exceeded allowed message limits)', 'throttled'],
  [0x00000061, 'ESME_RINVSCHED', 'Invalid scheduled delivery time', 'permanent'],
  [0x00000062, 'ESME_RINVEXPIRY', 'Invalid message validity period (expiry time)', 'permanent'],
  [0x00000063, 'ESME_RINVDFTMSGID', 'Predefined message invalid or not found', 'permanent'],
  [0x00000064, 'ESME_RX_T_APPN', 'ESME receiver temporary app error code', 'retry'],
  [0x00000065, 'ESME_RX_P_APPN', 'ESME receiver permanent app error code', 'permanent'],
  [0x00000066, 'ESME_RX_R_APPN', 'ESME receiver reject message error code', 'permanent'],
  [0x00000067, 'ESME_RQUERYFAIL', 'query_sm request failed', 'permanent'],
  [0x000000c0, 'ESME_RINVOPTPARSTREAM', 'Error in the optional part of the PDU body', 'permanent'],
  [0x000000c1, 'ESME_ROPTPARNOTALLWD', 'Optional parameter not allowed', 'permanent'],
  [0x000000c2, 'ESME_RINVPARLEN', 'Invalid parameter length', 'permanent'],
  [0x000000c3, 'ESME_RMISSINGOPTPARAM', 'Expected optional parameter missing', 'permanent'],
  [0x000000c4, 'ESME_RINVOPTPARAMVAL', 'Invalid optional parameter value', 'permanent'],
  [0x000000fe, 'ESME_RDELIVERYFAILURE', 'Delivery failure (data_sm_resp)', 'permanent'],
  [0x000000ff, 'ESME_RUNKNOWNERR', 'Unknown error', 'retry'],
];

const BY_CODE = new Map<number, CommandStatusInfo>();
const BY_NAME = new Map<string, CommandStatusInfo>();
for (const [code, name, description, policy] of TABLE) {
  const info: CommandStatusInfo = Object.freeze({ code, name, description, policy });
  BY_CODE.set(code, info);
  BY_NAME.set(name, info);
}

/**
 * Codes outside the table are vendor-specific (0x400-0x4FF is reserved for SMSC vendors) or
 * reserved. They are treated as permanent so an unknown rejection never loops forever; an
 * operator who learns a vendor code is transient adds it here.
 */
export function commandStatusInfo(code: number): CommandStatusInfo {
  const known = BY_CODE.get(code >>> 0);
  if (known) return known;
  const hex = `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
  return { code: code >>> 0, name: hex, description: `Unlisted command_status ${hex}`, policy: 'permanent' };
}

export function commandStatusName(code: number): string {
  return commandStatusInfo(code).name;
}

/** The numeric code for a status name; throws on a typo because that is a programming error. */
export function commandStatusCode(name: string): number {
  const info = BY_NAME.get(name);
  if (!info) throw new Error(`unknown command_status name ${name}`);
  return info.code;
}

export const ESME_ROK = 0x00000000;
export const ESME_RINVMSGLEN = 0x00000001;
export const ESME_RINVCMDLEN = 0x00000002;
export const ESME_RINVCMDID = 0x00000003;
export const ESME_RINVBNDSTS = 0x00000004;
export const ESME_RALYBND = 0x00000005;
export const ESME_RSYSERR = 0x00000008;
export const ESME_RBINDFAIL = 0x0000000d;
export const ESME_RINVPASWD = 0x0000000e;
export const ESME_RINVSYSID = 0x0000000f;
export const ESME_RMSGQFUL = 0x00000014;
export const ESME_RTHROTTLED = 0x00000058;
export const ESME_RINVOPTPARSTREAM = 0x000000c0;
export const ESME_RINVPARLEN = 0x000000c2;
export const ESME_RX_T_APPN = 0x00000064;
