// The Renditions directory of the transcode service, without spawning (local: false, as with
// --transcode-remote): which sources have a ladder (apps with one, once the source's height is known,
// rungs at or above it skipped, names that stay valid), how rung names map back to their source, what
// demand() answers, and the stats and job a remote transcoder is given. Rung streams are never sources.
// Remote, the ladder lists only the rungs a transcoder publishes (a rung nobody makes would only 503).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from '../../src/hub/hub.js';
import { createLogger } from '../../src/shared/log.js';
import { parseLadderFile } from '../../src/transcode/ladder.js';
import { TranscodeService } from '../../src/transcode/transcode-service.js';
import { manualPublisher } from '../helpers/manual-publisher.js';

const LADDERS = new Map([
  ...parseLadderFile(JSON.stringify({ live: [{ name: 'low', height: 180, videoKbps: 250 }, { name: 'tiny', height: 120, videoKbps: 120, maxFps: 15, audioKbps: 48 }] }), 'json'),
  // Nothing below a 240p source: no ladder there.
  ...parseLadderFile(JSON.stringify({ tall: [{ name: 'hd', height: 720, videoKbps: 2800 }, { name: 'same', height: 240, videoKbps: 400 }] }), 'json'),
]);

function service(hub: Hub): TranscodeService {
  const s = new TranscodeService({ hub, ladders: LADDERS, settings: { preset: 'veryfast', tune: undefined }, onDemand: false, idleMs: 1000, local: false, log: createLogger('test') });
  hub.observe(s);
  return s;
}

test('ladders of live sources: source first, rungs below its height, rung names mapped back, demand, stats and job', async (t) => {
  const hub = new Hub({ writeBatchMs: 0 });
  const tc = service(hub);
  await tc.start();
  t.after(() => tc.close());
  assert.equal(tc.ladderOf('live', 'cam'), undefined, 'not live');
  const cam = await manualPublisher(hub, 'live', 'cam');
  assert.equal(tc.ladderOf('live', 'cam'), undefined, 'height not known yet');
  cam.advance(1);
  const low = { rung: 'low', stream: 'cam_low', height: 180, videoBps: 250_000, audioBps: 128_000, maxFps: 30 };
  const tiny = { rung: 'tiny', stream: 'cam_tiny', height: 120, videoBps: 120_000, audioBps: 48_000, maxFps: 15 };
  assert.deepEqual(tc.ladderOf('live', 'cam'), [{ rung: 'source', stream: 'cam', height: 240 }], 'no rung published yet');
  // Rung names map back before they publish (the origin's RTMP publish of a remote rung asks).
  assert.deepEqual(tc.sourceOf('live', 'cam_low'), { source: 'cam', info: low });
  assert.deepEqual(tc.sourceOf('live', 'cam_tiny'), { source: 'cam', info: tiny });
  assert.deepEqual(tc.sourceOf('live', 'cam_source')?.info, { rung: 'source', stream: 'cam', height: 240 });
  for (const [app, name] of [['live', 'cam_mid'], ['live', 'cam'], ['live', 'other_low'], ['tall', 'cam_low'], ['live', '_low']]) {
    assert.equal(tc.sourceOf(app as string, name as string), undefined, `${app}/${name}`);
  }
  assert.equal(tc.demand('live', 'cam_low'), true);
  assert.equal(tc.demand('live', 'cam_source'), false, 'the source is no rung');
  assert.equal(tc.demand('live', 'cam'), false);
  assert.equal(tc.demand('live', 'other_tiny'), false);

  assert.deepEqual(tc.stats('live', 'cam'), { where: 'remote', rungsUp: 0, restarts: 0, speed: null });
  assert.deepEqual(tc.jobOf('live', 'cam'), { rungs: LADDERS.get('live'), preset: 'veryfast', tune: null, audio: 'copy', sourceFps: 25 });

  // A remote transcoder publishes a rung: counted, and never a source itself.
  const lowPub = await manualPublisher(hub, 'live', 'cam_low');
  lowPub.advance(1);
  assert.equal(tc.stats('live', 'cam')?.rungsUp, 1);
  assert.deepEqual(tc.ladderOf('live', 'cam'), [{ rung: 'source', stream: 'cam', height: 240 }, low], 'the published rung is listed');
  assert.equal(tc.ladderOf('live', 'cam_low'), undefined);
  assert.equal(tc.jobOf('live', 'cam_low'), undefined);
  assert.deepEqual(tc.totals(), { transcoders: 0, rungsUp: 0, restarts: 0, skippedFrames: 0, slowestSpeed: undefined });

  cam.end();
  lowPub.end();
  assert.equal(tc.ladderOf('live', 'cam'), undefined, 'unpublished');
  assert.equal(tc.demand('live', 'cam_low'), false);
});

test('no ladder: apps without one, sources no rung is below, names that would grow past 64 characters', async (t) => {
  const hub = new Hub({ writeBatchMs: 0 });
  const tc = service(hub);
  const long = 'x'.repeat(60);
  const pubs = await Promise.all([manualPublisher(hub, 'tall', 'cam'), manualPublisher(hub, 'other', 'cam'), manualPublisher(hub, 'live', long), manualPublisher(hub, 'live', 'y'.repeat(59))]);
  t.after(() => pubs.forEach((p) => p.end()));
  for (const p of pubs) p.advance(1);
  assert.equal(tc.ladderOf('tall', 'cam'), undefined);
  assert.equal(tc.ladderOf('other', 'cam'), undefined);
  assert.equal(tc.ladderOf('live', long), undefined, `${long}_tiny is 65 characters`);
  assert.equal(tc.ladderOf('live', 'y'.repeat(59))?.length, 1, 'a ladder (no rung published)');
  assert.equal(tc.sourceOf('live', `${'y'.repeat(59)}_tiny`)?.source, 'y'.repeat(59), '59 + "_tiny" is 64');
  assert.equal(tc.stats('tall', 'cam'), undefined);
});
