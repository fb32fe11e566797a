/**
 * The SMPP wire fuzzer shared by `test/integration/smpp/fuzz.test.ts` (bounded, ~100,000 PDUs) and
 * `test/fuzz/smpp-fuzz.ts` (standalone, a million or more). It starts a Parley SmppServer on
 * 127.0.0.1:0 and drives several raw TCP connections at it, each sending valid PDUs, mutated ones
 * (bit flips, truncation, length-field changes, random TLVs, wrong ids) and random octets, cut
 * into chunks of random sizes. A connection the server closes is replaced by a new one.
 *
 * It counts what comes back (every answer must be a well-formed PDU), how the server closed each
 * session, what reached the handlers (which must only ever see well-formed requests), and records
 * anything thrown out of the event loop.
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { COMMAND_IDS, commandNameOf, type CommandName } from '../../src/smpp/commands.ts';
import { commandStatusName } from '../../src/smpp/command-status.ts';
import { encodePdu, makePdu } from '../../src/smpp/codec.ts';
import { SmppServer } from '../../src/smpp/connection.ts';
import type { Pdu, PduInit } from '../../src/smpp/pdu.ts';
import { shortMessageFields } from '../../src/smpp/pdu.ts';
import type { SessionTimers } from '../../src/smpp/session.ts';
import { makeTlv } from '../../src/smpp/tlv.ts';

// ------------------------------------------------------------------ randomness

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** mulberry32: small, fast, and seeded so that a failing run can be replayed. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(list: readonly T[]): T => list[int(list.length)] as T,
    bytes: (n) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
  };
}

// ------------------------------------------------------------------ corpus and mutations

const encode = <C extends CommandName>(command: C, init: PduInit<C>): Buffer => encodePdu(makePdu(command, init) as Pdu);

/** Valid PDUs of every command, with and without TLVs: the seeds that mutations start from. */
export function buildCorpus(): Buffer[] {
  const sm = (text: Buffer, extra: Partial<Parameters<typeof shortMessageFields>[0]> = {}) =>
    shortMessageFields({ destination_addr: '447900000001', source_addr: 'Parley', short_message: text, ...extra });
  const bind = { system_id: 'fuzz', password: 'pw', system_type: '', interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: '' };
  return [
    encode('enquire_link', {}),
    encode('enquire_link_resp', {}),
    encode('generic_nack', { command_status: 3 }),
    encode('bind_transceiver', bind),
    encode('bind_transmitter', bind),
    encode('bind_receiver', bind),
    encode('bind_transceiver_resp', { system_id: 'smsc' }),
    encode('submit_sm', sm(Buffer.from('hello world'))),
    encode('submit_sm', sm(Buffer.from('x'.repeat(160)))),
    encode('submit_sm', sm(Buffer.concat([Buffer.from([5, 0, 3, 9, 2, 1]), Buffer.from('part one')]), { esm_class: 0x40 })),
    encode('submit_sm', sm(Buffer.from([0, 0x48, 0, 0x69]), { data_coding: 8, registered_delivery: 1 })),
    encode('submit_sm', {
      ...sm(Buffer.alloc(0)),
      tlvs: [makeTlv('message_payload', Buffer.from('a longer text carried in message_payload')), makeTlv('sar_msg_ref_num', 7), makeTlv('sar_total_segments', 2), makeTlv('sar_segment_seqnum', 1)],
    }),
    // The server handler throws (0xEE), rejects (0xEF) or answers late (0xED) on these.
    encode('submit_sm', sm(Buffer.from([0xee, 0x41]))),
    encode('submit_sm', sm(Buffer.from([0xef, 0x41]))),
    encode('submit_sm', sm(Buffer.from([0xed, 0x41]))),
    encode('submit_sm_resp', { message_id: 'abc123' }),
    encode('deliver_sm', sm(Buffer.from('id:1 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:x'), { esm_class: 4 })),
    encode('deliver_sm', { ...sm(Buffer.from('reply')), tlvs: [makeTlv('receipted_message_id', 'abc123'), makeTlv('message_state', 2), makeTlv('network_error_code', { networkType: 3, errorCode: 1 })] }),
    encode('deliver_sm_resp', { message_id: '' }),
    encode('data_sm', {
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '4479',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '4478',
      esm_class: 0,
      registered_delivery: 0,
      data_coding: 0,
      tlvs: [makeTlv('message_payload', Buffer.from('data'))],
    }),
    encode('data_sm_resp', { message_id: 'd1' }),
    encode('query_sm', { message_id: 'abc123', source_addr_ton: 0, source_addr_npi: 0, source_addr: '' }),
    encode('query_sm_resp', { message_id: 'abc123', final_date: '', message_state: 2, error_code: 0 }),
    encode('unbind_resp', {}),
    encode('outbind', { system_id: 'x', password: 'y' }),
    encode('alert_notification', { source_addr_ton: 0, source_addr_npi: 0, source_addr: '1', esme_addr_ton: 0, esme_addr_npi: 0, esme_addr: '2' }),
  ];
}

