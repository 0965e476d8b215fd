import assert from 'node:assert/strict';
import test from 'node:test';
import { AV1C, HVCC, record } from '../../../test/helpers/codec-records.js';
import { readMp4 } from '../../../test/helpers/mp4box.js';
import { parseAv1c } from '../av1/av1c.js';
import { av1CodecString, hevcCodecString } from '../codec.js';
import { parseHvcc } from '../hevc/hvcc.js';
import { Mp4Error } from './error.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, writeInitSegment, type Mp4VideoTrack } from './init.js';

/** The child boxes of a box payload, as [type, size] pairs. */
function children(b: Buffer, from = 8): [string, number][] {
  const out: [string, number][] = [];
  for (let at = from; at < b.length; ) {
    const size = b.readUInt32BE(at);
    out.push([b.toString('latin1', at + 4, at + 8), size]);
    at += size;
  }
  return out;
}

test('layout: ftyp, then moov with mvhd, one trak per track (video 1, audio 2) and mvex with a trex each', () => {
  const init = writeInitSegment({
    video: { codec: 'hevc', width: 330, height: 250, timescale: 90000, config: record(HVCC.main330x250) },
    audio: { codec: 'aac', sampleRate: 48000, channels: 2, timescale: 48000, asc: Buffer.from([0x11, 0x90]) },
  });
  assert.deepEqual(children(init, 0).map(([t]) => t), ['ftyp', 'moov']);
  const moov = init.subarray(init.readUInt32BE(0));
  assert.equal(moov.readUInt32BE(0), moov.length);
  assert.deepEqual(children(moov).map(([t]) => t), ['mvhd', 'trak', 'trak', 'mvex']);
  const mvex = moov.subarray(moov.indexOf('mvex') - 4);
  assert.deepEqual(children(mvex).map(([t]) => t), ['trex', 'trex']);
  assert.deepEqual([mvex.readUInt32BE(8 + 12), mvex.readUInt32BE(8 + 32 + 12)], [VIDEO_TRACK_ID, AUDIO_TRACK_ID]);
  const r = readMp4([init]);
  assert.deepEqual(r.errors, []);
  assert.ok(r.info.isFragmented);
  assert.deepEqual(r.info.tracks.map((t) => [t.id, t.type, t.timescale, t.nb_samples]), [[1, 'video', 90000, 0], [2, 'audio', 48000, 0]]);
});

test('mp4box reads HEVC (hvc1) and AV1 (av01) sample entries and names them with our CODECS strings', () => {
  const cases: [Mp4VideoTrack, string][] = [
    [{ codec: 'hevc', width: 1920, height: 1080, timescale: 90000, config: record(HVCC.highTier1080) }, hevcCodecString(parseHvcc(record(HVCC.highTier1080)))],
    [{ codec: 'hevc', width: 64, height: 48, timescale: 90000, config: record(HVCC.main10) }, hevcCodecString(parseHvcc(record(HVCC.main10)))],
    [{ codec: 'av1', width: 1920, height: 1080, timescale: 90000, config: record(AV1C.svt1080) }, av1CodecString(parseAv1c(record(AV1C.svt1080)))],
    [{ codec: 'av1', width: 1280, height: 720, timescale: 90000, config: record(AV1C.aom12bit720) }, av1CodecString(parseAv1c(record(AV1C.aom12bit720)))],
  ];
  for (const [video, codecs] of cases) {
    const r = readMp4([writeInitSegment({ video })]);
    const t = r.info.tracks[0]!;
    assert.deepEqual([r.info.tracks.length, t.id, t.codec.toLowerCase(), t.video?.width, t.video?.height], [1, VIDEO_TRACK_ID, codecs.toLowerCase(), video.width, video.height]);
    const entry = r.file.getTrackById(1).mdia.minf.stbl.stsd.entries[0]!;
    assert.equal(entry.type, video.codec === 'hevc' ? 'hvc1' : 'av01');
  }
});

test('MP3 audio-only: mp4a with object type 0x6B; AAC with the ASC as DecoderSpecificInfo', () => {
  const mp3 = readMp4([writeInitSegment({ audio: { codec: 'mp3', sampleRate: 44100, channels: 2, timescale: 44100 } })]);
  assert.deepEqual(mp3.info.tracks.map((t) => [t.id, t.codec, t.audio?.sample_rate, t.audio?.channel_count]), [[AUDIO_TRACK_ID, 'mp4a.6b', 44100, 2]]);
  const aac = readMp4([writeInitSegment({ audio: { codec: 'aac', sampleRate: 22050, channels: 1, timescale: 22050, asc: Buffer.from([0x13, 0x88]) } })]);
  assert.deepEqual(aac.info.tracks.map((t) => [t.codec, t.audio?.sample_rate, t.audio?.channel_count]), [['mp4a.40.2', 22050, 1]]);
});

test('rates of 64 kHz and more do not fit the 16.16 samplerate field: 0 there, the timescale carries it', () => {
  const init = writeInitSegment({ audio: { codec: 'aac', sampleRate: 96000, channels: 2, timescale: 96000, asc: Buffer.from([0x10, 0x10]) } });
  const mp4a = init.indexOf('mp4a');
  assert.equal(init.readUInt32BE(mp4a + 4 + 8 + 8 + 8), 0);
  assert.equal(readMp4([init]).info.tracks[0]!.timescale, 96000);
});

test('refuses an init segment without tracks, AAC without its config, and sizes beyond the fields', () => {
  assert.throws(() => writeInitSegment({}), Mp4Error);
  assert.throws(() => writeInitSegment({ audio: { codec: 'aac', sampleRate: 48000, channels: 2, timescale: 48000 } }), Mp4Error);
  assert.throws(() => writeInitSegment({ video: { codec: 'h264', width: 70000, height: 10, timescale: 90000, config: Buffer.alloc(8) } }), Mp4Error);
  assert.throws(() => writeInitSegment({ video: { codec: 'vp9' as 'h264', width: 64, height: 48, timescale: 90000, config: Buffer.alloc(8) } }), Mp4Error);
});
