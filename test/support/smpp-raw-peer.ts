/**
 * A misbehaving SMPP peer for tests: a raw TCP socket that sends exactly the octets a test gives it
 * and reads back whatever comes, framed by an independent header parser (not Parley's frame reader,
 * which is what is under test). Also a raw listening "SMSC" that hands each accepted socket to the
 * test as a RawPeer, and builders for PDUs as bytes, well-formed or not.
 */
import net from 'node:net';
import { COMMAND_IDS, type CommandName } from '../../src/smpp/commands.ts';
import { encodePdu, makePdu } from '../../src/smpp/codec.ts';
import type { Pdu, PduInit } from '../../src/smpp/pdu.ts';

export interface RawPdu {
  readonly commandLength: number;
  readonly commandId: number;
  readonly commandStatus: number;
  readonly sequenceNumber: number;
  readonly body: Buffer;
  /** Date.now() when the last octet of this PDU arrived. */
  readonly receivedAt: number;
}

/** Headers past this length are not read as PDUs: the test then only sees the raw octets. */
const MAX_PARSED_LENGTH = 1 << 20;

export class RawPeer {
  readonly pdus: RawPdu[] = [];
  /** Octets received that did not parse as a PDU header (the stream lost its framing). */
  garbage = 0;
  bytesReceived = 0;
  closedAt: number | undefined;
  lastReceivedAt: number | undefined;
  readonly closed: Promise<void>;
  errors: Error[] = [];
  /** Called for each PDU as it arrives (it still goes to `pdus` for next/waitFor). */
  onPdu: ((pdu: RawPdu, peer: RawPeer) => void) | undefined;

  private pending = Buffer.alloc(0);
  private cursor = 0;
  private waiters = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedAt = Date.now();
        this.wake();
        resolve();
      });
    });
    socket.on('error', (err) => this.errors.push(err));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.setNoDelay(true);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Local port: what the server side sees as the peer's port. */
  get localPort(): number {
    return this.socket.localPort ?? -1;
  }

  send(...chunks: Buffer[]): void {
    for (const c of chunks) if (!this.socket.destroyed) this.socket.write(c);
  }

  /** Sends the octets one write per `size` octets, each write after the previous one was flushed. */
  async sendInPieces(buf: Buffer, size: number): Promise<void> {
    for (let at = 0; at < buf.length && !this.socket.destroyed; at += size) {
      await new Promise<void>((resolve) => this.socket.write(buf.subarray(at, at + size), () => resolve()));
    }
  }

  /** PDUs that no `next`/`waitFor` has taken yet. */
  get unread(): RawPdu[] {
    return this.pdus.slice(this.cursor);
  }

  /** The next PDU in arrival order, or undefined when none arrived within the time. */
  async next(timeoutMs = 2000): Promise<RawPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.pdus.length) {
      if (this.isClosed || Date.now() >= deadline) return undefined;
      await this.sleepUntilData(deadline - Date.now());
    }
    return this.pdus[this.cursor++];
  }

  /** Waits for the first unread PDU with this command_id (skipping others, which stay unread). */
  async waitFor(commandId: number, timeoutMs = 2000): Promise<RawPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.cursor; i < this.pdus.length; i++) {
        const p = this.pdus[i];
        if (p !== undefined && p.commandId === commandId) {
          this.pdus.splice(i, 1);
          this.pdus.splice(this.cursor, 0, p);
          this.cursor++;
          return p;
        }
      }
      if (this.isClosed || Date.now() >= deadline) return undefined;
      await this.sleepUntilData(deadline - Date.now());
    }
  }

  /** Resolves true once the socket has closed, false if it is still open after the time. */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isClosed && Date.now() < deadline) await this.sleepUntilData(deadline - Date.now());
    return this.isClosed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private sleepUntilData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    const now = Date.now();
    this.bytesReceived += chunk.length;
    this.lastReceivedAt = now;
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len < 16 || len > MAX_PARSED_LENGTH) {
        this.garbage += buf.length;
        buf = Buffer.alloc(0);
        break;
      }
      if (buf.length < len) break;
      const pdu: RawPdu = {
        commandLength: len,
        commandId: buf.readUInt32BE(4),
        commandStatus: buf.readUInt32BE(8),
        sequenceNumber: buf.readUInt32BE(12),
        body: Buffer.from(buf.subarray(16, len)),
        receivedAt: now,
      };
      this.pdus.push(pdu);
      buf = buf.subarray(len);
      this.onPdu?.(pdu, this);
    }
    this.pending = Buffer.from(buf);
    this.wake();
  }
}