/** unbind ends the connection: it has its own, small weight instead of being one id among many. */
const ALL_IDS = Object.values(COMMAND_IDS).filter((v) => v !== COMMAND_IDS.unbind);

function withLength(buf: Buffer): Buffer {
  buf.writeUInt32BE(buf.length, 0);
  return buf;
}

function randomTlv(rng: Rng): Buffer {
  const tags = [0x0005, 0x000e, 0x001d, 0x001e, 0x0204, 0x020c, 0x020e, 0x0423, 0x0424, 0x0427, 0x1201, 0x130c, 0x1400, rng.int(0x10000)];
  const value = rng.bytes(rng.chance(0.8) ? rng.int(8) : rng.int(300));
  const h = Buffer.alloc(4);
  h.writeUInt16BE(rng.pick(tags), 0);
  // Mostly the true length, sometimes a lie.
  h.writeUInt16BE(rng.chance(0.8) ? value.length : rng.int(0x10000), 2);
  return Buffer.concat([h, value]);
}

/**
 * What a mutation does to framing. 'framed': command_length is the true length of the octets
 * (the stream stays in step); 'desync': it is not (what follows is read from the wrong offset,
 * which usually ends the connection).
 */
export type MutationKind =
  | 'valid'
  | 'bitflip'
  | 'byteset'
  | 'truncate'
  | 'extend'
  | 'tlvs'
  | 'command_id'
  | 'header_fields'
  | 'sm_length'
  | 'random_frame'
  | 'splice'
  | 'length_lie'
  | 'random_stream'
  | 'unbind';

const KINDS: readonly [MutationKind, number][] = [
  ['valid', 14],
  ['bitflip', 20],
  ['byteset', 10],
  ['truncate', 10],
  ['extend', 5],
  ['tlvs', 12],
  ['command_id', 6],
  ['header_fields', 5],
  ['sm_length', 6],
  ['random_frame', 9],
  ['splice', 2],
  ['length_lie', 0.7],
  ['random_stream', 0.3],
  ['unbind', 0.2],
];
const DESYNC: ReadonlySet<MutationKind> = new Set(['length_lie', 'random_stream']);

const KIND_TOTAL = KINDS.reduce((n, [, w]) => n + w, 0);

function pickKind(rng: Rng): MutationKind {
  let r = rng.next() * KIND_TOTAL;
  for (const [kind, w] of KINDS) {
    r -= w;
    if (r < 0) return kind;
  }
  return 'valid';
}

/** Offset of sm_length in a submit_sm/deliver_sm body, or -1. */
function smLengthOffset(pdu: Buffer): number {
  let at = 16;
  const skipCString = (): boolean => {
    const nul = pdu.indexOf(0, at);
    if (nul < 0) return false;
    at = nul + 1;
    return true;
  };
  // service_type, ton, npi, source_addr, ton, npi, destination_addr, esm, pid, prio, sched, validity, reg, replace, dc, default id
  if (!skipCString()) return -1;
  at += 2;
  if (!skipCString()) return -1;
  at += 2;
  if (!skipCString()) return -1;
  at += 3;
  if (!skipCString() || !skipCString()) return -1;
  at += 4;
  return at < pdu.length ? at : -1;
}

