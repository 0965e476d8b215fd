import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { H264Error } from './error.js';
import { escapeRbsp } from './rbsp.js';
import { parseSps } from './sps.js';

// Real SPS NALUs from x264 via `ffmpeg -f lavfi -i testsrc=size=WxH:rate=R -pix_fmt ... -c:v libx264 -f h264`,
// checked against ffprobe (profile, size, pix_fmt, field order, r_frame_rate).
const SPS = {
  high720p25: '6764001facd9405005bb011000000300100000030320f1831960',
  baseline240p30: '6742c00dd90141fb0110000003001000000303c0f142a480',
  high1080p2997: '67640028acd940780227e5c04400000fa40003a9803c60c658',
  high1080i25: '67640028acd94078044fde0220000003002000000643e2c5b2c0',
  high444_288p: '67f4000d919b282c12d808800000030080000019078a14cb',
  high422_10bit_330x250: '677a000db6cd9415087927c044000003000400000300c83c50a658',
};
const sps = (hex: string): Buffer => Buffer.from(hex, 'hex');

test('1280x720 High profile, level 3.1, 25 fps', () => {
  const s = parseSps(sps(SPS.high720p25));
  assert.deepEqual(
    { profile: s.profile, level: s.level, width: s.width, height: s.height, chroma: s.chromaFormat, fps: s.fps, sar: s.sar, progressive: s.frameMbsOnly },
    { profile: 100, level: 31, width: 1280, height: 720, chroma: 1, fps: 25, sar: [1, 1], progressive: true },
  );
});

test('320x240 Constrained Baseline, level 1.3, 30 fps (no chroma_format_idc in the syntax)', () => {
  const s = parseSps(sps(SPS.baseline240p30));
  assert.deepEqual(
    { profile: s.profile, constraints: s.constraints, level: s.level, width: s.width, height: s.height, chroma: s.chromaFormat, fps: s.fps },
    { profile: 66, constraints: 0xc0, level: 13, width: 320, height: 240, chroma: 1, fps: 30 },
  );
});

test('1080p is coded as 1088 lines and cropped; 29.97 fps from VUI timing', () => {
  const s = parseSps(sps(SPS.high1080p2997));
  assert.equal(s.width, 1920);
  assert.equal(s.height, 1080);
  assert.ok(Math.abs((s.fps ?? 0) - 30000 / 1001) < 1e-9);
});

test('interlaced 1080i: field pairs double the map units and the crop unit', () => {
  const s = parseSps(sps(SPS.high1080i25));
  assert.equal(s.frameMbsOnly, false);
  assert.equal(s.width, 1920);
  assert.equal(s.height, 1080);
});

test('High 4:4:4 and 4:2:2 10-bit: chroma format, bit depth, cropping by chroma unit', () => {
  const a = parseSps(sps(SPS.high444_288p));
  assert.deepEqual([a.profile, a.chromaFormat, a.width, a.height], [244, 3, 352, 288]);
  const b = parseSps(sps(SPS.high422_10bit_330x250));
  assert.deepEqual([b.profile, b.chromaFormat, b.bitDepthLuma, b.bitDepthChroma, b.width, b.height], [122, 2, 10, 10, 330, 250]);
});

// Hand-built SPS for the syntax x264 does not emit by default (scaling matrices, POC type 1).
class BitWriter {
  private bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** A scaling list as the decoder reads it: deltas stop once nextScale reaches 0. */
  scalingList(size: number, delta: (j: number) => number): this {
    let last = 8;
    let next = 8;
    for (let j = 0; j < size && next !== 0; j++) {
      const d = delta(j);
      this.se(d);
      next = (last + d + 256) % 256;
      last = next === 0 ? last : next;
    }
    return this;
  }
  bytes(): Buffer {
    const b = [...this.bits, 1];
    while (b.length % 8) b.push(0);
    const raw = Buffer.alloc(b.length / 8);
    b.forEach((bit, i) => (raw[i >> 3] = (raw[i >> 3] ?? 0) | (bit << (7 - (i & 7)))));
    // Emulation prevention, as an encoder would apply it.
    return escapeRbsp(raw);
  }
}

