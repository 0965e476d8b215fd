// LL-HLS requests a client controls are bounded: held requests are capped per stream and in all (the
// rest get 503 at once, so a flood costs no memory), a client that leaves gives its slot back, a held
// request ends after the hold time (503, never a stale playlist) or with the stream (its final
// playlist), and play tokens hold on every object route and every URI a playlist lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { MediaPlaylist } from '../../src/media/hls/playlist.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken } from '../../src/shared/token.js';
import { withPlayTokens } from '../../src/hub/play-auth.js';
import { startOrigin } from '../helpers/origin.js';
import { manualPublisher } from '../helpers/manual-publisher.js';
import { fetchText } from '../helpers/http.js';
import { checkMediaPlaylist } from '../helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { segmentUrl } from '../helpers/hls.js';
import { waitFor } from '../helpers/wait.js';

const lastMsn = (p: MediaPlaylist): number => p.mediaSequence + p.segments.length - 1;

async function current(url: string): Promise<MediaPlaylist> {
  const r = await fetchText(url);
  assert.equal(r.status, 200, r.text);
  return parseMediaPlaylist(r.text);
}

test('held requests are capped per stream and in all; the rest get 503 at once; leavers give their slot back', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsGraceMs: 0, playWaitMs: 0, hlsMaxHeldPerStream: 40, hlsMaxHeld: 60 }, t);
  const a = await manualPublisher(o.origin.hub, 'live', 'a');
  const b = await manualPublisher(o.origin.hub, 'live', 'b');
  a.advance(4);
  b.advance(4);
  const urlA = o.hlsUrl('live', 'a');
  const urlB = o.hlsUrl('live', 'b');
  const pa = await current(urlA);
  const textA = await (await fetch(urlA)).text();
  assert.deepEqual(checkMediaPlaylist(textA), [], textA);
  assert.deepEqual(crossCheckPlaylist(textA), [], textA);
  const next = lastMsn(pa) + 1;

  const flood = Array.from({ length: 150 }, () => fetchText(`${urlA}?_HLS_msn=${next}`, {}, 10_000));
  await waitFor('40 requests held on stream a', () => o.origin.hls.held === 40 || undefined);
  const onB = Array.from({ length: 30 }, () => fetchText(`${urlB}?_HLS_msn=${lastMsn(pa) + 1}`, {}, 10_000));
  await waitFor('the global cap reached through stream b', () => o.origin.hls.held === 60 || undefined);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(o.origin.hls.held, 60, 'no request is held past the caps');
  assert.match(await (await fetch(`${o.httpBase}/metrics`)).text(), /^livecdn_hls_held_requests 60$/m);

  a.advance(1.2);
  b.advance(1.2);
  const answers = [...(await Promise.all(flood)), ...(await Promise.all(onB))];
  const ok = answers.filter((r) => r.status === 200);
  const refused = answers.filter((r) => r.status === 503);
  assert.equal(ok.length, 60);
  assert.equal(refused.length, 120);
  for (const r of refused) {
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
  for (const r of ok) assert.ok(lastMsn(parseMediaPlaylist(r.text)) >= next, 'a held answer lists what it waited for');
  assert.equal(o.origin.hls.held, 0);

  // Clients that give up (blocking reloads and a preload-hinted part) free their slots at once.
  const p = await current(urlA);
  const aborts = Array.from({ length: 30 }, () => new AbortController());
  const leaving = aborts.map((c, i) =>
    fetch(i % 3 === 0 && p.preloadHint ? segmentUrl(urlA, p.preloadHint.uri) : `${urlA}?_HLS_msn=${lastMsn(p) + 2}`, { signal: c.signal }).catch(() => undefined),
  );
  await waitFor('30 requests held', () => o.origin.hls.held === 30 || undefined);
  for (const c of aborts) c.abort();
  await Promise.all(leaving);
  await waitFor('every slot given back', () => o.origin.hls.held === 0 || undefined);
  a.end();
  b.end();
});

