import assert from 'node:assert/strict';
import test from 'node:test';
import { readMp4 } from '../../../test/helpers/mp4box.js';
import { Mp4Error } from './error.js';
import { NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS, writeFragment, writeStyp, type Mp4Sample, type Mp4TrackRun } from './fragment.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, writeInitSegment } from './init.js';

const hex = (b: Buffer): string => b.toString('hex');
// 1280x720 High 3.1 SPS (src/media/h264/sps.test.ts) in a one-SPS, one-PPS avcC.
const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebecb22c', 'hex');
const AVCC = Buffer.concat([Buffer.from([1, 0x64, 0x00, 0x1f, 0xff, 0xe1]), Buffer.from([0, SPS.length]), SPS, Buffer.from([1, 0, PPS.length]), PPS]);
const ASC = Buffer.from([0x12, 0x10]); // AAC LC, 44.1 kHz, stereo

test('one video sample: the exact bytes of moof and mdat', () => {
  const data = Buffer.from([0, 0, 0, 2, 0x65, 0x88]);
  const out = writeFragment(7, [{ trackId: 1, baseDecodeTime: 2 ** 33, samples: [{ duration: 3000, size: 6, sync: true, cts: -1500 }], data: [data] }]);
  assert.equal(out.length, 3);
  assert.equal(out[2], data, 'sample data passed through, not copied');
  assert.equal(
    hex(out[0]!),
    [
      '00000068', '6d6f6f66', // moof, 104 bytes
      '00000010', '6d666864', '00000000', '00000007', // mfhd seq 7
      '00000050', '74726166', // traf
      '00000010', '74666864', '00020000', '00000001', // tfhd default-base-is-moof, track 1
      '00000014', '74666474', '01000000', '0000000200000000', // tfdt v1 2^33
      '00000024', '7472756e', '01000f01', '00000001', '00000070', // trun v1, 1 sample, data offset 104 + 8
      '00000bb8', '00000006', '02000000', 'fffffa24', // duration 3000, size 6, sync flags, cts -1500
    ].join(''),
  );
  assert.equal(hex(out[1]!), '0000000e6d646174');
});

test('two runs: the second data offset skips the first run data', () => {
  const v = [Buffer.alloc(10, 1), Buffer.alloc(5, 2)];
  const a = [Buffer.alloc(7, 3)];
  const out = writeFragment(1, [
    { trackId: 1, baseDecodeTime: 0, samples: [{ duration: 3000, size: 10, sync: true, cts: 0 }, { duration: 3000, size: 5, sync: false, cts: 3000 }], data: v },
    { trackId: 2, baseDecodeTime: 0, samples: [{ duration: 1024, size: 7, sync: true, cts: 0 }], data: a },
  ]);
  const moof = out[0]!;
  const offsets: number[] = [];
  for (let at = moof.indexOf('trun'); at >= 0; at = moof.indexOf('trun', at + 4)) offsets.push(moof.readUInt32BE(at + 12));
  assert.deepEqual(offsets, [moof.length + 8, moof.length + 8 + 15]);
  assert.equal(out[1]!.readUInt32BE(0), 8 + 22);
  assert.deepEqual(out.slice(2), [...v, ...a]);
  assert.equal(moof.readUInt32BE(moof.indexOf('trun') + 12 + 4 + 8 + 16), NON_SYNC_SAMPLE_FLAGS);
  assert.equal(SYNC_SAMPLE_FLAGS, 0x02000000);
});

test('refuses what the fields cannot hold, and samples that disagree with the data', () => {
  const s = (o: Partial<Mp4Sample> = {}): Mp4Sample => ({ duration: 1, size: 1, sync: true, cts: 0, ...o });
  const run = (o: Partial<Mp4TrackRun> = {}): Mp4TrackRun => ({ trackId: 1, baseDecodeTime: 0, samples: [s()], data: [Buffer.alloc(1)], ...o });
  assert.doesNotThrow(() => writeFragment(1, [run()]));
  for (const [what, f] of [
    ['no runs', () => writeFragment(1, [])],
    ['empty run', () => writeFragment(1, [run({ samples: [], data: [] })])],
    ['size mismatch', () => writeFragment(1, [run({ data: [Buffer.alloc(2)] })])],
    ['negative duration', () => writeFragment(1, [run({ samples: [s({ duration: -1 })] })])],
    ['fractional cts', () => writeFragment(1, [run({ samples: [s({ cts: 0.5 })] })])],
    ['cts beyond 32 bits', () => writeFragment(1, [run({ samples: [s({ cts: 2 ** 31 })] })])],
    ['negative tfdt', () => writeFragment(1, [run({ baseDecodeTime: -1 })])],
    ['track id 0', () => writeFragment(1, [run({ trackId: 0 })])],
    ['sequence number', () => writeFragment(2 ** 32, [run()])],
  ] as const)
    assert.throws(f, Mp4Error, what);
});

