import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32Mpeg2 } from './crc32.js';
import { StreamType, patSection, pmtSection } from './psi.js';

// Byte-identical to what `ffmpeg -c copy -f mpegts` writes for an H.264 + AAC input.
test('PAT for program 1 on PMT PID 0x1000', () => {
  assert.equal(patSection(0x1000).toString('hex'), '00b00d0001c100000001f0002ab104b2');
});

test('PMT: PCR on the video PID, H.264 on 0x100, AAC (ADTS) on 0x101', () => {
  const pmt = pmtSection(0x100, [{ streamType: StreamType.H264, pid: 0x100 }, { streamType: StreamType.AacAdts, pid: 0x101 }]);
  assert.equal(pmt.toString('hex'), '02b0170001c10000e100f0001be100f0000fe101f0002f44b99b');
});

test('PMT for audio-only MP3: PCR on the audio PID; version bumps change the section and its CRC', () => {
  const v0 = pmtSection(0x101, [{ streamType: StreamType.Mpeg1Audio, pid: 0x101 }]);
  assert.equal(v0.readUInt16BE(8) & 0x1fff, 0x101);
  assert.equal(v0[12], 0x03);
  assert.equal(crc32Mpeg2(v0), 0);
  const v3 = pmtSection(0x101, [{ streamType: StreamType.Mpeg1Audio, pid: 0x101 }], 3);
  assert.equal(((v3[5] ?? 0) >> 1) & 0x1f, 3);
  assert.equal(crc32Mpeg2(v3), 0);
  assert.equal((v3.readUInt16BE(1) & 0x0fff) + 3, v3.length, 'section_length counts to the end of the CRC');
});
