import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RUNGS, parseLadderFile, parseTranscodeFlag, rungsFor } from './ladder.js';
import { renditionStream, isValidName, RUNG_NAME } from '../shared/url-contract.js';

test('--transcode values: rungs from the default table, highest first, one entry per app', () => {
  const l = parseTranscodeFlag(['live=360p,720p, 480p', 'games=240p']);
  assert.deepEqual([...l.keys()], ['live', 'games']);
  assert.deepEqual(l.get('live')?.map((r) => r.name), ['720p', '480p', '360p']);
  assert.deepEqual(l.get('live')?.[0], DEFAULT_RUNGS['720p']);
  assert.deepEqual(l.get('games')?.map((r) => r.height), [240]);
  assert.equal(parseTranscodeFlag([]).size, 0);
});

test('--transcode refuses unknown rungs, duplicates, bad apps and empty ladders', () => {
  assert.throws(() => parseTranscodeFlag(['live=999p']), /unknown rung "999p"/);
  assert.throws(() => parseTranscodeFlag(['live=toString']), /unknown rung/);
  assert.throws(() => parseTranscodeFlag(['live=360p,360p']), /twice/);
  assert.throws(() => parseTranscodeFlag(['live=360p', 'live=240p']), /given twice/);
  assert.throws(() => parseTranscodeFlag(['li/ve=360p']), /invalid app name/);
  assert.throws(() => parseTranscodeFlag(['live=']), /no rungs/);
  assert.throws(() => parseTranscodeFlag(['live']), /expected APP=RUNG/);
});

test('the default rungs have names that make valid stream names, even heights and sane rates', () => {
  for (const [key, r] of Object.entries(DEFAULT_RUNGS)) {
    assert.equal(r.name, key);
    assert.match(r.name, RUNG_NAME);
    assert.ok(isValidName(renditionStream('s'.repeat(40), r.name)));
    assert.equal(r.height % 2, 0);
    assert.ok(r.videoKbps > 0 && r.maxFps > 0 && r.audioKbps > 0);
  }
  const heights = Object.values(DEFAULT_RUNGS).map((r) => r.height);
  const rates = Object.values(DEFAULT_RUNGS).map((r) => r.videoKbps);
  assert.deepEqual(heights, [...heights].sort((a, b) => b - a));
  assert.deepEqual(rates, [...rates].sort((a, b) => b - a));
});

test('a JSON ladder file: defaults for maxFps and audioKbps, sorted highest first', () => {
  const l = parseLadderFile('{"live":[{"name":"low","height":180,"videoKbps":250},{"name":"mid","height":360,"videoKbps":700,"maxFps":25,"audioKbps":96}]}', 'json');
  assert.deepEqual(l.get('live'), [
    { name: 'mid', height: 360, videoKbps: 700, maxFps: 25, audioKbps: 96 },
    { name: 'low', height: 180, videoKbps: 250, maxFps: 30, audioKbps: 128 },
  ]);
});

test('a YAML ladder file reads the same', () => {
  const yaml = 'live:\n  - name: low\n    height: 180\n    videoKbps: 250\n  - { name: mid, height: 360, videoKbps: 700, maxFps: 25, audioKbps: 96 }\n';
  const json = '{"live":[{"name":"low","height":180,"videoKbps":250},{"name":"mid","height":360,"videoKbps":700,"maxFps":25,"audioKbps":96}]}';
  assert.deepEqual(parseLadderFile(yaml, 'yaml'), parseLadderFile(json, 'json'));
});

test('a ladder file is checked: names, heights, rates, unknown keys, syntax', () => {
  const one = (r: object): string => JSON.stringify({ live: [{ name: 'a', height: 180, videoKbps: 250, ...r }] });
  assert.throws(() => parseLadderFile(one({ name: 'source' }), 'json'), /source/);
  assert.throws(() => parseLadderFile(one({ name: 'Low' }), 'json'), /rung name/);
  assert.throws(() => parseLadderFile(one({ name: 'x'.repeat(17) }), 'json'), /rung name/);
  assert.throws(() => parseLadderFile(one({ height: 181 }), 'json'), /even/);
  assert.throws(() => parseLadderFile(one({ height: 8 }), 'json'), /height/);
  assert.throws(() => parseLadderFile(one({ videoKbps: -1 }), 'json'), /videoKbps/);
  assert.throws(() => parseLadderFile(one({ videoKbps: '250' }), 'json'), /videoKbps/);
  assert.throws(() => parseLadderFile(one({ bitrate: 1 }), 'json'), /bitrate|Unrecognized/);
  assert.throws(() => parseLadderFile('{"live":[]}', 'json'), /no rungs/);
  assert.throws(() => parseLadderFile('{"b/d":[{"name":"a","height":180,"videoKbps":250}]}', 'json'), /invalid app name/);
  assert.throws(() => parseLadderFile('[1]', 'json'), /ladder file/);
  assert.throws(() => parseLadderFile('{', 'json'), /not valid JSON/);
  assert.throws(() => parseLadderFile('live: [', 'yaml'), /not valid YAML/);
  assert.throws(
    () => parseLadderFile('{"live":[{"name":"a","height":180,"videoKbps":250},{"name":"b","height":180,"videoKbps":200}]}', 'json'),
    /two rungs of height 180/,
  );
});

test('rungsFor skips rungs at or above the source height, keeps all while it is unknown', () => {
  const rungs = parseTranscodeFlag(['live=720p,480p,360p,240p']).get('live') ?? [];
  assert.deepEqual(rungsFor(rungs, { height: 480 }).map((r) => r.name), ['360p', '240p']);
  assert.deepEqual(rungsFor(rungs, { height: 1080 }).map((r) => r.name), ['720p', '480p', '360p', '240p']);
  assert.deepEqual(rungsFor(rungs, { height: 240 }), []);
  assert.deepEqual(rungsFor(rungs, { height: undefined }).length, 4);
});
