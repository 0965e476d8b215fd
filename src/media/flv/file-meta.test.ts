import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAmf0, encodeAmf0 } from '../amf/amf0.js';
import type { Amf0Value } from '../amf/amf0.js';
import { MAX_AMF_ITEMS } from '../amf/limits.js';
import { encodeFileMetadata, OPEN_FILE_VALUES, MAX_FILE_META_BYTES, MAX_RECORD_INDEX_CAPACITY, parseKeyframesIndex, RECORD_INDEX_CAPACITY } from './file-meta.js';
import type { FileMetadata } from './file-meta.js';
import { encodeScriptData, parseScriptData } from './script.js';
import { FlvError } from './tag-header.js';

const f64 = (n: number): string => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
};
const str = (s: string): string => Buffer.from(s).length.toString(16).padStart(4, '0') + Buffer.from(s).toString('hex');
const numbers = (ns: number[]): string => '0a' + ns.length.toString(16).padStart(8, '0') + ns.map((n) => '00' + f64(n)).join('');

/** FFmpeg's own onMetaData fields, as a publisher sends them. */
const FFMPEG_META = { duration: 0, width: 320, height: 240, videodatarate: 292.96875, framerate: 25, videocodecid: 7, audiodatarate: 62.5, audiosamplerate: 44100, audiosamplesize: 16, stereo: false, audiocodecid: 10, encoder: 'Lavf59.27.100', filesize: 0 };

function meta(over: Partial<FileMetadata> = {}): FileMetadata {
  return {
    tracks: { audio: true, video: true },
    publisher: FFMPEG_META,
    capacity: 8,
    ...OPEN_FILE_VALUES,
    ...over,
  };
}

test('encodeFileMetadata: the keyframes object and its reserve, byte-exact', () => {
  const body = encodeFileMetadata(meta({ capacity: 3, publisher: undefined, durationMs: 4040, filesize: 9000, lastTimestampMs: 4000, lastKeyframeTimestampMs: 2000, lastKeyframeLocation: 5000, keyframes: { timesMs: [0, 2000], positions: [200, 5000] } }));
  const want =
    '02' + str('onMetaData') + '08' + '0000000c' +
    str('metadatacreator') + '02' + str('livecdn') +
    str('hasMetadata') + '0101' + str('hasVideo') + '0101' + str('hasAudio') + '0101' + str('hasKeyframes') + '0101' +
    str('duration') + '00' + f64(4.04) + str('filesize') + '00' + f64(9000) + str('lasttimestamp') + '00' + f64(4) +
    str('lastkeyframetimestamp') + '00' + f64(2) + str('lastkeyframelocation') + '00' + f64(5000) +
    str('keyframes') + '03' + str('times') + numbers([0, 2]) + str('filepositions') + numbers([200, 5000]) + '000009' +
    str('indexReserve') + numbers([0, 0]) +
    '000009';
  assert.equal(body.toString('hex'), want);
});

