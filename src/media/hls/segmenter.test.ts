import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeAvcConfig } from '../h264/avc-config.js';
import { joinAvcc } from '../h264/avcc.js';
import { splitAnnexB } from '../h264/annexb.js';
import { continuityErrors } from '../mpegts/continuity.js';
import { Pid } from '../mpegts/muxer.js';
import { readTsPackets } from '../mpegts/packet-reader.js';
import type { TsPacket } from '../mpegts/packet-reader.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { HlsSegmenter } from './segmenter.js';
import type { HlsSegment } from './segmenter.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const IDR = Buffer.from('6588840011', 'hex');
const NON_IDR = Buffer.from('419a2233', 'hex');

const pkt = (type: TagType, t: number, payload: Buffer): MediaPacket => ({ type, timestamp: ms(t), payload });
const avcHeader = (t = 0): MediaPacket => pkt(TagType.Video, t, Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), writeAvcConfig([SPS], [PPS])]));
const cto24 = (c: number): Buffer => Buffer.from([(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff]);
const frame = (t: number, key: boolean, cto = 0, nalus: Buffer[] = [key ? IDR : NON_IDR]): MediaPacket =>
  pkt(TagType.Video, t, Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1]), cto24(cto), joinAvcc(nalus)]));
const aacHeader = (asc = '1210'): MediaPacket => pkt(TagType.Audio, 0, Buffer.from('af00' + asc, 'hex'));
const aac = (t: number, n = 20): MediaPacket => pkt(TagType.Audio, t, Buffer.concat([Buffer.from([0xaf, 1]), Buffer.alloc(n, 0x21)]));
const hevcFrame = (t: number): MediaPacket => pkt(TagType.Video, t, Buffer.from('1c0100000000000005260101aaaa', 'hex'));

interface Pes {
  pid: number;
  pts: number;
  dts: number;
  data: Buffer;
  first: TsPacket;
}

// Reassembles the PES packets of a segment (test-side demuxer).
function pesOf(seg: HlsSegment): { packets: TsPacket[]; pes: Pes[] } {
  const packets = readTsPackets(seg.data);
  const open = new Map<number, { first: TsPacket; parts: Buffer[] }>();
  const pes: Pes[] = [];
  const finish = (pid: number): void => {
    const o = open.get(pid);
    if (!o) return;
    const b = Buffer.concat(o.parts);
    const ts = (at: number): number => (((b[at] ?? 0) >> 1) & 7) * 2 ** 30 + (((b[at + 1] ?? 0) << 7) | ((b[at + 2] ?? 0) >> 1)) * 2 ** 15 + (((b[at + 3] ?? 0) << 7) | ((b[at + 4] ?? 0) >> 1));
    const pts = ts(9);
    const dts = (b[7] ?? 0) & 0x40 ? ts(14) : pts;
    pes.push({ pid, pts, dts, data: b.subarray(9 + (b[8] ?? 0)), first: o.first });
    open.delete(pid);
  };
  for (const p of packets) {
    if (p.pid !== Pid.Video && p.pid !== Pid.Audio) continue;
    if (p.payloadUnitStart) {
      finish(p.pid);
      open.set(p.pid, { first: p, parts: [] });
    }
    open.get(p.pid)?.parts.push(p.payload);
  }
  for (const pid of [...open.keys()]) finish(pid);
  return { packets, pes };
}

function feed(s: HlsSegmenter, packets: MediaPacket[]): HlsSegment[] {
  const out: HlsSegment[] = [];
  for (const p of packets) out.push(...s.push(p));
  return out;
}

