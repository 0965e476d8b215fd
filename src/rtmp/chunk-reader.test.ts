import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkReader, type RtmpMessage } from './chunk-reader.js';
import { encodeMessage } from './chunk-writer.js';
import { RtmpProtocolError } from './errors.js';
import { inSlab } from '../media/slab.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const bytes = (n: number, v: number): string => Buffer.alloc(n, v).toString('hex');
const plain = (m: RtmpMessage): object => ({ ...m, payload: m.payload.toString('hex') });

/** Feeds the input split at `at` positions and returns every message. */
function readSplit(input: Buffer, at: number[], reader = new ChunkReader()): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  let prev = 0;
  for (const p of [...at, input.length]) {
    out.push(...reader.feed(input.subarray(prev, p)));
    prev = p;
  }
  return out;
}

function assertEverySplit(input: Buffer, want: object[], make = (): ChunkReader => new ChunkReader()): void {
  assert.deepEqual(readSplit(input, [], make()).map(plain), want);
  for (let i = 1; i < input.length; i++) assert.deepEqual(readSplit(input, [i], make()).map(plain), want, `split at ${i}`);
  const ones = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(readSplit(input, ones, make()).map(plain), want, 'byte by byte');
}

test('fmt 0, 1, 2, 3 headers with timestamp deltas (spec example)', () => {
  // csid 3: fmt 0 ts 1000 len 4 type 8 stream 1; fmt 2 delta 20; fmt 3 (delta 20 again);
  // fmt 1 delta 5 len 2 type 9; fmt 3 (delta 5)
  const input = hex(
    '03 0003e8 000004 08 01000000 aaaaaaaa' +
      '83 000014 bbbbbbbb' +
      'c3 cccccccc' +
      '43 000005 000002 09 dddd' +
      'c3 eeee',
  );
  const m = (timestamp: number, typeId: number, payload: string): object => ({ csid: 3, timestamp, typeId, streamId: 1, payload });
  assertEverySplit(input, [m(1000, 8, 'aaaaaaaa'), m(1020, 8, 'bbbbbbbb'), m(1040, 8, 'cccccccc'), m(1045, 9, 'dddd'), m(1050, 9, 'eeee')]);
});

test('a message split in chunks of the default size 128, interleaved with another chunk stream', () => {
  const input = hex(
    '06 000000 0000c8 09 01000000' + bytes(128, 1) + // video chunk 1 (200 bytes total)
      '04 00000a 000003 08 01000000 020202' + // a whole audio message in between
      'c6' + bytes(72, 1), // video chunk 2
  );
  assertEverySplit(input, [
    { csid: 4, timestamp: 10, typeId: 8, streamId: 1, payload: '020202' },
    { csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: bytes(200, 1) },
  ]);
});

test('extended timestamps: fmt 0, repeated on type-3 chunks, and not repeated (both detected)', () => {
  const ts = 'ffffff';
  const body = bytes(128, 7) + '';
  const repeated = hex('05 ' + ts + ' 000082 12 00000000 01000000' + body + 'c5 01000000 0707');
  const notRepeated = hex('05 ' + ts + ' 000082 12 00000000 01000000' + body + 'c5 0707');
  const want = [{ csid: 5, timestamp: 0x01000000, typeId: 0x12, streamId: 0, payload: bytes(130, 7) }];
  assertEverySplit(repeated, want);
  // without repetition the 2 remaining bytes can only be decided once more bytes arrive (next message)
  const next = hex('05 000000 000001 12 00000000 09');
  const all = readSplit(Buffer.concat([notRepeated, next]), []);
  assert.deepEqual(all.map(plain), [...want, { csid: 5, timestamp: 0, typeId: 0x12, streamId: 0, payload: '09' }]);
  // a fmt 3 new message after an extended delta repeats the extended delta
  const deltas = hex('44 ffffff 000001 08 01000000 aa' + 'c4 01000000 bb');
  const r = new ChunkReader();
  r.feed(hex('04 000000 000001 08 01000000 00'));
  assert.deepEqual(r.feed(deltas).map((m) => m.timestamp), [0x01000000, 0x02000000]);
});

test('timestamps wrap at 32 bits', () => {
  const r = new ChunkReader();
  const out = r.feed(hex('04 ffffff 000001 08 01000000 fffffff0 aa' + '84 000020 bb'));
  assert.deepEqual(out.map((m) => m.timestamp), [0xfffffff0, 0x10]);
});

test('two- and three-byte basic headers (csid 64..65599)', () => {
  for (const csid of [64, 319, 320, 1000, 65599]) {
    const msg = { csid, timestamp: 5, typeId: 20, streamId: 0, payload: Buffer.alloc(300, 3) };
    assertEverySplit(encodeMessage(msg, 128), [{ ...msg, payload: msg.payload.toString('hex') }]);
  }
});

test('Set Chunk Size mid-stream applies to the very next chunk', () => {
  const input = Buffer.concat([
    encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: hex('00001000') }, 128),
    encodeMessage({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Buffer.alloc(4000, 9) }, 4096),
  ]);
  const out = readSplit(input, []);
  assert.equal(out.length, 2);
  assert.equal(out[1]!.payload.length, 4000);
  for (let i = 1; i < input.length; i += 97) assert.equal(readSplit(input, [i]).length, 2);
});

