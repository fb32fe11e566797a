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
  /** Octets of the frame not yet whole, as received: joined only once there is enough to act on. */
  private parts: Buffer[] = [];
  private held = 0;
  /** Octets that must be held before looking again: 4 for a command_length, then the whole frame. */
  private need = 4;
  private broken = false;

  constructor(private readonly maxLength: number) {}

  /** Octets held of a frame that has not arrived whole. */
  get bufferedBytes(): number {
    return this.held;
  }

  push(chunk: Buffer): FrameResult {
    if (this.broken || chunk.length === 0) return { frames: [] };
    if (this.held + chunk.length < this.need) {
      // Not enough to act on: keep a copy and wait. Joining here on every chunk would copy the held
      // octets again for each one, quadratic in a frame trickled a few octets at a time.
      this.parts.push(Buffer.from(chunk));
      this.held += chunk.length;
      return { frames: [] };
    }
    const buf = this.parts.length === 0 ? chunk : Buffer.concat([...this.parts, chunk], this.held + chunk.length);
    const frames: Buffer[] = [];
    let at = 0;
    this.need = 4;
    while (buf.length - at >= 4) {
      const commandLength = buf.readUInt32BE(at);
      if (commandLength < HEADER_LENGTH || commandLength > this.maxLength) {
        this.broken = true;
        this.parts = [];
        this.held = 0;
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
      if (buf.length - at < commandLength) {
        this.need = commandLength;
        break;
      }
      // A copy, so that a PDU kept for later (a parked deliver_sm) does not pin the socket chunk.
      // (allocUnsafe + copy: Buffer.from(buf.subarray(...)) also made a view just to copy from.)
      const frame = Buffer.allocUnsafe(commandLength);
      buf.copy(frame, 0, at, at + commandLength);
      frames.push(frame);
      at += commandLength;
    }
    this.held = buf.length - at;
    this.parts = this.held === 0 ? [] : [Buffer.from(buf.subarray(at))];
    return { frames };
  }
}
