// The JSON API end to end on a real HTTP port: streams, tokens and hooks, revocation reaching a (fake)
// origin's kick endpoint, nodes, play, validation, auth, metrics, extra handlers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Signal } from '../../src/signal/signal.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { SIGNATURE_HEADER, verifyRequest } from '../../src/shared/signed-request.js';
import { signPublishToken } from '../../src/shared/token.js';
import { TEST_KEYS, admin, edge, load, nodeReq, req } from './util.js';


/** Records the kick requests an origin would receive. */
interface Kick {
  method: string;
  url: string;
  auth: string | undefined;
  signature: string | undefined;
  /** Every header line as received, to look for leaked secrets. */
  raw: string;
}

async function fakeOrigin(): Promise<{ server: Server; url: string; kicks: Kick[] }> {
  const kicks: Kick[] = [];
  const server = createServer((r: IncomingMessage, res) => {
    const sig = r.headers[SIGNATURE_HEADER];
    kicks.push({ method: r.method ?? '', url: r.url ?? '', auth: r.headers.authorization, signature: Array.isArray(sig) ? sig[0] : sig, raw: r.rawHeaders.join('\n') });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, kicks };
}

describe('signal API', () => {
  let signal: Signal;
  let base: string;
  let origin: Awaited<ReturnType<typeof fakeOrigin>>;

  before(async () => {
    origin = await fakeOrigin();
    signal = new Signal({
      apiPort: 0,
      host: '127.0.0.1',
      keys: TEST_KEYS,
      originRtmp: 'rtmp://fallback.test:1935',
      originHttp: origin.url,
      publishTokenTtlMs: 3_600_000,
      // The way the CLI mounts the player pages: a handler that takes /player/ and leaves the rest.
      pages: (req, res) => {
        if (!req.url?.startsWith('/player/')) return false;
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>player</p>');
        return true;
      },
    });
    const { apiPort } = await signal.start();
    base = `http://127.0.0.1:${apiPort}`;
  });

  after(async () => {
    await signal?.stop();
    await new Promise<void>((resolve) => (origin ? origin.server.close(() => resolve()) : resolve()));
  });

  test('POST /api/streams without registered origins uses the configured one; OBS split and ffmpeg line agree', async () => {
    const r = await req(base, 'POST', '/api/streams', { name: 'cam1' }, admin());
    assert.equal(r.status, 201);
    const b = r.body as { id: string; pushUrl: string; token: string; expiresAt: number; obs: { server: string; streamKey: string }; ffmpeg: string };
    assert.equal(b.id, 'live.cam1');
    assert.match(b.token, /^\d+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(b.pushUrl, `rtmp://fallback.test:1935/live/cam1?token=${b.token}`);
    assert.equal(`${b.obs.server}/${b.obs.streamKey}`, b.pushUrl);
    assert.equal(b.obs.streamKey, `cam1?token=${b.token}`);
    assert.ok(b.ffmpeg.includes(`-f flv '${b.pushUrl}'`));
    const nowS = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(b.expiresAt - (nowS + 3600)) <= 2, `expiresAt ${b.expiresAt}`);

    // a random name when none is given, valid by the URL contract
    const r2 = await req(base, 'POST', '/api/streams', { app: 'game' }, admin());
    assert.equal(r2.status, 201);
    assert.match(String(r2.body.stream), /^[A-Za-z0-9_-]{12}$/);
    assert.equal(r2.body.app, 'game');
  });

  test('push URLs go to the least-loaded registered origin', async () => {
    const o = (id: string, capacity: number) => ({ id, kind: 'origin', region: 'eu', publicUrl: `http://${id}.test:8080`, rtmpUrl: `rtmp://${id}.test:1935`, capacity });
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', o('origin-a', 10))).status, 201);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', o('origin-b', 10))).status, 201);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/origin-a/heartbeat', { id: 'origin-a', load: load(0, [], 5) })).status, 204);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/origin-b/heartbeat', { id: 'origin-b', load: load(0, [], 2) })).status, 204);
    const r = await req(base, 'POST', '/api/streams', { name: 'placed' }, admin());
    assert.equal(r.status, 201);
    assert.match(String(r.body.pushUrl), /^rtmp:\/\/origin-b\.test:1935\/live\/placed\?token=/);
    assert.deepEqual(r.body.origin, { id: 'origin-b', kind: 'origin', region: 'eu' });
    // origin-b takes new publishers until it is as loaded as origin-a (counted between heartbeats)
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(String((await req(base, 'POST', '/api/streams', {}, admin())).body.pushUrl).split('/')[2]);
    assert.deepEqual(seen, ['origin-b.test:1935', 'origin-b.test:1935', 'origin-a.test:1935', 'origin-b.test:1935']);
    // all origins full: 503, not the fallback (registered origins win over the configured one)
    await nodeReq(base, 'POST', '/api/nodes/origin-a/heartbeat', { load: load(0, [], 10) });
    await nodeReq(base, 'POST', '/api/nodes/origin-b/heartbeat', { load: load(0, [], 10) });
    const full = await req(base, 'POST', '/api/streams', {}, admin());
    assert.equal(full.status, 503);
    assert.equal(full.body.error, 'no_capacity');
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/origin-a')).status, 204);
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/origin-b')).status, 204);
    assert.match(String((await req(base, 'POST', '/api/streams', {}, admin())).body.pushUrl), /^rtmp:\/\/fallback\.test:1935\//);
  });

  test('on_publish allows a valid token and refuses missing, malformed, expired and forged ones', async () => {
    const created = await req(base, 'POST', '/api/streams', { name: 'hooked' }, admin());
    const token = String(created.body.token);
    const hook = (query: Record<string, string>, stream = 'hooked') =>
      req(base, 'POST', '/api/hooks/on_publish', { action: 'publish', app: 'live', stream, query, remoteAddress: '10.1.2.3', clientId: 'c1' });
    assert.equal((await hook({ token })).status, 200);
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'missing'],
      [{ token: 'nonsense' }, 'malformed'],
      [{ token: signPublishToken({ app: 'live', stream: 'hooked', expSec: 1000 }, TEST_KEYS.publish) }, 'expired'],
      [{ token: signPublishToken({ app: 'live', stream: 'hooked', expSec: 9_999_999_999 }, Buffer.from('another-key-of-32-bytes-00000000')) }, 'forged'],
    ];
    for (const [query, code] of cases) {
      const r = await hook(query);
      assert.equal(r.status, 403, code);
      assert.equal(r.body.error, code);
      assert.equal(typeof r.body.message, 'string');
    }
    // a token for another stream is forged for this one
    const other = await hook({ token }, 'other');
    assert.equal(other.body.error, 'forged');
    const bad = await req(base, 'POST', '/api/hooks/on_publish', { app: '../etc', stream: 'x', query: {} });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'bad_request');
  });

  test('hooks record liveness; heartbeats give viewers and codecs', async () => {
    const created = await req(base, 'POST', '/api/streams', { name: 'lively' }, admin());
    let s = await req(base, 'GET', '/api/streams/live.lively');
    assert.equal(s.status, 200);
    assert.equal(s.body.live, false);
    await req(base, 'POST', '/api/hooks/on_publish', { action: 'publish', app: 'live', stream: 'lively', query: { token: String(created.body.token) }, remoteAddress: '1.2.3.4', clientId: 'pub1' });
    s = await req(base, 'GET', '/api/streams/live.lively');
    assert.equal(s.body.live, true);
    assert.equal((s.body.publisher as { clientId: string }).clientId, 'pub1');

    assert.equal((await nodeReq(base, 'POST', '/api/nodes', edge('edge-v', 'eu'))).status, 201);
    const hls = { format: 'fmp4', partTargetS: 0.2, codecs: 'avc1.64001f,mp4a.40.2' };
    const stats = { ...load(7, ['live/lively']), streamStats: [{ stream: 'live/lively', viewers: 7, video: 'h264', audio: 'aac', bitrateBps: 2_600_000, hls }] };
    const badHls = { ...stats, streamStats: [{ ...stats.streamStats[0], hls: { ...hls, format: 'mkv' } }] };
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-v/heartbeat', { id: 'edge-v', load: badHls })).status, 400);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-v/heartbeat', { id: 'edge-v', load: stats })).status, 204);
    s = await req(base, 'GET', '/api/streams/live.lively');
    assert.equal(s.body.viewers, 7);
    assert.deepEqual(s.body.codecs, { video: 'h264', audio: 'aac' });
    assert.deepEqual(s.body.hls, hls, "the origin's HLS mode travels with the heartbeat");
    assert.deepEqual(s.body.nodes, ['edge-v']);
    const list = await req(base, 'GET', '/api/streams');
    assert.ok((list.body.streams as Array<{ id: string }>).some((x) => x.id === 'live.lively'));

    // a player's done (the origin's {action:'done', role:'play'}) does not end the stream
    await req(base, 'POST', '/api/hooks/on_done', { action: 'done', role: 'play', app: 'live', stream: 'lively', clientId: 'viewer' });
    assert.equal((await req(base, 'GET', '/api/streams/live.lively')).body.live, true);
    // a done from another client id (a replaced publisher) does not end the stream; the right one does
    await req(base, 'POST', '/api/hooks/on_done', { action: 'publish_done', app: 'live', stream: 'lively', clientId: 'old' });
    assert.equal((await req(base, 'GET', '/api/streams/live.lively')).body.live, true);
    assert.equal((await req(base, 'POST', '/api/hooks/on_done', { action: 'publish_done', app: 'live', stream: 'lively', clientId: 'pub1' })).status, 200);
    assert.equal((await req(base, 'GET', '/api/streams/live.lively')).body.live, false);
    assert.equal((await req(base, 'GET', '/api/streams/live.nothing')).status, 404);
    assert.equal((await req(base, 'GET', '/api/streams/bad..id')).status, 400);
    await nodeReq(base, 'DELETE', '/api/nodes/edge-v');
  });

  test('DELETE /api/streams/:id revokes: the origin is told to kick, the token is refused, a new one works', async () => {
    const created = await req(base, 'POST', '/api/streams', { name: 'doomed' }, admin());
    const token = String(created.body.token);
    const publish = (t: string) => req(base, 'POST', '/api/hooks/on_publish', { action: 'publish', app: 'live', stream: 'doomed', query: { token: t }, remoteAddress: '1.2.3.4', clientId: 'x' });
    assert.equal((await publish(token)).status, 200);
    origin.kicks.length = 0;
    const del = await req(base, 'DELETE', '/api/streams/live.doomed', undefined, admin());
    assert.equal(del.status, 200);
    assert.equal(del.body.revoked, true);
    // a DELETE signed with the node key, for that path only: no bearer, no secret on the wire
    assert.deepEqual(origin.kicks.map((k) => [k.method, k.url, k.auth]), [['DELETE', '/api/streams/live/doomed', undefined]]);
    assert.deepEqual(verifyRequest(TEST_KEYS.node, origin.kicks[0]?.signature, 'DELETE', '/api/streams/live/doomed'), { ok: true });
    assert.deepEqual(del.body.kicked, [{ url: `${origin.url}/api/streams/live/doomed`, status: 204 }]);
    const refused = await publish(token);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'revoked');
    assert.equal((await req(base, 'GET', '/api/streams/live.doomed')).status, 404);
    // the name can be used again with a fresh token; the old one stays refused
    const again = await req(base, 'POST', '/api/streams', { name: 'doomed' }, admin());
    assert.ok(Number(again.body.expiresAt) > Number(del.body.untilExp));
    assert.equal((await publish(String(again.body.token))).status, 200);
    assert.equal((await publish(token)).status, 403);
  });

  test('nodes: register, heartbeat, unknown node 404, delete, list; validation', async () => {
    assert.deepEqual((await nodeReq(base, 'POST', '/api/nodes', edge('edge-n1', 'eu'))).body, { id: 'edge-n1' });
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-n1/heartbeat', { id: 'edge-n1', load: load(3, ['live/x']) })).status, 204);
    const list = await req(base, 'GET', '/api/nodes');
    const n1 = (list.body.nodes as Array<{ id: string; load: { viewers: number }; lastSeen: number; publicUrl: string }>).find((n) => n.id === 'edge-n1');
    assert.ok(n1);
    assert.equal(n1.load.viewers, 3);
    assert.equal(n1.publicUrl, 'http://edge-n1.test:8080');
    assert.ok(Math.abs(n1.lastSeen - Date.now()) < 5000);
    const unknown = await nodeReq(base, 'POST', '/api/nodes/nobody/heartbeat', { id: 'nobody', load: load(0) });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'unknown_node');
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-n1/heartbeat', { id: 'other', load: load(0) })).status, 400);
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/edge-n1')).status, 204);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-n1/heartbeat', { id: 'edge-n1', load: load(0) })).status, 404);
    for (const bad of [
      { ...edge('e', 'eu'), kind: 'proxy' },
      { ...edge('e', 'eu'), publicUrl: 'ftp://x' },
      { ...edge('e', 'eu'), capacity: -1 },
      { ...edge('e', 'eu'), region: 'e u' },
      { ...edge('e/../x', 'eu') },
    ]) {
      const r = await nodeReq(base, 'POST', '/api/nodes', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error, 'bad_request');
    }
  });

  test('play: the chosen edge of the asked region, fallbacks, then the origin', async () => {
    await nodeReq(base, 'POST', '/api/nodes', edge('edge-p1', 'ap'));
    await nodeReq(base, 'POST', '/api/nodes', edge('edge-p2', 'ap'));
    const r = await req(base, 'GET', '/api/play/live/cam1?region=ap');
    assert.equal(r.status, 200);
    assert.equal(r.body.via, 'edge');
    assert.equal(r.body.servedRegion, 'ap');
    const node = r.body.node as { id: string };
    assert.ok(['edge-p1', 'edge-p2'].includes(node.id));
    assert.equal(r.body.flv, `http://${node.id}.test:8080/live/cam1.flv`);
    assert.equal(r.body.hls, `http://${node.id}.test:8080/live/cam1.m3u8`);
    const fb = r.body.fallbacks as Array<{ id: string; flv: string }>;
    assert.deepEqual(fb.map((f) => f.id), [node.id === 'edge-p1' ? 'edge-p2' : 'edge-p1', 'origin']);
    assert.equal(fb[1]?.flv, `${origin.url}/live/cam1.flv`);
    // a region without edges and no graph: the origin
    const none = await req(base, 'GET', '/api/play/live/cam1?region=sa');
    assert.equal(none.body.via, 'origin');
    assert.equal(none.body.flv, `${origin.url}/live/cam1.flv`);
    assert.equal((await req(base, 'GET', '/api/play/live/bad.name')).status, 400);
    assert.equal((await req(base, 'GET', '/api/play/live/cam1?region=a%20b')).status, 400);
    await nodeReq(base, 'DELETE', '/api/nodes/edge-p1');
    await nodeReq(base, 'DELETE', '/api/nodes/edge-p2');
  });

  test('bad input: JSON errors, body limits, unknown routes, nginx-rtmp form hooks', async () => {
    const badJson = await req(base, 'POST', '/api/streams', '{"name":', admin());
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error, 'bad_json');
    const big = await req(base, 'POST', '/api/streams', JSON.stringify({ name: 'x'.repeat(20_000) }), admin());
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'too_large');
    const extra = await req(base, 'POST', '/api/streams', { name: 'ok', admin: true }, admin());
    assert.equal(extra.status, 400);
    const nf = await req(base, 'GET', '/api/nothing/here');
    assert.equal(nf.status, 404);
    assert.deepEqual(Object.keys(nf.body).sort(), ['error', 'message']);
    const created = await req(base, 'POST', '/api/streams', { name: 'formy' }, admin());
    const form = new URLSearchParams({ call: 'publish', app: 'live', name: 'formy', addr: '1.2.3.4', clientid: '9', token: String(created.body.token) });
    const res = await fetch(`${base}/api/hooks/on_publish`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    form.set('token', 'forged');
    assert.equal((await fetch(`${base}/api/hooks/on_publish`, { method: 'POST', body: form })).status, 403);
  });

  test('metrics and extra handlers', async () => {
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    const text = await m.text();
    assert.match(text, /livecdn_signal_http_requests_total\{route="\/api\/streams",method="POST",status="201"\} \d+/);
    assert.match(text, /livecdn_signal_hooks_total\{hook="on_publish",result="forged"\} [1-9]/);
    assert.match(text, /livecdn_signal_placements_total\{result="origin"\} [1-9]/);
    const p = await fetch(`${base}/player/`);
    assert.equal(p.status, 200);
    assert.equal(await p.text(), '<p>player</p>');
  });
});

