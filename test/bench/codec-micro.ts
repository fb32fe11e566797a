/**
 * The SMPP wire layer's hot path in one process, without sockets: codec, body building, text
 * decoding, and a client session driven through a fake socket (submit_sm out, submit_sm_resp and a
 * deliver_sm receipt in, deliver_sm_resp out).
 *
 *   npx tsx test/bench/codec-micro.ts [--count 1000000] [--only encode-submit,session-dlr,...]
 *
 * Each case runs a short warm-up, then `count` operations (text and session cases scale it down),
 * and reports wall and CPU ns per operation, operations per second and the garbage collections it
 * caused (a proxy for allocation). One run of each case; the machine is shared, so compare ratios,
 * and CPU rather than wall time when it is busy. With a fixed young generation the GC count is
 * proportional to the octets allocated (about 1 MB each):
 *
 *   node --max-semi-space-size=1 --min-semi-space-size=1 --import tsx test/bench/codec-micro.ts
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { decodeOwnedFrame, decodePdu, encodePdu, encodeRequest, makePdu } from '../../src/smpp/codec.ts';
import { COMMAND_IDS } from '../../src/smpp/commands.ts';
import { FrameReader } from '../../src/smpp/frame-reader.ts';
import { shortMessageFields, type Pdu, type PduOf } from '../../src/smpp/pdu.ts';
import { SmppSession } from '../../src/smpp/session.ts';
import { decodeGsm7Checked, encodeGsm7 } from '../../src/smpp/text/gsm7.ts';
import { decodeUcs2, encodeUcs2 } from '../../src/smpp/text/ucs2.ts';
import { buildReceiptPdu, receiptTextSnippet } from '../../src/simulator/receipts.ts';
import { parseReceipt } from '../../src/inbound/receipt-text.ts';
import { splitFields } from '../../src/inbound/receipt-fields.ts';
import { fmt, fmtInt, machineLine, numberFlag, stringFlag, table } from './bench-support.ts';

const COUNT = numberFlag('count', 1_000_000);
const ONLY = new Set(stringFlag('only', '').split(',').filter((s) => s !== ''));

const gc = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

let sink = 0;

interface Row {
  readonly name: string;
  readonly ops: number;
  readonly ms: number;
  /** CPU (user + system) of this process over the measured run: steadier than wall time on a busy machine. */
  readonly cpuMs: number;
  readonly gcs: number;
  readonly gcMs: number;
}
const rows: Row[] = [];

async function measure(name: string, ops: number, run: (n: number) => void | Promise<void>): Promise<void> {
  if (ONLY.size > 0 && !ONLY.has(name)) return;
  await run(Math.max(1, Math.floor(ops / 20)));
  await new Promise((r) => setImmediate(r));
  const gcBefore = { ...gc };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(ops);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // GC entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 20));
  const cpuMs = (cpu.user + cpu.system) / 1000;
  rows.push({ name, ops, ms, cpuMs, gcs: gc.count - gcBefore.count, gcMs: gc.ms - gcBefore.ms });
  process.stdout.write(`  ${name}: ${fmt((ms * 1e6) / ops, 0)} ns/op, ${fmt((cpuMs * 1e6) / ops, 0)} CPU ns/op\n`);
}

// ------------------------------------------------------------------------------ inputs

const TEXT = 'Benchmark message: the quick brown fox jumps over the lazy dog';
const SUBMIT_FIELDS = shortMessageFields({
  source_addr: '12345',
  destination_addr: '447700900001',
  registered_delivery: 1,
  short_message: Buffer.from(TEXT, 'latin1'),
});
const SUBMIT_PDU: PduOf<'submit_sm'> = makePdu('submit_sm', { ...SUBMIT_FIELDS, sequence_number: 7 });
const SUBMIT_WIRE = encodePdu(SUBMIT_PDU);

