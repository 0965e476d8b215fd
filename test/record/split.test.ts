// Splitting by duration: a publish session becomes contiguous parts of one session, each starting at a
// keyframe with its own headers, and together they hold every published packet exactly once: the parts'
// video packets are the published ones in order, each part's frame times step as the published ones did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin } from '../helpers/origin.js';
import { probePackets, publishTee, recordingsEnded } from './record-helpers.js';
import { decodeErrors } from '../helpers/hls.js';

test('--record-split by duration: contiguous parts, every frame once, no frame lost or doubled at a join', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-split-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const o = await startOrigin({ record: { dir, patterns: ['*/*'], splitMs: 2000 } }, t);
  const catalogue = o.origin.recordings;
  assert.ok(catalogue);
  const copy = join(dir, 'published.flv');
  const pub = publishTee(o.rtmpUrl('live', 'parts'), copy, 7.5);
  t.after(() => pub.stop());
  assert.equal(await pub.exited, 0, pub.log());
  const parts = await recordingsEnded(catalogue, 'live', 'parts', 3);
  assert.ok(parts.length >= 3 && parts.length <= 4, `${parts.length} parts of 2 s in 7.5 s`);
  assert.deepEqual(parts.map((p) => p.part), parts.map((_, i) => i), 'parts numbered in order');
  const first = parts[0];
  assert.ok(first);
  for (const p of parts) {
    assert.equal(p.state, 'done');
    assert.equal(p.session, first.name, 'one session');
  }

  const want = await probePackets(copy, 'v');
  const got = await Promise.all(parts.map((p) => probePackets(p.file, 'v')));
  assert.deepEqual(got.flat().map((p) => p.hash), want.map((p) => p.hash), 'the parts hold the published video packets, each once, in order');
  let at = 0;
  for (const [i, pkts] of got.entries()) {
    const p0 = pkts[0];
    assert.ok(p0, `part ${i} has video`);
    assert.equal(p0.key, true, `part ${i} starts at a keyframe`);
    assert.equal(p0.pts, 0, `part ${i} starts at 0`);
    const published = want.slice(at, at + pkts.length);
    assert.deepEqual(pkts.map((p) => p.pts), published.map((p) => p.pts - (published[0]?.pts ?? 0)), `part ${i}: the published frame times`);
    if (i < got.length - 1) assert.ok(parts[i]!.durationMs >= 2000 && parts[i]!.durationMs <= 3100, `part ${i}: ${parts[i]!.durationMs} ms`);
    at += pkts.length;
  }

  // Audio: every published frame from the first video keyframe on, each in exactly one part.
  const wantA = await probePackets(copy, 'a');
  const gotA = (await Promise.all(parts.map((p) => probePackets(p.file, 'a')))).flat();
  const skipped = wantA.length - gotA.length;
  assert.ok(skipped >= 0 && skipped <= 5, `${skipped} audio frames before the first keyframe`);
  assert.deepEqual(gotA.map((p) => p.hash), wantA.slice(skipped).map((p) => p.hash), 'audio frames once each, in order');

  for (const p of parts) assert.equal(await decodeErrors(p.file), '', p.file);
});
