/**
 * A session's socket as PDUs: incoming octets cut into frames (with when they arrived, and since
 * when a frame has been partly held, for the frame timer), outgoing PDUs and answers encoded and
 * written corked per tick, and reading paused while this side's answers or the socket's buffer
 * pile up. It knows nothing of SMPP's states beyond "the session is closed".
 */
import type { Socket } from 'node:net';
import type { CommandName } from './commands.ts';
import { ESME_ROK, ESME_RX_T_APPN } from './command-status.ts';
import { encodePdu, encodeSimpleResponse, makePdu } from './codec.ts';
import { FrameReader, type FrameResult } from './frame-reader.ts';
import type { Pdu, PduInit } from './pdu.ts';
import { simpleReplyMessageId } from './session-rules.ts';
import type { Reply } from './session-types.ts';
import type { Logger } from '../lib/logger.ts';

export type ReadPause = 'incoming' | 'write';

export class SessionLink {
  /** Set by the session as it closes, before anyone hears of it: nothing is written after. */
  closed = false;
  /** Date.now() of the latest read. */
  lastReceivedAt = Date.now();
  /** performance.now() of the latest read. */
  readAt = performance.now();
  /** When the first octet of the frame now held partly by the reader arrived; undefined when none is. */
  partialSince: number | undefined;

  private readonly reader: FrameReader;
  private readonly readPausedFor = new Set<ReadPause>();
  private corked = false;

  constructor(
    private readonly socket: Socket,
    maxPduLength: number,
    private readonly maxWriteBufferBytes: number,
    private readonly log: Logger,
  ) {
    this.reader = new FrameReader(maxPduLength);
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Octets held of a frame that has not arrived whole. */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /** Cuts a read into whole frames, stamping when it came. */
  read(chunk: Buffer): FrameResult {
    this.readAt = performance.now();
    const now = Date.now();
    this.lastReceivedAt = now;
    const heldBefore = this.reader.bufferedBytes;
    const result = this.reader.push(chunk);
    // The frame timer runs from a frame's first octet, not its latest one: a peer trickling an
    // octet now and then must not hold a half-read PDU (and the session) open for ever.
    if (this.reader.bufferedBytes === 0) this.partialSince = undefined;
    else if (heldBefore === 0 || result.frames.length > 0) this.partialSince = now;
    return result;
  }

  write(buf: Buffer): void {
    // writableEnded: this side already sent its FIN (after answering the peer's unbind). A PDU the
    // peer sends after its own unbind cannot be answered; writing would only raise 'write after
    // end' and close the session as a socket error instead of an unbind.
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    // Coalesce everything written in one tick into as few TCP segments as possible.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(buf);
    if (this.socket.writableLength > this.maxWriteBufferBytes && !this.readPausedFor.has('write')) {
      // The peer is not reading: stop reading its requests so answers cannot pile up unbounded.
      this.pauseReading('write');
      this.socket.once('drain', () => this.resumeReading('write'));
    }
  }

  sendPdu(pdu: Pdu): void {
    try {
      this.write(encodePdu(pdu));
    } catch (err) {
      this.log.error({ err, command: pdu.command }, 'smpp could not encode an answer');
    }
  }

  /** Sends the response and returns the command_status it carried. */
  answer(command: CommandName, sequence: number, reply: Reply): number {
    if (this.closed) return ESME_RX_T_APPN;
    const messageId = simpleReplyMessageId(reply);
    if (messageId !== undefined) {
      // The common answer (a message_id or nothing, no TLVs): encoded directly. Same octets as below.
      const status = reply.command_status === undefined ? ESME_ROK : reply.command_status;
      let simple: Buffer | undefined;
      try {
        simple = encodeSimpleResponse(command, status, sequence, messageId);
      } catch {
        // A message_id SMPP cannot carry: the path below logs it and answers ESME_RX_T_APPN.
      }
      if (simple !== undefined) {
        this.write(simple);
        return status;
      }
    }
    const { command_status = ESME_ROK, tlvs = [], ...fields } = reply;
    const base = makePdu(command, { sequence_number: sequence, command_status, tlvs } as PduInit<typeof command>);
    // Keep only the fields this response has, so a handler's extra keys never reach the encoder.
    const pdu = { ...base } as Record<string, unknown>;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) pdu[k] = v;
    if ((command === 'submit_sm_resp' || command === 'deliver_sm_resp' || command === 'data_sm_resp') && pdu.message_id === undefined) {
      pdu.message_id = '';
    }
    let encoded: Buffer;
    try {
      encoded = encodePdu(pdu as unknown as Pdu);
    } catch (err) {
      // The handler's answer breaks SMPP's limits (a message_id too long, a TLV too big). The peer
      // still gets exactly one answer, a temporary error, instead of waiting for its timeout.
      this.log.error({ err, command, peer: this.remoteAddress }, 'smpp handler reply cannot be encoded; answering ESME_RX_T_APPN');
      this.sendPdu(makePdu(command, { sequence_number: sequence, command_status: ESME_RX_T_APPN } as PduInit<typeof command>) as Pdu);
      return ESME_RX_T_APPN;
    }
    this.write(encoded);
    return command_status;
  }

  isPausedFor(why: ReadPause): boolean {
    return this.readPausedFor.has(why);
  }

  pauseReading(why: ReadPause): void {
    this.readPausedFor.add(why);
    this.socket.pause();
  }

  resumeReading(why: ReadPause): void {
    this.readPausedFor.delete(why);
    if (this.readPausedFor.size === 0 && !this.closed) this.socket.resume();
  }
}