function highSps(opts: { scaling: boolean; pocType: 0 | 1 | 2 }): Buffer {
  const w = new BitWriter().u(8, 0x67).u(8, 100).u(8, 0).u(8, 40).ue(0).ue(1).ue(0).ue(0).u(1, 0);
  w.u(1, opts.scaling ? 1 : 0);
  if (opts.scaling) {
    // List 0: 16 explicit deltas. List 1: delta -8 makes nextScale 0 at j=0 (use default), so no more deltas.
    // List 6 (8x8 luma intra): 64 deltas including large ones. Other lists absent.
    w.u(1, 1).scalingList(16, (j) => (j % 2 ? 5 : -3));
    w.u(1, 1).scalingList(16, () => -8);
    for (let i = 2; i < 6; i++) w.u(1, 0);
    w.u(1, 1).scalingList(64, (j) => (j % 3 === 0 ? 127 : -100));
    w.u(1, 0);
  }
  w.ue(0).ue(opts.pocType);
  if (opts.pocType === 0) w.ue(2);
  if (opts.pocType === 1) w.u(1, 0).se(-3).se(7).ue(3).se(1).se(-2).se(40);
  w.ue(4).u(1, 0).ue(79).ue(44).u(1, 1).u(1, 1).u(1, 0).u(1, 0);
  return w.bytes();
}

test('scaling matrices are skipped exactly (the fields after them read right)', () => {
  for (const pocType of [0, 1, 2] as const) {
    const s = parseSps(highSps({ scaling: true, pocType }));
    assert.deepEqual([s.width, s.height, s.fps], [1280, 720, undefined], `poc type ${pocType}`);
  }
  assert.deepEqual([parseSps(highSps({ scaling: false, pocType: 0 })).width], [1280]);
});

test('emulation prevention bytes are removed before parsing', () => {
  // The real 720p SPS contains 00 00 03 sequences in its VUI: without unescaping, fps would be wrong.
  assert.ok(SPS.high720p25.includes('000003'));
  assert.equal(parseSps(sps(SPS.high720p25)).fps, 25);
});

test('malformed SPS: wrong NAL type, too short, out-of-range fields', () => {
  assert.throws(() => parseSps(sps('6864001f')), H264Error);
  assert.throws(() => parseSps(sps('6764')), H264Error);
  assert.throws(() => parseSps(sps('6764001f00')), H264Error);
  // chroma_format_idc 4: ue 4 = 00101.
  assert.throws(() => parseSps(new BitWriter().u(8, 0x67).u(8, 100).u(8, 0).u(8, 40).ue(0).ue(4).u(16, 0xffff).bytes()), H264Error);
});

test('a truncated SPS either throws H264Error or keeps the size it read (the VUI is optional)', () => {
  const full = sps(SPS.high720p25);
  for (let n = 0; n < full.length; n++) {
    try {
      const s = parseSps(full.subarray(0, n));
      assert.deepEqual([s.width, s.height], [1280, 720]);
    } catch (e) {
      if (!(e instanceof H264Error)) throw e;
    }
  }
});

test('property: random SPS bodies only ever throw H264Error', () => {
  fc.assert(
    fc.property(fc.constantFrom(66, 77, 100, 122, 244), fc.uint8Array({ maxLength: 64 }), (profile, body) => {
      try {
        const s = parseSps(Buffer.concat([Buffer.from([0x67, profile]), Buffer.from(body)]));
        assert.ok(s.width > 0 && s.height > 0);
      } catch (e) {
        if (!(e instanceof H264Error)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test('fuzz finding: an SPS whose Exp-Golomb size fields claim a picture beyond every H.264 level is refused', () => {
  // Found by `npm run fuzz -- --target h264-sps`: 6742039b7e0002ffffff parsed as a 490240-pixel-wide picture.
  assert.throws(() => parseSps(Buffer.from('6742039b7e0002ffffff', 'hex')), /exceeds every H\.264 level/);
  // The largest level-6.2 side still parses.
  const side = new BitWriter().u(8, 0x67).u(8, 66).u(8, 0).u(8, 62).ue(0).ue(0).ue(0).ue(0).ue(0).u(1, 0).ue(1054).ue(15).u(1, 1).u(1, 1).u(1, 0).u(1, 0).bytes();
  assert.deepEqual([parseSps(side).width, parseSps(side).height], [16880, 256]);
});
