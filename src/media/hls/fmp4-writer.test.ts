import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMp4 } from '../../../test/helpers/mp4box.js';
import { parseAsc } from '../aac/asc.js';
import { parseAvcConfig, writeAvcConfig } from '../h264/avc-config.js';
import type { AudioAccessUnit, VideoAccessUnit, VideoConfig } from '../flv/demux.js';
import { Fmp4SegmentWriter } from './fmp4-writer.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const RECORD = writeAvcConfig([SPS], [PPS]);
const H264: VideoConfig = { codec: 'h264', record: RECORD, codecString: 'avc1.64001f', profile: 100, level: 31, width: 1280, height: 720, h264: { config: parseAvcConfig(RECORD) } };
const ASC = Buffer.from('1190', 'hex'); // AAC LC, 48 kHz, stereo

const v = (dts: number, key = false, cto = 0, size = 10): VideoAccessUnit => ({ kind: 'video', codec: 'h264', dts, pts: dts + cto, key, data: Buffer.alloc(size, dts & 0xff), nalus: [] });
const a = (dts: number, size = 6): AudioAccessUnit => ({ kind: 'audio', codec: 'aac', dts, pts: dts, frame: Buffer.alloc(size, 0x21), durationMs: 1024000 / 48000 });

function writer(tracks: { video?: boolean; audio?: boolean } = { video: true, audio: true }): Fmp4SegmentWriter {
  const w = new Fmp4SegmentWriter();
  w.video = H264;
  w.asc = parseAsc(ASC);
  w.ascRecord = ASC;
  w.setTracks({ ...(tracks.video ? { video: 'h264' as const } : {}), ...(tracks.audio ? { audio: 'aac' as const } : {}) });
  w.begin();
  return w;
}

const box = (b: Buffer, at = 0): string => b.subarray(at + 4, at + 8).toString('latin1');

test('init segment at the first begin(); none again until the configuration or the track set changes', () => {
  const w = writer();
  const init = w.takeInit();
  assert.ok(init);
  assert.equal(box(init), 'ftyp');
  assert.equal(w.takeInit(), undefined, 'taken once');
  w.begin();
  assert.equal(w.takeInit(), undefined, 'same configuration');
  w.video = { ...H264, record: Buffer.from(RECORD) };
  w.begin();
  assert.equal(w.takeInit(), undefined, 'equal bytes are the same configuration');
  w.setTracks({ video: 'h264' });
  w.begin();
  const videoOnly = w.takeInit();
  assert.ok(videoOnly);
  assert.deepEqual(readMp4([videoOnly]).info.tracks.map((t) => t.type), ['video']);
  w.setTracks({ video: 'h264', audio: 'aac' });
  w.asc = parseAsc(Buffer.from('1210', 'hex'));
  w.ascRecord = Buffer.from('1210', 'hex');
  w.begin();
  const r = readMp4([w.takeInit() as Buffer]);
  assert.deepEqual(r.info.tracks.map((t) => [t.type, t.timescale]), [['video', 90000], ['audio', 44100]]);
});

test('each track holds its last sample back until its duration is known; a cut ends held video at the cut', () => {
  const w = writer({ video: true });
  const init = w.takeInit() as Buffer;
  w.writeVideo(v(1000, true, 80));
  assert.equal(w.flush(), undefined, 'the only sample is held');
  assert.equal(w.bytes, 10);
  w.writeVideo(v(1040, false, 0));
  assert.equal(w.videoReady, true);
  const first = w.flush() as Buffer;
  assert.deepEqual([box(first), box(first, first.readUInt32BE(0))], ['styp', 'moof'], 'styp opens the segment');
  w.writeVideo(v(1080, false, 40));
  const second = w.flush() as Buffer;
  assert.equal(box(second), 'moof', 'one styp per segment');
  w.writeVideo(v(1120));
  const seg = w.finish(1150);
  assert.ok(seg.equals(Buffer.concat([first, second, seg.subarray(first.length + second.length)])), 'a segment is its chunks');
  const r = readMp4([init, seg]);
  const samples = r.samples.get(1) ?? [];
  assert.deepEqual(samples.map((s) => [s.dts, s.duration, s.cts - s.dts, s.is_sync]), [
    [90000, 3600, 7200, true],
    [93600, 3600, 0, false],
    [97200, 3600, 3600, false],
    [100800, 2700, 0, false], // ended by the cut at 1150 ms
  ]);
  assert.equal(w.bytes, 0);
});