test('nothing before the first keyframe; segments start with PAT, PMT and a keyframe AU with AUD + SPS + PPS', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const out = feed(s, [avcHeader(), frame(0, false), frame(40, false), frame(80, true), frame(120, false)]);
  assert.deepEqual(out, []);
  const [seg] = s.end();
  assert.ok(seg);
  assert.equal(seg.startDts, 80);
  assert.equal(seg.keyframeStart, true);
  const { packets, pes } = pesOf(seg);
  assert.deepEqual(packets.slice(0, 2).map((p) => p.pid), [Pid.Pat, Pid.Pmt]);
  assert.equal(pes.length, 2, 'the two frames before the keyframe were dropped');
  const key = pes[0] as Pes;
  assert.equal(key.first.adaptation?.randomAccess, true);
  assert.ok(key.first.adaptation?.pcr !== undefined);
  assert.deepEqual(splitAnnexB(key.data).map((u) => u.toString('hex')), ['09f0', SPS.toString('hex'), PPS.toString('hex'), IDR.toString('hex')]);
  assert.deepEqual(splitAnnexB((pes[1] as Pes).data).map((u) => u.toString('hex')), ['09f0', NON_IDR.toString('hex')]);
  assert.equal(pes[1]?.first.adaptation?.randomAccess ?? false, false);
});

test('cut on the first keyframe at least targetDuration after the start; that push returns the segment; durations exact', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  feed(s, [avcHeader()]);
  const got: [number, HlsSegment[]][] = [];
  for (let t = 0; t <= 7000; t += 40) {
    // Keyframes every 1.2 s: the cut happens at 2400 and 4800, never at 1200 or 3600.
    const r = s.push(frame(t, t % 1200 === 0));
    if (r.length) got.push([t, r]);
  }
  assert.deepEqual(got.map(([t]) => t), [2400, 4800]);
  const segs = got.flatMap(([, r]) => r);
  segs.push(...s.end());
  assert.deepEqual(segs.map((x) => [x.sequence, x.startDts, x.durationMs]), [[0, 0, 2400], [1, 2400, 2400], [2, 4800, 2240]]);
  assert.ok(segs.every((x) => x.data.length % 188 === 0 && !x.discontinuity));
});

test('B-frames: PTS = DTS + composition time; negative offsets are clamped to DTS', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  feed(s, [avcHeader(), frame(0, true, 80), frame(40, false, 120), frame(80, false, -40)]);
  const { pes } = pesOf(s.end()[0] as HlsSegment);
  assert.deepEqual(pes.map((p) => [p.dts / 90, p.pts / 90]), [[0, 80], [40, 160], [80, 80]]);
});

test('SPS/PPS are not duplicated when the keyframe carries them in-band; its own AUDs are replaced', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  feed(s, [avcHeader(), frame(0, true, 0, [Buffer.from('09f0', 'hex'), SPS, PPS, IDR])]);
  const { pes } = pesOf(s.end()[0] as HlsSegment);
  assert.deepEqual(splitAnnexB((pes[0] as Pes).data).map((u) => u.toString('hex')), ['09f0', SPS.toString('hex'), PPS.toString('hex'), IDR.toString('hex')]);
});

