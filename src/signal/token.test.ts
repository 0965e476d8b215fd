import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { signPlayToken, signPublishToken, verifyPlayToken, verifyPublishToken } from '../shared/token.js';

// Vectors computed independently with:
//   printf 'livecdn-publish-v1\nlive/cam1/1700000000' | openssl dgst -sha256 -hmac s3cret -binary | base64url
const PUBLISH_VECTOR = '1700000000.F9rfjU6_hjLBwZ3HtuqD5Kw823Pc_0kkO626_3qELC8';
const PLAY_VECTOR = '1700000000.H2pW_NRHK3WRKdCuuHahGYXElglWvfEybxOCxCGQBWk';
const subject = { app: 'live', stream: 'cam1' };

test('publish and play tokens match the reference vectors', () => {
  assert.equal(signPublishToken({ ...subject, expSec: 1700000000 }, 's3cret'), PUBLISH_VECTOR);
  assert.equal(signPlayToken({ ...subject, expSec: 1700000000 }, 's3cret'), PLAY_VECTOR);
});

test('a valid token verifies until its expiry', () => {
  assert.deepEqual(verifyPublishToken(PUBLISH_VECTOR, subject, 's3cret', 1699999999), { ok: true, expSec: 1700000000 });
  assert.deepEqual(verifyPublishToken(PUBLISH_VECTOR, subject, 's3cret', 1700000000), { ok: false, reason: 'expired' });
  assert.deepEqual(verifyPlayToken(PLAY_VECTOR, subject, 's3cret', 1), { ok: true, expSec: 1700000000 });
});

test('missing, malformed, forged', () => {
  const t = 1;
  assert.deepEqual(verifyPublishToken(undefined, subject, 's3cret', t), { ok: false, reason: 'missing' });
  assert.deepEqual(verifyPublishToken('', subject, 's3cret', t), { ok: false, reason: 'missing' });
  for (const bad of ['abc', '1700000000', '1700000000.', '-1.F9rfjU6_hjLBwZ3HtuqD5Kw823Pc_0kkO626_3qELC8', PUBLISH_VECTOR + 'x', '1700000000.F9rfjU6+hjLBwZ3HtuqD5Kw823Pc_0kkO626_3qELC8']) {
    assert.deepEqual(verifyPublishToken(bad, subject, 's3cret', t), { ok: false, reason: 'malformed' }, bad);
  }
  // wrong secret, other stream, other app, extended expiry: all forged
  assert.deepEqual(verifyPublishToken(PUBLISH_VECTOR, subject, 'other', t), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyPublishToken(PUBLISH_VECTOR, { app: 'live', stream: 'cam2' }, 's3cret', t), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyPublishToken(PUBLISH_VECTOR, { app: 'vod', stream: 'cam1' }, 's3cret', t), { ok: false, reason: 'forged' });
  const extended = PUBLISH_VECTOR.replace('1700000000', '1800000000');
  assert.deepEqual(verifyPublishToken(extended, subject, 's3cret', t), { ok: false, reason: 'forged' });
  // '9' differs from the final '8' only in the 2 unused bits: same bytes, but not the canonical spelling
  const nonCanonical = PUBLISH_VECTOR.slice(0, -1) + '9';
  assert.deepEqual(verifyPublishToken(nonCanonical, subject, 's3cret', t), { ok: false, reason: 'forged' });
  // a forged token reports forged even when its claimed expiry has passed: no oracle for expired-vs-forged
  assert.deepEqual(verifyPublishToken(extended, subject, 's3cret', 1900000000), { ok: false, reason: 'forged' });
});

test('a play token cannot publish and a publish token cannot play', () => {
  assert.deepEqual(verifyPublishToken(PLAY_VECTOR, subject, 's3cret', 1), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyPlayToken(PUBLISH_VECTOR, subject, 's3cret', 1), { ok: false, reason: 'forged' });
});

test('sign refuses bad expiries and empty secrets', () => {
  assert.throws(() => signPublishToken({ ...subject, expSec: -1 }, 's'), RangeError);
  assert.throws(() => signPublishToken({ ...subject, expSec: 1.5 }, 's'), RangeError);
  assert.throws(() => signPublishToken({ ...subject, expSec: 1e13 }, 's'), RangeError);
  assert.throws(() => signPublishToken({ ...subject, expSec: 1 }, ''), RangeError);
});

test('property: sign/verify round-trips and any single-character change is refused', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  fc.assert(
    fc.property(name, name, fc.integer({ min: 1, max: 999_999_999_999 }), fc.string({ minLength: 1 }), fc.nat(), (app, stream, expSec, secret, pos) => {
      const token = signPublishToken({ app, stream, expSec }, secret);
      assert.deepEqual(verifyPublishToken(token, { app, stream }, secret, expSec - 1), { ok: true, expSec });
      const i = pos % token.length;
      const c = token[i] === 'A' ? 'B' : 'A';
      const mutated = token.slice(0, i) + c + token.slice(i + 1);
      assert.equal(verifyPublishToken(mutated, { app, stream }, secret, 0).ok, false);
    }),
  );
});
