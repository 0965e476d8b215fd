import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import {
  FlvError,
  isAudio,
  isSequenceHeader,
  isVideo,
  isVideoKeyframe,
  parseAudioTagHeader,
  parseVideoTagHeader,
} from './tag-header.js';

const b = (...parts: (number[] | string | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p))));
const nalu = [0x00, 0x00, 0x00, 0x02, 0x65, 0x88];
const video = (payload: Buffer): MediaPacket => ({ type: TagType.Video, timestamp: ms(0), payload });
const audio = (payload: Buffer): MediaPacket => ({ type: TagType.Audio, timestamp: ms(0), payload });

test('legacy AVC keyframe with CTS 0x000050', () => {
  const h = parseVideoTagHeader(b([0x17, 0x01, 0x00, 0x00, 0x50], nalu));
  assert.deepEqual(h, {
    codec: 'h264', codecId: 7, enhanced: false, frameType: 'key', kind: 'coded-frames', compositionTimeMs: 0x50, data: Buffer.from(nalu),
  });
  assert.equal(h.fourCc, undefined);
});

test('legacy AVC inter frame with negative CTS', () => {
  const h = parseVideoTagHeader(b([0x27, 0x01, 0xff, 0xff, 0xf6], nalu));
  assert.equal(h.frameType, 'inter');
  assert.equal(h.compositionTimeMs, -10);
  assert.equal(parseVideoTagHeader(b([0x27, 0x01, 0x80, 0x00, 0x00])).compositionTimeMs, -0x800000);
  assert.equal(parseVideoTagHeader(b([0x37, 0x01, 0x7f, 0xff, 0xff])).compositionTimeMs, 0x7fffff);
  assert.equal(parseVideoTagHeader(b([0x37, 0x01, 0, 0, 0])).frameType, 'disposable');
});

test('legacy AVC sequence header, end of sequence, HEVC codec 12, other codecs, command frame', () => {
  const seq = parseVideoTagHeader(b([0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x1f]));
  assert.equal(seq.kind, 'sequence-header');
  assert.deepEqual(seq.data, Buffer.from([0x01, 0x64, 0x00, 0x1f]));
  assert.equal(parseVideoTagHeader(b([0x17, 0x02, 0, 0, 0])).kind, 'end-of-sequence');
  assert.equal(parseVideoTagHeader(b([0x17, 0x09, 0, 0, 0])).kind, 'other');
  const hevc = parseVideoTagHeader(b([0x1c, 0x01, 0, 0, 0x21], nalu));
  assert.equal(hevc.codec, 'hevc');
  assert.equal(hevc.codecId, 12);
  assert.equal(hevc.compositionTimeMs, 0x21);
  const h263 = parseVideoTagHeader(b([0x22, 0xaa, 0xbb]));
  assert.deepEqual(
    { codec: h263.codec, codecId: h263.codecId, frameType: h263.frameType, kind: h263.kind, data: h263.data },
    { codec: 'unknown', codecId: 2, frameType: 'inter', kind: 'coded-frames', data: Buffer.from([0xaa, 0xbb]) },
  );
  const cmd = parseVideoTagHeader(b([0x57, 0x01]));
  assert.equal(cmd.frameType, 'command');
  assert.equal(cmd.kind, 'other');
  assert.equal(parseVideoTagHeader(b([0x47, 0x01, 0, 0, 0])).frameType, 'generated-key');
});

test('enhanced hvc1 CodedFrames carries SI24 composition time', () => {
  const h = parseVideoTagHeader(b([0x91], 'hvc1', [0x00, 0x00, 0x28], nalu));
  assert.deepEqual(h, {
    codec: 'hevc', codecId: 0, fourCc: 'hvc1', enhanced: true, frameType: 'key', kind: 'coded-frames', compositionTimeMs: 40, data: Buffer.from(nalu),
  });
  assert.equal(parseVideoTagHeader(b([0xa1], 'hvc1', [0xff, 0xff, 0xfe], nalu)).compositionTimeMs, -2);
});

test('enhanced hvc1 CodedFramesX has no composition time', () => {
  const h = parseVideoTagHeader(b([0xa3], 'hvc1', nalu));
  assert.equal(h.frameType, 'inter');
  assert.equal(h.kind, 'coded-frames');
  assert.equal(h.compositionTimeMs, 0);
  assert.deepEqual(h.data, Buffer.from(nalu));
});

test('enhanced av01 SequenceStart and CodedFrames (no CTS for av01)', () => {
  const cfg = [0x81, 0x00, 0x0c, 0x00];
  const seq = parseVideoTagHeader(b([0x90], 'av01', cfg));
  assert.deepEqual(seq, {
    codec: 'av1', codecId: 0, fourCc: 'av01', enhanced: true, frameType: 'key', kind: 'sequence-header', compositionTimeMs: 0, data: Buffer.from(cfg),
  });
  const frame = parseVideoTagHeader(b([0x91], 'av01', [0x12, 0x00, 0x0a]));
  assert.equal(frame.compositionTimeMs, 0);
  assert.deepEqual(frame.data, Buffer.from([0x12, 0x00, 0x0a]));
  assert.equal(parseVideoTagHeader(b([0x91], 'vp09', [1])).codec, 'vp9');
  assert.equal(parseVideoTagHeader(b([0x91], 'avc1', [0, 0, 1], nalu)).codec, 'h264');
  const unknown = parseVideoTagHeader(b([0x91], 'xyz1', [1]));
  assert.equal(unknown.codec, 'unknown');
  assert.equal(unknown.fourCc, 'xyz1');
});