/** One fuzz input: the octets and what was done to them. */
export function nextInput(rng: Rng, corpus: readonly Buffer[]): { bytes: Buffer; kind: MutationKind } {
  const kind = pickKind(rng);
  const seed = Buffer.from(rng.pick(corpus));
  seed.writeUInt32BE(1 + rng.int(0x7fffffff), 12);
  switch (kind) {
    case 'valid':
      return { bytes: seed, kind };
    case 'bitflip': {
      const flips = 1 + rng.int(8);
      // Not the command_length field: that is 'length_lie'.
      for (let i = 0; i < flips && seed.length > 4; i++) {
        const at = 4 + rng.int(seed.length - 4);
        seed[at] = (seed[at] as number) ^ (1 << rng.int(8));
      }
      return { bytes: seed, kind };
    }
    case 'byteset': {
      const n = 1 + rng.int(4);
      for (let i = 0; i < n && seed.length > 16; i++) seed[16 + rng.int(seed.length - 16)] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
      return { bytes: seed, kind };
    }
    case 'truncate':
      return { bytes: withLength(Buffer.from(seed.subarray(0, 16 + rng.int(Math.max(1, seed.length - 16))))), kind };
    case 'extend':
      return { bytes: withLength(Buffer.concat([seed, rng.bytes(1 + rng.int(64))])), kind };
    case 'tlvs': {
      const tlvs = Array.from({ length: 1 + rng.int(4) }, () => randomTlv(rng));
      return { bytes: withLength(Buffer.concat([seed, ...tlvs])), kind };
    }
    case 'command_id':
      seed.writeUInt32BE(rng.chance(0.7) ? rng.pick(ALL_IDS) : rng.int(0x100000000), 4);
      return { bytes: seed, kind };
    case 'header_fields':
      if (rng.chance(0.5)) seed.writeUInt32BE(rng.int(0x100000000), 8);
      else seed.writeUInt32BE(rng.pick([0, 0x7fffffff, 0x80000000, 0xffffffff, rng.int(0x100000000)]), 12);
      return { bytes: seed, kind };
    case 'sm_length': {
      const at = smLengthOffset(seed);
      if (at >= 0) seed[at] = rng.pick([0, 255, 254, (seed[at] as number) + 1, rng.int(256)]) & 0xff;
      return { bytes: seed, kind };
    }
    case 'random_frame': {
      const body = rng.bytes(rng.int(rng.chance(0.9) ? 80 : 2000));
      const h = Buffer.alloc(16);
      h.writeUInt32BE(16 + body.length, 0);
      h.writeUInt32BE(rng.chance(0.6) ? rng.pick(ALL_IDS) : rng.int(0x100000000), 4);
      h.writeUInt32BE(rng.chance(0.8) ? 0 : rng.int(0x100000000), 8);
      h.writeUInt32BE(rng.int(0x100000000), 12);
      return { bytes: Buffer.concat([h, body]), kind };
    }
    case 'splice': {
      const other = rng.pick(corpus);
      const cut = 16 + rng.int(Math.max(1, seed.length - 16));
      return { bytes: withLength(Buffer.concat([seed.subarray(0, cut), other.subarray(16 + rng.int(Math.max(1, other.length - 16)))])), kind };
    }
    case 'length_lie': {
      const len = seed.readUInt32BE(0);
      const lie = rng.pick([0, 4, 8, 12, 15, len - 1, len + 1, len + rng.int(100), 0xffffffff, 65_537, rng.int(0x100000000)]);
      seed.writeUInt32BE(lie >>> 0, 0);
      return { bytes: seed, kind };
    }
    case 'random_stream':
      return { bytes: rng.bytes(1 + rng.int(100)), kind };
    case 'unbind':
      return { bytes: encode('unbind', { sequence_number: 1 + rng.int(0x7fffffff) }), kind };
  }
}

// ------------------------------------------------------------------ heap

let gcFn: (() => void) | undefined;

