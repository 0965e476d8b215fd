// The pure parts of VOD (flv-scan.ts, vod.ts) on synthetic files: the tag walk and the scanner (any
// chunking gives the same index; a bad tag ends it), the index (keyframes, headers, end time, audio-only
// sync points), the plan (whole GOPs near the target, the byte cap, first and last segments), clip
// bounds and the playlist text. Real files, FFmpeg and players: test/record/vod.test.ts, clip.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFlvTag } from '../media/flv/tag-writer.js';
import { parseMediaPlaylist, PlaylistError } from '../media/hls/playlist.js';
import type { MediaPacket } from '../media/packet.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../../test/helpers/packets.js';
import { FlvScanner, scanBytes, walkTags } from './flv-scan.js';
import type { FlvIndex } from './flv-scan.js';
import { clipBounds, planVod, VOD_LIMITS, vodPlaylistText } from './vod.js';

const START = 13;

/** 25 fps video with a keyframe every `gopMs`, AAC every ~23 ms, headers first, for `seconds`. */
function stream(seconds: number, gopMs = 1000, opts: { video?: boolean; audio?: boolean } = {}): MediaPacket[] {
  const out: MediaPacket[] = [];
  if (opts.video !== false) out.push(videoHeader(0));
  if (opts.audio !== false) out.push(aacHeader(0));
  let a = 0;
  for (let t = 0; t < seconds * 1000; t += 40) {
    if (opts.video !== false) out.push(t % gopMs === 0 ? videoKey(t) : videoInter(t));
    for (; opts.audio !== false && a < t + 40; a += 23) out.push(aacFrame(a));
  }
  return out;
}

const file = (packets: MediaPacket[]): Buffer => Buffer.concat(packets.map(encodeFlvTag));

describe('walkTags', () => {
  const bytes = file([videoHeader(0), videoKey(0, 30), aacFrame(5)]);

  it('visits whole tags with their file offsets and stops before a partial one', () => {
    const seen: string[] = [];
    const r = walkTags(bytes.subarray(0, bytes.length - 3), START, (t) => seen.push(`${t.pos}:${t.type}:${t.timeMs}:${t.body.length}`));
    assert.deepEqual(seen, ['13:9:0:12', `${13 + 27}:9:0:30`]);
    assert.deepEqual(r, { used: 27 + 45, bad: false });
  });

  it('stops at a tag type, encryption flag or PreviousTagSize that is not FLV', () => {
    for (const [at, value] of [[0, 0x0b], [0, 0x29], [26, 0x99]] as const) {
      const broken = Buffer.from(bytes);
      broken[at] = value;
      assert.deepEqual(walkTags(broken, START, () => undefined), { used: 0, bad: true }, `byte ${at} = ${value}`);
    }
  });
});

describe('FlvScanner and the index', () => {
  it('indexes keyframes, headers and the end time', () => {
    const idx = scanBytes(file(stream(5)), START);
    assert.equal(idx.video, 'h264');
    assert.equal(idx.audio, 'aac');
    assert.deepEqual(
      idx.sync.map((s) => s.timeMs),
      [0, 1000, 2000, 3000, 4000],
    );
    assert.equal(idx.configs.length, 2);
    assert.equal(idx.startMs, 0);
    // Last video frame at 4960 (+40), last audio at 4991 (+23).
    assert.equal(idx.endMs, 5014);
  });

  it('gives the same index in any chunking', () => {
    const bytes = file(stream(3));
    const whole = scanBytes(bytes, START);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const s = new FlvScanner(START);
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = sizes[i % sizes.length] as number;
          s.push(bytes.subarray(at, at + n));
          at += n;
        }
        assert.equal(s.end, whole.dataEnd);
        assert.deepEqual(s.index.points, whole.sync);
        assert.equal(s.index.endMs, whole.endMs);
      }),
      { numRuns: 50 },
    );
  });

  it('ends at the last whole tag of a truncated or corrupt file', () => {
    const bytes = file(stream(3));
    const cut = scanBytes(bytes.subarray(0, 5005), START);
    assert.ok(cut.dataEnd <= START + 5005 && cut.dataEnd > START + 5005 - 200, `${cut.dataEnd}`);
    const broken = Buffer.from(bytes);
    broken.fill(0, 5000, 5100);
    const bad = scanBytes(broken, START);
    assert.ok(bad.dataEnd <= START + 5000 && bad.dataEnd > START + 5000 - 200, `${bad.dataEnd}`);
    assert.deepEqual(
      bad.sync.map((s) => s.timeMs),
      [0, 1000],
    );
  });

  it('cuts audio-only files at audio tags every 500 ms', () => {
    const idx = scanBytes(file(stream(3, 1000, { video: false })), START);
    assert.equal(idx.video, undefined);
    const times = idx.sync.map((s) => s.timeMs);
    assert.equal(times[0], 0);
    assert.ok(times.every((t, i) => i === 0 || t - (times[i - 1] as number) >= 500));
    assert.ok(times.length >= 5, times.join(' '));
  });
});

