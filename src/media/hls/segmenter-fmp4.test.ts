// HlsSegmenter with fMP4 and LL-HLS parts: the container choice, init segments, and the part rules
// (RFC 8216bis parts as the lead's decisions fix them) as vectors and properties; mp4box reads the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tfdtMismatch } from '../../../test/helpers/fragment-times.js';
import { readMp4 } from '../../../test/helpers/mp4box.js';
import { HVCC, record } from '../../../test/helpers/codec-records.js';
import { writeAvcConfig } from '../h264/avc-config.js';
import { joinAvcc } from '../h264/avcc.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { HlsSegmenter } from './segmenter.js';
import type { HlsInit, HlsPart, HlsSegment, HlsSegmenterOptions } from './segmenter.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const IDR = Buffer.from('6588840011', 'hex');
const NON_IDR = Buffer.from('419a2233', 'hex');
const AAC_MS = 1024000 / 44100;

const pkt = (type: TagType, t: number, payload: Buffer): MediaPacket => ({ type, timestamp: ms(t), payload });
const avcHeader = (t = 0, sps = SPS): MediaPacket => pkt(TagType.Video, t, Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), writeAvcConfig([sps], [PPS])]));
const cto24 = (c: number): Buffer => Buffer.from([(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff]);
const frame = (t: number, key: boolean, cto = 0): MediaPacket => pkt(TagType.Video, t, Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 1]), cto24(cto), joinAvcc([key ? IDR : NON_IDR])]));
const aacHeader = (): MediaPacket => pkt(TagType.Audio, 0, Buffer.from('af001210', 'hex'));
const aac = (t: number): MediaPacket => pkt(TagType.Audio, t, Buffer.concat([Buffer.from([0xaf, 1]), Buffer.alloc(20, 0x21)]));
const hvc1 = (frameType: number, packetType: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0x80 | (frameType << 4) | packetType]), Buffer.from('hvc1', 'latin1'), packetType === 1 ? cto24(0) : Buffer.alloc(0), body]);

interface Run {
  segments: HlsSegment[];
  inits: HlsInit[];
  parts: HlsPart[];
  chunks: Map<string, Buffer[]>;
  seg: HlsSegmenter;
  /** segmenter.partTargetMs when the first part completed. */
  firstPartTarget: number | undefined;
}

function run(opts: HlsSegmenterOptions, packets: MediaPacket[], end = true): Run {
  const inits: HlsInit[] = [];
  const parts: HlsPart[] = [];
  const chunks = new Map<string, Buffer[]>();
  let firstPartTarget: number | undefined;
  const seg: HlsSegmenter = new HlsSegmenter({
    ...opts,
    sink: {
      onInit: (i) => inits.push(i),
      onPart: (p) => {
        if (parts.length === 0) firstPartTarget = seg.partTargetMs;
        parts.push(p);
      },
      onChunk: (s, i, b) => chunks.set(`${s}.${i}`, [...(chunks.get(`${s}.${i}`) ?? []), b]),
    },
  });
  const segments: HlsSegment[] = [];
  for (const p of packets) segments.push(...seg.push(p));
  if (end) segments.push(...seg.end());
  return { segments, inits, parts, chunks, seg, firstPartTarget };
}

/**
 * Every structural rule of parts: they tile their segment, stay within the (effective) target, are their
 * chunks; INDEPENDENT exactly on keyframe starts (audio-only: on every part). With `frames` (the video
 * DTSs), a part of a single frame may exceed the target (a frame longer than the target has to go somewhere).
 */
