import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ticks90k } from '../time.js';
import { StreamId, pesHeader, wrap33 } from './pes.js';

const readTs = (b: Buffer, at: number): number =>
  (((b[at] ?? 0) >> 1) & 7) * 2 ** 30 + ((b[at + 1] ?? 0) << 7 | (b[at + 2] ?? 0) >> 1) * 2 ** 15 + (((b[at + 3] ?? 0) << 7) | ((b[at + 4] ?? 0) >> 1));

test('video PES with PTS != DTS: the bytes ffmpeg writes for pts 1.48 s, dts 1.40 s', () => {
  const h = pesHeader({ streamId: StreamId.Video, pts: ticks90k(133200), dts: ticks90k(126000), payloadLength: 5000, unbounded: true });
  assert.equal(h.toString('hex'), '000001e0000080c00a310009' + '10a1' + '110007d861');
});

test('PES with PTS == DTS writes PTS only, with marker bits; audio gets a real PES_packet_length', () => {
  const h = pesHeader({ streamId: StreamId.Audio, pts: ticks90k(90000), dts: ticks90k(90000), payloadLength: 10 });
  // 00 00 01 C0 | length 3+5+10 = 18 | 80 | PTS only | 5 | '0010' 000 1 ... PTS 90000 = 0x15F90
  assert.equal(h.toString('hex'), '000001c00012808005210005bf21');
});

test('data_alignment_indicator, unbounded length for big payloads', () => {
  const h = pesHeader({ streamId: StreamId.Video, pts: ticks90k(0), payloadLength: 100, dataAligned: true });
  assert.equal(h[6], 0x84);
  assert.equal(pesHeader({ streamId: StreamId.Audio, pts: ticks90k(0), payloadLength: 70000 }).readUInt16BE(4), 0);
});

test('timestamps are taken mod 2^33', () => {
  assert.equal(wrap33(2 ** 33 + 5), 5);
  assert.equal(wrap33(-1), 2 ** 33 - 1);
  const a = pesHeader({ streamId: StreamId.Audio, pts: ticks90k(2 ** 33 + 1234), payloadLength: 0 });
  const b = pesHeader({ streamId: StreamId.Audio, pts: ticks90k(1234), payloadLength: 0 });
  assert.deepEqual(a, b);
});

test('property: PTS and DTS round-trip through the 33-bit fields', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 90000 }), (dts, cto) => {
      const h = pesHeader({ streamId: StreamId.Video, pts: ticks90k(dts + cto), dts: ticks90k(dts), payloadLength: 0, unbounded: true });
      assert.equal(h[7], 0xc0);
      assert.equal(readTs(h, 9), wrap33(dts + cto));
      assert.equal(readTs(h, 14), wrap33(dts));
      for (const at of [9, 11, 13, 14, 16, 18]) assert.equal((h[at] ?? 0) & 1, 1, 'marker bit');
      assert.equal((h[9] ?? 0) >> 4, 3);
      assert.equal((h[14] ?? 0) >> 4, 1);
    }),
  );
});