describe('signal API: closed by default', () => {
  let signal: Signal;
  let base: string;
  let origin: Awaited<ReturnType<typeof fakeOrigin>>;
  const ROOT = 'signal-tests-root-secret-0123456789abcdef';
  before(async () => {
    origin = await fakeOrigin();
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, originRtmp: 'rtmp://o:1935', originHttp: origin.url });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
  });
  after(async () => {
    await signal?.stop();
    await new Promise<void>((resolve) => (origin ? origin.server.close(() => resolve()) : resolve()));
  });

  test('without keys the signal refuses to start unless insecure', () => {
    assert.throws(() => new Signal({ apiPort: 0 }), /secret is required/);
    assert.throws(() => new Signal({ apiPort: 0, insecure: true, playTokens: true }), /play tokens need a secret/);
    assert.doesNotThrow(() => new Signal({ apiPort: 0, insecure: true }));
  });

  test('write routes need the admin bearer; reads and hooks do not', async () => {
    const denied = await req(base, 'POST', '/api/streams', {});
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error, 'unauthorized');
    assert.equal((await req(base, 'POST', '/api/streams', {}, { authorization: 'Bearer wrong' })).status, 401);
    // another cluster's admin token, and the root secret itself, are not the admin token
    assert.equal((await req(base, 'POST', '/api/streams', {}, admin(deriveKeys('another-cluster-root-secret-0123456789')))).status, 401);
    assert.equal((await req(base, 'POST', '/api/streams', {}, { authorization: `Bearer ${ROOT}` })).status, 401);
    assert.equal((await req(base, 'DELETE', '/api/streams/live.x')).status, 401);
    assert.equal((await req(base, 'DELETE', '/api/nodes/any')).status, 401);
    const ok = await req(base, 'POST', '/api/streams', { name: 'authd' }, admin());
    assert.equal(ok.status, 201);
    assert.equal((await req(base, 'GET', '/api/streams/live.authd')).status, 200);
    assert.equal((await req(base, 'POST', '/api/hooks/on_publish', { app: 'live', stream: 'authd', query: { token: String(ok.body.token) } })).status, 200);
  });

  test('node routes need a request signed with the node key: wrong key, stale, changed body or path are refused', async () => {
    const reg = edge('edge-auth', 'eu');
    // anonymous, an admin bearer (operators do not register nodes), another cluster's node key
    assert.equal((await req(base, 'POST', '/api/nodes', reg)).status, 401);
    assert.equal((await req(base, 'POST', '/api/nodes', reg, admin())).status, 401);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', reg, deriveKeys('another-cluster-root-secret-0123456789'))).status, 401);
    const text = JSON.stringify(reg);
    const send = (path: string, body: string, sig: string) => req(base, 'POST', path, body, { [SIGNATURE_HEADER]: sig });
    const { signRequest } = await import('../../src/shared/signed-request.js');
    const stale = signRequest(TEST_KEYS.node, 'POST', '/api/nodes', text, Math.floor(Date.now() / 1000) - 120);
    assert.equal((await send('/api/nodes', text, stale)).status, 401);
    const good = signRequest(TEST_KEYS.node, 'POST', '/api/nodes', text);
    assert.equal((await send('/api/nodes', JSON.stringify({ ...reg, publicUrl: 'http://evil.test' }), good)).status, 401);
    assert.equal((await send('/api/nodes/edge-auth/heartbeat', text, good)).status, 401);
    assert.equal((await send('/api/nodes', text, good)).status, 201);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-auth/heartbeat', { load: load(1) })).status, 204);
    assert.equal((await req(base, 'POST', '/api/nodes/edge-auth/heartbeat', { load: load(1) })).status, 401);
    // an operator may delete a node with the admin bearer; the node itself with a signed DELETE
    assert.equal((await req(base, 'DELETE', '/api/nodes/edge-auth', undefined, admin())).status, 204);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', reg)).status, 201);
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/edge-auth')).status, 204);
  });

  test('a live node id cannot be taken over with another URL (409) until it is deleted', async () => {
    const reg = { id: 'origin-t', kind: 'origin', region: 'eu', publicUrl: 'http://origin-t.test:8080', rtmpUrl: 'rtmp://origin-t.test:1935', capacity: 10 };
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', reg)).status, 201);
    // the same registration again (a restart) is fine
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', reg)).status, 201);
    for (const change of [{ publicUrl: 'http://evil.test:8080' }, { rtmpUrl: 'rtmp://evil.test:1935' }, { kind: 'edge' }]) {
      const r = await nodeReq(base, 'POST', '/api/nodes', { ...reg, ...change });
      assert.equal(r.status, 409, JSON.stringify(change));
      assert.equal(r.body.error, 'node_id_taken');
    }
    const nodes = (await req(base, 'GET', '/api/nodes')).body.nodes as Array<{ id: string; publicUrl: string }>;
    assert.equal(nodes.find((n) => n.id === 'origin-t')?.publicUrl, reg.publicUrl);
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/origin-t')).status, 204);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', { ...reg, publicUrl: 'http://moved.test:8080' })).status, 201);
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/origin-t')).status, 204);
  });

  test('kicks are signed and go only to registered origins and --origin-http: no secret or admin token on the wire', async () => {
    origin.kicks.length = 0;
    // a registered origin (signed registration) is kicked too; it is the same fake origin under another id
    await nodeReq(base, 'POST', '/api/nodes', { id: 'origin-k', kind: 'origin', region: 'eu', publicUrl: `${origin.url}/`, rtmpUrl: 'rtmp://k:1935', capacity: 10 });
    // an anonymous registration of an attacker's origin is refused, so it is never kicked
    assert.equal((await req(base, 'POST', '/api/nodes', { id: 'evil', kind: 'origin', region: 'eu', publicUrl: 'http://127.0.0.1:9', capacity: 10 })).status, 401);
    const del = await req(base, 'DELETE', '/api/streams/live.kicked', undefined, admin());
    assert.equal(del.status, 200);
    assert.deepEqual((del.body.kicked as Array<{ url: string }>).map((k) => k.url), [`${origin.url}/api/streams/live/kicked`]);
    assert.equal(origin.kicks.length, 1);
    for (const k of origin.kicks) {
      assert.equal(k.auth, undefined);
      assert.deepEqual(verifyRequest(TEST_KEYS.node, k.signature, 'DELETE', k.url), { ok: true });
      for (const secret of [ROOT, adminToken(TEST_KEYS), ...Object.values(TEST_KEYS).map((b: Buffer) => b.toString('base64url')), ...Object.values(TEST_KEYS).map((b: Buffer) => b.toString('hex'))]) {
        assert.ok(!k.raw.includes(secret), 'no secret or key in the kick');
      }
    }
    await nodeReq(base, 'DELETE', '/api/nodes/origin-k');
  });

  test('heartbeats list at most 5000 streams; publishers\' addresses are shown to admin callers only', async () => {
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', edge('edge-big', 'eu'))).status, 201);
    const many = Array.from({ length: 5001 }, (_, i) => `live/s${i}`);
    const r = await nodeReq(base, 'POST', '/api/nodes/edge-big/heartbeat', { load: load(0, many) });
    assert.equal(r.status, 400);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/edge-big/heartbeat', { load: load(0, many.slice(0, 5000)) })).status, 204);
    await nodeReq(base, 'DELETE', '/api/nodes/edge-big');

    // GET /api/streams in linear time: an origin and ten edges each listing 5000 streams (the old per-stream
    // per-node scan was 5000 x 5000 x 11 string comparisons)
    const ids = ['origin-many', ...Array.from({ length: 10 }, (_, i) => `edge-many-${i}`)];
    for (const id of ids) {
      const reg = id.startsWith('origin') ? { id, kind: 'origin', region: 'eu', publicUrl: `http://${id}.test`, rtmpUrl: `rtmp://${id}.test`, capacity: 10 } : edge(id, 'eu');
      assert.equal((await nodeReq(base, 'POST', '/api/nodes', reg)).status, 201);
      const stats = many.slice(0, 5000).map((stream) => ({ stream, viewers: 1 }));
      assert.equal((await nodeReq(base, 'POST', `/api/nodes/${id}/heartbeat`, { load: { ...load(0, many.slice(0, 5000)), streamStats: stats } })).status, 204);
    }
    const t0 = performance.now();
    const all = await req(base, 'GET', '/api/streams');
    const ms = performance.now() - t0;
    assert.ok((all.body.streams as unknown[]).length >= 5000);
    const s0 = (all.body.streams as Array<{ id: string; viewers: number; nodes: string[] }>).find((x) => x.id === 'live.s0');
    assert.equal(s0?.viewers, 11);
    assert.equal(s0?.nodes.length, 11);
    assert.ok(ms < 3000, `GET /api/streams took ${ms.toFixed(0)} ms`);
    console.log(`# GET /api/streams, 11 nodes x 5000 streams: ${ms.toFixed(0)} ms`);
    for (const id of ids) await nodeReq(base, 'DELETE', `/api/nodes/${id}`);

    const created = await req(base, 'POST', '/api/streams', { name: 'addr' }, admin());
    await req(base, 'POST', '/api/hooks/on_publish', { app: 'live', stream: 'addr', query: { token: String(created.body.token) }, remoteAddress: '198.51.100.7', clientId: 'p' });
    const anon = JSON.stringify((await req(base, 'GET', '/api/streams')).body) + JSON.stringify((await req(base, 'GET', '/api/streams/live.addr')).body);
    assert.ok(!anon.includes('198.51.100.7'), anon);
    assert.match(anon, /"clientId":"p"/);
    const withAdmin = await req(base, 'GET', '/api/streams/live.addr', undefined, admin());
    assert.equal((withAdmin.body.publisher as { remoteAddress: string }).remoteAddress, '198.51.100.7');
    const list = (await req(base, 'GET', '/api/streams', undefined, admin())).body.streams as Array<{ id: string; publisher: { remoteAddress?: string } | null }>;
    assert.equal(list.find((x) => x.id === 'live.addr')?.publisher?.remoteAddress, '198.51.100.7');
  });
});
