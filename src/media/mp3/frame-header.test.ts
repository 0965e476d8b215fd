import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Mp3Error, parseMpegAudioHeader } from './frame-header.js';

test('MPEG-1 Layer III 128 kbit/s 44.1 kHz joint stereo: FF FB 90 64', () => {
  assert.deepEqual(parseMpegAudioHeader(Buffer.from('fffb9064', 'hex')), {
    version: 1, layer: 3, bitrateKbps: 128, sampleRate: 44100, channels: 2, samplesPerFrame: 1152, padding: false, frameLength: 417,
  });
  // Padding adds one byte.
  assert.equal(parseMpegAudioHeader(Buffer.from('fffb9264', 'hex')).frameLength, 418);
});

test('MPEG-2 Layer III 64 kbit/s 22.05 kHz mono: 576 samples, 208 bytes', () => {
  const h = parseMpegAudioHeader(Buffer.from('fff380c0', 'hex'));
  assert.deepEqual([h.version, h.layer, h.bitrateKbps, h.sampleRate, h.channels, h.samplesPerFrame, h.frameLength], [2, 3, 64, 22050, 1, 576, 208]);
});

test('MPEG-2.5, Layer I and Layer II', () => {
  // MPEG-2.5 L3 8 kbit/s (index 1) 8 kHz (index 2) mono
  const a = parseMpegAudioHeader(Buffer.from('ffe318c0', 'hex'));
  assert.deepEqual([a.version, a.layer, a.sampleRate, a.samplesPerFrame, a.frameLength], [2.5, 3, 8000, 576, 72]);
  // MPEG-1 L1 384 kbit/s (index 12) 48 kHz: (12 * 384000 / 48000) * 4 = 384 bytes, 384 samples
  const b = parseMpegAudioHeader(Buffer.from('fffec400', 'hex'));
  assert.deepEqual([b.layer, b.bitrateKbps, b.sampleRate, b.samplesPerFrame, b.frameLength], [1, 384, 48000, 384, 384]);
  // MPEG-1 L2 192 kbit/s (index 10) 48 kHz: 144 * 192000 / 48000 = 576 bytes
  const c = parseMpegAudioHeader(Buffer.from('fffda400', 'hex'));
  assert.deepEqual([c.layer, c.bitrateKbps, c.samplesPerFrame, c.frameLength], [2, 192, 1152, 576]);
});

test('bad headers throw Mp3Error', () => {
  for (const hex of ['fffb90', '7ffb9064', 'ffeb9064' /* version 01 */, 'fff99064' /* layer 00 */, 'fffbf064' /* bitrate 15 */, 'fffb9c64' /* rate 3 */]) {
    assert.throws(() => parseMpegAudioHeader(Buffer.from(hex, 'hex')), Mp3Error, hex);
  }
  assert.throws(() => parseMpegAudioHeader(Buffer.from('fffb9064', 'hex'), 1), Mp3Error);
});

test('property: random headers only ever throw Mp3Error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 6 }), fc.boolean(), (bytes, sync) => {
      const b = Buffer.from(bytes);
      if (sync && b.length >= 2) {
        b[0] = 0xff;
        b[1] = (b[1] ?? 0) | 0xe0;
      }
      try {
        const h = parseMpegAudioHeader(b);
        assert.ok(h.frameLength === 0 || h.frameLength >= 21);
      } catch (e) {
        if (!(e instanceof Mp3Error)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
