import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeAvcConfig } from '../h264/avc-config.js';
import { joinAvcc } from '../h264/avcc.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { FlvDemuxer } from './demux.js';
import { parseVideoTagHeader } from './tag-header.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const SEI = Buffer.from('0605ff00', 'hex');
const IDR = Buffer.from('6588840011', 'hex');
const NON_IDR = Buffer.from('419a2233', 'hex');
const MP3_FRAME = Buffer.concat([Buffer.from('fffb9064', 'hex'), Buffer.alloc(413, 0x55)]); // MPEG-1 L3 128k 44.1 kHz: 417 bytes

const pkt = (type: TagType, t: number, ...parts: Buffer[]): MediaPacket => ({ type, timestamp: ms(t), payload: Buffer.concat(parts) });
const avcHeader = (): MediaPacket => pkt(TagType.Video, 0, Buffer.from([0x17, 0, 0, 0, 0]), writeAvcConfig([SPS], [PPS]));
const cto24 = (c: number): Buffer => Buffer.from([(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff]);
const avcFrame = (t: number, key: boolean, cto: number, body: Buffer): MediaPacket => pkt(TagType.Video, t, Buffer.from([key ? 0x17 : 0x27, 1]), cto24(cto), body);

test('H.264: configuration, then access units split into their NAL units with DTS, PTS and key flag', () => {
  const d = new FlvDemuxer();
  assert.deepEqual(d.push(avcFrame(0, true, 0, joinAvcc([IDR]))), { kind: 'unconfigured-video', codec: 'h264' });
  const cfg = d.push(avcHeader());
  assert.equal(cfg.kind, 'video-config');
  assert.deepEqual(d.h264?.config.sps, [SPS]);
  assert.deepEqual([d.h264?.sps?.width, d.h264?.sps?.height], [1280, 720]);
  const { h264, ...video } = d.video ?? {};
  assert.ok(h264);
  assert.deepEqual(video, { codec: 'h264', record: writeAvcConfig([SPS], [PPS]), codecString: 'avc1.64001f', profile: 100, level: 31, width: 1280, height: 720, fps: 25 });

  const sample = joinAvcc([SEI, IDR]);
  const key = d.push(avcFrame(1000, true, 80, sample));
  assert.deepEqual(key, { kind: 'video', codec: 'h264', dts: 1000, pts: 1080, key: true, data: sample, nalus: [SEI, IDR] });
  // A negative composition offset is clamped: PTS never precedes DTS.
  const inter = joinAvcc([NON_IDR]);
  assert.deepEqual(d.push(avcFrame(1033, false, 0xffffd8, inter)), { kind: 'video', codec: 'h264', dts: 1033, pts: 1033, key: false, data: inter, nalus: [NON_IDR] });
  // A header parsed by the caller is used as is.
  const p = avcFrame(1066, false, 0, inter);
  assert.deepEqual(d.push(p, parseVideoTagHeader(p.payload)), { kind: 'video', codec: 'h264', dts: 1066, pts: 1066, key: false, data: inter, nalus: [NON_IDR] });
});

test('H.264 split cases: empty NAL units skipped, a frame of none is nothing, a truncated one is dropped', () => {
  const d = new FlvDemuxer();
  d.push(avcHeader());
  const withEmpty = Buffer.concat([joinAvcc([IDR]), Buffer.from([0, 0, 0, 0]), joinAvcc([NON_IDR])]);
  assert.deepEqual(d.push(avcFrame(0, true, 0, withEmpty)), { kind: 'video', codec: 'h264', dts: 0, pts: 0, key: true, data: withEmpty, nalus: [IDR, NON_IDR] });
  assert.deepEqual(d.push(avcFrame(40, false, 0, Buffer.alloc(0))), { kind: 'none' });
  assert.deepEqual(d.push(avcFrame(40, false, 0, Buffer.from([0, 0, 0, 9, 0x41]))), { kind: 'dropped' }); // length past the end
  assert.deepEqual(d.push(avcFrame(40, false, 0, Buffer.from([0, 0]))), { kind: 'dropped' }); // truncated length
  assert.deepEqual(d.push(pkt(TagType.Video, 40, Buffer.from([0x17]))), { kind: 'dropped' }); // truncated tag header
  assert.deepEqual(d.push(pkt(TagType.Video, 40, Buffer.from([0x17, 2, 0, 0, 0]))), { kind: 'none' }); // end of sequence
});

test('other video codecs are dropped; script data is nothing', () => {
  const d = new FlvDemuxer();
  assert.deepEqual(d.push(pkt(TagType.Video, 0, Buffer.from([0x12, 0, 0, 0]))), { kind: 'dropped' }); // Sorenson H.263
  assert.deepEqual(d.push(pkt(TagType.Video, 0, Buffer.from([0x91]), Buffer.from('vp09'), Buffer.from([1, 2]))), { kind: 'dropped' }); // enhanced VP9 coded frames
  assert.deepEqual(d.push(pkt(TagType.Script, 0, Buffer.from([2, 0, 0]))), { kind: 'none' });
});

test('AAC: configuration, raw frames with their duration; frames before it are dropped', () => {
  const d = new FlvDemuxer();
  assert.deepEqual(d.push(pkt(TagType.Audio, 0, Buffer.from('af01', 'hex'), Buffer.alloc(10))), { kind: 'dropped' });
  const cfg = d.push(pkt(TagType.Audio, 0, Buffer.from('af001210', 'hex')));
  assert.equal(cfg.kind, 'audio-config');
  assert.equal(d.audioCodec, 'aac');
  assert.deepEqual(cfg, { kind: 'audio-config', asc: d.asc, record: Buffer.from('1210', 'hex') });
  const raw = Buffer.alloc(10, 0x21);
  assert.deepEqual(d.push(pkt(TagType.Audio, 23, Buffer.from('af01', 'hex'), raw)), { kind: 'audio', codec: 'aac', dts: 23, pts: 23, frame: raw, durationMs: 1024000 / 44100 });
  assert.deepEqual(d.push(pkt(TagType.Audio, 46, Buffer.from('af01', 'hex'))), { kind: 'dropped' }); // empty frame
});

test('MP3: every frame of a tag counts towards its duration', () => {
  const d = new FlvDemuxer();
  const two = Buffer.concat([MP3_FRAME, MP3_FRAME]);
  const au = d.push(pkt(TagType.Audio, 0, Buffer.from([0x2f]), two));
  assert.deepEqual(au, { kind: 'audio', codec: 'mp3', dts: 0, pts: 0, frame: two, durationMs: (2 * 1152000) / 44100 });
  assert.deepEqual([d.audioCodec, d.mp3?.sampleRate, d.mp3?.channels], ['mp3', 44100, 2]);
  assert.deepEqual(d.push(pkt(TagType.Audio, 0, Buffer.from([0x2f]))), { kind: 'none' });
});

test('property: random tag bodies never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ video: fc.boolean(), body: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 30 }), (tags) => {
      const d = new FlvDemuxer();
      d.push(avcHeader());
      for (const t of tags) d.push(pkt(t.video ? TagType.Video : TagType.Audio, 0, Buffer.from(t.body)));
    }),
  );
});
