/**
 * A message on its way out: validated, routed, and as Postgres holds it until it is final.
 */
import type { OutboundMessage } from './message.ts';

/** A validated message with the route it will take. */
export interface RoutedMessage extends OutboundMessage {
  readonly route: string;
  /** The reply this message answers (auto-replies and confirmations). */
  readonly replyTo?: string;
  /** Compliance confirmations go to a customer who just opted out. */
  readonly bypassOptOut?: boolean;
  /** The payload as the app sent it, when NUL or lone surrogates in it were replaced. */
  readonly originalPayload?: Buffer;
  /** Held until then (send_at, quiet hours): stored unowned and released by `claimDue`. */
  readonly hold?: { readonly until: Date; readonly reason: string };
}

/** A queued message found in Postgres, with what is already known of its segments. */
export interface UnfinishedMessage {
  readonly message: RoutedMessage;
  /** Dispatch attempts so far: above 0 means a submit may already have reached the SMSC. */
  readonly attempts: number;
  readonly smsc: string | null;
  readonly acceptedSegments: ReadonlySet<number>;
}
