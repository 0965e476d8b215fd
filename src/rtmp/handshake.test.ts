import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { RtmpProtocolError } from './errors.js';
import { ClientHandshake, FMS_KEY, FP_KEY, HANDSHAKE_SIZE, ServerHandshake, imprintDigest } from './handshake.js';

// Independent re-implementation of FFmpeg's checks (libavformat/rtmpproto.c) so that our server is
// validated against the algorithm, not against itself.
const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();
function ffmpegDigestPos(buf: Buffer, off: number): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += buf[off + i]!;
  return (sum % 728) + off + 4;
}
function ffmpegValidate(s1: Buffer, off: number): number {
  const pos = ffmpegDigestPos(s1, off);
  const msg = Buffer.concat([s1.subarray(0, pos), s1.subarray(pos + 32)]);
  const d = hmac(FMS_KEY.subarray(0, 36), msg);
  return d.equals(s1.subarray(pos, pos + 32)) ? pos : 0;
}

function ffmpegC1(schema: 0 | 1): Buffer {
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  Buffer.from([9, 0, 124, 2]).copy(c1, 4);
  imprintDigest(c1, FP_KEY.subarray(0, 30), schema);
  return c1;
}

test('simple handshake: zero-version C1 gets S2 = C1 echo, zero-version S1', () => {
  const hs = new ServerHandshake();
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 4);
  const step = hs.feed(Buffer.concat([Buffer.from([3]), c1]));
  assert.equal(step.done, false);
  const out = step.output!;
  assert.equal(out.length, 1 + 2 * HANDSHAKE_SIZE);
  assert.equal(out[0], 3);
  assert.equal(out.readUInt32BE(5), 0);
  assert.deepEqual(out.subarray(1 + HANDSHAKE_SIZE), c1);
  assert.equal(hs.mode, 'simple');
  const tail = Buffer.from('first chunk');
  const end = hs.feed(Buffer.concat([out.subarray(1, 1 + HANDSHAKE_SIZE), tail]));
  assert.equal(end.done, true);
  assert.deepEqual(end.rest, tail);
});

test('non-zero version without a valid digest falls back to simple', () => {
  const hs = new ServerHandshake();
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0x09007c02, 4);
  const out = hs.feed(Buffer.concat([Buffer.from([3]), c1])).output!;
  assert.equal(hs.mode, 'simple');
  assert.deepEqual(out.subarray(1 + HANDSHAKE_SIZE), c1);
});

for (const schema of [0, 1] as const) {
  test(`digest handshake, schema ${schema}: S1 and S2 verify as FFmpeg checks them`, () => {
    const c1 = ffmpegC1(schema);
    const hs = new ServerHandshake();
    const out = hs.feed(Buffer.concat([Buffer.from([3]), c1])).output!;
    assert.equal(hs.mode, schema);
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    assert.ok(s1[4]! >= 3, 'version byte makes FFmpeg validate');
    const serverPos = ffmpegValidate(s1, 772) || ffmpegValidate(s1, 8);
    assert.ok(serverPos > 0, 'S1 digest valid');
    // S2 signature: HMAC(HMAC(FMS key (68 bytes), client digest), S2 without its last 32 bytes)
    const clientPos = ffmpegDigestPos(c1, schema === 1 ? 8 : 772);
    const key = hmac(FMS_KEY, c1.subarray(clientPos, clientPos + 32));
    assert.deepEqual(hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32)), s2.subarray(HANDSHAKE_SIZE - 32));
    // a tampered C1 is no longer recognised as digest
    const bad = Buffer.from(c1);
    bad[clientPos] = bad[clientPos]! ^ 1;
    const hs2 = new ServerHandshake();
    hs2.feed(Buffer.concat([Buffer.from([3]), bad]));
    assert.equal(hs2.mode, 'simple');
  });
}

test('our client and server agree, fed one byte at a time', () => {
  const client = new ClientHandshake();
  const server = new ServerHandshake();
  const c0c1 = client.start();
  let s0s1s2: Buffer | undefined;
  for (const b of c0c1) {
    const step = server.feed(Buffer.from([b]));
    if (step.output) s0s1s2 = step.output;
  }
  assert.ok(s0s1s2);
  let c2: Buffer | undefined;
  for (const b of s0s1s2) {
    const step = client.feed(Buffer.from([b]));
    if (step.output) c2 = step.output;
  }
  assert.ok(client.done);
  assert.ok(client.serverVerified, 'client verified S2');
  let done = false;
  for (const b of c2!) done = server.feed(Buffer.from([b])).done;
  assert.ok(done && server.done);
});

test('unsupported version byte is a typed error', () => {
  const hs = new ServerHandshake();
  assert.throws(() => hs.feed(Buffer.alloc(1 + HANDSHAKE_SIZE, 6)), RtmpProtocolError);
});

test('property: random bytes never throw anything but RtmpProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 4000 }), (bytes) => {
      const hs = new ServerHandshake();
      try {
        hs.feed(Buffer.from(bytes));
      } catch (e) {
        assert.ok(e instanceof RtmpProtocolError);
      }
    }),
    { numRuns: 200 },
  );
});
