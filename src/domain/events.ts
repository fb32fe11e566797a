/**
 * The JSON events apps consume (CONTRACT.md section 2). Keys are the contract's, snake_case.
 */
import type { MessageStatus } from './status.ts';

export interface MessageStatusEvent {
  readonly type: 'message.status';
  readonly id: string;
  readonly status: MessageStatus;
  readonly previous: MessageStatus | null;
  readonly segments: number | null;
  readonly delivered_segments: number;
  readonly error: { readonly code: string; readonly reason: string } | null;
  readonly smsc: string | null;
  readonly route: string | null;
  readonly at: string;
  readonly metadata: Readonly<Record<string, unknown>> | null;
}
