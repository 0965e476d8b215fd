import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HVCC, record } from '../../../test/helpers/codec-records.js';
import { splitAnnexB } from '../h264/annexb.js';
import { writeAvcConfig } from '../h264/avc-config.js';
import { joinAvcc } from '../h264/avcc.js';
import { parseHvcc } from '../hevc/hvcc.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { keyframeAnnexB } from './keyframe-annexb.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const SEI = Buffer.from('06050180', 'hex');
const IDR = Buffer.from('6588840011', 'hex');
const HEVC_IDR = Buffer.from('2601af0012', 'hex');

const video = (...parts: Buffer[]): MediaPacket => ({ type: TagType.Video, timestamp: ms(0), payload: Buffer.concat(parts) });
const avcHeader = video(Buffer.from([0x17, 0, 0, 0, 0]), writeAvcConfig([SPS], [PPS]));
const avcKey = (body: Buffer, key = true): MediaPacket => video(Buffer.from([key ? 0x17 : 0x27, 1, 0, 0, 0]), body);
const hvcc = record(HVCC.main330x250);

test('H.264: SPS and PPS of the record, then the frame, each after a 4-byte start code', () => {
  const r = keyframeAnnexB(avcHeader, avcKey(joinAvcc([SEI, IDR])));
  assert.ok(r.ok);
  assert.equal(r.keyframe.format, 'h264');
  assert.deepEqual([r.keyframe.width, r.keyframe.height], [1280, 720]);
  assert.deepEqual(r.keyframe.data, Buffer.concat([SPS, PPS, SEI, IDR].flatMap((u) => [Buffer.from([0, 0, 0, 1]), u])));
  assert.deepEqual(splitAnnexB(r.keyframe.data), [SPS, PPS, SEI, IDR]);
});

test('HEVC, legacy codec id 12 and enhanced hvc1: VPS, SPS, PPS of the record, then the frame', () => {
  const params = parseHvcc(hvcc).arrays.flatMap((a) => a.nalus);
  assert.equal(params.length, 3);
  const legacy = keyframeAnnexB(video(Buffer.from([0x1c, 0, 0, 0, 0]), hvcc), video(Buffer.from([0x1c, 1, 0, 0, 0]), joinAvcc([HEVC_IDR])));
  const enhanced = keyframeAnnexB(
    video(Buffer.from([0x90]), Buffer.from('hvc1'), hvcc),
    video(Buffer.from([0x91]), Buffer.from('hvc1'), Buffer.from([0, 0, 0]), joinAvcc([HEVC_IDR])),
  );
  for (const r of [legacy, enhanced]) {
    assert.ok(r.ok);
    assert.equal(r.keyframe.format, 'hevc');
    assert.deepEqual([r.keyframe.width, r.keyframe.height], [330, 250]);
    assert.deepEqual(splitAnnexB(r.keyframe.data), [...params, HEVC_IDR]);
  }
});

test('refused: no codec header, an inter frame, a frame that does not split, AV1', () => {
  assert.deepEqual(keyframeAnnexB(avcKey(joinAvcc([IDR])), avcKey(joinAvcc([IDR]))), { ok: false, reason: 'malformed' });
  assert.deepEqual(keyframeAnnexB(avcHeader, avcKey(joinAvcc([IDR]), false)), { ok: false, reason: 'malformed' });
  assert.deepEqual(keyframeAnnexB(avcHeader, avcKey(Buffer.from([0, 0, 0, 9, 0x65]))), { ok: false, reason: 'malformed' });
  assert.deepEqual(keyframeAnnexB(avcHeader, avcKey(Buffer.alloc(0))), { ok: false, reason: 'malformed' });
  assert.deepEqual(keyframeAnnexB(video(Buffer.from([0x1c, 0, 0, 0, 0]), hvcc), video(Buffer.from([0x1c, 1, 0, 0, 0]), Buffer.from([0, 0, 0, 9, 0x26]))), {
    ok: false,
    reason: 'malformed',
  });
  assert.deepEqual(keyframeAnnexB(video(Buffer.from([0x1c, 0, 0, 0, 0]), Buffer.from([1, 2, 3])), avcKey(joinAvcc([IDR]))), { ok: false, reason: 'malformed' });
  const av1 = keyframeAnnexB(video(Buffer.from([0x90]), Buffer.from('av01'), record('81000c000a0b000000043cffbc02f80040')), video(Buffer.from([0x91]), Buffer.from('av01'), Buffer.from([0x12, 0])));
  assert.deepEqual(av1, { ok: false, reason: 'unsupported', codec: 'av1' });
});

test('the output is a copy: the packets may be released', () => {
  const key = avcKey(joinAvcc([IDR]));
  const r = keyframeAnnexB(avcHeader, key);
  assert.ok(r.ok);
  key.payload.fill(0);
  assert.deepEqual(splitAnnexB(r.keyframe.data).at(-1), IDR);
});