/** A full GC, made available without --expose-gc on the command line. */
export function collectGarbage(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

// ------------------------------------------------------------------ the run

export interface FuzzOptions {
  /** PDUs (fuzz inputs) to send in all. */
  count: number;
  /** Connections driven at once. */
  connections?: number;
  seed?: number;
  /** Stop early when this much time has passed, whatever the count. */
  timeLimitMs?: number;
  /** Called every `progressEvery` inputs (and at the end) with the report so far. */
  onProgress?(report: FuzzReport): void;
  progressEvery?: number;
  timers?: Partial<SessionTimers>;
}

export interface FuzzReport {
  sent: number;
  bytesSent: number;
  byKind: Record<string, number>;
  connectionsOpened: number;
  /** Connections still open (as far as the fuzzer knew) when it moved on, ended with FIN or RST. */
  connectionsDroppedByFuzzer: number;
  /** Server sessions opened / closed, and how the server closed them. */
  sessionsOpened: number;
  sessionsClosed: number;
  closeCodes: Record<string, number>;
  /** What the server answered, by command and status name. */
  answers: Record<string, number>;
  /** Octets from the server that did not parse as a PDU: must stay 0. */
  garbageFromServer: number;
  /** Server PDUs that were neither a response nor a request the server may send: must stay 0. */
  unexpectedFromServer: number;
  /** Requests the application handlers received, by command. */
  handled: Record<string, number>;
  /** Handler-received PDUs that do not re-encode (a malformed PDU that got through): must stay empty. */
  handlerSawMalformed: string[];
  handlerThrew: number;
  uncaught: string[];
  elapsedMs: number;
  heapUsed: number;
  rss: number;
}

interface Worker {
  socket: net.Socket | undefined;
}

/** Counts what a raw connection receives without keeping it: the fuzz must run in flat memory. */
class AnswerCounter {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly report: FuzzReport) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len < 16 || len > 1 << 20) {
        this.report.garbageFromServer += buf.length;
        buf = Buffer.alloc(0);
        break;
      }
      if (buf.length < len) break;
      const commandId = buf.readUInt32BE(4);
      const name = commandNameOf(commandId);
      // A server sends responses, and of requests only enquire_link, unbind, deliver_sm and kin.
      if (name === undefined || !(name.endsWith('_resp') || name === 'generic_nack' || name === 'enquire_link' || name === 'unbind')) {
        this.report.unexpectedFromServer++;
      }
      const key = `${name ?? commandId.toString(16)} ${commandStatusName(buf.readUInt32BE(8))}`;
      this.report.answers[key] = (this.report.answers[key] ?? 0) + 1;
      buf = buf.subarray(len);
    }
    this.pending = Buffer.from(buf);
  }
}

const bump = (rec: Record<string, number>, key: string): void => {
  rec[key] = (rec[key] ?? 0) + 1;
};

/** Requests the server side may legally hand to its handler. */
const SERVER_HANDLED = new Set(['submit_sm', 'query_sm', 'data_sm']);

/**
 * Runs the fuzz against a fresh SmppServer and resolves with the report and the still-listening
 * server (the caller checks it can serve a well-behaved client, then closes it).
 */