test('encodeFileMetadata: the size depends on the capacity only, for every index length', () => {
  const empty = encodeFileMetadata(meta());
  for (let n = 0; n <= 8; n++) {
    const timesMs = Array.from({ length: n }, (_, i) => i * 2002 + 7);
    const positions = Array.from({ length: n }, (_, i) => 1000 + i * 123_457);
    const body = encodeFileMetadata(meta({ durationMs: 99_999_999, filesize: 2 ** 40, lastTimestampMs: 1234, lastKeyframeTimestampMs: 1, lastKeyframeLocation: 77, keyframes: { timesMs, positions } }));
    assert.equal(body.length, empty.length, `${n} keyframes`);
  }
  // Each slot is two numbers of 9 bytes: capacity c costs 18 c bytes.
  assert.equal(encodeFileMetadata(meta({ capacity: 9 })).length, empty.length + 18);
  const full = encodeFileMetadata(meta({ capacity: RECORD_INDEX_CAPACITY }));
  assert.ok(full.length < MAX_FILE_META_BYTES);
  // The largest capacity with every publisher field at its cap stays under the reader's bounds.
  const fat = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${i}`.padEnd(255, 'k'), 'v'.repeat(255)]));
  const largest = encodeFileMetadata(meta({ capacity: MAX_RECORD_INDEX_CAPACITY, publisher: fat }));
  assert.ok(largest.length <= MAX_FILE_META_BYTES, `${largest.length} bytes`);
  assert.ok(2 * MAX_RECORD_INDEX_CAPACITY + 100 < MAX_AMF_ITEMS);
  assert.ok(parseKeyframesIndex(largest));
});

test('encodeFileMetadata: the publisher fields kept, ours win, odd ones dropped', () => {
  const publisher: Record<string, unknown> = {
    ...FFMPEG_META,
    duration: 55,
    hasVideo: false,
    long: 'x'.repeat(256),
    short: 'y'.repeat(255),
    nested: { a: 1 },
    list: [1, 2],
    nan: Number.NaN,
    nothing: null,
    ['k'.repeat(256)]: 1,
  };
  Object.defineProperty(publisher, '__proto__', { value: 5, enumerable: true });
  const { name, value } = parseScriptData(encodeFileMetadata(meta({ publisher, durationMs: 1500, tracks: { audio: false, video: true } })));
  assert.equal(name, 'onMetaData');
  const v = value as Record<string, Amf0Value>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype, 'a "__proto__" field stays data');
  assert.equal(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, 5);
  assert.deepEqual([v.width, v.height, v.videocodecid, v.audiocodecid, v.stereo, v.encoder, v.short], [320, 240, 7, 10, false, 'Lavf59.27.100', 'y'.repeat(255)]);
  assert.deepEqual([v.duration, v.hasVideo, v.hasAudio, v.filesize], [1.5, true, false, 0]);
  for (const k of ['long', 'nested', 'list', 'nan', 'nothing', 'k'.repeat(256)]) assert.equal(k in v, false, k);
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, i]));
  const kept = parseScriptData(encodeFileMetadata(meta({ publisher: many }))).value as Record<string, Amf0Value>;
  assert.equal(Object.keys(kept).filter((k) => k.startsWith('p')).length, 64);
});

test('encodeFileMetadata: bad capacity or index is a RangeError', () => {
  assert.throws(() => encodeFileMetadata(meta({ capacity: 1 })), RangeError);
  assert.throws(() => encodeFileMetadata(meta({ capacity: MAX_RECORD_INDEX_CAPACITY + 1 })), RangeError);
  assert.throws(() => encodeFileMetadata(meta({ capacity: 2.5 })), RangeError);
  assert.throws(() => encodeFileMetadata(meta({ capacity: 2, keyframes: { timesMs: [0, 1, 2], positions: [1, 2, 3] } })), RangeError);
  assert.throws(() => encodeFileMetadata(meta({ keyframes: { timesMs: [0], positions: [] } })), RangeError);
});

test('parseKeyframesIndex: reads back what encodeFileMetadata wrote', () => {
  const keyframes = { timesMs: [0, 2000, 4001], positions: [300, 70_000, 140_123] };
  const got = parseKeyframesIndex(encodeFileMetadata(meta({ durationMs: 6040, filesize: 210_000, lastTimestampMs: 6000, keyframes })));
  assert.deepEqual(got, { ...keyframes, durationMs: 6040, filesize: 210_000, lastTimestampMs: 6000 });
  // A file never closed: the empty index, filesize 0.
  assert.deepEqual(parseKeyframesIndex(encodeFileMetadata(meta())), { timesMs: [], positions: [], durationMs: 0, filesize: 0, lastTimestampMs: 0 });
  // From inside a larger buffer (a read of the file's head).
  const body = encodeFileMetadata(meta({ keyframes }));
  const inFile = Buffer.concat([Buffer.alloc(24, 7), body, Buffer.alloc(10, 9)]);
  assert.deepEqual(parseKeyframesIndex(inFile.subarray(24, 24 + body.length))?.positions, keyframes.positions);
});

test('parseKeyframesIndex: yamdi/flvmeta files, @setDataFrame, and metadata without an index', () => {
  const yamdi = encodeScriptData('onMetaData', { hasKeyframes: true, duration: 4.5, keyframes: { filepositions: [13, 500], times: [0, 2.5] }, filesize: 900 });
  assert.deepEqual(parseKeyframesIndex(yamdi), { timesMs: [0, 2500], positions: [13, 500], durationMs: 4500, filesize: 900, lastTimestampMs: 0 });
  assert.ok(parseKeyframesIndex(Buffer.concat([encodeAmf0('@setDataFrame'), yamdi])));
  assert.equal(parseKeyframesIndex(encodeScriptData('onMetaData', FFMPEG_META)), undefined);
  assert.equal(parseKeyframesIndex(encodeScriptData('onCuePoint', { keyframes: { times: [0], filepositions: [1] } })), undefined);
  assert.equal(parseKeyframesIndex(encodeScriptData('onMetaData', 'text')), undefined);
  // Inherited names are not fields.
  assert.equal(parseKeyframesIndex(encodeScriptData('onMetaData', { constructor: 1 })), undefined);
});

test('parseKeyframesIndex: malformed index is undefined, malformed AMF is FlvError', () => {
  const idx = (times: Amf0Value, filepositions: Amf0Value): Buffer => encodeScriptData('onMetaData', { keyframes: { times, filepositions } });
  assert.equal(parseKeyframesIndex(idx([0, 1], [10])), undefined, 'lengths differ');
  assert.equal(parseKeyframesIndex(idx([0, '1'], [10, 20])), undefined, 'a string');
  assert.equal(parseKeyframesIndex(idx([0, Number.NaN], [10, 20])), undefined, 'NaN');
  assert.equal(parseKeyframesIndex(idx([0, Infinity], [10, 20])), undefined, 'infinite');
  assert.equal(parseKeyframesIndex(idx([0, 1e306], [10, 20])), undefined, 'ms out of range');
  assert.equal(parseKeyframesIndex(idx([2, 1], [10, 20])), undefined, 'time going back');
  assert.equal(parseKeyframesIndex(idx([0, 1], [20, 20])), undefined, 'position not ascending');
  assert.equal(parseKeyframesIndex(idx([0, 1], [10, 20.5])), undefined, 'fractional position');
  assert.equal(parseKeyframesIndex(idx([-1, 1], [10, 20])), undefined, 'negative time');
  assert.equal(parseKeyframesIndex(idx([0, 1], [-10, 20])), undefined, 'negative position');
  assert.equal(parseKeyframesIndex(idx({ 0: 0 }, [10])), undefined, 'not an array');
  assert.equal(parseKeyframesIndex(encodeScriptData('onMetaData', { keyframes: [1, 2] })), undefined, 'keyframes not an object');
  const over = MAX_RECORD_INDEX_CAPACITY + 1;
  const seq = Array.from({ length: over }, (_, i) => i);
  assert.equal(parseKeyframesIndex(idx(seq, seq)), undefined, 'over the count cap');
  assert.equal(parseKeyframesIndex(Buffer.concat([idx([0], [1]), Buffer.alloc(MAX_FILE_META_BYTES)])), undefined, 'over the byte cap');
  // Odd but valid numbers: negative filesize and duration read as 0.
  assert.deepEqual(parseKeyframesIndex(encodeScriptData('onMetaData', { duration: -5, filesize: 1.5, keyframes: { times: [], filepositions: [] } })), { timesMs: [], positions: [], durationMs: 0, filesize: 0, lastTimestampMs: 0 });
  const good = encodeFileMetadata(meta({ keyframes: { timesMs: [0, 2000], positions: [300, 900] } }));
  assert.throws(() => parseKeyframesIndex(good.subarray(0, good.length - 40)), FlvError);
  assert.throws(() => parseKeyframesIndex(Buffer.alloc(0)), FlvError);
  assert.throws(() => parseKeyframesIndex(Buffer.from([0x02, 0x00, 0x0a])), FlvError);
});

test('encodeFileMetadata/parseKeyframesIndex: round trip of any index and publisher', () => {
  const scalar = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 20 }), fc.constant(null));
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 40 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 })), { maxLength: 40 }),
      fc.dictionary(fc.string({ maxLength: 10 }), scalar, { maxKeys: 8 }),
      fc.nat(2 ** 40),
      (capacity, steps, publisher, filesize) => {
        const n = Math.min(capacity, steps.length);
        let t = 0;
        let p = 13;
        const timesMs: number[] = [];
        const positions: number[] = [];
        for (const [dt, dp] of steps.slice(0, n)) {
          timesMs.push((t += dt));
          positions.push((p += dp));
        }
        const m = meta({ capacity, publisher, filesize, durationMs: t + 40, lastTimestampMs: t, keyframes: { timesMs, positions } });
        const body = encodeFileMetadata(m);
        assert.equal(body.length, encodeFileMetadata(meta({ capacity, publisher })).length);
        assert.deepEqual(parseKeyframesIndex(body), { timesMs, positions, durationMs: t + 40, filesize, lastTimestampMs: t });
        assert.equal(decodeAmf0(body).length, 2);
      },
    ),
    { numRuns: 200 },
  );
});