/** A GOP of 6 frames in decode order with B-frames (I P B B P B), 30 fps at 90 kHz, and ~1024-sample AAC frames. */
function stream(fragments: number): { chunks: Buffer[]; video: Mp4Sample[]; audio: Mp4Sample[] } {
  const video: Mp4Sample[] = [];
  const audio: Mp4Sample[] = [];
  const chunks = [writeInitSegment({ video: { codec: 'h264', width: 1280, height: 720, timescale: 90000, config: AVCC }, audio: { codec: 'aac', sampleRate: 44100, channels: 2, timescale: 44100, asc: ASC } }), writeStyp()];
  const ctsPattern = [3000, 9000, 0, 0, 6000, 0];
  let vdts = 0;
  let adts = 0;
  for (let f = 0; f < fragments; f++) {
    const vs: Mp4Sample[] = [0, 1].map((k) => ({ duration: 3000, size: 20 + f + k, sync: (f * 2 + k) % 6 === 0, cts: ctsPattern[(f * 2 + k) % 6]! }));
    const as: Mp4Sample[] = [{ duration: 1024, size: 9, sync: true, cts: 0 }, { duration: 1024, size: 8, sync: true, cts: 0 }, { duration: 1024, size: 7, sync: true, cts: 0 }];
    const fill = (ss: Mp4Sample[], v: number): Buffer[] => ss.map((x) => Buffer.alloc(x.size, v));
    chunks.push(...writeFragment(f + 1, [
      { trackId: VIDEO_TRACK_ID, baseDecodeTime: vdts, samples: vs, data: fill(vs, f) },
      { trackId: AUDIO_TRACK_ID, baseDecodeTime: adts, samples: as, data: fill(as, 0x80 + f) },
    ]));
    vdts += 6000;
    adts += 3072;
    video.push(...vs);
    audio.push(...as);
  }
  return { chunks, video, audio };
}

test('mp4box reads init + fragments: tracks, codecs, sample counts, durations, sync flags, cts and bytes equal ours', () => {
  const { chunks, video, audio } = stream(6);
  const r = readMp4(chunks);
  assert.deepEqual(r.errors, []);
  assert.ok(r.info.isFragmented);
  const byId = new Map(r.info.tracks.map((t) => [t.id, t]));
  assert.equal(byId.get(1)?.codec, 'avc1.64001f');
  assert.deepEqual([byId.get(1)?.video?.width, byId.get(1)?.video?.height, byId.get(1)?.timescale], [1280, 720, 90000]);
  assert.equal(byId.get(2)?.codec, 'mp4a.40.2');
  assert.deepEqual([byId.get(2)?.audio?.sample_rate, byId.get(2)?.audio?.channel_count, byId.get(2)?.timescale], [44100, 2, 44100]);
  for (const [id, ours] of [[1, video], [2, audio]] as const) {
    const theirs = r.samples.get(id)!;
    assert.equal(theirs.length, ours.length, `track ${id} sample count`);
    let dts = 0;
    theirs.forEach((t, i) => {
      const o = ours[i]!;
      assert.deepEqual(
        { dts: t.dts, duration: t.duration, size: t.size, sync: t.is_sync, cts: t.cts },
        { dts, duration: o.duration, size: o.size, sync: o.sync, cts: dts + o.cts },
        `track ${id} sample ${i}`,
      );
      dts += o.duration;
    });
  }
  const v4 = r.samples.get(1)![4]!;
  assert.deepEqual(Buffer.from(v4.data!), Buffer.alloc(20 + 2, 2), 'sample bytes from the right place in mdat');
});

test('mp4box reads the same whatever the chunking', () => {
  const whole = Buffer.concat(stream(4).chunks);
  const bytewise: Buffer[] = [];
  for (let at = 0; at < whole.length; at += 13) bytewise.push(whole.subarray(at, at + 13));
  const a = readMp4([whole]);
  const b = readMp4(bytewise);
  const key = (r: ReturnType<typeof readMp4>) => [...r.samples].map(([id, ss]) => [id, ss.map((x) => [x.dts, x.cts, x.size, x.is_sync])]);
  assert.deepEqual(key(b), key(a));
  assert.equal(a.samples.get(1)!.length, 8);
});