function checkParts(r: Run, keyframes: ReadonlySet<number> | 'audio-only', frames?: readonly number[]): void {
  const partTargetMs = r.seg.partTargetMs;
  assert.ok(partTargetMs !== undefined, 'the part target is known once a part exists');
  for (const s of r.segments) {
    const own = r.parts.filter((p) => p.sequence === s.sequence);
    assert.ok(own.length > 0, `segment ${s.sequence} has parts`);
    assert.deepEqual(own.map((p) => p.index), own.map((_, i) => i));
    assert.deepEqual(s.parts, own.map((p) => ({ durationMs: p.durationMs, independent: p.independent })));
    assert.ok(Buffer.concat(own.map((p) => p.data)).equals(s.data), `segment ${s.sequence} is its parts`);
    let start: number = s.startDts;
    for (const p of own) {
      const single = frames !== undefined && frames.filter((t) => t >= start && t < start + p.durationMs).length === 1;
      assert.ok(p.durationMs <= partTargetMs + 1e-9 || single, `part ${s.sequence}.${p.index}: ${p.durationMs} ms > ${partTargetMs}`);
      assert.ok(Buffer.concat(r.chunks.get(`${s.sequence}.${p.index}`) ?? []).equals(p.data), `part ${s.sequence}.${p.index} is its chunks`);
      const independent = keyframes === 'audio-only' || keyframes.has(start);
      assert.equal(p.independent, independent, `part ${s.sequence}.${p.index} at ${start}: independent iff it starts on a keyframe (or carries audio only)`);
      start += p.durationMs;
    }
    assert.ok(Math.abs(start - (s.startDts + s.durationMs)) < 1e-6, `parts of ${s.sequence} tile it`);
  }
  // Every keyframe starts a part, unless ending the part before it there would leave that part short (under 85% of
  // the target as it stood then, which may be provisional: so only "under the target" is checked here; the 85%
  // rule itself is checkPartTiming's).
  const starts = r.segments.flatMap((s) => (s.parts ?? []).reduce<number[]>((acc, p) => [...acc, (acc.at(-1) ?? s.startDts) + p.durationMs], [s.startDts]).slice(0, -1));
  if (keyframes !== 'audio-only')
    for (const k of keyframes) {
      if (k < (r.segments[0]?.startDts ?? Infinity) || starts.includes(k)) continue;
      const partStart = starts.filter((t) => t < k).at(-1);
      assert.ok(partStart !== undefined && k - partStart < partTargetMs, `keyframe ${k} starts a part, or is less than the target into one`);
    }
}

test('container choice: auto is MPEG-TS for H.264 without parts, fMP4 with parts or for HEVC; ts with parts is refused', () => {
  const h264 = [avcHeader(), aacHeader(), frame(0, true), aac(0), frame(40, false)];
  const ts = run({ targetDurationMs: 1000 }, h264);
  assert.equal(ts.seg.format, 'ts');
  assert.deepEqual(ts.segments.map((s) => [s.format, s.initId, s.parts, s.data[0]]), [['ts', undefined, undefined, 0x47]]);
  assert.equal(ts.inits.length, 0);

  const ll = run({ targetDurationMs: 1000, partTargetMs: 200 }, h264);
  assert.equal(ll.seg.format, 'fmp4');
  assert.equal(ll.inits.length, 1);
  assert.deepEqual(ll.inits[0]?.codecs.video?.codecString, 'avc1.64001f');

  const hevcConfig = pkt(TagType.Video, 0, hvc1(1, 0, record(HVCC.main330x250)));
  const hevc = run({ targetDurationMs: 1000 }, [hevcConfig, frame(0, false), pkt(TagType.Video, 0, hvc1(1, 1, Buffer.from('000000052601aabbcc', 'hex'))), pkt(TagType.Video, 40, hvc1(2, 1, Buffer.from('0000000402010203', 'hex')))]);
  assert.equal(hevc.seg.format, 'fmp4');
  assert.deepEqual(hevc.inits[0]?.codecs.video, { codec: 'hevc', codecString: hevc.seg.codecs().video?.codecString, profile: 1, level: 60, width: 330, height: 250 });
  const r = readMp4([hevc.inits[0]?.data as Buffer, ...hevc.segments.map((s) => s.data)]);
  assert.deepEqual(r.info.tracks.map((t) => [t.codec.slice(0, 4), t.video?.width, r.samples.get(t.id)?.length]), [['hvc1', 330, 2]]);

  assert.throws(() => new HlsSegmenter({ targetDurationMs: 1000, format: 'ts', partTargetMs: 200 }), RangeError);
  // A format asked for is known from the start.
  assert.equal(new HlsSegmenter({ targetDurationMs: 1000, format: 'fmp4' }).format, 'fmp4');
});