const receiptInit = (id: string): ReturnType<typeof buildReceiptPdu> =>
  buildReceiptPdu(
    { receiptId: id, stat: 'DELIVRD', submitAtMs: 1_700_000_000_000, doneAtMs: 1_700_000_000_000, snippet: receiptTextSnippet(TEXT) },
    { source: '447700900001', sourceTon: 1, sourceNpi: 1, destination: '12345', destTon: 0, destNpi: 0 },
    'both',
  );
const RECEIPT_WIRE = encodePdu(makePdu('deliver_sm', { ...receiptInit('1000abcd'), sequence_number: 9 }));
const RESP_WIRE = encodePdu(makePdu('submit_sm_resp', { message_id: '1000abcd', sequence_number: 7 }));
const RESP_PDU: PduOf<'deliver_sm_resp'> = makePdu('deliver_sm_resp', { message_id: '', sequence_number: 9 });

const GSM_160 = encodeGsm7('Hello {world}! £5 €10 [ok] '.repeat(8).slice(0, 150)) ?? Buffer.alloc(0);
const UCS2_70 = encodeUcs2('Привет, мир! 你好世界 😀 '.repeat(4).slice(0, 70));

// ------------------------------------------------------------------------------ a fake socket

/** Just what SmppSession touches on a net.Socket; writes are collected and dropped. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  writableEnded = false;
  remoteAddress = '127.0.0.1';
  remotePort = 2775;
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  write(buf: Buffer): boolean {
    this.written.push(buf);
    return true;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

function header(commandId: number, sequence: number, body: Buffer): Buffer {
  const buf = Buffer.alloc(16 + body.length);
  buf.writeUInt32BE(buf.length, 0);
  buf.writeUInt32BE(commandId, 4);
  buf.writeUInt32BE(sequence, 12);
  body.copy(buf, 16);
  return buf;
}

/**
 * A bound client session on a fake socket. Each round sends `window` submits, then feeds one chunk
 * holding every submit_sm_resp and (when `dlr`) a deliver_sm receipt per submit, and waits until
 * each submit resolved and each receipt was answered.
 */
async function sessionRounds(messages: number, dlr: boolean): Promise<void> {
  const socket = new FakeSocket();
  let receipts = 0;
  const session = new SmppSession(socket as unknown as Socket, {
    mode: 'client',
    timers: { windowSize: 100, responseTimeoutMs: 60_000, incomingWindow: 10_000 },
    handlers: {
      onRequest: (pdu) => {
        if (pdu.command === 'deliver_sm') receipts++;
        return {};
      },
    },
  });
  const bound = session.bind('transceiver', { system_id: 'bench', password: 'bench' });
  socket.emit('data', header(COMMAND_IDS.bind_transceiver_resp, 1, Buffer.from('smsc\0', 'latin1')));
  await bound;
  const window = 100;
  const respBody = RESP_WIRE.subarray(16);
  const receiptBody = RECEIPT_WIRE.subarray(16);
  for (let done = 0; done < messages; done += window) {
    socket.written = [];
    const first = 2 + done;
    const answers: Promise<Pdu>[] = [];
    for (let i = 0; i < window; i++) answers.push(session.request('submit_sm', SUBMIT_FIELDS));
    const frames: Buffer[] = [];
    for (let i = 0; i < window; i++) {
      frames.push(header(COMMAND_IDS.submit_sm_resp, first + i, respBody));
      if (dlr) frames.push(header(COMMAND_IDS.deliver_sm, first + i, receiptBody));
    }
    const before = receipts;
    socket.emit('data', Buffer.concat(frames));
    for (const a of answers) sink += (await a).command_status;
    while (dlr && (receipts - before < window || socket.written.length < window * 2)) {
      await new Promise((r) => setImmediate(r));
    }
  }
  session.close();
}

// ------------------------------------------------------------------------------ cases