test('a held request ends after 3 target durations (503) or with the stream (its final playlist)', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsGraceMs: 0, playWaitMs: 0 }, t);
  const pub = await manualPublisher(o.origin.hub, 'live', 's');
  pub.advance(4);
  const url = o.hlsUrl('live', 's');
  const p = await current(url);
  const hint = p.preloadHint?.uri;
  assert.ok(hint);

  // The stream stalls: nothing satisfies these. The hinted part is open (its first fragments streamed)
  // or not yet: cut, or 503, after the hold time either way.
  const open = o.origin.hls.playlist('live', 's')?.parts.openPosition;
  const hintOpen = open !== undefined && hint.endsWith(`/${open.sequence}.${open.index}.m4s`);
  const t0 = performance.now();
  const timed = <T>(x: Promise<T>): Promise<number> => x.then(() => performance.now() - t0, () => performance.now() - t0);
  const blocking = fetchText(`${url}?_HLS_msn=${lastMsn(p) + 1}`, {}, 10_000);
  const hinted = fetchText(segmentUrl(url, hint), {}, 10_000);
  const [blockedMs, hintedMs] = await Promise.all([timed(blocking), timed(hinted)]);
  const blocked = await blocking;
  assert.equal(blocked.status, 503);
  assert.equal(blocked.headers.get('cache-control'), 'no-store', 'a timeout is never cached');
  assert.equal(await hinted.then((r) => r.status, () => 'cut'), hintOpen ? 'cut' : 503);
  for (const waited of [blockedMs, hintedMs]) assert.ok(waited > 2500 && waited < 6000, `held ${waited.toFixed(0)} ms for a 1 s target`);
  await waitFor('the slots given back', () => o.origin.hls.held === 0 || undefined, 2000);

  // The stream ends while requests are held: they get the final playlist, and the hint is gone.
  const pending = fetchText(`${url}?_HLS_msn=${lastMsn(p) + 2}`, {}, 10_000);
  await waitFor('the request held', () => o.origin.hls.held === 1 || undefined);
  pub.end();
  const final = await pending;
  assert.equal(final.status, 200);
  assert.match(final.text, /#EXT-X-ENDLIST\n/);
  assert.deepEqual(crossCheckPlaylist(final.text), [], final.text);
  assert.doesNotMatch(final.text, /PRELOAD-HINT/);
  assert.equal((await fetchText(segmentUrl(url, hint.replace(/\.\d+\.m4s$/, '.9.m4s')))).status, 404);
});

test('play tokens: every URI of an LL-HLS playlist carries the token; every object route checks it', async (t) => {
  const keys = deriveKeys('origin-llhls-token-test-root-secret-32+');
  const o = await startOrigin({ keys, playTokens: true, hlsSegmentMs: 1000, hlsPartMs: 200, playWaitMs: 0 }, t);
  const pub = await manualPublisher(o.origin.hub, 'live', 'tok');
  pub.advance(4);
  t.after(() => pub.end());
  const token = signPlayToken({ app: 'live', stream: 'tok', expSec: Math.floor(Date.now() / 1000) + 3600 }, keys.play);
  const url = o.hlsUrl('live', 'tok');
  const r = await fetchText(`${url}?token=${token}`);
  assert.equal(r.status, 200);
  const uris = [...r.text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1] as string);
  const lines = r.text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(/EXT-X-MAP:URI=/.test(r.text) && /EXT-X-PART:.*URI=/.test(r.text) && /EXT-X-PRELOAD-HINT:.*URI=/.test(r.text), r.text);
  for (const u of [...uris, ...lines]) assert.ok(u.endsWith(`?token=${token}`), `${u} carries the token`);
  // Each kind of object: refused without the token, served with it (the hint streams once it completes).
  const p = parseMediaPlaylist(r.text);
  const kinds = [uris.find((u) => u.includes('/init-')), lines.at(-1), p.segments.at(-1)?.parts?.[0]?.uri, p.preloadHint?.uri];
  for (const u of kinds) {
    assert.ok(u);
    const bare = segmentUrl(url, u.replace(/\?.*$/, ''));
    assert.equal((await fetchText(bare)).status, 403, `${bare} without a token`);
  }
  const served = kinds.slice(0, 3).map((u) => fetchText(segmentUrl(url, u as string)));
  const hinted = fetchText(segmentUrl(url, p.preloadHint?.uri as string), {}, 10_000);
  pub.advance(1);
  for (const x of [...(await Promise.all(served)), await hinted]) assert.equal(x.status, 200);
  assert.equal((await fetchText(`${url}?_HLS_msn=${lastMsn(p) + 1}`)).status, 403, 'a blocking reload is checked before it is held');
  assert.equal(o.origin.hls.held, 0);
  // Rendition reports (only hints of where a sibling is: no token of their own) carry it too.
  const report = '#EXTM3U\n#EXT-X-RENDITION-REPORT:URI="../720p.m3u8",LAST-MSN=7,LAST-PART=2\n';
  assert.match(withPlayTokens(report, { app: 'live', stream: 'tok', token, key: keys.play }), new RegExp(`URI="../720p.m3u8\\?token=${token}",LAST-MSN=7`));
});
