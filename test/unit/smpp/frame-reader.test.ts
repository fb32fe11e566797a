import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../src/smpp/frame-reader.ts';

const MAX = 4096;

/** A frame of `length` octets: a true command_length, then a counter pattern to tell frames apart. */
function frame(length: number, tag: number): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(0x15, 4);
  b.writeUInt32BE(tag, 12);
  for (let i = 16; i < length; i++) b[i] = (tag + i) & 0xff;
  return b;
}

/** Pushes the chunks in order and returns every frame (as hex) and the first invalid result. */
function feed(reader: FrameReader, chunks: Buffer[]): { frames: string[]; invalid: unknown } {
  const frames: string[] = [];
  let invalid: unknown;
  for (const c of chunks) {
    const r = reader.push(c);
    frames.push(...r.frames.map((f) => f.toString('hex')));
    if (r.invalid && invalid === undefined) invalid = r.invalid;
  }
  return { frames, invalid };
}

function header(commandLength: number, sequence: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(commandLength >>> 0, 0);
  b.writeUInt32BE(0x04, 4);
  b.writeUInt32BE(sequence, 12);
  return b;
}

/** Deterministic PRNG (mulberry32) so a failing split can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('FrameReader', () => {
  const stream = Buffer.concat([frame(16, 1), frame(40, 2), frame(17, 3)]);
  const expected = [frame(16, 1), frame(40, 2), frame(17, 3)].map((f) => f.toString('hex'));

  it('cuts a stream of whole frames in one chunk', () => {
    const reader = new FrameReader(MAX);
    expect(feed(reader, [stream])).toEqual({ frames: expected, invalid: undefined });
    expect(reader.bufferedBytes).toBe(0);
  });

  it('gives the same frames for every split of the stream into two and three chunks', () => {
    for (let i = 0; i <= stream.length; i++) {
      const two = feed(new FrameReader(MAX), [stream.subarray(0, i), stream.subarray(i)]);
      expect(two.frames, `split at ${i}`).toEqual(expected);
      for (let j = i; j <= stream.length; j += 7) {
        const three = feed(new FrameReader(MAX), [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
        expect(three.frames, `split at ${i},${j}`).toEqual(expected);
      }
    }
  });

  it('gives the same frames one octet at a time, holding exactly the partial octets between', () => {
    const reader = new FrameReader(MAX);
    const frames: string[] = [];
    const boundaries = new Set([16, 56, 73]);
    for (let i = 0; i < stream.length; i++) {
      frames.push(...reader.push(stream.subarray(i, i + 1)).frames.map((f) => f.toString('hex')));
      const held = boundaries.has(i + 1) ? 0 : i + 1 - Math.max(0, ...[...boundaries].filter((b) => b <= i + 1));
      expect(reader.bufferedBytes, `after octet ${i}`).toBe(held);
    }
    expect(frames).toEqual(expected);
  });

  it('gives the same frames for 500 random chunkings of random frames', () => {
    const rand = prng(20261122);
    for (let round = 0; round < 500; round++) {
      const frames = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, k) => frame(16 + Math.floor(rand() * 200), round * 10 + k));
      const all = Buffer.concat(frames);
      const chunks: Buffer[] = [];
      for (let at = 0; at < all.length; ) {
        const n = Math.floor(rand() * 64);
        chunks.push(all.subarray(at, at + n));
        at += n;
      }
      const reader = new FrameReader(MAX);
      expect(feed(reader, chunks).frames).toEqual(frames.map((f) => f.toString('hex')));
      expect(reader.bufferedBytes).toBe(0);
    }
  });

  it('ignores empty chunks', () => {
    const reader = new FrameReader(MAX);
    expect(feed(reader, [Buffer.alloc(0), stream.subarray(0, 3), Buffer.alloc(0), stream.subarray(3)]).frames).toEqual(expected);
  });

  it('accepts the boundaries: a bare 16-octet header and exactly the maximum', () => {
    const reader = new FrameReader(MAX);
    expect(feed(reader, [frame(16, 9), frame(MAX, 10)]).frames).toEqual([frame(16, 9), frame(MAX, 10)].map((f) => f.toString('hex')));
  });

  it.each<[string, Buffer[], number, number]>([
    ['command_length 0, whole header', [header(0, 7)], 0, 7],
    ['command_length 4, whole header', [header(4, 8)], 4, 8],
    ['command_length 8, whole header', [header(8, 9)], 8, 9],
    ['command_length 12, whole header', [header(12, 10)], 12, 10],
    ['command_length 15, whole header', [header(15, 11)], 15, 11],
    ['command_length one over the maximum', [header(MAX + 1, 12)], MAX + 1, 12],
    ['command_length 0xFFFFFFFF', [header(0xffffffff, 13)], 0xffffffff, 13],
    ['command_length 0 with only 4 octets: no sequence to echo', [Buffer.from([0, 0, 0, 0])], 0, 0],
    ['command_length 8 arriving as 2 + 2 octets', [Buffer.from([0, 0]), Buffer.from([0, 8])], 8, 0],
    ['command_length 5 split inside the header', [header(5, 14).subarray(0, 10), header(5, 14).subarray(10)], 5, 0],
  ])('%s: invalid, with the header sequence when it arrived whole', (_name, chunks, commandLength, sequenceNumber) => {
    const reader = new FrameReader(MAX);
    const { frames, invalid } = feed(reader, chunks);
    expect(frames).toEqual([]);
    expect(invalid).toMatchObject({ commandLength, sequenceNumber });
    expect((invalid as { reason: string }).reason).toMatch(/command_length/);
    expect(reader.bufferedBytes).toBe(0);
  });

  it('hands over the frames before an invalid length, then nothing more, ever', () => {
    const reader = new FrameReader(MAX);
    const r = reader.push(Buffer.concat([frame(16, 1), frame(20, 2), header(3, 99), frame(16, 4)]));
    expect(r.frames.map((f) => f.toString('hex'))).toEqual([frame(16, 1), frame(20, 2)].map((f) => f.toString('hex')));
    expect(r.invalid).toMatchObject({ commandLength: 3, sequenceNumber: 99 });
    expect(reader.push(frame(16, 5))).toEqual({ frames: [] });
    expect(reader.bufferedBytes).toBe(0);
  });

  it('returns copies: changing the pushed chunk afterwards does not change a frame', () => {
    const reader = new FrameReader(MAX);
    const chunk = Buffer.from(frame(24, 1));
    const [f] = reader.push(chunk).frames;
    chunk.fill(0xee);
    expect(f?.toString('hex')).toBe(frame(24, 1).toString('hex'));
    // The same for octets held between pushes.
    const held = Buffer.from(frame(24, 2));
    const first = held.subarray(0, 10);
    reader.push(first);
    first.fill(0xee);
    expect(reader.push(held.subarray(10)).frames[0]?.toString('hex')).toBe(frame(24, 2).toString('hex'));
  });

  it('takes linear time for a large frame pushed one octet at a time', () => {
    // 256 KB one octet per push: joining all held octets on every push (quadratic) costs ~9 s of
    // CPU here, holding them until the frame is whole ~0.2 s. CPU time, not wall time, so that a
    // busy machine does not fail the test; the bound is far from both.
    const size = 256 * 1024;
    const reader = new FrameReader(size);
    const big = frame(size, 1);
    const before = process.cpuUsage();
    let n = 0;
    for (let i = 0; i < big.length; i++) n += reader.push(big.subarray(i, i + 1)).frames.length;
    const used = process.cpuUsage(before);
    expect(n).toBe(1);
    expect((used.user + used.system) / 1000).toBeLessThan(2_000);
  });
});
