/**
 * The one error base class of Parley. Every error carries a stable machine-readable `code` (for
 * metrics, dead-letter reasons and callers that branch) and a reason a person can act on (the
 * message). Subclasses exist only where a caller branches on the type.
 */
export class ParleyError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Turns anything thrown into a short printable reason, for logs and dead letters. */
export function describeError(err: unknown): string {
  if (err instanceof ParleyError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
