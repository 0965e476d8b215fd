// LL-HLS through one edge in front of a real origin (--hls-part 0.2, 1 s segments, a 12-segment window
// so that delta updates skip some, FFmpeg publishing),
// counted at the origin by a proxy between the two: 100 clients doing what hls.js does in lowLatencyMode
// (blocking reloads for the next part, then fetching each part as it is listed) cost the origin exactly
// one request per part and per blocking playlist version; 100 simultaneous preload-hint requests cost
// one, and all get the part's bytes. Every playlist the edge serves passes the conformance checker.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { parseMediaPlaylist, type MediaPlaylist } from '../../src/media/hls/playlist.js';
import { LLHLS_PARAMS } from '../../src/shared/url-contract.js';
import { waitListening } from '../helpers/cli-process.js';
import { checkBlocking, checkMediaPlaylist, checkReloadPair, fetchKeyframeOracle } from '../helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { startCountingProxy, type CountingProxy } from './proxy.js';
import { get, startCliEdge } from './util.js';

const PLAYLIST = '/live/ll.m3u8';

interface Setup {
  readonly edgeBase: string;
  readonly originBase: string;
  readonly proxy: CountingProxy;
}

/** An origin with `minSegments` segments listed, the counting proxy and one edge in front. */
async function setup(t: TestContext, minSegments: number): Promise<Setup> {
  const origin = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsWindow: 12 }, t);
  const publisher = publishTestStream(origin.rtmpUrl('live', 'll'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => publisher.stop());
  const proxy = await startCountingProxy(origin.httpBase);
  t.after(() => proxy.kill());
  // The edge in a process of its own, as deployed: the 100 clients here do not share its event loop.
  const edge = await startCliEdge(['--upstream', proxy.url]);
  t.after(() => edge.stop());
  await waitFor(
    `an LL-HLS playlist with ${minSegments} segments at the origin`,
    async () => {
      const r = await get(origin.hlsUrl('live', 'll'));
      return r.status === 200 && /#EXT-X-PRELOAD-HINT/.test(r.body.toString()) && parseMediaPlaylist(r.body.toString()).segments.length >= minSegments;
    },
    20_000,
    200,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\nffmpeg: ${publisher.log()}`);
  });
  await waitListening(edge, `${edge.base}/healthz`);
  return { edgeBase: edge.base, originBase: origin.httpBase, proxy };
}

/** The last complete MSN and the next part the server has not listed yet. */
function next(p: MediaPlaylist): { msn: number; part: number } {
  const lastMsn = p.mediaSequence + (p.skippedSegments ?? 0) + p.segments.length - 1;
  return { msn: lastMsn + 1, part: p.trailingParts?.length ?? 0 };
}

const partsOf = (p: MediaPlaylist): string[] => [...p.segments.flatMap((s) => (s.parts ?? []).map((x) => x.uri)), ...(p.trailingParts ?? []).map((x) => x.uri)];

interface ClientResult {
  readonly errors: string[];
  /** Blocking reload answers, in order (delta updates for a client that asks for them). */
  readonly playlists: string[];
  /** Part URI -> sha1 of the bytes received. */
  readonly parts: Map<string, string>;
  /** Parts the client asked for too late (no longer listed at the origin: a client slowed by a busy machine). */
  readonly late: Set<string>;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** A GET on a kept-alive connection, as a browser makes it. */
function fetchBody(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: keepAlive }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * hls.js in lowLatencyMode, reduced to its requests: a plain load, the init segment, then `reloads`
 * times (or until `deadline`) a blocking reload for the next part and a GET of each part it newly lists. `skip` asks for delta
 * updates (_HLS_skip=YES), as hls.js does when the playlist offers them. A part that 404s is an error
 * unless the origin no longer lists it (`originPlaylist`, asked directly): then the client fell behind
 * the parts window and starts over at the live edge, as a player would.
 */
async function llClient(base: string, originPlaylist: string, id: number, reloads: number, deadline: number, skip: boolean): Promise<ClientResult> {
  const errors: string[] = [];
  const playlists: string[] = [];
  const parts = new Map<string, string>();
  const late = new Set<string>();
  const url = (q: string): string => `${base}${PLAYLIST}?${q}&client=${id}`;
  const plainLoad = async (): Promise<MediaPlaylist | undefined> => {
    const r = await fetchBody(url('start=1'));
    if (r.status !== 200) errors.push(`plain load: ${r.status}`);
    return r.status === 200 ? parseMediaPlaylist(r.body.toString()) : undefined;
  };
  let p = await plainLoad();
  if (!p) return { errors, playlists, parts, late };
  const map = p.segments.map((s) => s.map).filter((m) => m !== undefined).at(-1);
  if (map !== undefined && (await fetchBody(new URL(map, base + PLAYLIST).toString())).status !== 200) errors.push(`init ${map}`);
  // Start PART-HOLD-BACK (3 parts) behind the live edge.
  let from = Math.max(0, partsOf(p).length - 3);
  while (playlists.length < reloads && Date.now() < deadline && errors.length === 0) {
    let behind = false;
    for (const uri of partsOf(p).slice(from)) {
      if (parts.has(uri) || behind) continue;
      const r = await fetchBody(new URL(uri, base + PLAYLIST).toString());
      if (r.status === 404 && !(await fetchBody(originPlaylist)).body.toString().includes(`"${uri}"`)) {
        late.add(uri);
        behind = true;
      } else if (r.status !== 200) errors.push(`${uri}: ${r.status}`);
      else parts.set(uri, createHash('sha1').update(r.body).digest('hex'));
    }
    if (behind) {
      p = await plainLoad();
      if (!p) break;
      from = Math.max(0, partsOf(p).length - 3);
      continue;
    }
    const n = next(p);
    const r = await fetchBody(url(`_HLS_msn=${n.msn}&_HLS_part=${n.part}${skip ? '&_HLS_skip=YES' : ''}`));
    if (r.status !== 200) {
      errors.push(`_HLS_msn=${n.msn}&_HLS_part=${n.part}: ${r.status} ${r.body.toString().slice(0, 200)}`);
      break;
    }
    const text = r.body.toString();
    playlists.push(text);
    p = parseMediaPlaylist(text);
    from = 0;
  }
  return { errors, playlists, parts, late };
}

/** The origin's requests by object: the path, plus the LL-HLS directives of a playlist request. */
function upstreamObjects(proxy: CountingProxy): Map<string, number> {
  const out = new Map<string, number>();
  for (const [target, n] of proxy.targets) {
    const u = new URL(target, 'http://x');
    const directives = LLHLS_PARAMS.filter((k) => u.searchParams.has(k)).map((k) => `${k}=${u.searchParams.get(k)}`);
    const key = u.pathname + (directives.length > 0 ? `?${directives.join('&')}` : '');
    out.set(key, (out.get(key) ?? 0) + n);
  }
  return out;
}

test('100 LL-HLS clients through one edge: one origin request per part and per blocking playlist version', async (t) => {
  // Longer than CAN-SKIP-UNTIL (6 s): delta updates then skip segments.
  const { edgeBase, originBase, proxy } = await setup(t, 8);
  // 20 reloads each: about 4 s of parts at the live edge, longer on a busy machine (clients then skip
  // versions: a blocking answer lists every part produced since the version asked for).
  const deadline = Date.now() + 60_000;
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => llClient(edgeBase, originBase + PLAYLIST, i, 20, deadline, i % 2 === 1)));
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r.errors, [], `client ${i}`);
    assert.equal(r.playlists.length, 20, `client ${i}: reloads`);
  }

  // A part asked for after it left the origin's window was 404 (kept 50 ms): a later straggler asks again.
  const late = new Set(results.flatMap((r) => [...r.late].map((uri) => new URL(uri, edgeBase + PLAYLIST).pathname)));
  const objects = upstreamObjects(proxy);
  const versions = [...objects].filter(([k]) => k.includes('_HLS_msn='));
  const parts = [...objects].filter(([k]) => /\/\d+\.\d+\.m4s$/.test(k) && !late.has(k));
  const repeated = [...versions, ...parts].filter(([, n]) => n !== 1);
  assert.deepEqual(repeated, [], 'each part and each blocking version fetched from the origin exactly once');
  // Each reload asks for a later version than the last: at least 20 of each, or the test proved nothing.
  assert.ok(versions.length >= 20, `${versions.length} blocking versions`);
  assert.ok(parts.length >= 20, `${parts.length} parts`);
  assert.ok(late.size <= parts.length / 4, `${late.size} parts asked for too late`);
  const requests = results.reduce((n, r) => n + r.playlists.length + r.parts.size, 0);
  t.diagnostic(
    `100 clients made ${requests} blocking reloads and part requests; the origin saw ${versions.length} blocking versions, ` +
      `${parts.length} parts (+${late.size} asked for too late), ${[...objects.values()].reduce((a, b) => a + b, 0)} requests in all`,
  );

  // Every viewer got the same bytes for each part.
  const hashes = new Map<string, Set<string>>();
  for (const r of results) for (const [uri, h] of r.parts) hashes.set(uri, (hashes.get(uri) ?? new Set()).add(h));
  for (const [uri, set] of hashes) assert.equal(set.size, 1, `${uri}: one body for everyone`);

  // What the edge served conforms, and m3u8-parser reads it as our parser does: each blocking answer
  // (full and delta), successive full answers as reloads, and a few with the keyframe oracle
  // (INDEPENDENT exactly on keyframe parts, from the parts' bytes).
  const served = results[0]?.playlists ?? [];
  const deltas = results[1]?.playlists ?? [];
  assert.ok(served.length >= 10 && deltas.length >= 10);
  assert.ok(deltas.some((d) => d.includes('#EXT-X-SKIP:')), 'some delta updates skip segments');
  for (const [i, text] of [...served, ...deltas].entries()) {
    assert.deepEqual(checkMediaPlaylist(text), [], `answer ${i}:\n${text}`);
    assert.deepEqual(crossCheckPlaylist(text), [], `answer ${i}:\n${text}`);
  }
  for (const [i, text] of served.entries()) if (i > 0) assert.deepEqual(checkReloadPair(served[i - 1] ?? '', text), [], `answers ${i - 1} -> ${i}`);
  for (const text of served.slice(-2)) {
    const keyframe = await fetchKeyframeOracle(edgeBase + PLAYLIST, text);
    assert.deepEqual(checkMediaPlaylist(text, { keyframe }), []);
  }
});

test('100 simultaneous preload-hint requests through the edge: one origin request, identical bytes; blocking semantics hold', async (t) => {
  // Longer than CAN-SKIP-UNTIL (6 s): delta updates then skip segments.
  const { edgeBase, originBase, proxy } = await setup(t, 8);
  const p = parseMediaPlaylist((await get(edgeBase + PLAYLIST)).body.toString());
  const hint = p.preloadHint?.uri;
  assert.ok(hint !== undefined);
  const hintUrl = new URL(hint, edgeBase + PLAYLIST);
  const all = await Promise.all(Array.from({ length: 100 }, () => get(hintUrl.toString())));
  const body = all[0]?.body ?? Buffer.alloc(0);
  assert.ok(body.length > 0);
  for (const r of all) {
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(body), 'identical bytes');
  }
  assert.equal(proxy.count(hintUrl.pathname), 1);
  // The bytes are the part's, as the origin has it now that it is complete.
  const direct = await get(originBase + hintUrl.pathname);
  assert.ok(direct.body.equals(body), 'the part as the origin serves it');

  // Through the edge, blocking reloads, the 400s, delta updates and the preload hint behave as on the origin.
  assert.deepEqual(await checkBlocking(edgeBase + PLAYLIST), []);
});
