// nginx/edge.conf.template against the URL contract (src/shared/url-contract.ts), without running nginx:
// its regex locations are read from the template and matched the way nginx does (in order, first match
// wins) against normalised paths, which is what nginx matches ($uri: merged slashes, no dot segments,
// percent-decoded). Every path the contract builds must reach the location of its kind, and no proxied
// location may accept a path the contract refuses or classifies differently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  dvrPlaylistPath,
  flvPath,
  parsePath,
  playlistPath,
  segmentPath,
  snapshotPath,
  thumbsSpritePath,
  thumbsVttPath,
  vodInitUri,
  vodPlaylistPath,
  vodSegmentUri,
} from '../../src/shared/url-contract.js';

type LocationKind = 'flv' | 'playlist' | 'snapshot' | 'segment' | 'invalid';

const template = readFileSync(new URL('../../nginx/edge.conf.template', import.meta.url), 'utf8');

/** A location's kind, from what it does: each shape of the template must be recognised here. */
function kindOf(body: string): LocationKind {
  if (/^\s*return 400\b/m.test(body)) return 'invalid';
  // A live body: passed through as it arrives, never cached.
  if (/proxy_buffering off;/.test(body) && /proxy_cache off;/.test(body)) return 'flv';
  // A snapshot: one object per width, whatever else the query holds (checked first: it may be served stale while updating).
  if (/proxy_cache_key \$uri\?width=\$arg_width;/.test(body)) return 'snapshot';
  // A playlist must never be served stale: a player would see an old live window.
  if (/proxy_cache_use_stale off;/.test(body)) return 'playlist';
  // An immutable object: stale while it updates.
  if (/proxy_cache_use_stale updating\b/.test(body)) return 'segment';
  throw new Error(`a location of nginx/edge.conf.template has no kind known to this test:\n${body}`);
}

const locations = [...template.matchAll(/location\s+~\s+"([^"]+)"\s*\{([^}]*)\}/g)].map((m) => ({
  re: new RegExp(m[1] ?? ''),
  kind: kindOf(m[2] ?? ''),
}));

/** The kind of the first regex location that matches, or 'other' (`location /`: 404). */
const nginxKind = (path: string): LocationKind | 'other' => locations.find((l) => l.re.test(path))?.kind ?? 'other';

test('the template has a location for each kind of the contract', () => {
  assert.deepEqual(locations.map((l) => l.kind).sort(), ['flv', 'invalid', 'playlist', 'segment', 'snapshot']);
});

const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
/** A recording's name (RECORDING_NAME): {YYYYMMDD}-{HHMMSS}[-N]. */
const recName = fc.stringMatching(/^\d{8}-\d{6}(-\d{1,3})?$/);

test('every path the contract builds reaches the nginx location of its kind', () => {
  fc.assert(
    fc.property(name, name, fc.integer({ min: 0, max: 2 ** 40 }), recName, (app, stream, seq, rec) => {
      // A recording's objects are relative to its VOD playlist, one level below the stream (rec/).
      const recObject = (uri: string): string => `/${app}/${stream}/rec/${uri}`;
      for (const path of [
        flvPath(app, stream),
        playlistPath(app, stream),
        snapshotPath(app, stream),
        segmentPath(app, stream, seq),
        dvrPlaylistPath(app, stream),
        vodPlaylistPath(app, stream, rec),
        recObject(vodSegmentUri(rec, seq % 1e9, 'ts')),
        recObject(vodSegmentUri(rec, seq % 1e9, 'm4s')),
        recObject(vodInitUri(rec)),
        thumbsSpritePath(app, stream, rec),
        thumbsVttPath(app, stream, rec),
      ]) {
        assert.equal(nginxKind(path), parsePath(path).kind, path);
      }
    }),
  );
  // The reserved object shapes (see the contract's header) need no template change.
  for (const file of ['init-1764460800.mp4', '1764460800.m4s', '1764460800.3.m4s', 'rec-1764460800.mp4', '720p.m3u8', '720p-1764460800.ts']) {
    const path = `/live/cam/${file}`;
    assert.equal(nginxKind(path), parsePath(path).kind, path);
  }
});

// Normalised paths close to the contract: name-like parts, separators, extensions and a few bad bytes.
const part = fc
  .array(
    fc.oneof(
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), weight: 4 },
      { arbitrary: fc.constantFrom('.flv', '.m3u8', '.jpg', '.ts', '.mp4', '.', '..', '!', ' ', '~', 'é', '\\'), weight: 2 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{30,70}$/), weight: 1 },
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((xs) => xs.join(''))
  .filter((p) => p !== '.' && p !== '..');
const normalisedPath = fc
  .tuple(fc.array(part, { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([parts, trailingSlash]) => '/' + parts.join('/') + (trailingSlash ? '/' : ''));

test('no nginx location proxies a path that the contract refuses or classifies otherwise', () => {
  fc.assert(
    fc.property(normalisedPath, (path) => {
      const kind = nginxKind(path);
      const contract = parsePath(path).kind;
      if (kind === 'flv' || kind === 'playlist' || kind === 'snapshot' || kind === 'segment') assert.equal(contract, kind, path);
      // And the other way round: what the contract serves, at any depth, nginx proxies as the same kind;
      // what nginx answers itself agrees too: a bad /{app}/… is a 400, a single segment a 404.
      assert.equal(kind, contract, path);
    }),
    { numRuns: 20_000 },
  );
});
