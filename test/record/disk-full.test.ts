// A full disk stops only the recording: the record directory is a 512 KiB tmpfs, the stream runs at
// ~1 Mbit/s, so the disk fills within seconds. The recording is then 'failed' (ENOSPC) in the API, the
// error metric counts it, and the live HTTP-FLV viewer keeps receiving frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { publishTee } from './record-helpers.js';
import type { TeePublish } from './record-helpers.js';

const run = promisify(execFile);

test('ENOSPC: the recording fails, the live stream and its viewers carry on', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here: ${String(err)}`);
    return;
  }
  const running: { origin?: TestOrigin; publisher?: TeePublish } = {};
  const viewers: FlvViewer[] = [];
  // In this order: nothing may hold a file in the tmpfs when it is unmounted (also when a step below fails).
  t.after(async () => {
    for (const v of viewers) v.close();
    await running.publisher?.stop();
    await running.origin?.stop();
    await run('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  const o = (running.origin = await startOrigin({ record: { dir, patterns: ['live/*'] } }));
  running.publisher = publishTee(o.rtmpUrl('live', 'full'), undefined, 25, 1000);
  const viewer = await FlvViewer.openLive(o.flvUrl('live', 'full'));
  viewers.push(viewer);

  const failed = await waitFor('the recording to fail', async () => {
    const body = (await (await fetch(`${o.httpBase}/api/recordings?app=live&stream=full`)).json()) as { recordings: { id: string; state: string; error?: string }[] };
    return body.recordings.find((r) => r.state === 'failed');
  }, 40_000, 200);
  assert.equal(failed.error, 'ENOSPC');

  // The viewer goes on receiving frames, and the stream is live and no longer recorded.
  const before = viewer.packets.length;
  await sleep(2000);
  assert.ok(viewer.packets.length > before + 25, `viewer got ${viewer.packets.length - before} packets in 2 s after the failure`);
  assert.equal(viewer.ended, false);
  const streams = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: { name: string; recording: unknown }[] };
  assert.deepEqual(streams.streams.map((s) => [s.name, s.recording]), [['full', null]]);
  const metrics = await (await fetch(`${o.httpBase}/metrics`)).text();
  assert.match(metrics, /^livecdn_record_errors_total\{code="ENOSPC"\} 1$/m);
  assert.match(metrics, /^livecdn_record_active 0$/m);

  // Asked again (the API), it tries again: still no room, so a second failure, and still the viewer runs.
  assert.equal((await fetch(`${o.httpBase}/api/streams/live/full/record`, { method: 'POST' })).status, 201);
  await waitFor('the second failure', () => o.origin.recorder?.totals().errors.get('ENOSPC') === 2, 20_000, 100);
  assert.equal(viewer.ended, false);
});
