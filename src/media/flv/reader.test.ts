import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { encodeFlvHeader } from './header.js';
import { FlvReader } from './reader.js';
import { FlvError } from './tag-header.js';
import { encodeFlvTag } from './tag-writer.js';

const pkt = (type: TagType, timestamp: number, hex: string): MediaPacket => ({ type, timestamp: ms(timestamp), payload: Buffer.from(hex, 'hex') });
const plain = (ps: MediaPacket[]): { type: number; timestamp: number; payload: string }[] =>
  ps.map((p) => ({ type: p.type, timestamp: p.timestamp, payload: p.payload.toString('hex') }));

/** A raw tag of any type, for the unknown-type and filter-bit cases encodeFlvTag refuses to model. */
function rawTag(firstByte: number, body: Buffer, timestamp = 0): Buffer {
  const t = encodeFlvTag({ type: TagType.Audio, timestamp: ms(timestamp), payload: body });
  t[0] = firstByte;
  return t;
}

const packets: MediaPacket[] = [
  pkt(TagType.Script, 0, '02000a6f6e4d65746144617461'),
  pkt(TagType.Video, 0, '1700000000016400'),
  pkt(TagType.Audio, 0, 'af001210'),
  pkt(TagType.Video, 40, '170100005000000002658800'),
  pkt(TagType.Audio, 23, ''),
  pkt(TagType.Video, 0x01fffffe, '2701fffff6'),
];
const unknown = rawTag(0x0f, Buffer.from('deadbeef', 'hex'), 5);
const stream = Buffer.concat([
  encodeFlvHeader({ audio: true, video: true }),
  encodeFlvTag(packets[0]!),
  encodeFlvTag(packets[1]!),
  unknown,
  ...packets.slice(2).map(encodeFlvTag),
]);

test('FlvReader: whole buffer, header exposed, unknown tag types skipped', () => {
  const r = new FlvReader();
  assert.deepEqual(plain(r.push(stream)), plain(packets));
  assert.deepEqual(r.header, { version: 1, audio: true, video: true, dataOffset: 9 });
  assert.deepEqual(r.push(Buffer.alloc(0)), []);
});

test('FlvReader: every single split point, and byte by byte', () => {
  for (let i = 0; i <= stream.length; i++) {
    const r = new FlvReader();
    const got = [...r.push(stream.subarray(0, i)), ...r.push(stream.subarray(i))];
    assert.deepEqual(plain(got), plain(packets), `split at ${i}`);
  }
  const r = new FlvReader();
  const got: MediaPacket[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...r.push(stream.subarray(i, i + 1)));
  assert.deepEqual(plain(got), plain(packets));
});

test('FlvReader: every pair of split points', () => {
  for (let i = 0; i <= stream.length; i += 3) {
    for (let j = i; j <= stream.length; j++) {
      const r = new FlvReader();
      const got = [...r.push(stream.subarray(0, i)), ...r.push(stream.subarray(i, j)), ...r.push(stream.subarray(j))];
      assert.deepEqual(plain(got), plain(packets), `split at ${i}, ${j}`);
    }
  }
});

test('FlvReader: emits a packet only once its PreviousTagSize has arrived', () => {
  const r = new FlvReader();
  const oneTag = Buffer.concat([encodeFlvHeader({ audio: true, video: false }), encodeFlvTag(packets[2]!)]);
  assert.deepEqual(r.push(oneTag.subarray(0, oneTag.length - 1)), []);
  assert.equal(r.push(oneTag.subarray(oneTag.length - 1)).length, 1);
});

test('FlvReader: data offset beyond 9 is honoured', () => {
  const h = encodeFlvHeader({ audio: true, video: true });
  h.writeUInt32BE(12, 5);
  const r = new FlvReader();
  const got = r.push(Buffer.concat([h.subarray(0, 9), Buffer.from('aabbcc', 'hex'), h.subarray(9), encodeFlvTag(packets[1]!)]));
  assert.deepEqual(plain(got), plain([packets[1]!]));
});

test('FlvReader: timestamps use the extended byte (24 + 8 bits)', () => {
  const r = new FlvReader();
  const got = r.push(Buffer.concat([encodeFlvHeader({ audio: true, video: false }), encodeFlvTag(pkt(TagType.Audio, 0xfedcba98, 'af01'))]));
  assert.equal(got[0]?.timestamp, 0xfedcba98);
});

test('FlvReader: errors', () => {
  const head = encodeFlvHeader({ audio: true, video: true });
  assert.throws(() => new FlvReader().push(Buffer.from('FLX\x01\x05\x00\x00\x00\x09', 'latin1')), FlvError);
  // The signature is checked as soon as 9 bytes are in, not at the end of the file.
  const split = new FlvReader();
  assert.deepEqual(split.push(Buffer.from('GIF89')), []);
  assert.throws(() => split.push(Buffer.from('a....')), /signature/);
  assert.throws(() => split.push(head), /signature/, 'the reader stays failed');

  assert.throws(() => new FlvReader().push(Buffer.concat([head, rawTag(0x29, Buffer.from([0x17]))])), /encrypted/);
  const big = encodeFlvTag(pkt(TagType.Video, 0, '17'.repeat(101)));
  assert.throws(() => new FlvReader({ maxTagSize: 100 }).push(Buffer.concat([head, big])), /exceeds/);
  assert.equal(new FlvReader({ maxTagSize: 101 }).push(Buffer.concat([head, big])).length, 1);
  // Unknown tag types are bounded too, and detected from the tag header alone (no need to buffer the body).
  const bigUnknown = rawTag(0x0f, Buffer.alloc(200));
  assert.throws(() => new FlvReader({ maxTagSize: 100 }).push(Buffer.concat([head, bigUnknown.subarray(0, 11)])), /exceeds/);
});

const packetArb: fc.Arbitrary<MediaPacket> = fc.record({
  type: fc.constantFrom(TagType.Audio, TagType.Video, TagType.Script),
  timestamp: fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(ms),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

/** Cuts `buf` at the given (unsorted, maybe duplicate) points. */
function chunk(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

test('property: encodeFlvTag -> FlvReader round-trips under any chunking', () => {
  fc.assert(
    fc.property(fc.array(packetArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (ps, cuts) => {
      const file = Buffer.concat([encodeFlvHeader({ audio: true, video: true }), ...ps.map(encodeFlvTag)]);
      const r = new FlvReader();
      const got = chunk(file, cuts).flatMap((c) => r.push(c));
      assert.deepEqual(plain(got), plain(ps));
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes throw only FlvError and never hang', () => {
  const head = encodeFlvHeader({ audio: true, video: true });
  fc.assert(
    fc.property(fc.boolean(), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 10 }), (withHeader, bytes, cuts) => {
      const input = withHeader ? Buffer.concat([head, Buffer.from(bytes)]) : Buffer.from(bytes);
      const r = new FlvReader({ maxTagSize: 4096 });
      try {
        for (const c of chunk(input, cuts)) r.push(c);
      } catch (e) {
        if (!(e instanceof FlvError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
