// The keyframes index at the head of a recorded FLV (parseKeyframesIndex): VOD and clips read it from
// files on disk, whose bytes a publisher's stream made (its metadata fields, its frames' sizes), and
// from any file put in the recordings directory.
import fc from 'fast-check';
import { encodeFileMetadata, parseKeyframesIndex } from '../../src/media/flv/file-meta.js';
import { FlvError } from '../../src/media/flv/tag-header.js';
import type { FuzzTarget } from '../harness.js';
import { amfValue } from './amf0.js';
import { bound, text } from './util.js';

/** A recording's onMetaData: a small reserve, an index of ascending times and positions, publisher fields. */
const fileMeta = fc
  .record({
    capacity: fc.integer({ min: 2, max: 24 }),
    steps: fc.array(fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 1 << 20 })), { maxLength: 24 }),
    publisher: fc.dictionary(fc.string({ maxLength: 12 }), amfValue, { maxKeys: 6 }),
    filesize: fc.nat(),
  })
  .map(({ capacity, steps, publisher, filesize }) => {
    let t = 0;
    let p = 13;
    const index = steps.slice(0, capacity).map(([dt, dp]) => [(t += dt), (p += dp)] as const);
    const body = encodeFileMetadata({
      tracks: { audio: true, video: true },
      publisher: publisher as Record<string, unknown>,
      capacity,
      durationMs: t,
      filesize,
      lastTimestampMs: t,
      lastKeyframeTimestampMs: t,
      lastKeyframeLocation: p,
      keyframes: { timesMs: index.map((e) => e[0]), positions: index.map((e) => e[1]) },
    });
    return new Uint8Array(body);
  });

export const target: FuzzTarget = {
  name: 'flv-keyframes',
  description: 'parseKeyframesIndex on onMetaData bodies (recorded files)',
  expected: [FlvError],
  run(input) {
    const index = parseKeyframesIndex(input);
    // Each entry costs 18 bytes of input (two AMF0 numbers) and 16 of output.
    if (index) bound('keyframes index', 8 * (index.timesMs.length + index.positions.length), input.length, 1, 0);
  },
  arbitrary: fileMeta,
  dictionary: [text('onMetaData'), text('keyframes'), text('times'), text('filepositions'), text('indexReserve'), Buffer.from([0x0a, 0, 0, 0, 2]), Buffer.from([0x00, 0x00, 0x09])],
};