/** An index of keyframes every `gopMs` over `seconds`, `bytesPerGop` apart. */
function syntheticIndex(seconds: number, gopMs: number, bytesPerGop: number): FlvIndex {
  const sync = [];
  for (let t = 0, pos = 400; t < seconds * 1000; t += gopMs, pos += bytesPerGop) sync.push({ timeMs: t, pos });
  return { dataStart: START, dataEnd: 400 + (seconds * 1000 * bytesPerGop) / gopMs, startMs: 0, endMs: seconds * 1000, video: 'h264', audio: 'aac', sync, configs: [], source: 'scan' };
}

describe('planVod', () => {
  it('makes segments of whole GOPs near the target, from the first tag to the last', () => {
    const plan = planVod(syntheticIndex(9, 1000, 10_000), 2000);
    assert.equal(plan.format, 'ts');
    assert.deepEqual(
      plan.segments.map((s) => [s.startMs, s.endMs]),
      [[0, 2000], [2000, 4000], [4000, 6000], [6000, 8000], [8000, 9000]],
    );
    assert.equal(plan.segments[0]?.startPos, START, 'headers and early audio belong to the first segment');
    assert.equal(plan.segments.at(-1)?.endPos, 400 + 90_000);
    for (let i = 1; i < plan.segments.length; i++) assert.equal(plan.segments[i]?.startPos, plan.segments[i - 1]?.endPos, 'ranges tile the file');
  });

  it('cuts at the next keyframe once a segment would pass the byte cap', () => {
    const big = VOD_LIMITS.softSegmentBytes / 2 + 1;
    const plan = planVod(syntheticIndex(6, 500, big), 3000);
    assert.ok(plan.segments.every((s) => s.endPos - s.startPos <= VOD_LIMITS.softSegmentBytes + 400), JSON.stringify(plan.segments));
    assert.equal(plan.segments.length, 12);
  });

  it('uses fMP4 for HEVC and AV1, and lists nothing without keyframes', () => {
    assert.equal(planVod({ ...syntheticIndex(4, 1000, 100), video: 'hevc' }, 2000).format, 'fmp4');
    assert.equal(planVod({ ...syntheticIndex(4, 1000, 100), video: 'av1' }, 2000).format, 'fmp4');
    assert.deepEqual(planVod({ ...syntheticIndex(4, 1000, 100), sync: [] }, 2000).segments, []);
  });
});

describe('clipBounds', () => {
  const idx = syntheticIndex(10, 1000, 100);

  it('widens [from, to] to the keyframes at or before from and at or after to', () => {
    assert.deepEqual(clipBounds(idx, 2500, 6200), { first: 2, last: 7, startMs: 2000, endMs: 7000 });
    assert.deepEqual(clipBounds(idx, 2000, 6000), { first: 2, last: 6, startMs: 2000, endMs: 6000 });
    assert.deepEqual(clipBounds(idx, 9500, 20_000), { first: 9, last: 10, startMs: 9000, endMs: 10_000 });
    assert.deepEqual(clipBounds(idx, 0, 1), { first: 0, last: 1, startMs: 0, endMs: 1000 });
  });
});

describe('vodPlaylistText', () => {
  it('writes a VOD playlist with ENDLIST, dates and (fMP4) one map', () => {
    const idx = { ...syntheticIndex(5, 1000, 100), video: 'hevc' as const };
    const text = vodPlaylistText(planVod(idx, 2000), '20260102-030405', Date.UTC(2026, 0, 2, 3, 4, 5), 2000, true);
    const p = parseMediaPlaylist(text);
    assert.equal(p.playlistType, 'VOD');
    assert.ok(p.endList && p.independentSegments);
    assert.deepEqual(
      p.segments.map((s) => [s.uri, s.map, s.programDateTime]),
      [
        ['20260102-030405/0.m4s', '20260102-030405/init.mp4', Date.UTC(2026, 0, 2, 3, 4, 5)],
        ['20260102-030405/1.m4s', undefined, Date.UTC(2026, 0, 2, 3, 4, 7)],
        ['20260102-030405/2.m4s', undefined, Date.UTC(2026, 0, 2, 3, 4, 9)],
      ],
    );
    assert.throws(() => parseMediaPlaylist(text.replace('TYPE:VOD', 'TYPE:LIVE')), PlaylistError);
    assert.throws(() => parseMediaPlaylist(text.replace('#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PLAYLIST-TYPE:VOD')), PlaylistError);
  });
});
