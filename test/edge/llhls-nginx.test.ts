// What nginx/edge.conf.template claims for LL-HLS, checked on the real nginx in front of a small in-test
// upstream that holds blocking reloads and streams parts: blocking versions keyed by their directives
// (never the token) and coalesced behind one upstream request; parts coalesced with identical bytes but
// not streamed to the waiters; a hold longer than the cache lock's timeout splits the waiters.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { startNginx } from './nginx.js';
import { Log, M3U8, PLAYLIST, directives, llPlaylist, streamingGet } from './llhls-upstream.js';
import { bytes, get, startFakeUpstream, type FakeUpstream } from './util.js';
import { sleep, waitFor } from '../helpers/wait.js';

async function nginxIn(t: TestContext, up: FakeUpstream): Promise<string> {
  const nginx = await startNginx(`127.0.0.1:${up.port}`, { workers: 1 });
  t.after(async () => {
    await nginx.stop();
    await up.close();
  });
  return nginx.base;
}

test('nginx: viewers blocking on one version share one upstream request; tokens do not split it; no other version answers', async (t) => {
  const log = new Log();
  const held: ServerResponse[] = [];
  const up = await startFakeUpstream((req, res) => {
    log.add(req.url ?? '');
    // As the origin answers a malformed directive (shared/http.ts reply: no-store).
    if (/_HLS_msn=[^0-9]/.test(req.url ?? '')) res.writeHead(400, { 'cache-control': 'no-store' }).end('bad _HLS_msn');
    else if (directives(req.url ?? '') === '') res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=30' }).end(llPlaylist(100, 1));
    else held.push(res);
  });
  const base = await nginxIn(t, up);
  const plain = await get(`${base}${PLAYLIST}`);
  assert.equal(plain.body.toString(), llPlaylist(100, 1));
  const pending = Array.from({ length: 50 }, (_, i) => get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=1&token=v${i}`));
  await waitFor('the blocking request upstream', () => held.length === 1);
  await sleep(1500); // the origin's hold: nobody is answered meanwhile, nor sent upstream
  assert.equal(held.length, 1, log.toString());
  held[0]?.writeHead(200, { ...M3U8, 'cache-control': 'public, max-age=6' }).end(llPlaylist(100, 2));
  for (const r of await Promise.all(pending)) {
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), llPlaylist(100, 2));
  }
  assert.equal((await get(`${base}${PLAYLIST}?token=late&_HLS_part=1&_HLS_msn=100`)).headers['x-cache'], 'HIT');
  assert.equal((await get(`${base}${PLAYLIST}`)).body.toString(), llPlaylist(100, 1), 'the plain reload keeps its own object');
  // A delta update of the same version is another object.
  const delta = get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=1&_HLS_skip=YES`);
  await waitFor('the delta request upstream', () => held.length === 2);
  held[1]?.writeHead(200, { ...M3U8, 'cache-control': 'public, max-age=6' }).end('#EXTM3U\n#delta\n');
  assert.equal((await delta).body.toString(), '#EXTM3U\n#delta\n');
  // Not canonicalised: another spelling of the same version is another object (a Node edge shares it).
  const spelled = get(`${base}${PLAYLIST}?_HLS_msn=0100&_HLS_part=1`);
  await waitFor('the other spelling upstream', () => held.length === 3);
  held[2]?.writeHead(200, { ...M3U8, 'cache-control': 'public, max-age=6' }).end(llPlaylist(100, 2));
  assert.equal((await spelled).status, 200);
  // Every request reached the upstream once, and only playlists: nothing prefetched the listed hint.
  assert.deepEqual([...log.seen.keys()].map(directives), ['', '_HLS_msn=100&_HLS_part=1', '_HLS_msn=100&_HLS_part=1&_HLS_skip=YES', '_HLS_msn=0100&_HLS_part=1']);
  for (const n of log.seen.values()) assert.equal(n, 1, log.toString());
  // Not checked either: a malformed directive goes upstream, and its 400 is not stored.
  for (let i = 0; i < 2; i++) assert.equal((await get(`${base}${PLAYLIST}?_HLS_msn=x`)).status, 400);
  assert.equal(log.count(`${PLAYLIST}?_HLS_msn=x`), 2);
});

test('nginx: simultaneous preload-hint requests make one upstream request and get identical bytes, but waiters get nothing until the part ends', async (t) => {
  const PART = '/live/s/100.2.m4s';
  let res: ServerResponse | undefined;
  const up = await startFakeUpstream((_req, r) => {
    r.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'public, max-age=3600, immutable' });
    res = r;
  });
  const base = await nginxIn(t, up);
  const chunks = [0, 1, 2].map((i) => bytes(20_000, 70 + i));
  const viewers = Array.from({ length: 20 }, () => streamingGet(`${base}${PART}`));
  await waitFor('the part request upstream', () => res !== undefined);
  for (const c of chunks.slice(0, 2)) {
    res?.write(c);
    await sleep(700);
  }
  // Two of three chunks produced 1.4 s ago: at most the request holding the cache lock has seen bytes.
  const early = viewers.filter((v) => v.received() > 0).length;
  assert.ok(early <= 1, `${early} viewers got bytes of an unfinished part`);
  res?.end(chunks[2]);
  const want = Buffer.concat(chunks);
  for (const v of viewers) assert.ok((await v.done).equals(want), 'identical bytes');
  assert.equal(up.count(PART), 1);
});

test('nginx: a hold longer than proxy_cache_lock_timeout sends each waiter upstream on its own', async (t) => {
  const held: ServerResponse[] = [];
  const up = await startFakeUpstream((_req, res) => held.push(res));
  const base = await nginxIn(t, up);
  const pending = Array.from({ length: 4 }, (_, i) => get(`${base}${PLAYLIST}?_HLS_msn=100&token=${i}`));
  await waitFor('one upstream request', () => held.length === 1);
  await sleep(9000);
  assert.equal(held.length, 1, 'still one within the lock timeout (10 s)');
  await waitFor('every waiter upstream', () => held.length === 4, 5000, 50);
  for (const r of held) r.writeHead(200, { ...M3U8, 'cache-control': 'public, max-age=6' }).end(llPlaylist(101, 0));
  for (const r of await Promise.all(pending)) assert.equal(r.status, 200);
});