test('enhanced SequenceEnd, Metadata, MPEG2TS SequenceStart, Multitrack, command', () => {
  assert.equal(parseVideoTagHeader(b([0x92], 'hvc1')).kind, 'end-of-sequence');
  const meta = parseVideoTagHeader(b([0x84], 'hvc1', [0x02, 0x00]));
  assert.equal(meta.kind, 'metadata');
  assert.deepEqual(meta.data, Buffer.from([0x02, 0x00]));
  assert.equal(parseVideoTagHeader(b([0x95], 'av01', [1, 2])).kind, 'other');
  const multi = parseVideoTagHeader(b([0x96, 0x01], 'hvc1'));
  assert.equal(multi.kind, 'other');
  assert.equal(multi.codec, 'unknown');
  const cmd = parseVideoTagHeader(b([0xd1, 0x00]));
  assert.deepEqual([cmd.frameType, cmd.kind, cmd.fourCc], ['command', 'other', undefined]);
});

test('enhanced v2 ModEx blocks are skipped and the real packet type parsed', () => {
  // 8-bit size: 3 bytes of ModEx data (TimestampOffsetNano), then type byte 0x01 = CodedFrames.
  const h = parseVideoTagHeader(b([0x97, 0x02, 0x00, 0x01, 0x02, 0x01], 'hvc1', [0x00, 0x00, 0x05], nalu));
  assert.deepEqual([h.codec, h.kind, h.compositionTimeMs], ['hevc', 'coded-frames', 5]);
  assert.deepEqual(h.data, Buffer.from(nalu));
  // 16-bit size (300 bytes), chained with a second ModEx, ending in CodedFramesX.
  const big = Buffer.alloc(300, 0xee);
  const h2 = parseVideoTagHeader(b([0x97, 0xff, 0x01, 0x2b], big, [0x07, 0x00, 0x42, 0x03], 'avc1', nalu));
  assert.deepEqual([h2.codec, h2.kind, h2.compositionTimeMs, h2.frameType], ['h264', 'coded-frames', 0, 'key']);
  assert.deepEqual(h2.data, Buffer.from(nalu));
});

test('truncated video headers throw FlvError', () => {
  for (const bad of [
    b([]), b([0x17]), b([0x17, 0x01, 0, 0]), b([0x57]), b([0x91], 'hv'), b([0x91], 'hvc1', [0, 0]), b([0x97]), b([0x97, 0x05, 1, 2]),
    b([0x97, 0xff, 0x00]), b([0x97, 0x00, 0x00]), b([0xd1]),
  ]) {
    assert.throws(() => parseVideoTagHeader(bad), FlvError, bad.toString('hex'));
  }
});

test('AAC sequence header, raw AAC, MP3 and MP3 8 kHz', () => {
  assert.deepEqual(parseAudioTagHeader(b([0xaf, 0x00, 0x12, 0x10])), {
    codec: 'aac', soundFormat: 10, rateHz: 44100, bits: 16, channels: 2, kind: 'sequence-header', data: Buffer.from([0x12, 0x10]),
  });
  const raw = parseAudioTagHeader(b([0xae, 0x01, 0x21, 0x1b]));
  assert.deepEqual([raw.kind, raw.channels, raw.data], ['raw', 1, Buffer.from([0x21, 0x1b])]);
  assert.deepEqual(parseAudioTagHeader(b([0x2a, 0xff, 0xfb])), {
    codec: 'mp3', soundFormat: 2, rateHz: 22050, bits: 16, channels: 1, kind: 'raw', data: Buffer.from([0xff, 0xfb]),
  });
  const mp38k = parseAudioTagHeader(b([0xe2, 0xff]));
  assert.deepEqual([mp38k.codec, mp38k.rateHz, mp38k.bits, mp38k.soundFormat], ['mp3', 8000, 16, 14]);
  const pcm = parseAudioTagHeader(b([0x30, 0x80]));
  assert.deepEqual([pcm.codec, pcm.rateHz, pcm.bits, pcm.channels], ['unknown', 5512, 8, 1]);
  assert.throws(() => parseAudioTagHeader(b([0xaf, 0x02])), FlvError);
  assert.throws(() => parseAudioTagHeader(b([0xaf])), FlvError);
  assert.throws(() => parseAudioTagHeader(b([])), FlvError);
});

