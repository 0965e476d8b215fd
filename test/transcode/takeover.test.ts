// A rung stream's publication closed by the hub: another publisher takes its name over (take-over on), or
// an operator kicks it. The transcoder stops feeding that rung (the new publisher's stream gets none of its
// frames), keeps its other rungs, and nothing throws; the next child publishes the rung again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlvViewer } from '../helpers/http.js';
import { manualPublisher } from '../helpers/manual-publisher.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { startTranscodingOrigin, videoFrames } from './helpers.js';

test('a rung taken over or kicked: that rung stays off, the others go on', { timeout: 120_000 }, async (t) => {
  const o = await startTranscodingOrigin(t, {}, { publishTakeover: true });
  const tc = o.origin.transcode;
  assert.ok(tc);
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => pub.stop());
  await waitFor('both rungs', () => tc.stats('live', 'cam')?.rungsUp === 2, 30_000);

  const other = await manualPublisher(o.origin.hub, 'live', 'cam_low');
  t.after(() => other.end());
  assert.equal(o.origin.hub.get('live', 'cam_low')?.publisher?.id, 'manual-cam_low');
  assert.equal(tc.stats('live', 'cam')?.rungsUp, 1);
  const tiny = await FlvViewer.open(o.flvUrl('live', 'cam_tiny'));
  t.after(() => tiny.close());
  const low = await FlvViewer.open(o.flvUrl('live', 'cam_low'));
  t.after(() => low.close());
  await sleep(2000);
  assert.ok(videoFrames(tiny).length > 25, 'the other rung goes on');
  assert.equal(videoFrames(low).length, 0, 'the taken-over rung gets nothing from the transcoder');

  const kicked = await fetch(`${o.httpBase}/api/streams/live/cam_tiny`, { method: 'DELETE' });
  assert.equal(kicked.status, 200);
  await sleep(1000);
  assert.equal(o.origin.hub.get('live', 'cam_tiny'), undefined, 'a kicked rung stays off');
  assert.equal(tc.stats('live', 'cam')?.rungsUp, 0);
  assert.equal(tc.totals().transcoders, 1, 'the child runs on');
  assert.equal(tc.stats('live', 'cam')?.restarts, 0);
});
