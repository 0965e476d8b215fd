// Recorded FLV files as VOD reads them (src/record/flv-scan.ts, src/record/vod.ts): the tag scan that
// indexes a file without a keyframes index (an interrupted recording, any file in the recordings
// directory), in chunks of any size, then the VOD plan and the remux of every segment and a clip's
// bounds over that index. Byte 0 picks the chunk size; the rest is the file from its first tag.
import fc from 'fast-check';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { FlvScanner, scanBytes } from '../../src/record/flv-scan.js';
import { clipBounds, planVod, remuxRange } from '../../src/record/vod.js';
import { HttpError } from '../../src/shared/http.js';
import type { FuzzTarget } from '../harness.js';
import { bound, sameInAnySplit } from './util.js';

/** Where the tags start in a file with the usual 13-byte header. */
const DATA_START = 13;
/** Segments remuxed per input at most: each costs a writer. */
const MAX_SEGMENTS = 8;

const videoBody = fc.oneof(
  // AVC sequence header, keyframe, inter frame, enhanced hvc1 / av01 starts: what keyframe and config detection read.
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0x17, 0x00, 0, 0, 0]), b])),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 4]), b])),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0x28, 0, 0, 0, 4]), b])),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31]), b])),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from([0x91, 0x61, 0x76, 0x30, 0x31]), b])),
);
const audioBody = fc.oneof(
  fc.constant(Buffer.from([0xaf, 0x00, 0x12, 0x10])),
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.concat([Buffer.from([0xaf, 0x01]), b])),
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.concat([Buffer.from([0x2f, 0xff, 0xfb, 0x90, 0x00]), b])),
);
const tag = fc
  .tuple(fc.oneof(fc.tuple(fc.constant(TagType.Video), videoBody), fc.tuple(fc.constant(TagType.Audio), audioBody)), fc.nat(4000))
  .map(([[type, payload], timestamp]) => encodeFlvTag({ type, timestamp: ms(timestamp), payload: Buffer.from(payload) }));

export const target: FuzzTarget = {
  name: 'flv-scan',
  description: 'FlvScanner over a recorded file in any chunks (same index), then planVod, remuxRange of each segment and clipBounds',
  expected: [HttpError],
  run(input) {
    const [summary] = sameInAnySplit(
      input,
      [],
      (parts) => {
        const scanner = new FlvScanner(DATA_START);
        for (const p of parts) scanner.push(p);
        const b = scanner.index;
        return [JSON.stringify({ end: scanner.end, sync: b.points, configs: b.configs.map((c) => c.pos), start: b.startMs, endMs: b.endMs, video: b.video, audio: b.audio })];
      },
      (s) => s,
    );
    if (summary === undefined) return;
    const file = input.subarray(1);
    const index = scanBytes(file, DATA_START);
    const plan = planVod(index, 1000 + (input[0] ?? 0) * 10);
    let out = 0;
    for (const seg of plan.segments.slice(0, MAX_SEGMENTS)) {
      try {
        out += remuxRange(file.subarray(seg.startPos - DATA_START, seg.endPos - DATA_START), index, plan.format, seg).length;
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
      }
    }
    // MPEG-TS turns a tiny frame into a few 188-byte packets (PAT, PMT, PES): generous, but linear.
    bound('VOD segments', out, file.length, 64, 8192);
    const b = clipBounds(index, input[1] ?? 0, (input[2] ?? 0) * 20);
    if (b.first > b.last || b.startMs > b.endMs + 1) throw new Error(`clip bounds out of order: ${JSON.stringify(b)}`);
  },
  arbitrary: fc.tuple(fc.nat(255), fc.array(tag, { maxLength: 24 })).map(([split, tags]) => new Uint8Array(Buffer.concat([Buffer.from([split]), ...tags]))),
  dictionary: [Buffer.from([0x09]), Buffer.from([0x08]), Buffer.from([0x12]), Buffer.from([0x17, 0x00]), Buffer.from([0x17, 0x01]), Buffer.from([0xaf, 0x00]), Buffer.from([0xaf, 0x01])],
};