test('audio + video: audio before the first keyframe is dropped; ADTS per frame, at most 5 frames per PES, flushed before each cut', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const input: MediaPacket[] = [avcHeader(), aacHeader(), aac(0)];
  // 25 fps video from 40 ms (first keyframe there), keyframes every 2 s; AAC 1024 samples at 44.1 kHz.
  const events: MediaPacket[] = [];
  for (let t = 40; t < 4100; t += 40) events.push(frame(t, (t - 40) % 2000 === 0));
  for (let i = 1; i * 1024000 / 44100 < 4100; i++) events.push(aac(Math.round((i * 1024000) / 44100)));
  events.sort((a, b) => a.timestamp - b.timestamp);
  const segs = feed(s, [...input, ...events]);
  segs.push(...s.end());
  assert.equal(segs.length, 3);
  const audioPts: number[] = [];
  for (const seg of segs) {
    const { pes } = pesOf(seg);
    const audio = pes.filter((p) => p.pid === Pid.Audio);
    for (const a of audio) {
      // Walk the ADTS frames of the PES.
      let n = 0;
      for (let at = 0; at < a.data.length; n++) {
        assert.equal(a.data.readUInt16BE(at) & 0xfff6, 0xfff0, 'ADTS sync');
        at += (((a.data[at + 3] ?? 0) & 3) << 11) | ((a.data[at + 4] ?? 0) << 3) | ((a.data[at + 5] ?? 0) >> 5);
        audioPts.push(a.pts / 90 + (n * 1024000) / 44100);
      }
      assert.ok(n >= 1 && n <= 5, `${n} frames in one PES`);
    }
    // Each segment's audio ends where the next keyframe begins, within one frame.
    const last = Math.max(...audio.map((a) => a.pts / 90));
    assert.ok(last < seg.startDts + seg.durationMs, 'no audio of the next segment leaks into this one');
  }
  assert.ok((audioPts[0] ?? 0) >= 40, 'audio before the first keyframe was dropped');
  for (let i = 1; i < audioPts.length; i++) {
    const gap = (audioPts[i] ?? 0) - (audioPts[i - 1] ?? 0);
    assert.ok(Math.abs(gap - 1024000 / 44100) < 1.5, `audio continuous: gap ${gap} at ${i}`);
  }
});

test('audio-only: cut by time at frame boundaries', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const frames: MediaPacket[] = [aacHeader('1188')];
  for (let i = 0; i < 300; i++) frames.push(aac(Math.round((i * 1024000) / 48000)));
  const segs = feed(s, frames);
  segs.push(...s.end());
  const starts = segs.map((x) => x.startDts as number);
  // 21.33 ms frames: cut before the frame that would end past 2 s, so every segment is <= 2 s.
  assert.deepEqual(starts, [0, 1984, 3968, 5952]);
  for (const seg of segs.slice(0, -1)) assert.ok(seg.durationMs <= 2000 && seg.durationMs > 2000 - 22);
  assert.ok(segs.every((x) => !x.keyframeStart));
  const { pes, packets } = pesOf(segs[1] as HlsSegment);
  assert.ok(pes.every((p) => p.pid === Pid.Audio));
  assert.equal(pes[0]?.pts, 1984 * 90);
  assert.ok(packets.find((p) => p.pid === Pid.Audio)?.adaptation?.pcr !== undefined, 'PCR on the audio PID');
  assert.deepEqual(s.codecs(), { audio: { codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 1 } });
});

test('audio gaps start a new PES with its own PTS', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  feed(s, [aacHeader(), aac(0), aac(23), aac(500), aac(523)]);
  const { pes } = pesOf(s.end()[0] as HlsSegment);
  assert.deepEqual(pes.map((p) => p.pts / 90), [0, 500]);
});

test('MP3: frames pass through with stream type 0x03; codec info from the frame header', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const mp3 = (t: number): MediaPacket => pkt(TagType.Audio, t, Buffer.concat([Buffer.from([0x2f]), Buffer.from('fffb9064', 'hex'), Buffer.alloc(413, 0x55)]));
  const segs = feed(s, Array.from({ length: 200 }, (_, i) => mp3(Math.round((i * 1152000) / 44100))));
  segs.push(...s.end());
  assert.equal(segs.length, 3);
  const last = segs[2] as HlsSegment;
  assert.ok(Math.abs(last.startDts + last.durationMs - (200 * 1152000) / 44100) < 1, 'end() adds one frame duration');
  const { packets, pes } = pesOf(segs[0] as HlsSegment);
  const pmt = packets[1] as TsPacket;
  assert.equal(pmt.payload[1 + 12], 0x03);
  assert.equal(pes[0]?.data.subarray(0, 4).toString('hex'), 'fffb9064');
  assert.deepEqual(s.codecs().audio, { codec: 'mp3', codecString: 'mp4a.40.34', sampleRate: 44100, channels: 2 });
});

