import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAsc } from '../aac/asc.js';
import { writeAvcConfig, parseAvcConfig } from '../h264/avc-config.js';
import { Pid } from '../mpegts/muxer.js';
import { readTsPackets } from '../mpegts/packet-reader.js';
import { TsSegmentWriter } from './ts-writer.js';

const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');
const AUD = Buffer.from('0910', 'hex');
const IDR = Buffer.from('6588840011', 'hex');
const NON_IDR = Buffer.from('419a2233', 'hex');
/** The TS writer reads the NAL units, not the sample bytes. */
const EMPTY = Buffer.alloc(0);
const annexB = (...nalus: Buffer[]): Buffer => Buffer.concat(nalus.flatMap((u) => [Buffer.from([0, 0, 0, 1]), u]));

/** The PES payloads (elementary stream bytes) of one PID in a segment. */
function payloads(ts: Buffer, pid: number): Buffer[] {
  const out: Buffer[][] = [];
  for (const p of readTsPackets(ts)) {
    if (p.pid !== pid) continue;
    if (p.payloadUnitStart) out.push([]);
    out.at(-1)?.push(p.payload);
  }
  return out.map((parts) => {
    const pes = Buffer.concat(parts);
    return pes.subarray(9 + (pes[8] ?? 0));
  });
}

function writer(): TsSegmentWriter {
  const w = new TsSegmentWriter({ audioFramesPerPes: 2 });
  const record = writeAvcConfig([SPS], [PPS]);
  w.video = { codec: 'h264', record, codecString: 'avc1.64001f', profile: 100, level: 31, h264: { config: parseAvcConfig(record) } };
  w.asc = parseAsc(Buffer.from('1210', 'hex'));
  w.setTracks({ video: 'h264', audio: 'aac' });
  w.begin();
  return w;
}

test('the TS writer owns AUD and parameter sets: its own AUD first, SPS/PPS before a keyframe that lacks them', () => {
  const w = writer();
  w.writeVideo({ kind: 'video', codec: 'h264', dts: 0, pts: 40, key: true, data: EMPTY, nalus: [AUD, IDR] });
  w.writeVideo({ kind: 'video', codec: 'h264', dts: 33, pts: 33, key: false, data: EMPTY, nalus: [NON_IDR] });
  w.writeVideo({ kind: 'video', codec: 'h264', dts: 66, pts: 66, key: true, data: EMPTY, nalus: [SPS, PPS, IDR] });
  const ts = w.finish();
  assert.equal(ts.length % 188, 0);
  const aud = Buffer.from('09f0', 'hex');
  assert.deepEqual(payloads(ts, Pid.Video), [annexB(aud, SPS, PPS, IDR), annexB(aud, NON_IDR), annexB(aud, SPS, PPS, IDR)]);
});

test('AAC frames get ADTS headers and are grouped into PES packets; a discarded segment leaves nothing behind', () => {
  const w = writer();
  const frame = Buffer.alloc(10, 0x21);
  for (let i = 0; i < 3; i++) w.writeAudio({ kind: 'audio', codec: 'aac', dts: i * 23.22, pts: i * 23.22, frame, durationMs: 23.22 });
  const pes = payloads(w.finish(), Pid.Audio);
  assert.deepEqual(pes.map((p) => p.length), [2 * 17, 17]); // two frames, then the rest at finish()
  assert.deepEqual([pes[0]?.[0], pes[0]?.[1]], [0xff, 0xf1]); // ADTS sync word

  w.begin();
  w.writeAudio({ kind: 'audio', codec: 'aac', dts: 100, pts: 100, frame, durationMs: 23.22 });
  w.discard();
  w.begin();
  w.writeVideo({ kind: 'video', codec: 'h264', dts: 200, pts: 200, key: true, data: EMPTY, nalus: [IDR] });
  assert.deepEqual(payloads(w.finish(), Pid.Audio), []);
});