test('audio: decode times continue in whole frames across ms rounding; held audio at a cut keeps its frame duration; later audio waits for the next segment', () => {
  const w = writer();
  const init = w.takeInit() as Buffer;
  w.writeVideo(v(0, true));
  for (const t of [0, 21, 43, 64]) w.writeAudio(a(t));
  w.writeVideo(v(40));
  w.writeAudio(a(85)); // after the cut below
  const seg = w.finish(80);
  const r = readMp4([init, seg]);
  assert.deepEqual(r.samples.get(2)?.map((s) => [s.dts, s.duration]), [[0, 1024], [1024, 1024], [2048, 1024], [3072, 1024]]);
  assert.deepEqual(r.samples.get(1)?.map((s) => [s.dts, s.duration]), [[0, 3600], [3600, 3600]]);
  w.begin();
  w.writeVideo(v(80, true));
  w.writeVideo(v(120));
  const next = w.finish(160);
  const r2 = readMp4([init, seg, next]);
  assert.deepEqual(r2.samples.get(2)?.map((s) => s.dts), [0, 1024, 2048, 3072, 4096], 'the frame at 85 ms went into the next segment, continuing the timeline');
});

test('a flush before a cut time takes only what starts before it', () => {
  const w = writer();
  w.takeInit();
  w.writeVideo(v(0, true));
  w.writeAudio(a(0));
  w.writeAudio(a(21));
  w.writeAudio(a(43));
  w.writeVideo(v(40));
  // Video 0 is ready; audio 0 and 21 are ready (43 is held). Cut at 20: video 0 and audio 0 only.
  const chunk = w.flush(20) as Buffer;
  const init = writer().takeInit() as Buffer;
  const r = readMp4([init, chunk]);
  assert.deepEqual([r.samples.get(1)?.length, r.samples.get(2)?.length], [1, 1]);
});

test('timestamps going back or below zero give no negative time or duration (the writer does not throw)', () => {
  const w = writer();
  const init = w.takeInit() as Buffer;
  w.writeVideo(v(-50, true));
  w.writeVideo(v(40));
  w.writeVideo(v(20));
  w.writeAudio(a(30));
  w.writeAudio(a(-10));
  w.writeVideo(v(100));
  const r = readMp4([init, w.finish(90)]);
  for (const s of [...(r.samples.get(1) ?? []), ...(r.samples.get(2) ?? [])]) assert.ok(s.dts >= 0 && s.duration >= 0);
  assert.equal(r.samples.get(1)?.length, 3);
});

test('frames of a track the init segment lacks are not written; discard() forgets everything queued', () => {
  const w = writer({ audio: true });
  w.takeInit();
  w.writeVideo(v(0, true));
  w.writeAudio(a(0));
  w.writeAudio(a(21));
  assert.equal(w.bytes, 12);
  w.discard();
  assert.equal(w.bytes, 0);
  w.begin();
  assert.equal(w.finish(100).length, 0);
});

test('a gap longer than a 32-bit duration is clamped, not thrown: the next fragment says where time went on', () => {
  const w = writer({ video: true });
  const init = w.takeInit() as Buffer;
  w.writeVideo(v(0, true));
  w.writeVideo(v(20 * 3600 * 1000)); // 20 h later
  const seg = w.finish(20 * 3600 * 1000 + 40);
  const r = readMp4([init, seg]);
  assert.deepEqual(r.samples.get(1)?.map((s) => s.duration), [0xffffffff, 3600]);
  // Two fragments; the second's tfdt (mp4box ignores it, players do not) is where the second frame really is.
  const tfdts: number[] = [];
  for (let at = seg.indexOf('tfdt'); at >= 0; at = seg.indexOf('tfdt', at + 4)) tfdts.push(Number(seg.readBigUInt64BE(at + 8)));
  assert.deepEqual(tfdts, [0, 20 * 3600 * 90000]);
});