test('MPEG-TS: HEVC video is ignored, the stream is segmented as audio-only', () => {
  const s = new HlsSegmenter({ targetDurationMs: 1000, format: 'ts' });
  const input: MediaPacket[] = [aacHeader()];
  for (let t = 0; t < 2500; t += 40) input.push(hevcFrame(t), aac(t));
  const segs = feed(s, input);
  assert.equal(segs.length, 2);
  assert.ok(segs.every((x) => !x.keyframeStart));
  assert.ok(pesOf(segs[0] as HlsSegment).pes.every((p) => p.pid === Pid.Audio));
  assert.ok(s.dropped > 0);
  assert.equal(s.codecs().video, undefined);
});

test('markDiscontinuity: flushes the open segment, flags the next one, sequence numbers keep growing, CCs continue', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const segs = feed(s, [avcHeader(), frame(0, true), frame(40, false), frame(2000, true), frame(2040, false)]);
  segs.push(...s.markDiscontinuity());
  assert.deepEqual(segs.map((x) => [x.sequence, x.durationMs, x.discontinuity]), [[0, 2000, false], [1, 80, false]]);
  assert.deepEqual(s.markDiscontinuity(), [], 'nothing open');
  // The new publisher: audio-only now. It must not wait for a keyframe that never comes.
  const after = feed(s, [aacHeader(), ...Array.from({ length: 100 }, (_, i) => aac(3000 + Math.round((i * 1024000) / 44100)))]);
  after.push(...s.end());
  assert.deepEqual(after.map((x) => [x.sequence, x.discontinuity, x.keyframeStart]), [[2, true, false], [3, false, false]]);
  const pat = [...segs, ...after].map((x) => pesOf(x).packets.find((p) => p.pid === Pid.Pat)?.continuityCounter);
  assert.deepEqual(pat, [0, 1, 2, 3]);
});

test('an audio-only start is cut at the first keyframe once video shows up, so later segments start on keyframes', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  const segs = feed(s, [aacHeader(), aac(0), aac(23), avcHeader(30), aac(46), frame(60, false), frame(100, true), aac(70)]);
  assert.equal(segs.length, 1);
  assert.equal(segs[0]?.keyframeStart, false);
  assert.equal(segs[0]?.durationMs, 100);
  const [next] = s.end();
  assert.equal(next?.keyframeStart, true);
  assert.deepEqual(s.codecs().video, { codec: 'h264', codecString: 'avc1.64001f', profile: 100, level: 31, width: 1280, height: 720, fps: 25 });
});

test('maxDurationMs bounds segments when keyframes stop or video stalls; the next keyframe realigns', () => {
  const s = new HlsSegmenter({ targetDurationMs: 1000, maxDurationMs: 3000 });
  const input: MediaPacket[] = [avcHeader(), aacHeader(), frame(0, true)];
  for (let t = 40; t <= 4000; t += 40) input.push(frame(t, false)); // no keyframe after the first
  for (let t = 4000; t <= 8000; t += 20) input.push(aac(t)); // video stalls, audio flows
  input.push(frame(8020, true));
  const segs = feed(s, input);
  assert.deepEqual(segs.map((x) => [x.startDts, x.durationMs, x.keyframeStart]), [[0, 3000, true], [3000, 3000, false], [6000, 2020, false]]);
});