export async function runFuzz(options: FuzzOptions): Promise<{ report: FuzzReport; server: SmppServer; port: number }> {
  const rng = makeRng(options.seed ?? 0x5eed);
  const corpus = buildCorpus();
  const bindIds: readonly number[] = [COMMAND_IDS.bind_transceiver, COMMAND_IDS.bind_transmitter, COMMAND_IDS.bind_receiver];
  const binds = corpus.filter((pdu) => bindIds.includes(pdu.readUInt32BE(4)));
  const connections = options.connections ?? 4;
  const deadline = Date.now() + (options.timeLimitMs ?? Number.POSITIVE_INFINITY);
  const progressEvery = options.progressEvery ?? 100_000;
  const started = Date.now();
  const report: FuzzReport = {
    sent: 0,
    bytesSent: 0,
    byKind: {},
    connectionsOpened: 0,
    connectionsDroppedByFuzzer: 0,
    sessionsOpened: 0,
    sessionsClosed: 0,
    closeCodes: {},
    answers: {},
    garbageFromServer: 0,
    unexpectedFromServer: 0,
    handled: {},
    handlerSawMalformed: [],
    handlerThrew: 0,
    uncaught: [],
    elapsedMs: 0,
    heapUsed: 0,
    rss: 0,
  };
  const onUncaught = (err: unknown): void => {
    report.uncaught.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);

  const server = new SmppServer({
    session: {
      timers: { bindTimeoutMs: 5_000, frameTimeoutMs: 2_000, ...options.timers },
      handlers: {
        onBind: (pdu) => (pdu.system_id.startsWith('refuse') ? { command_status: 0x0d } : { system_id: 'fuzz-smsc' }),
        onRequest: (pdu) => {
          bump(report.handled, pdu.command);
          if (!SERVER_HANDLED.has(pdu.command)) report.handlerSawMalformed.push(`server handler got ${pdu.command}`);
          try {
            encodePdu(pdu as Pdu);
          } catch (err) {
            if (report.handlerSawMalformed.length < 20) report.handlerSawMalformed.push(`${pdu.command}: ${(err as Error).message}`);
          }
          // Exercise the handler-failure paths too, on a cheap deterministic signal.
          const marker = pdu.command === 'submit_sm' ? pdu.short_message[0] : undefined;
          if (marker === 0xee) {
            report.handlerThrew++;
            throw new Error('fuzz handler throws');
          }
          if (marker === 0xef) {
            report.handlerThrew++;
            return Promise.reject(new Error('fuzz handler rejects'));
          }
          if (marker === 0xed) return new Promise((resolve) => setImmediate(() => resolve({ message_id: 'later' })));
          return { message_id: `f${pdu.sequence_number}` };
        },
        onClose: (reason) => bump(report.closeCodes, reason.code),
      },
    },
    onSession: (session) => {
      report.sessionsOpened++;
      // closed only ever resolves (session.ts).
      // eslint-disable-next-line @typescript-eslint/no-floating-promises -- see above
      void session.closed.then(() => report.sessionsClosed++);
    },
  });
  const { port } = await server.listen(0);

  const snapshot = (): FuzzReport => {
    const m = process.memoryUsage();
    report.elapsedMs = Date.now() - started;
    report.heapUsed = m.heapUsed;
    report.rss = m.rss;
    return report;
  };

  let nextProgress = progressEvery;
  const more = (): boolean => report.sent < options.count && Date.now() < deadline;

  const runConnection = async (worker: Worker): Promise<void> => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    worker.socket = socket;
    report.connectionsOpened++;
    const counter = new AnswerCounter(report);
    let closed = false;
    let bindAnswered: (() => void) | undefined;
    const closedPromise = new Promise<void>((resolve) => {
      socket.once('close', () => {
        closed = true;
        bindAnswered?.();
        resolve();
      });
    });
    socket.on('error', () => {
      // ECONNRESET/EPIPE after the server closed: expected, the 'close' handler moves on.
    });
    socket.on('data', (chunk: Buffer) => {
      counter.push(chunk);
      bindAnswered?.();
    });
    await new Promise<void>((resolve) => {
      socket.once('connect', resolve);
      socket.once('close', resolve);
    });
    socket.setNoDelay(rng.chance(0.5));
    // Most connections bind first (so submits reach the handler); some never do.
    if (!closed && rng.chance(0.9)) {
      const bind = Buffer.from(rng.pick(binds));
      bind.writeUInt32BE(1, 12);
      socket.write(bind);
      await new Promise<void>((resolve) => {
        bindAnswered = resolve;
        setTimeout(resolve, 1000).unref();
      });
      bindAnswered = undefined;
    }
    // A connection lives for a random number of inputs unless the server ends it first.
    let lifetime = 50 + rng.int(5_000);
    while (!closed && lifetime > 0 && more()) {
      const batch: Buffer[] = [];
      const n = Math.min(1 + rng.int(40), lifetime, options.count - report.sent);
      for (let i = 0; i < n; i++) {
        const input = nextInput(rng, corpus);
        bump(report.byKind, input.kind);
        batch.push(input.bytes);
        // Past a framing lie the server reads the rest of the stream from the wrong offsets (or
        // swallows up to maxPduLength octets as one frame): send a little more of it, then start a
        // new connection, so that most inputs are read as the PDUs they are.
        if (DESYNC.has(input.kind)) lifetime = Math.min(lifetime, rng.int(100));
      }
      lifetime -= n;
      report.sent += n;
      const all = Buffer.concat(batch);
      report.bytesSent += all.length;
      // Random chunk sizes, from single octets to whole batches.
      for (let at = 0; at < all.length && !closed; ) {
        const size = rng.chance(0.2) ? 1 + rng.int(8) : rng.chance(0.5) ? 1 + rng.int(200) : all.length;
        const ok = socket.write(all.subarray(at, at + size));
        at += size;
        if (!ok && !closed) {
          await Promise.race([new Promise((r) => socket.once('drain', r)), closedPromise]);
        }
      }
      if (report.sent >= nextProgress) {
        nextProgress += progressEvery;
        options.onProgress?.(snapshot());
      }
      // Let the server (same process) read and answer before the next batch.
      await new Promise((r) => setImmediate(r));
    }
    if (!closed) {
      report.connectionsDroppedByFuzzer++;
      const how = rng.int(3);
      if (how === 0) socket.end();
      else if (how === 1) socket.resetAndDestroy();
      else socket.destroy();
      await Promise.race([closedPromise, new Promise((r) => setTimeout(r, 2_000).unref())]);
      socket.destroy();
    }
  };

  const workers: Worker[] = Array.from({ length: connections }, () => ({ socket: undefined }));
  await Promise.all(
    workers.map(async (w) => {
      while (more()) await runConnection(w);
    }),
  );

  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  options.onProgress?.(snapshot());
  return { report: snapshot(), server, port };
}