test('Abort discards the partial message of that chunk stream', () => {
  const input = hex(
    '06 000000 0000c8 09 01000000' + bytes(128, 1) + // first chunk of a 200-byte message
      '02 000000 000004 02 00000000 00000006' + // abort csid 6
      '06 000000 000002 09 01000000 abcd', // a fresh message on csid 6
  );
  const out = readSplit(input, []);
  assert.deepEqual(out.map((m) => m.typeId), [2, 9]);
  assert.deepEqual(out[1]!.payload, hex('abcd'));
});

test('zero-length messages are emitted', () => {
  assertEverySplit(hex('03 000000 000000 14 00000000' + '03 000000 000001 14 00000000 05'), [
    { csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: '' },
    { csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: '05' },
  ]);
});

const code = (c: string) => (e: unknown) => e instanceof RtmpProtocolError && e.code === c;

test('malformed input raises typed errors', () => {
  const scs = (v: string): Buffer => hex('02 000000 000004 01 00000000 ' + v);
  assert.throws(() => new ChunkReader().feed(scs('00000000')), code('chunk-size'));
  assert.throws(() => new ChunkReader().feed(scs('00010001')), code('chunk-size'));
  assert.throws(() => new ChunkReader().feed(scs('7fffffff')), code('chunk-size'));
  assert.doesNotThrow(() => new ChunkReader().feed(scs('00010000')));
  // over the message cap
  assert.throws(() => new ChunkReader({ maxMessageSize: 1000 }).feed(hex('06 000000 0003e9 09 01000000')), code('message-too-large'));
  // fmt 2/3 on a chunk stream never seen
  assert.throws(() => new ChunkReader().feed(hex('86 000000')), code('bad-chunk-header'));
  assert.throws(() => new ChunkReader().feed(hex('c7')), code('bad-chunk-header'));
  // a new header in the middle of a message
  assert.throws(() => new ChunkReader().feed(hex('06 000000 0000c8 09 01000000' + bytes(128, 1) + '06 000000 000001 09 01000000 00')), code('bad-chunk-header'));
  // too many chunk streams
  const many = Buffer.concat(Array.from({ length: 10 }, (_, i) => encodeMessage({ csid: 3 + i, timestamp: 0, typeId: 20, streamId: 0, payload: Buffer.alloc(1) }, 128)));
  assert.throws(() => new ChunkReader({ maxChunkStreams: 5 }).feed(many), code('too-many-chunk-streams'));
  // incomplete messages held across chunk streams are bounded
  const partials = Buffer.concat(Array.from({ length: 4 }, (_, i) => hex(`${(3 + i).toString(16).padStart(2, '0')} 000000 000190 09 01000000` + bytes(128, 0))));
  assert.throws(() => new ChunkReader({ maxMessageSize: 400, maxBufferedBytes: 400 }).feed(partials), code('buffered-too-much'));
});

/** Set Chunk Size `size`, then `msg` chunked at that size. */
const atChunkSize = (size: number, msg: Parameters<typeof encodeMessage>[0]): Buffer => {
  const scs = Buffer.alloc(4);
  scs.writeUInt32BE(size);
  return Buffer.concat([encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: scs }, 128), encodeMessage(msg, size)]);
};

test('1-byte chunks: vectors at every split, and the message assembled in one buffer', () => {
  // Set Chunk Size 1, then a 3-byte video message: fmt 0 header + 1 byte, then two fmt 3 chunks of 1 byte.
  const input = hex('02 000000 000004 01 00000000 00000001' + '06 000064 000003 09 01000000 17' + 'c6 01' + 'c6 02');
  assertEverySplit(input, [
    { csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: '00000001' },
    { csid: 6, timestamp: 100, typeId: 9, streamId: 1, payload: '170102' },
  ]);
  // A 1 MiB message in 1-byte chunks (2 MiB on the wire): one allocation of the message's size, and the
  // heap does not grow per chunk (it grew ~100 bytes per chunk when chunks were kept as subarrays).
  const size = 1 << 20;
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = i & 0xff;
  const wire = atChunkSize(1, { csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: body });
  const r = new ChunkReader();
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const out: RtmpMessage[] = [];
  // Socket-sized slices, the last one ending just before the final byte.
  for (let off = 0; off < wire.length - 1; off += 65536) out.push(...r.feed(wire.subarray(off, Math.min(off + 65536, wire.length - 1))));
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(heapGrowth < 20 * 1024 * 1024, `heap grew ${heapGrowth} bytes while assembling`);
  out.push(...r.feed(wire.subarray(wire.length - 1)));
  assert.equal(out.length, 2);
  const got = out[1]!.payload;
  assert.ok(got.equals(body));
  assert.equal(got.buffer.byteLength, size, 'one buffer of the message length, not a concat of chunk slices');
});