test('parts at 25 fps: 200 ms parts, a keyframe mid-segment opens an independent part, the segment is its parts', () => {
  const input: MediaPacket[] = [avcHeader(), aacHeader()];
  for (let t = 0; t < 3000; t += 40) input.push(frame(t, t % 1000 === 0, 80));
  for (let i = 0; i * AAC_MS < 3000; i++) input.push(aac(Math.round(i * AAC_MS)));
  input.sort((a, b) => a.timestamp - b.timestamp);
  const r = run({ targetDurationMs: 2000, partTargetMs: 200 }, input);
  // The stream's last segment ends with its audio (3018 ms).
  assert.deepEqual(r.segments.map((s) => [s.startDts, Math.round(s.durationMs)]), [[0, 2000], [2000, 1018]]);
  assert.deepEqual(r.segments[0]?.parts?.map((p) => `${p.durationMs}${p.independent ? 'I' : ''}`).join(' '), '200I 200 200 200 200 200I 200 200 200 200');
  // Five 40 ms frames plus the slack (the SPS says 25 fps, the timestamps agree).
  assert.equal(r.seg.partTargetMs, 208);
  checkParts(r, new Set([0, 1000, 2000]));
  // One chunk per video frame (five per part), and one at the cut with the audio before it.
  assert.deepEqual(r.parts.slice(0, 3).map((p) => r.chunks.get(`${p.sequence}.${p.index}`)?.length), [6, 6, 6]);
  assert.equal(r.segments[0]?.data.subarray(4, 8).toString('latin1'), 'styp');
});

test('a keyframe less than 85% of the part target into a part stays inside it (no short part before an INDEPENDENT one)', () => {
  const input: MediaPacket[] = [avcHeader()];
  // Keyframes at 0, 1040 (40 ms into the part from 1000) and 1600 (192 ms into the part from 1408: 92%).
  for (let t = 0; t < 3000; t += 40) input.push(frame(t, t === 0 || t === 1040 || t === 1600));
  const r = run({ targetDurationMs: 3000, partTargetMs: 200 }, input);
  const parts = r.segments[0]?.parts?.map((p) => `${p.durationMs}${p.independent ? 'I' : ''}`).join(' ');
  assert.equal(parts?.startsWith('200I 200 200 200 200 200 200 200 200I 200'), true, parts);
  checkParts(r, new Set([0, 1040, 1600]));
  checkPartTiming(r);
});

test('a frame whose end would overrun the part target opens the next part (uneven frame times)', () => {
  const times = [0, 40, 80, 120, 170, 200, 260];
  const r = run({ targetDurationMs: 5000, partTargetMs: 150 }, [avcHeader(), ...times.map((t, i) => frame(t, i === 0))], false);
  // The target is provisional until the first cut: held 120 ends at 170, frames measure 42.5 ms, 4 of
  // them + 4% = 177 ms: no cut. Held 170 ends at 200 (> 0 + 166 ms at 40 ms frames): part 0 is 0..170,
  // and the target is fixed at 170 ms (the part it closes was within the previous estimate).
  assert.deepEqual(r.parts.map((p) => [p.index, p.durationMs, p.independent]), [[0, 170, true]]);
  assert.equal(r.seg.partTargetMs, 170);
  // Then held 200 ends at 260 (90 ms), held 260 at 320 (its duration estimated from the one before: 150 ms).
  const [last] = run({ targetDurationMs: 5000, partTargetMs: 150 }, [avcHeader(), ...times.map((t, i) => frame(t, i === 0))]).segments;
  assert.deepEqual(last?.parts, [{ durationMs: 170, independent: true }, { durationMs: 150, independent: false }]);
});

