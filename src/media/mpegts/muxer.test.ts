import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ticks90k } from '../time.js';
import { TsError } from './error.js';
import { Pid, TsMuxer } from './muxer.js';
import { readTsPackets } from './packet-reader.js';
import type { TsPacket } from './packet-reader.js';

const IDR_AU = Buffer.from('0000000109f0000000016588840000', 'hex');
const P_AU = Buffer.from('0000000109f0000000014188', 'hex');

test('tables(): PAT then PMT, byte-identical to ffmpeg for H.264 + AAC', () => {
  const m = new TsMuxer({ video: 'h264', audio: 'aac' });
  const ts = m.tables();
  assert.equal(ts.length, 2 * 188);
  assert.equal(ts.subarray(0, 21).toString('hex'), '474000100000b00d0001c100000001f0002ab104b2');
  assert.equal(ts.subarray(188, 188 + 31).toString('hex'), '475000100002b0170001c10000e100f0001be100f0000fe101f0002f44b99b');
});

test('audio-only MP3: PCR PID is the audio PID and stream type 0x03', () => {
  const m = new TsMuxer({ audio: 'mp3' });
  assert.equal(m.pcrPid, Pid.Audio);
  const pmt = readTsPackets(m.tables())[1] as TsPacket;
  assert.equal(pmt.payload[1 + 12], 0x03);
  const a = readTsPackets(m.audio(Buffer.alloc(417, 1), ticks90k(90000)))[0];
  assert.equal(a?.pid, Pid.Audio);
  assert.equal(a?.adaptation?.pcr, 90000 - 63000);
});

test('video: keyframes get random_access_indicator and a PCR; PCR again after 100 ms, never going back', () => {
  const m = new TsMuxer({ video: 'h264', audio: 'aac' });
  m.tables();
  const k = readTsPackets(m.video(IDR_AU, ticks90k(200000), ticks90k(190000), true));
  assert.equal(k[0]?.pid, Pid.Video);
  assert.equal(k[0]?.adaptation?.randomAccess, true);
  assert.equal(k[0]?.adaptation?.pcr, 190000 - 63000);
  const p1 = readTsPackets(m.video(P_AU, ticks90k(203600), ticks90k(193600), false));
  assert.equal(p1[0]?.adaptation?.pcr, undefined, 'no PCR 40 ms later');
  const p2 = readTsPackets(m.video(P_AU, ticks90k(209000), ticks90k(199000), false));
  assert.equal(p2[0]?.adaptation?.pcr, 199000 - 63000);
  assert.equal(p2[0]?.adaptation?.randomAccess, false);
  // PES payload: header with PTS+DTS and data alignment, then the access unit.
  const pes = Buffer.concat(k.map((p) => p.payload));
  assert.equal(pes.subarray(0, 9).toString('hex'), '000001e0000084c00a');
  assert.deepEqual(pes.subarray(19), IDR_AU);
});

test('sparse video: audio brings a PCR-only packet on the video PID', () => {
  const m = new TsMuxer({ video: 'h264', audio: 'aac' });
  m.tables();
  m.video(IDR_AU, ticks90k(90000), ticks90k(90000), true);
  const near = readTsPackets(m.audio(Buffer.alloc(50), ticks90k(95000)));
  assert.ok(near.every((p) => p.pid === Pid.Audio));
  const far = readTsPackets(m.audio(Buffer.alloc(50), ticks90k(90000 + 18000)));
  assert.equal(far[0]?.pid, Pid.Video);
  assert.equal(far[0]?.payload.length, 0);
  assert.equal(far[0]?.adaptation?.pcr, 90000 + 18000 - 63000);
});

test('tables() makes the next PES on the PCR PID carry a PCR; setTracks bumps the PMT version', () => {
  const m = new TsMuxer({ audio: 'aac' });
  m.tables();
  m.audio(Buffer.alloc(10), ticks90k(0));
  assert.equal(readTsPackets(m.audio(Buffer.alloc(10), ticks90k(100)))[0]?.adaptation?.pcr, undefined);
  m.tables();
  assert.ok(readTsPackets(m.audio(Buffer.alloc(10), ticks90k(200)))[0]?.adaptation?.pcr !== undefined);
  assert.equal(m.setTracks({ audio: 'aac' }), false);
  assert.equal(m.setTracks({ video: 'h264', audio: 'aac' }), true);
  const pmt = readTsPackets(m.tables())[1] as TsPacket;
  assert.equal(((pmt.payload[1 + 5] ?? 0) >> 1) & 0x1f, 1);
  assert.equal(m.pcrPid, Pid.Video);
});

test('misuse throws TsError', () => {
  assert.throws(() => new TsMuxer({}), TsError);
  assert.throws(() => new TsMuxer({ audio: 'aac' }).video(IDR_AU, ticks90k(0), ticks90k(0), true), TsError);
  assert.throws(() => new TsMuxer({ video: 'h264' }).audio(Buffer.alloc(1), ticks90k(0)), TsError);
});

test('continuity counters continue across tables() calls (segment boundaries)', () => {
  const m = new TsMuxer({ video: 'h264' });
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const p of readTsPackets(m.tables())) if (p.pid === 0) seen.push(p.continuityCounter);
    m.video(IDR_AU, ticks90k(i * 9000), ticks90k(i * 9000), true);
  }
  assert.deepEqual(seen, [0, 1, 2]);
});
