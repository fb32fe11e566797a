/**
 * Cuts a TCP byte stream into whole PDUs by command_length. A partial frame is never handed on;
 * a command_length outside 16..maxLength is fatal for the stream because nothing after it can be
 * trusted to start on a PDU boundary.
 */
import { HEADER_LENGTH } from './codec.ts';

export interface InvalidLength {
  readonly commandLength: number;
  /** From the header when it arrived whole, else 0 (SMPP 3.4 uses 0 for a nack with no sequence). */
  readonly sequenceNumber: number;
  readonly reason: string;
}

export type FrameResult = { readonly frames: Buffer[]; readonly invalid?: InvalidLength };

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(private readonly maxLength: number) {}

  /** Octets held of a frame that has not arrived whole. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): FrameResult {
    if (this.broken) return { frames: [] };
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const commandLength = buf.readUInt32BE(at);
      if (commandLength < HEADER_LENGTH || commandLength > this.maxLength) {
        this.broken = true;
        this.pending = Buffer.alloc(0);
        const sequenceNumber = buf.length - at >= HEADER_LENGTH ? buf.readUInt32BE(at + 12) : 0;
        return {
          frames,
          invalid: {
            commandLength,
            sequenceNumber,
            reason:
              commandLength < HEADER_LENGTH
                ? `command_length ${commandLength} is shorter than the 16-octet header`
                : `command_length ${commandLength} exceeds the maximum of ${this.maxLength}`,
          },
        };
      }
      if (buf.length - at < commandLength) break;
      // A copy, so that a PDU kept for later (a parked deliver_sm) does not pin the socket chunk.
      frames.push(Buffer.from(buf.subarray(at, at + commandLength)));
      at += commandLength;
    }
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    return { frames };
  }
}