test('audio-only LL-HLS: parts cut at frame boundaries within the target, chunks every ~100 ms', () => {
  const input: MediaPacket[] = [aacHeader()];
  for (let i = 0; i * AAC_MS < 3000; i++) input.push(aac(Math.round(i * AAC_MS)));
  const r = run({ targetDurationMs: 1000, partTargetMs: 300 }, input);
  assert.equal(r.seg.format, 'fmp4');
  // 13 AAC frames (302 ms) plus the slack.
  assert.equal(r.seg.partTargetMs, Math.round(13 * AAC_MS * 1.04));
  checkParts(r, 'audio-only');
  const lastParts = new Set(r.segments.map((s) => `${s.sequence}.${(s.parts?.length ?? 0) - 1}`));
  assert.ok(r.parts.every((p) => lastParts.has(`${p.sequence}.${p.index}`) || p.durationMs > (r.seg.partTargetMs as number) - AAC_MS), 'parts are cut only when the next frame would not fit');
  for (const p of r.parts.filter((x) => !lastParts.has(`${x.sequence}.${x.index}`))) {
    const n = r.chunks.get(`${p.sequence}.${p.index}`)?.length ?? 0;
    assert.ok(n >= 2 && n <= 4, `part ${p.sequence}.${p.index}: ${n} chunks`);
  }
  const m = readMp4([r.inits[0]?.data as Buffer, ...r.segments.map((s) => s.data)]);
  assert.equal(m.samples.get(2)?.length, input.length - 1);
});

test('a new init segment when the configuration changes, from the next segment on', () => {
  const other = Buffer.from('6764002aacd9405005bb011000000300100000030320f1831960', 'hex'); // level 4.2
  const r = run({ targetDurationMs: 1000, partTargetMs: 500 }, [avcHeader(), frame(0, true), frame(40, false), frame(1000, true), avcHeader(1000, other), frame(1040, false), frame(2000, true), frame(2040, false)]);
  r.segments.push(...r.seg.markDiscontinuity());
  const again = run({ targetDurationMs: 1000, partTargetMs: 500 }, []);
  assert.equal(again.inits.length, 0);
  assert.deepEqual(r.inits.map((i) => [i.id, i.codecs.video?.codecString]), [[0, 'avc1.64001f'], [2, 'avc1.64002a']]);
  assert.deepEqual(r.segments.map((s) => [s.sequence, s.initId]), [[0, 0], [1, 0], [2, 2]]);

  // Mid-segment, the next keyframe cuts at once (its samples need the new init); the same bytes again change nothing.
  const mid = run({ targetDurationMs: 4000 }, [avcHeader(), frame(0, true), frame(40, false), avcHeader(80, other), frame(80, false), frame(120, true), avcHeader(160, other), frame(160, false), frame(200, true), frame(240, false)]);
  assert.equal(mid.seg.format, 'ts', 'auto without parts: H.264 in TS');
  assert.deepEqual(mid.segments.map((s) => s.startDts), [0], 'TS carries the new parameter sets in band: no early cut');
  const fmp4 = run({ targetDurationMs: 4000, format: 'fmp4' }, [avcHeader(), frame(0, true), frame(40, false), avcHeader(80, other), frame(80, false), frame(120, true), avcHeader(160, other), frame(160, false), frame(200, true), frame(240, false)]);
  assert.deepEqual(fmp4.segments.map((s) => [s.startDts, s.initId]), [[0, 0], [120, 1]]);
  assert.deepEqual(fmp4.inits.map((i) => i.id), [0, 1]);
});

test('LL-HLS keeps the caps: a full segment is closed (its parts are public), never dropped and renumbered', () => {
  const input: MediaPacket[] = [avcHeader(), frame(0, true)];
  for (let i = 1; i < 200; i++) input.push(frame(Math.floor(i / 20), false)); // time barely moves
  const r = run({ targetDurationMs: 2000, partTargetMs: 200, maxSegmentFrames: 50 }, input);
  assert.equal(r.seg.droppedSegments, 0);
  assert.deepEqual(r.segments.map((s) => s.sequence), r.segments.map((_, i) => i));
  assert.ok(r.segments.length >= 4);
  assert.ok(r.segments.every((s) => (s.parts?.length ?? 0) > 0));
});

