/**
 * Long SMPP wire fuzz against a Parley SmppServer over real sockets.
 *
 *   npx tsx test/fuzz/smpp-fuzz.ts [count=1000000] [seed=24301] [connections=4]
 *
 * Prints progress (inputs sent, connections, outcomes, RSS and heap) every 100,000 inputs so that
 * flat memory can be seen, then checks: nothing escaped the event loop, every answer was a
 * well-formed PDU, no malformed PDU reached a handler, every session the fuzzer's sockets opened
 * ended 'closed' and left the server, the heap after GC did not grow, and a fresh well-behaved
 * client is still served. Exits 1 when any check fails.
 */
import { connectSession } from '../../src/smpp/connection.ts';
import { shortMessageFields } from '../../src/smpp/pdu.ts';
import { heapUsedAfterGc, runFuzz, type FuzzReport } from '../support/smpp-fuzz.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 24301);
const connections = Number(process.argv[4] ?? 4);
if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed) || !Number.isInteger(connections) || connections <= 0) {
  console.error('usage: npx tsx test/fuzz/smpp-fuzz.ts [count] [seed] [connections]');
  process.exit(2);
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
const top = (rec: Record<string, number>, n = 8): string =>
  Object.entries(rec)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

const baselineHeap = heapUsedAfterGc();
const progress = (r: FuzzReport): void => {
  const rate = Math.round(r.sent / Math.max(1, r.elapsedMs / 1000));
  console.log(
    `[${(r.elapsedMs / 1000).toFixed(1)} s] sent ${r.sent} (${rate}/s, ${mb(r.bytesSent)}) | connections ${r.connectionsOpened}` +
      ` | sessions open ${r.sessionsOpened - r.sessionsClosed} | handled ${Object.values(r.handled).reduce((a, b) => a + b, 0)}` +
      ` | rss ${mb(r.rss)} heap ${mb(r.heapUsed)}`,
  );
};

// A 10-minute ceiling whatever the count: the script must end.
const timeLimitMs = 10 * 60_000;
const uncaught: string[] = [];
process.on('uncaughtException', (err) => uncaught.push(err.stack ?? String(err)));
process.on('unhandledRejection', (err) => uncaught.push(String(err)));

console.log(`smpp fuzz: ${count} inputs, seed ${seed}, ${connections} connections; heap after GC at start ${mb(baselineHeap)}`);
const { report, server, port } = await runFuzz({ count, seed, connections, timeLimitMs, onProgress: progress, progressEvery: 100_000 });

// Every session the fuzz opened must close and leave the server.
const settleUntil = Date.now() + 5_000;
while ((server.sessions.size > 0 || report.sessionsClosed < report.sessionsOpened) && Date.now() < settleUntil) {
  await new Promise((r) => setTimeout(r, 20));
}
const zombies = server.sessions.size;
const unclosed = report.sessionsOpened - report.sessionsClosed;
const heapAfter = heapUsedAfterGc();

// A fresh, well-behaved client is still served.
let freshOk = false;
try {
  const s = await connectSession({ host: '127.0.0.1', port }, {});
  await s.bind('transceiver', { system_id: 'fresh', password: 'pw' });
  const r = await s.request('submit_sm', shortMessageFields({ destination_addr: '1', short_message: Buffer.from('after the fuzz') }));
  freshOk = r.command === 'submit_sm_resp' && r.command_status === 0;
  await s.unbind();
} catch (err) {
  console.error('fresh client failed:', err);
}
await server.close(500);

console.log('\n--- result');
console.log(`inputs sent      ${report.sent} in ${(report.elapsedMs / 1000).toFixed(1)} s (${mb(report.bytesSent)})`);
console.log(`by kind          ${top(report.byKind, 20)}`);
console.log(`connections      ${report.connectionsOpened} opened, ${report.connectionsDroppedByFuzzer} ended by the fuzzer (FIN/RST), the rest by the server`);
console.log(`server sessions  ${report.sessionsOpened} opened, ${report.sessionsClosed} closed; close codes ${top(report.closeCodes)}`);
console.log(`answers          ${top(report.answers, 14)}`);
console.log(`handled          ${top(report.handled)}; handler threw/rejected ${report.handlerThrew}`);
console.log(`heap after GC    start ${mb(baselineHeap)}, end ${mb(heapAfter)} (${heapAfter >= baselineHeap ? '+' : ''}${mb(heapAfter - baselineHeap)}); rss ${mb(process.memoryUsage().rss)}`);

const failures: string[] = [];
if (report.sent < count) failures.push(`only ${report.sent} of ${count} inputs sent within ${timeLimitMs} ms`);
if (uncaught.length > 0 || report.uncaught.length > 0) failures.push(`uncaught: ${[...uncaught, ...report.uncaught].slice(0, 3).join(' | ')}`);
if (report.garbageFromServer > 0) failures.push(`${report.garbageFromServer} octets from the server did not parse`);
if (report.unexpectedFromServer > 0) failures.push(`${report.unexpectedFromServer} PDUs the server should not send`);
if (report.handlerSawMalformed.length > 0) failures.push(`handler saw malformed PDUs: ${report.handlerSawMalformed.slice(0, 5).join(' | ')}`);
if (zombies > 0 || unclosed > 0) failures.push(`${zombies} sessions still on the server, ${unclosed} never closed`);
if (heapAfter - baselineHeap > 64 * 1024 * 1024) failures.push(`heap grew by ${mb(heapAfter - baselineHeap)}`);
if (!freshOk) failures.push('a fresh client was not served');
if (failures.length > 0) {
  console.log(`\nFAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('\nOK: no exception escaped, no zombie session, server still serving, heap flat.');
process.exit(0);
