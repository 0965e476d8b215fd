import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_SKEW_SEC, SIGNATURE_HEADER, signRequest, signedFetch, verifyRequest } from './signed-request.js';

const KEY = Buffer.from('k'.repeat(32));
const T = 1_700_000_000;
const BODY = '{"a":1}';

// Computed independently:
//   BH=$(printf '{"a":1}' | openssl dgst -sha256 -binary | base64url)
//   printf "POST\n/api/nodes\n1700000000\n$BH" | openssl dgst -sha256 -hmac kkkk…(32) -binary | base64url
const VECTOR = 't=1700000000,s=o-vhBkw06DA-I1CWeXfShgQRmpyLYw1bcKxYadf3GFM';

test('signature matches the reference vector and verifies', () => {
  assert.equal(signRequest(KEY, 'POST', '/api/nodes', BODY, T), VECTOR);
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes', BODY, T), { ok: true });
  // the method is case-insensitive on both sides, as HTTP methods are written upper case anyway
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'post', '/api/nodes', Buffer.from(BODY), T + MAX_SKEW_SEC), { ok: true });
});

test('a wrong key, a changed body, path, query or method are forged', () => {
  const other = Buffer.from('x'.repeat(32));
  assert.deepEqual(verifyRequest(other, VECTOR, 'POST', '/api/nodes', BODY, T), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes', '{"a":2}', T), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes/x/heartbeat', BODY, T), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes?x=1', BODY, T), { ok: false, reason: 'forged' });
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'DELETE', '/api/nodes', BODY, T), { ok: false, reason: 'forged' });
  // the timestamp is signed: moving it into the window forges the mac
  const moved = VECTOR.replace('t=1700000000', `t=${T + 100}`);
  assert.deepEqual(verifyRequest(KEY, moved, 'POST', '/api/nodes', BODY, T + 100), { ok: false, reason: 'forged' });
});

test('a stale or future timestamp is refused; missing and malformed headers are told apart', () => {
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes', BODY, T + MAX_SKEW_SEC + 1), { ok: false, reason: 'stale' });
  assert.deepEqual(verifyRequest(KEY, VECTOR, 'POST', '/api/nodes', BODY, T - MAX_SKEW_SEC - 1), { ok: false, reason: 'stale' });
  assert.deepEqual(verifyRequest(KEY, undefined, 'POST', '/api/nodes', BODY, T), { ok: false, reason: 'missing' });
  for (const bad of ['Bearer x', 't=1,s=short', `t=-1,s=${'a'.repeat(43)}`, `${VECTOR},x=1`, `t=1700000000000000,s=${'a'.repeat(43)}`]) {
    assert.deepEqual(verifyRequest(KEY, bad, 'POST', '/api/nodes', BODY, T), { ok: false, reason: 'malformed' }, bad);
  }
});

test('signedFetch sends what it signs: path with query, exact body bytes, no key material', async () => {
  const seen: Array<{ headers: Record<string, unknown>; body: string; url: string; method: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body, url: req.url ?? '', method: req.method ?? '' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await signedFetch(`${base}/api/nodes/n1/heartbeat?v=2`, { method: 'POST', json: { id: 'n1', x: 'é' }, key: KEY, timeoutMs: 2000 });
    assert.equal(r.status, 200);
    const got = seen[0];
    assert.ok(got);
    const sig = got.headers[SIGNATURE_HEADER] as string;
    assert.deepEqual(verifyRequest(KEY, sig, got.method, got.url, got.body), { ok: true });
    assert.equal(got.headers.authorization, undefined);
    assert.ok(!JSON.stringify(got).includes(KEY.toString('base64url')) && !JSON.stringify(got).includes(KEY.toString()));
    // without a key (an --insecure cluster) nothing is signed
    await signedFetch(`${base}/x`, { method: 'DELETE', key: undefined, timeoutMs: 2000 });
    assert.equal(seen[1]?.headers[SIGNATURE_HEADER], undefined);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