test('property: parts within the target that tile their segments, INDEPENDENT exactly on keyframes, bytes = parts = chunks; mp4box reads every sample', () => {
  fc.assert(
    fc.property(
      fc.record({
        frameMs: fc.integer({ min: 10, max: 60 }),
        jitter: fc.integer({ min: 0, max: 5 }),
        gop: fc.integer({ min: 1, max: 80 }),
        // From two frames on, the last frame's duration is estimated from the one before (one frame: from the SPS frame rate).
        frames: fc.integer({ min: 2, max: 150 }),
        bframes: fc.boolean(),
        audio: fc.boolean(),
        partExtraMs: fc.integer({ min: 0, max: 400 }),
        targetMs: fc.integer({ min: 100, max: 3000 }),
        seed: fc.integer(),
      }),
      (o) => {
        let rnd = o.seed;
        const next = (): number => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) % (2 * o.jitter + 1)) - o.jitter;
        const partTargetMs = o.frameMs + o.jitter * 2 + o.partExtraMs;
        const input: MediaPacket[] = [];
        const keyframes = new Set<number>();
        let t = 0;
        for (let i = 0; i < o.frames; i++) {
          const key = i % o.gop === 0;
          if (key) keyframes.add(t);
          input.push(frame(t, key, o.bframes ? 2 * o.frameMs : 0));
          t += Math.max(1, o.frameMs + next());
        }
        // Audio ends with the video: an audio tail would stretch the stream's last part past the target.
        const lastDts = input.at(-1)?.timestamp ?? 0;
        const audio: MediaPacket[] = [];
        if (o.audio) for (let i = 0; (i + 1) * AAC_MS <= lastDts; i++) audio.push(aac(Math.round(i * AAC_MS)));
        const all = [avcHeader(), aacHeader(), ...[...input, ...audio].sort((a, b) => a.timestamp - b.timestamp || a.type - b.type)];
        const r = run({ targetDurationMs: o.targetMs, partTargetMs }, all);
        checkParts(r, keyframes, input.map((p) => p.timestamp));
        const m = readMp4([r.inits[0]?.data as Buffer, ...r.segments.map((s) => s.data)]);
        assert.deepEqual(m.errors, []);
        assert.equal(m.samples.get(1)?.length, o.frames);
        // Decode times: the input's, and every fragment's tfdt agrees with the durations before it.
        assert.deepEqual(m.samples.get(1)?.map((s) => s.dts), input.map((p) => p.timestamp * 90));
        assert.equal(tfdtMismatch(r.segments.map((s) => s.data), new Map([...m.samples].map(([id, ss]) => [id, ss.map((x) => x.dts)]))), undefined);
        // Audio before the first keyframe (same timestamp, pushed first) has no segment to go in.
        if (o.audio) assert.ok(Math.abs((m.samples.get(2)?.length ?? 0) - audio.length) <= 1);
      },
    ),
    { numRuns: 150 },
  );
});

/** Whole-ms timestamps of frame i: FLV's rounding (FFmpeg) or truncation, plus a publisher's wobble. */
const wholeMs = (i: number, frameMs: number, trunc: boolean, wobble: number): number => Math.max(0, (trunc ? Math.floor(i * frameMs) : Math.round(i * frameMs)) + wobble);

/** RFC 8216bis 4.4.4.9 against the segmenter's own target: every part <= it, every part but an INDEPENDENT one or a segment's last >= 85% of it. */
function checkPartTiming(r: Run): void {
  const target = r.seg.partTargetMs as number;
  for (const s of r.segments) {
    const parts = s.parts ?? [];
    parts.forEach((p, i) => {
      assert.ok(p.durationMs <= target, `part ${s.sequence}.${i}: ${p.durationMs} ms > PART-TARGET ${target}`);
      if (!p.independent && i < parts.length - 1) assert.ok(p.durationMs >= 0.85 * target, `part ${s.sequence}.${i}: ${p.durationMs} ms < 85% of PART-TARGET ${target}`);
    });
  }
}

