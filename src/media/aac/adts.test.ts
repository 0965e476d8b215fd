import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { adtsHeader } from './adts.js';
import { parseAsc } from './asc.js';
import { AacError } from './error.js';

test('ADTS header for a 100-byte AAC-LC 44.1 kHz stereo frame', () => {
  // FFF, MPEG-4, layer 0, no CRC | profile 1 (LC), sfi 4, ch 2 | frame_length 107 | fullness 0x7FF | 1 block
  assert.equal(adtsHeader(parseAsc(Buffer.from('1210', 'hex')), 100).toString('hex'), 'fff150800d7ffc');
});

test('ADTS header for 48 kHz mono and a frame length that uses all 13 bits', () => {
  const h = adtsHeader(parseAsc(Buffer.from('1188', 'hex')), 8191 - 7);
  assert.equal(h.toString('hex'), 'fff14c43fffffc');
  assert.equal((h[2] ?? 0) >> 6, 1, 'profile LC');
  assert.equal(((h[2] ?? 0) >> 2) & 0xf, 3, '48 kHz');
  assert.equal((((h[2] ?? 0) & 1) << 2) | ((h[3] ?? 0) >> 6), 1, 'mono');
  assert.equal((((h[3] ?? 0) & 3) << 11) | ((h[4] ?? 0) << 3) | ((h[5] ?? 0) >> 5), 8191);
});

test('configs ADTS cannot express throw AacError', () => {
  assert.throws(() => adtsHeader(parseAsc(Buffer.from('f94640', 'hex')), 10), AacError, 'object type 42');
  assert.throws(() => adtsHeader({ objectType: 2, samplingIndex: 15, sampleRate: 44000, channelConfig: 2 }, 10), AacError);
  assert.throws(() => adtsHeader(parseAsc(Buffer.from('1210', 'hex')), 8185), AacError, 'too long');
  // An explicit rate that has a table entry is fine.
  assert.equal(adtsHeader({ objectType: 2, samplingIndex: 15, sampleRate: 44100, channelConfig: 2 }, 100).toString('hex'), 'fff150800d7ffc');
});

test('property: frame_length field round-trips', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8184 }), (n) => {
      const h = adtsHeader({ objectType: 2, samplingIndex: 4, sampleRate: 44100, channelConfig: 2 }, n);
      assert.equal((((h[3] ?? 0) & 3) << 11) | ((h[4] ?? 0) << 3) | ((h[5] ?? 0) >> 5), n + 7);
    }),
  );
});