/** A raw listening socket on 127.0.0.1:0; every accepted connection is handed over as a RawPeer. */
export async function startRawServer(onPeer: (peer: RawPeer) => void): Promise<{ port: number; peers: RawPeer[]; close(): Promise<void> }> {
  const peers: RawPeer[] = [];
  const server = net.createServer((socket) => {
    const peer = new RawPeer(socket);
    peers.push(peer);
    onPeer(peer);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    peers,
    close: async () => {
      for (const p of peers) p.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------ builders

export function id(command: CommandName): number {
  return COMMAND_IDS[command];
}

/** A 16-octet header with any command_length, true or not. */
export function header(commandLength: number, commandId: number, sequence: number, status = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(commandLength >>> 0, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}

/** A PDU from a header and whatever body octets, command_length set to the true total. */
export function rawPdu(commandId: number, sequence: number, body: Buffer = Buffer.alloc(0), status = 0): Buffer {
  return Buffer.concat([header(16 + body.length, commandId, sequence, status), body]);
}

/** A well-formed PDU through Parley's encoder. */
export function wire<C extends CommandName>(command: C, init: PduInit<C>): Buffer {
  return encodePdu(makePdu(command, init) as Pdu);
}

export function bindBytes(sequence: number, command: 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver' = 'bind_transceiver'): Buffer {
  return wire(command, {
    system_id: 'raw',
    password: 'secret',
    system_type: '',
    interface_version: 0x34,
    addr_ton: 0,
    addr_npi: 0,
    address_range: '',
    sequence_number: sequence,
  });
}

/** C-Octet String bytes with the NUL. */
export function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'latin1');
}

/**
 * The submit_sm/deliver_sm mandatory body, octet by octet, so a test can break any part of it:
 * `smLength` defaults to the true length of `shortMessage`.
 */
export function shortMessageBody(opts: {
  destination?: string;
  esmClass?: number;
  dataCoding?: number;
  shortMessage?: Buffer;
  smLength?: number;
} = {}): Buffer {
  const sm = opts.shortMessage ?? Buffer.from('hi');
  return Buffer.concat([
    cstr(''), // service_type
    Buffer.from([0, 0]),
    cstr('parley'), // source_addr
    Buffer.from([1, 1]),
    cstr(opts.destination ?? '4479000000'),
    Buffer.from([opts.esmClass ?? 0, 0, 0]), // esm_class, protocol_id, priority_flag
    cstr(''), // schedule_delivery_time
    cstr(''), // validity_period
    Buffer.from([0, 0, opts.dataCoding ?? 0, 0]), // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
    Buffer.from([opts.smLength ?? sm.length]),
    sm,
  ]);
}

/** A TLV as bytes; `length` defaults to the true length of `value`. */
export function tlvBytes(tag: number, value: Buffer, length = value.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(tag, 0);
  h.writeUInt16BE(length, 2);
  return Buffer.concat([h, value]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every few ms until it is true or the time is up; returns its last value. */
export async function eventually(check: () => boolean, timeoutMs = 2000, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Cleanups run in reverse order of registration; every one runs even when another throws. */
export class Cleanups {
  private readonly list: (() => Promise<void> | void)[] = [];

  add(fn: () => Promise<void> | void): void {
    this.list.push(fn);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.list.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}
