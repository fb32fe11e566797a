/**
 * A deliver_sm Parley could not handle, kept with what it carried so an operator can look at it.
 */
export interface QuarantinedPdu {
  readonly pipeline: 'receipts' | 'replies';
  readonly command: string;
  readonly smsc: string;
  readonly bind: string;
  readonly source: string;
  readonly destination: string;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly shortMessage: Buffer;
  readonly messagePayload: Buffer | null;
  readonly tlvs: Record<string, unknown> | null;
  readonly reason: string;
  /** The PDU's octets as the SMSC sent them, header included (null when the bind did not keep them). */
  readonly frame: Buffer | null;
}
