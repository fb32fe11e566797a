/** SMPP 3.4 command_id values (section 5.1.2.1). A response id is its request id with bit 31 set. */
export const COMMAND_IDS = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const;

export type CommandName = keyof typeof COMMAND_IDS;

const NAMES_BY_ID = new Map<number, CommandName>(
  (Object.entries(COMMAND_IDS) as [CommandName, number][]).map(([name, id]) => [id, name]),
);

export function commandNameOf(commandId: number): CommandName | undefined {
  return NAMES_BY_ID.get(commandId >>> 0);
}

export const RESPONSE_BIT = 0x80000000;

export function isResponseId(commandId: number): boolean {
  return (commandId & RESPONSE_BIT) !== 0;
}

/**
 * Requests that carry no response in SMPP 3.4: outbind and alert_notification are answered by
 * behaviour (a bind, nothing), not by a *_resp PDU.
 */
export const UNANSWERED_REQUESTS: ReadonlySet<CommandName> = new Set(['outbind', 'alert_notification']);