test('enhanced audio: mp4a SequenceStart / CodedFrames, .mp3, unknown FourCC, ModEx', () => {
  const seq = parseAudioTagHeader(b([0x90], 'mp4a', [0x12, 0x10]));
  assert.deepEqual([seq.codec, seq.kind, seq.fourCc, seq.soundFormat, seq.data], ['aac', 'sequence-header', 'mp4a', 9, Buffer.from([0x12, 0x10])]);
  assert.deepEqual([parseAudioTagHeader(b([0x91], 'mp4a', [1])).kind], ['raw']);
  assert.equal(parseAudioTagHeader(b([0x91], '.mp3', [0xff])).codec, 'mp3');
  assert.equal(parseAudioTagHeader(b([0x91], 'Opus', [0xff])).codec, 'unknown');
  assert.equal(parseAudioTagHeader(b([0x94], 'mp4a', [0xff])).codec, 'unknown');
  const modEx = parseAudioTagHeader(b([0x97, 0x00, 0x09, 0x00], 'mp4a', [0x12, 0x10]));
  assert.deepEqual([modEx.codec, modEx.kind], ['aac', 'sequence-header']);
  assert.throws(() => parseAudioTagHeader(b([0x91], 'mp4')), FlvError);
});

test('packet helpers', () => {
  assert.equal(isVideoKeyframe(video(b([0x17, 0x01, 0, 0, 0], nalu))), true);
  assert.equal(isVideoKeyframe(video(b([0x17, 0x00, 0, 0, 0, 1]))), false, 'sequence header is not a keyframe');
  assert.equal(isVideoKeyframe(video(b([0x27, 0x01, 0, 0, 0], nalu))), false);
  assert.equal(isVideoKeyframe(video(b([0xb3], 'hvc1', nalu))), false);
  assert.equal(isVideoKeyframe(video(b([0x93], 'hvc1', nalu))), true);
  assert.equal(isVideoKeyframe(video(b([0x17]))), false, 'truncated is not a keyframe, and does not throw');
  assert.equal(isVideoKeyframe(audio(b([0x17, 0x01, 0, 0, 0]))), false);
  assert.equal(isSequenceHeader(video(b([0x17, 0x00, 0, 0, 0, 1]))), true);
  assert.equal(isSequenceHeader(video(b([0x90], 'av01', [0x81]))), true);
  assert.equal(isSequenceHeader(video(b([0x17, 0x01, 0, 0, 0]))), false);
  assert.equal(isSequenceHeader(audio(b([0xaf, 0x00, 0x12, 0x10]))), true);
  assert.equal(isSequenceHeader(audio(b([0xaf, 0x01, 0x12]))), false);
  assert.equal(isSequenceHeader(audio(b([0x2f, 0x00]))), false);
  assert.equal(isSequenceHeader({ type: TagType.Script, timestamp: ms(0), payload: b([0x02, 0x00]) }), false);
  assert.equal(isAudio(audio(b([0xaf]))), true);
  assert.equal(isAudio(video(b([0x17]))), false);
  assert.equal(isVideo(video(b([0x17]))), true);
  assert.equal(isVideo(audio(b([0x17]))), false);
});

const onlyFlvError = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FlvError)) throw e;
  }
};

test('property: random bytes throw only FlvError; helpers never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const buf = Buffer.from(bytes);
      onlyFlvError(() => parseVideoTagHeader(buf));
      onlyFlvError(() => parseAudioTagHeader(buf));
      isVideoKeyframe(video(buf));
      isSequenceHeader(video(buf));
      isSequenceHeader(audio(buf));
    }),
    { numRuns: 5000 },
  );
  // Bias toward the interesting first bytes (enhanced + ModEx).
  fc.assert(
    fc.property(fc.constantFrom(0x97, 0x96, 0x91, 0x17, 0x1c, 0x97, 0xaf), fc.uint8Array({ maxLength: 40 }), (first, rest) => {
      const buf = Buffer.from([first, ...rest]);
      onlyFlvError(() => parseVideoTagHeader(buf));
      onlyFlvError(() => parseAudioTagHeader(buf));
    }),
    { numRuns: 5000 },
  );
});

test('property: legacy AVC and enhanced hvc1 headers round-trip', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2, 3, 4),
      fc.integer({ min: -0x800000, max: 0x7fffff }),
      fc.uint8Array({ maxLength: 64 }),
      fc.boolean(),
      (ft, cts, data, enhanced) => {
        const si24 = Buffer.alloc(3);
        si24.writeIntBE(cts, 0, 3);
        const payload = enhanced
          ? b([0x80 | (ft << 4) | 1], 'hvc1', si24, Buffer.from(data))
          : b([(ft << 4) | 7, 0x01], si24, Buffer.from(data));
        const h = parseVideoTagHeader(payload);
        assert.equal(h.compositionTimeMs, cts);
        assert.equal(h.frameType, (['key', 'inter', 'disposable', 'generated-key'] as const)[ft - 1]);
        assert.equal(h.kind, 'coded-frames');
        assert.equal(h.enhanced, enhanced);
        assert.deepEqual(h.data, Buffer.from(data));
      },
    ),
  );
});
