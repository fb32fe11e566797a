/**
 * Webhook events in the outbox and deliveries due to be sent.
 */
export interface OutboxEvent {
  readonly type: string;
  readonly body: Record<string, unknown>;
}

export interface DueDelivery {
  readonly id: string;
  readonly webhook: string;
  readonly eventType: string;
  readonly body: Record<string, unknown>;
  /** Attempts including the one about to be made. */
  readonly attempts: number;
}