test('timestamps that never advance: the open segment is capped and dropped, not grown (audio-only, and video)', () => {
  const audio = new HlsSegmenter({ targetDurationMs: 2000, maxSegmentFrames: 50 });
  assert.deepEqual(feed(audio, [aacHeader(), ...Array.from({ length: 1000 }, () => aac(500))]), [], 'nothing is listed');
  assert.equal(audio.droppedSegments, 19);
  const [flat] = audio.end();
  assert.ok(flat && pesOf(flat).pes.length <= 50, 'the open segment holds at most 50 frames');

  const video = new HlsSegmenter({ targetDurationMs: 2000, maxSegmentBytes: 20_000 });
  const input: MediaPacket[] = [avcHeader()];
  for (let i = 0; i < 2000; i++) input.push(frame(0, i % 50 === 0, 0, [Buffer.concat([i % 50 === 0 ? IDR : NON_IDR, Buffer.alloc(200)])]));
  assert.deepEqual(feed(video, input), []);
  assert.ok(video.droppedSegments >= 20, `dropped ${video.droppedSegments}`);
  feed(video, [frame(0, true)]);
  const [open] = video.end();
  assert.ok(open && open.data.length < 20_000 + 1000, `open segment of ${open?.data.length} bytes`);
  assert.equal(open.keyframeStart, true, 'after a drop, video waits for a keyframe');

  // Time moves again: segments resume, numbered on, the first one flagged as a discontinuity.
  const s = new HlsSegmenter({ targetDurationMs: 1000, maxSegmentFrames: 50 });
  const again = feed(s, [aacHeader(), ...Array.from({ length: 200 }, () => aac(0)), ...Array.from({ length: 150 }, (_, i) => aac(23 * (i + 1)))]);
  again.push(...s.end());
  assert.deepEqual(again.map((x) => x.sequence), again.map((_, i) => i));
  assert.equal(again[0]?.discontinuity, true);
  assert.ok(again.slice(1).every((x) => !x.discontinuity));
});

test('a segment that reaches a cap over enough time is cut, not dropped (a high bit rate is no attack)', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000, maxSegmentFrames: 30 });
  const input: MediaPacket[] = [avcHeader()];
  for (let t = 0; t < 4000; t += 40) input.push(frame(t, t % 2000 === 0));
  const segs = feed(s, input);
  segs.push(...s.end());
  assert.equal(s.droppedSegments, 0);
  assert.deepEqual(segs.slice(0, 3).map((x) => [x.startDts, x.durationMs, x.keyframeStart]), [[0, 1200, true], [1200, 800, false], [2000, 1200, true]]);
  assert.ok(segs.every((x) => !x.discontinuity));
});

test('bad input is dropped and counted, never thrown', () => {
  const s = new HlsSegmenter({ targetDurationMs: 2000 });
  feed(s, [
    pkt(TagType.Video, 0, Buffer.from([0x17, 0])), // truncated AVC header
    pkt(TagType.Video, 0, Buffer.from('170000000002', 'hex')), // bad AVC config
    pkt(TagType.Audio, 0, Buffer.from('af00f946', 'hex')), // ASC ADTS cannot carry (type 42)
    pkt(TagType.Audio, 0, Buffer.from('af01aa', 'hex')), // raw AAC before any config
    avcHeader(),
    pkt(TagType.Video, 0, Buffer.concat([Buffer.from('1701000000', 'hex'), Buffer.from('000000ff65', 'hex')])), // NALU overrun
  ]);
  assert.equal(s.dropped, 5);
  assert.deepEqual(s.end(), []);
  assert.throws(() => new HlsSegmenter({ targetDurationMs: 0 }), RangeError);
});

