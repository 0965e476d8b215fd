import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAsc } from './asc.js';
import { AacError } from './error.js';

const asc = (hex: string) => parseAsc(Buffer.from(hex, 'hex'));

test('AAC-LC 44.1 kHz stereo: 12 10', () => {
  assert.deepEqual(asc('1210'), { objectType: 2, sampleRate: 44100, samplingIndex: 4, channelConfig: 2, channels: 2, frameLength: 1024 });
});

test('AAC-LC 48 kHz mono: 11 88', () => {
  assert.deepEqual(asc('1188'), { objectType: 2, sampleRate: 48000, samplingIndex: 3, channelConfig: 1, channels: 1, frameLength: 1024 });
});

test('explicit sampling frequency (index 15 + 24 bits)', () => {
  // 00010 1111 000000001010110001000100 0010 000
  const a = asc('1780562210');
  assert.deepEqual([a.objectType, a.samplingIndex, a.sampleRate, a.channels], [2, 15, 44100, 2]);
});

test('object type escape 31 -> 32 + 6 bits', () => {
  // 11111 001010 0011 0010 -> object type 42 (USAC), 48 kHz, stereo
  const a = asc('f94640');
  assert.deepEqual([a.objectType, a.sampleRate, a.channels], [42, 48000, 2]);
});

test('explicit HE-AAC (SBR): core type and rate, extension rate', () => {
  // 00101 0110 0010 0011 00010: SBR, core 24 kHz stereo, extension 48 kHz, core AAC LC
  const a = asc('2b118800');
  assert.deepEqual([a.objectType, a.sampleRate, a.extensionSampleRate, a.channels], [2, 24000, 48000, 2]);
});

test('frameLengthFlag selects 960-sample frames', () => {
  assert.equal(asc('1194').frameLength, 960);
});

test('malformed configs throw AacError', () => {
  assert.throws(() => asc(''), AacError);
  assert.throws(() => asc('12'), AacError);
  assert.throws(() => asc('0210'), AacError, 'object type 0');
  assert.throws(() => asc('16d0'), AacError, 'reserved sampling index 13');
  assert.throws(() => asc('1780'), AacError, 'truncated explicit rate');
  assert.throws(() => asc('1278'), AacError, 'reserved channel configuration 15');
});

test('property: random configs only ever throw AacError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
      try {
        const a = parseAsc(Buffer.from(bytes));
        assert.ok(a.sampleRate > 0 && a.objectType > 0);
      } catch (e) {
        if (!(e instanceof AacError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
