import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readTsPackets } from './packet-reader.js';
import { ContinuityCounters, TS_PACKET_SIZE, packetizePes, packetizeSection, pcrOnlyPacket } from './packetizer.js';
import { TsError } from './error.js';

const payloadOf = (ts: Buffer): Buffer => Buffer.concat(readTsPackets(ts).map((p) => p.payload));

test('a PES that fills exactly one packet has no adaptation field', () => {
  const ts = packetizePes(new ContinuityCounters(), 0x100, Buffer.alloc(184, 7));
  assert.equal(ts.length, 188);
  assert.equal(ts.subarray(0, 4).toString('hex'), '47410010');
});

test('stuffing: 183 bytes -> adaptation field of length 0; 182 -> length 1 with flags 0; 100 -> 0xFF stuffing', () => {
  const one = packetizePes(new ContinuityCounters(), 0x100, Buffer.alloc(183, 7));
  assert.equal(one.subarray(0, 5).toString('hex'), '4741003000');
  const two = packetizePes(new ContinuityCounters(), 0x100, Buffer.alloc(182, 7));
  assert.equal(two.subarray(0, 6).toString('hex'), '474100300100');
  const many = packetizePes(new ContinuityCounters(), 0x100, Buffer.alloc(100, 7));
  assert.equal(many[4], 83);
  assert.ok(many.subarray(6, 88).every((b) => b === 0xff));
  assert.equal(many[88], 7);
});

test('first packet carries PCR and random_access_indicator; later ones do not; the last is stuffed', () => {
  const pes = Buffer.alloc(1000, 1);
  const ts = packetizePes(new ContinuityCounters(), 0x100, pes, { pcr: 2 ** 33 + 123456, randomAccess: true });
  const pkts = readTsPackets(ts);
  assert.equal(ts.length, 6 * TS_PACKET_SIZE);
  assert.deepEqual(pkts.map((p) => p.payloadUnitStart), [true, false, false, false, false, false]);
  assert.equal(pkts[0]?.adaptation?.pcr, 123456, 'PCR base mod 2^33');
  assert.equal(pkts[0]?.adaptation?.randomAccess, true);
  assert.equal(pkts[0]?.adaptation?.length, 7);
  assert.equal(pkts[1]?.adaptation, undefined);
  assert.ok((pkts[5]?.adaptation?.length ?? 0) > 0);
  assert.deepEqual(payloadOf(ts), pes);
  // PCR bytes for base 123456, reserved bits set, extension 0.
  assert.equal(ts.subarray(6, 12).toString('hex'), '0000f1207e00');
});

test('continuity counters run per PID, wrap at 16 and continue across calls; PCR-only packets do not advance them', () => {
  const cc = new ContinuityCounters();
  const a = readTsPackets(packetizePes(cc, 0x100, Buffer.alloc(184 * 10)));
  const b = readTsPackets(packetizePes(cc, 0x100, Buffer.alloc(184 * 10)));
  const audio = readTsPackets(packetizePes(cc, 0x101, Buffer.alloc(10)));
  assert.deepEqual([...a, ...b].map((p) => p.continuityCounter), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3]);
  assert.equal(audio[0]?.continuityCounter, 0);
  const pcr = readTsPackets(pcrOnlyPacket(cc, 0x100, 9000));
  assert.equal(pcr[0]?.continuityCounter, 3, 'repeats the last counter');
  assert.equal(pcr[0]?.payload.length, 0);
  assert.equal(pcr[0]?.adaptation?.pcr, 9000);
  assert.equal(readTsPackets(packetizePes(cc, 0x100, Buffer.alloc(1)))[0]?.continuityCounter, 4);
});

test('sections: pointer field 0, 0xFF fill, and multi-packet sections', () => {
  const ts = packetizeSection(new ContinuityCounters(), 0, Buffer.from('00b00d0001c100000001f0002ab104b2', 'hex'));
  assert.equal(ts.length, 188);
  assert.equal(ts.subarray(0, 22).toString('hex'), '474000100000b00d0001c100000001f0002ab104b2ff');
  const long = packetizeSection(new ContinuityCounters(), 0x1000, Buffer.alloc(400, 1));
  assert.equal(long.length, 3 * 188);
  assert.deepEqual(readTsPackets(long).map((p) => [p.payloadUnitStart, p.continuityCounter]), [[true, 0], [false, 1], [false, 2]]);
});

test('invalid PIDs throw TsError', () => {
  assert.throws(() => packetizePes(new ContinuityCounters(), 0x1fff, Buffer.alloc(1)), TsError);
  assert.throws(() => packetizeSection(new ContinuityCounters(), -1, Buffer.alloc(1)), TsError);
});

test('property: any PES becomes whole 188-byte packets whose payloads reassemble it', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.option(fc.integer({ min: 0, max: 2 ** 34 }), { nil: undefined }),
      fc.boolean(),
      (len, pcr, randomAccess) => {
        const pes = Buffer.alloc(len);
        for (let i = 0; i < len; i++) pes[i] = i & 0xff;
        const ts = packetizePes(new ContinuityCounters(), 0x101, pes, { pcr, randomAccess });
        assert.equal(ts.length % TS_PACKET_SIZE, 0);
        const pkts = readTsPackets(ts);
        assert.ok(pkts.every((p) => p.pid === 0x101));
        assert.deepEqual(payloadOf(ts), pes);
        assert.equal(ts.length, Math.max(1, Math.ceil((len + (pcr !== undefined ? 8 : randomAccess ? 2 : 0)) / 184)) * 188);
        if (pcr !== undefined) assert.equal(pkts[0]?.adaptation?.pcr, pcr % 2 ** 33);
      },
    ),
  );
});
