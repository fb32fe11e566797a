/**
 * The maximum queue age: a message not sent by its expires_at (from the payload, or its route's
 * max_queue_age counted from intake) becomes `expired` without a submit_sm. One error for the
 * three places that expire a message: intake (already past it), the dispatcher (right before a
 * submit) and the sweep over Postgres (messages nobody is sending).
 */
export const QUEUE_AGE_ERROR = {
  errorCode: 'max_queue_age',
  errorReason: "the message was still queued at its expires_at or its route's max_queue_age; it was not sent",
} as const;