test('property: the effective part target admits legal parts at 24, 25, 29.97, 30, 50 and 60 fps with whole-ms timestamps', () => {
  fc.assert(
    fc.property(
      fc.record({
        fps: fc.constantFrom(24, 25, 30000 / 1001, 30, 50, 60),
        configuredMs: fc.oneof(fc.constantFrom(200, 250, 300, 333, 500, 1000), fc.integer({ min: 100, max: 1000 })),
        gopS: fc.integer({ min: 1, max: 3 }),
        trunc: fc.boolean(),
        wobble: fc.boolean(),
        audio: fc.boolean(),
        seed: fc.integer(),
      }),
      (o) => {
        // A ±1 ms wobble on top of whole ms is more than the slack (4%) absorbs in parts under 200 ms.
        fc.pre(!o.wobble || o.configuredMs >= 200);
        let rnd = o.seed;
        const wobble = (): number => (o.wobble ? ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) % 3) - 1 : 0);
        const frameMs = 1000 / o.fps;
        const gop = Math.round(o.gopS * o.fps);
        const input: MediaPacket[] = [];
        let last = -1;
        for (let i = 0; i < gop * 4; i++) {
          const t = Math.max(last + 1, wholeMs(i, frameMs, o.trunc, i === 0 ? 0 : wobble()));
          input.push(frame(t, i % gop === 0));
          last = t;
        }
        const audio: MediaPacket[] = [];
        if (o.audio) for (let i = 0; (i + 1) * AAC_MS <= last; i++) audio.push(aac(Math.round(i * AAC_MS)));
        const all = [avcHeader(), aacHeader(), ...[...input, ...audio].sort((a, b) => a.timestamp - b.timestamp || a.type - b.type)];
        // Every keyframe starts a segment here; mid-segment keyframes are tested on their own.
        const r = run({ targetDurationMs: o.gopS * 1000 - 50, partTargetMs: o.configuredMs }, all);
        const target = r.seg.partTargetMs as number;
        assert.equal(r.firstPartTarget, target, 'known when the first part completes, never changed');
        // The whole number of frames nearest the configured target, plus the slack.
        const low = Math.max(frameMs, o.configuredMs - frameMs / 2) - 1;
        const high = Math.max(frameMs, o.configuredMs + frameMs / 2) * 1.05;
        assert.ok(target >= low && target <= high, `target ${target} ms for ${o.configuredMs} ms at ${frameMs.toFixed(2)} ms frames`);
        checkPartTiming(r);
      },
    ),
    { numRuns: 200 },
  );
});

test('property: audio-only LL-HLS at 44.1 and 48 kHz: legal part durations, every part INDEPENDENT', () => {
  fc.assert(
    fc.property(
      fc.record({ rate: fc.constantFrom(44100, 48000), configuredMs: fc.integer({ min: 100, max: 1000 }), targetMs: fc.integer({ min: 1000, max: 4000 }) }),
      (o) => {
        const asc = o.rate === 48000 ? '1190' : '1210'; // AAC-LC stereo at 48 / 44.1 kHz
        const input: MediaPacket[] = [pkt(TagType.Audio, 0, Buffer.from(`af00${asc}`, 'hex'))];
        const frameMs = 1024000 / o.rate;
        for (let i = 0; i * frameMs < 3 * o.targetMs; i++) input.push(aac(Math.round(i * frameMs)));
        const r = run({ targetDurationMs: o.targetMs, partTargetMs: o.configuredMs }, input);
        assert.equal(r.firstPartTarget, r.seg.partTargetMs);
        assert.equal(r.seg.partTargetMs, Math.round(Math.max(1, Math.round(o.configuredMs / frameMs)) * frameMs * 1.04));
        checkParts(r, 'audio-only');
        checkPartTiming(r);
      },
    ),
    { numRuns: 100 },
  );
});

test('the part target is fixed for the life of the segmenter: a republish at another frame rate keeps it', () => {
  const input: MediaPacket[] = [avcHeader()];
  for (let i = 0; i < 48; i++) input.push(frame(Math.round((i * 1000) / 24), i % 24 === 0));
  const r = run({ targetDurationMs: 1000, partTargetMs: 200 }, input, false);
  // 24 fps (the SPS's 25 disagrees with the timestamps): five frames, 208 ms, plus the slack.
  assert.equal(r.seg.partTargetMs, 217);
  assert.equal(r.firstPartTarget, 217);
  r.seg.markDiscontinuity();
  for (let i = 0; i < 60; i++) r.seg.push(frame(5000 + Math.round((i * 1000) / 60), i % 60 === 0));
  assert.equal(r.seg.partTargetMs, 217);
});