async function main(): Promise<void> {
  process.stdout.write(`codec micro-bench: ${fmtInt(COUNT)} operations per codec case; ${machineLine()}\n`);

  await measure('encode-submit', COUNT, (n) => {
    for (let i = 0; i < n; i++) sink += encodePdu(makePdu('submit_sm', { ...SUBMIT_FIELDS, sequence_number: i + 1 })).length;
  });
  await measure('encodeRequest-submit', COUNT, (n) => {
    for (let i = 0; i < n; i++) sink += encodeRequest('submit_sm', i + 1, SUBMIT_FIELDS).length;
  });
  await measure('encode-submit-prebuilt', COUNT, (n) => {
    for (let i = 0; i < n; i++) sink += encodePdu(SUBMIT_PDU).length;
  });
  await measure('encode-deliver_sm_resp', COUNT, (n) => {
    for (let i = 0; i < n; i++) sink += encodePdu(RESP_PDU).length;
  });
  await measure('decode-submit', COUNT, (n) => {
    for (let i = 0; i < n; i++) {
      const r = decodePdu(SUBMIT_WIRE);
      if (r.ok) sink += r.pdu.sequence_number;
    }
  });
  await measure('decode-receipt', COUNT, (n) => {
    for (let i = 0; i < n; i++) {
      const r = decodePdu(RECEIPT_WIRE);
      if (r.ok) sink += r.pdu.tlvs.length;
    }
  });
  await measure('decodeOwnedFrame-receipt', COUNT, (n) => {
    for (let i = 0; i < n; i++) {
      const r = decodeOwnedFrame(RECEIPT_WIRE);
      if (r.ok) sink += r.pdu.tlvs.length;
    }
  });
  await measure('decode-submit_sm_resp', COUNT, (n) => {
    for (let i = 0; i < n; i++) {
      const r = decodePdu(RESP_WIRE);
      if (r.ok) sink += r.pdu.sequence_number;
    }
  });
  const stream = Buffer.concat(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? RESP_WIRE : RECEIPT_WIRE)));
  await measure('frame+decode (x100/chunk)', COUNT, (n) => {
    const reader = new FrameReader(65_536);
    for (let i = 0; i < n; i += 100) {
      for (const f of reader.push(stream).frames) {
        const r = decodePdu(f);
        if (r.ok) sink += r.pdu.sequence_number;
      }
    }
  });
  await measure('shortMessageFields', COUNT, (n) => {
    for (let i = 0; i < n; i++) {
      sink += shortMessageFields({ destination_addr: '447700900001', source_addr: '12345', data_coding: 0 }).esm_class;
    }
  });
  await measure('decodeGsm7Checked-150', COUNT / 5, (n) => {
    for (let i = 0; i < n; i++) sink += decodeGsm7Checked(GSM_160).text.length;
  });
  await measure('decodeUcs2-70', COUNT / 5, (n) => {
    for (let i = 0; i < n; i++) sink += decodeUcs2(UCS2_70).text.length;
  });
  // The receipt's text as the daemon reads it for every deliver_sm receipt (inbound/receipt-text.ts).
  const receiptText = decodeGsm7Checked(Buffer.from(receiptInit('1f3a9c04b2').short_message)).text;
  await measure('splitFields-receipt', COUNT / 5, (n) => {
    for (let i = 0; i < n; i++) sink += Object.keys(splitFields(receiptText).known).length;
  });
  await measure('parseReceipt', COUNT / 5, (n) => {
    for (let i = 0; i < n; i++) {
      const r = parseReceipt({ text: receiptText, receiptedMessageId: '1f3a9c04b2', messageState: 2 });
      if (r.ok) sink += r.smscMessageId.length;
    }
  });
  await measure('session-resp', COUNT / 5, (n) => sessionRounds(n, false));
  await measure('session-dlr', COUNT / 5, (n) => sessionRounds(n, true));

  process.stdout.write(
    `\n${table(
      ['case', 'ops', 'ns/op', 'CPU ns/op', 'ops/s', 'GCs', 'GC ms'],
      rows.map((r) => [
        r.name,
        fmtInt(r.ops),
        fmt((r.ms * 1e6) / r.ops, 0),
        fmt((r.cpuMs * 1e6) / r.ops, 0),
        fmtInt((r.ops * 1000) / r.ms),
        fmtInt(r.gcs),
        fmt(r.gcMs, 0),
      ]),
    )}\n(sink ${sink % 10})\n`,
  );
}

await main();
