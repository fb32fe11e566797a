/**
 * What a bind to an SMSC offers the rest of Parley, in Parley's own types: its states, a submit
 * and its result, a deliver_sm or data_sm as received, and the bind's options.
 */
import type { BindType, SessionTimers, SessionErrorCode } from './session.ts';
import type { NetworkErrorCode } from './tlv.ts';
import type { Logger } from '../lib/logger.ts';
import type { SmscBind } from './smsc-bind.ts';

/** `held`: unbound on purpose (a dependency is down, see `hold`) until released. */
export type BindState = 'connecting' | 'binding' | 'bound' | 'backoff' | 'held' | 'closing' | 'closed';

export const BIND_STATES: readonly BindState[] = ['connecting', 'binding', 'bound', 'backoff', 'held', 'closing', 'closed'];

export interface SmppAddress {
  readonly address: string;
  readonly ton: number;
  readonly npi: number;
}

/** One segment to submit, in Parley's terms. */
export interface SubmitRequest {
  readonly source: SmppAddress;
  readonly destination: SmppAddress;
  readonly dataCoding: number;
  /** Octets as they go in short_message, UDH included when `udhi`. */
  readonly shortMessage: Buffer;
  readonly udhi: boolean;
  readonly sar?: { readonly reference: number; readonly total: number; readonly seq: number };
  /** The whole message in message_payload (short_message then stays empty). */
  readonly payload?: Buffer;
  readonly registeredDelivery: boolean;
  readonly validitySeconds?: number;
  /** SMPP priority_flag 0..3. */
  readonly priority: number;
}

export type SubmitResult =
  | { readonly kind: 'response'; readonly commandStatus: number; readonly smscMessageId: string }
  | { readonly kind: 'failed'; readonly code: SessionErrorCode; readonly reason: string };

/** A deliver_sm or data_sm from the SMSC: a receipt or a customer's reply, not yet classified. */
export interface InboundSm {
  readonly command: 'deliver_sm' | 'data_sm';
  readonly smsc: string;
  readonly bind: string;
  readonly source: SmppAddress;
  readonly destination: SmppAddress;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly shortMessage: Buffer;
  readonly udhi: boolean;
  readonly receiptedMessageId?: string;
  readonly messageState?: number;
  readonly networkErrorCode?: NetworkErrorCode;
  readonly messagePayload?: Buffer;
  readonly sar?: { readonly reference: number; readonly total: number; readonly seq: number };
  /**
   * The PDU's octets as the SMSC sent them, header included: what a quarantined one keeps, so
   * nothing the carrier sent is lost. (Its fields above are views into it: it costs nothing more.)
   */
  readonly frame?: Buffer;
}

/** What the inbound path answers: `ok` once the PDU is durable, `retry_later` to have it resent. */
export type InboundAnswer = 'ok' | 'retry_later';

export interface SmscBindOptions {
  readonly smsc: string;
  /** Unique within the daemon, e.g. `carrier-a#1` or `carrier-a#1/rx`; used in logs and metrics. */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly caFile?: string; readonly servername?: string; readonly rejectUnauthorized: boolean };
  readonly type: BindType;
  readonly systemId: string;
  readonly password: string;
  readonly systemType: string;
  readonly connectTimeoutMs: number;
  readonly timers: Partial<SessionTimers>;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly logger?: Logger;
  onStateChange?(state: BindState, bind: SmscBind): void;
  /** A connect or bind attempt that did not end bound: `connect_failed`, the refusal's command_status name, or the session error code. */
  onBindFailure?(reason: string, bind: SmscBind): void;
  /** A bound connection was lost (not stopped or held on purpose); the bind goes back to reconnecting. */
  onConnectionLost?(bind: SmscBind): void;
  onInbound?(sm: InboundSm): Promise<InboundAnswer>;
}
