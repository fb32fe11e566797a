/**
 * Why a message failed, as a value: a code, and when the SMSC refused the submit, the name of its
 * command_status (`{ code: 'smsc_rejected', commandStatus: 'ESME_RINVDSTADR' }`). Code reads the
 * fields; only the record and the wire (messages.error_code, the status event's `error_code`,
 * README "Error codes") spell it as one string, `smsc_rejected:ESME_RINVDSTADR`.
 */
export type ErrorCode =
  | { readonly code: 'smsc_rejected'; readonly commandStatus: string }
  | { readonly code: string; readonly commandStatus?: undefined };

/** The error code as stored and published: `code`, or `code:COMMAND_STATUS` for an SMSC's refusal. */
export function formatErrorCode(error: ErrorCode): string {
  return error.commandStatus === undefined ? error.code : `${error.code}:${error.commandStatus}`;
}