test('property: random packet sequences never throw and give whole, ordered, 188-byte-packet segments', () => {
  const anyPacket = fc.oneof(
    fc.record({ kind: fc.constant('raw' as const), type: fc.constantFrom(TagType.Audio, TagType.Video, TagType.Script), bytes: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant('key' as const), cto: fc.integer({ min: -100, max: 300 }) }),
    fc.record({ kind: fc.constant('inter' as const), cto: fc.integer({ min: -100, max: 300 }) }),
    fc.constant({ kind: 'config' as const }),
    fc.constant({ kind: 'asc' as const }),
    fc.record({ kind: fc.constant('aac' as const), n: fc.integer({ min: 0, max: 300 }) }),
    fc.constant({ kind: 'disc' as const }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyPacket, fc.integer({ min: -50, max: 1500 })), { maxLength: 60 }), fc.integer({ min: 1, max: 3000 }), (steps, target) => {
      const s = new HlsSegmenter({ targetDurationMs: target });
      const segs: HlsSegment[] = [];
      let t = 0;
      for (const [step, dt] of steps) {
        t += dt; // mostly monotonic, sometimes going back a little
        if (step.kind === 'raw') segs.push(...s.push(pkt(step.type, t, Buffer.from(step.bytes))));
        else if (step.kind === 'key' || step.kind === 'inter') segs.push(...s.push(frame(t, step.kind === 'key', step.cto)));
        else if (step.kind === 'config') segs.push(...s.push(avcHeader(t)));
        else if (step.kind === 'asc') segs.push(...s.push(aacHeader()));
        else if (step.kind === 'aac') segs.push(...s.push(aac(t, step.n)));
        else segs.push(...s.markDiscontinuity());
      }
      segs.push(...s.end());
      segs.forEach((seg, i) => {
        assert.equal(seg.sequence, i);
        assert.ok(seg.data.length > 0 && seg.data.length % 188 === 0);
        assert.ok(seg.durationMs >= 0 && Number.isFinite(seg.durationMs));
        const packets = readTsPackets(seg.data);
        assert.equal(packets[0]?.pid, Pid.Pat);
      });
      assert.deepEqual(continuityErrors(readTsPackets(Buffer.concat(segs.map((x) => x.data)))), []);
    }),
    { numRuns: 500 },
  );
});

test('follow: a rendition joining late cuts at the source segmenter\'s boundaries with its numbers; boundaryAt matches keyframe PTS', () => {
  const source = new HlsSegmenter({ targetDurationMs: 2000, firstSequence: 1000 });
  const rung = new HlsSegmenter({ targetDurationMs: 2000, follow: source });
  feed(source, [avcHeader(), aacHeader()]);
  feed(rung, [avcHeader(), aacHeader()]);
  const srcSegs: HlsSegment[] = [];
  const rungSegs: HlsSegment[] = [];
  for (let t = 0; t <= 9000; t += 40) {
    const key = t % 1200 === 0;
    srcSegs.push(...source.push(frame(t, key, 80)), ...source.push(aac(t + 5)));
    // The rendition starts at 3000 (mid-segment) and lags the source by an encode; its DTS trail by 40 ms
    // (B-frame delay) while its PTS equal the source's.
    if (t >= 3000) rungSegs.push(...rung.push(frame(t - 40, key, 120)), ...rung.push(aac(t + 5)));
  }
  assert.equal(source.boundaryAt(4800 + 80), 1002);
  assert.equal(source.boundaryAt(4800 + 80 + 150), undefined);
  assert.deepEqual(srcSegs.map((s) => [s.sequence, s.startDts]), [[1000, 0], [1001, 2400], [1002, 4800]]);
  // The first rung keyframe at 3600 is no boundary: skipped until 4800, then the same numbers.
  assert.deepEqual(rungSegs.map((s) => [s.sequence, s.startDts]), [[1002, 4760]]);
  assert.deepEqual(rung.end().map((s) => s.sequence), [1003]);
});

test('follow: a rendition that lost frames skips the lost segments\' numbers and ends the segment before at its last frame', () => {
  const source = new HlsSegmenter({ targetDurationMs: 1000, firstSequence: 10 });
  const rung = new HlsSegmenter({ targetDurationMs: 1000, follow: source });
  feed(source, [avcHeader()]);
  feed(rung, [avcHeader()]);
  const got: HlsSegment[] = [];
  for (let t = 0; t <= 6000; t += 40) {
    source.push(frame(t, t % 1000 === 0));
    // The rendition loses 1400..3560 (a stalled encoder): segment 12 (2000..3000) has nothing.
    if (t < 1400 || t >= 3600) got.push(...rung.push(frame(t, t % 1000 === 0)));
  }
  assert.deepEqual(got.map((s) => [s.sequence, s.startDts, s.durationMs]), [[10, 0, 1000], [11, 1000, 400], [14, 4000, 1000], [15, 5000, 1000]]);
});