test('a message is charged its declared length at its first chunk; completion and Abort return the charge', () => {
  // The first 128-byte chunk of a message declaring `len` bytes.
  const start = (csid: number, len: number): Buffer =>
    hex(`${csid.toString(16).padStart(2, '0')} 000000 ${len.toString(16).padStart(6, '0')} 09 01000000` + bytes(128, 0));
  // Two messages declaring 300 bytes each, one chunk sent of each: 600 > 500 though only 256 bytes arrived.
  const r = new ChunkReader({ maxMessageSize: 400, maxBufferedBytes: 500 });
  r.feed(start(4, 300));
  assert.throws(() => r.feed(start(5, 300)), code('buffered-too-much'));
  // Abort of the first returns its charge.
  const a = new ChunkReader({ maxMessageSize: 400, maxBufferedBytes: 500 });
  a.feed(start(4, 300));
  a.feed(hex('02 000000 000004 02 00000000 00000004'));
  assert.doesNotThrow(() => a.feed(start(5, 300)));
  // Completed messages return theirs: many 400-byte messages in a row never add up.
  const c = new ChunkReader({ maxMessageSize: 400, maxBufferedBytes: 500 });
  const whole = encodeMessage({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Buffer.alloc(400, 1) }, 128);
  for (let i = 0; i < 10; i++) assert.equal(c.feed(whole).length, 1);
});

test('setLimits raises the message cap from the next header on', () => {
  const big = encodeMessage({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Buffer.alloc(100_000, 1) }, 128);
  assert.throws(() => new ChunkReader({ maxMessageSize: 65536 }).feed(big), code('message-too-large'));
  const r = new ChunkReader({ maxMessageSize: 65536 });
  r.feed(encodeMessage({ csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: Buffer.alloc(1000) }, 128));
  r.setLimits(1 << 20);
  const out = readSplit(big, [1, 5000, 77777], r);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.payload.length, 100_000);
});

const messageArb = fc.record({
  csid: fc.oneof(fc.integer({ min: 3, max: 63 }), fc.integer({ min: 64, max: 65599 })),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 0xfffffe }), fc.integer({ min: 0xffffff, max: 0xffffffff })),
  typeId: fc.constantFrom(8, 9, 18, 20, 22),
  streamId: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)),
});

test('property: writer -> reader round-trips for random messages, chunk sizes and splits', () => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (msgs, chunkSize, cuts) => {
        const scs = Buffer.alloc(4);
        scs.writeUInt32BE(chunkSize);
        const input = Buffer.concat([
          encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: scs }, 128),
          ...msgs.map((m) => encodeMessage(m, chunkSize)),
        ]);
        const at = [...new Set(cuts.map((c) => c % input.length))].sort((a, b) => a - b);
        const out = readSplit(input, at);
        assert.deepEqual(out.slice(1).map(plain), msgs.map((m) => plain(m as RtmpMessage)));
      },
    ),
    { numRuns: 400 },
  );
});

test('property: random bytes only ever throw RtmpProtocolError, and never hang', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (slices) => {
      const r = new ChunkReader({ maxMessageSize: 1 << 20 });
      try {
        for (const s of slices) r.feed(Buffer.from(s));
      } catch (e) {
        assert.ok(e instanceof RtmpProtocolError, String(e));
      }
    }),
    { numRuns: 3000 },
  );
});

test('multi-chunk media messages share slab memory; other messages get memory of their own', () => {
  const msg = (csid: number, typeId: number, fill: number): Buffer =>
    encodeMessage({ csid, timestamp: 0, typeId, streamId: 1, payload: Buffer.alloc(300, fill) }, 128);
  const [video, audio, command] = new ChunkReader().feed(Buffer.concat([msg(6, 9, 1), msg(4, 8, 2), msg(3, 20, 3)]));
  assert.ok(video && audio && command);
  assert.ok(inSlab(video.payload) && inSlab(audio.payload));
  assert.equal(video.payload.buffer, audio.payload.buffer);
  assert.deepEqual([video.payload, audio.payload], [Buffer.alloc(300, 1), Buffer.alloc(300, 2)]);
  assert.ok(!inSlab(command.payload));
});

test('a read ending inside the 4 bytes after a type-3 header of an extended-timestamp message loses no payload (fuzz finding)', () => {
  // The encoder does not repeat the extended timestamp in type-3 chunks; whether the 4 bytes after 0xc3
  // are one cannot be decided until they have all arrived, and when they are payload they must stay payload.
  const header = Buffer.from([0x03, 0xff, 0xff, 0xff, 0, 0, 200, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
  const body = Buffer.alloc(200, 0xab);
  const data = Buffer.concat([header, body.subarray(0, 128), Buffer.from([0xc3]), body.subarray(128)]);
  for (let cut = header.length + 128 + 1; cut <= header.length + 128 + 4; cut++) {
    const r = new ChunkReader();
    const msgs = [...r.feed(data.subarray(0, cut)), ...r.feed(data.subarray(cut))];
    assert.equal(msgs.length, 1, `cut at ${cut}`);
    assert.deepEqual(msgs[0]!.payload, body, `cut at ${cut}`);
  }
});
