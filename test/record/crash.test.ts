// kill -9 of a recording origin: the file it was writing decodes cleanly (it is valid FLV at every flush),
// and the next start lists it as 'interrupted', with its size and about its duration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitListening } from '../helpers/cli-process.js';
import { freePort } from '../helpers/net.js';
import { startOrigin } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';
import { probePackets, publishTee } from './record-helpers.js';
import { decodeErrors } from '../helpers/hls.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import { TagType } from '../../src/media/packet.js';
import type { Recording } from '../../src/record/catalogue.js';

test('kill -9 mid-recording: the file decodes cleanly and is listed interrupted after a restart', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const proc = startCli('origin', ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--record', 'live/*', '--record-dir', dir]);
  t.after(() => proc.kill());
  const base = `http://127.0.0.1:${httpPort}`;
  await waitListening(proc, `${base}/healthz`);
  const pub = publishTee(`rtmp://127.0.0.1:${rtmpPort}/live/crash`, undefined, 20);
  t.after(() => pub.stop());

  // Recording for a while (several flushes on disk), then the process dies without a word.
  const rec = await waitFor('3 s recorded', async () => {
    const body = (await (await fetch(`${base}/api/recordings`)).json()) as { recordings: { id: string; durationMs: number; state: string }[] };
    const r = body.recordings[0];
    return r && r.state === 'recording' && r.durationMs >= 3000 ? r : undefined;
  }, 30_000, 200);
  await proc.kill();
  await pub.stop();

  const [app, stream, name] = rec.id.split('/') as [string, string, string];
  const file = join(dir, app, stream, `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}`, `${name.slice(9)}.flv`);
  const size = (await stat(file)).size;
  assert.ok(size > 50_000, `${size} bytes on disk`);
  assert.equal(await decodeErrors(file), '', 'the file decodes without an error');
  const frames = await probePackets(file, 'v');
  assert.ok(frames.length >= 50, `${frames.length} frames`);
  assert.equal(frames[0]?.key, true);
  // Up to its last tag: ffprobe's last video packet is the file's last complete video tag (no B-frames: pts = tag time).
  const tags = new FlvReader().push(await readFile(file)).filter((p) => p.type === TagType.Video && p.payload[1] === 1);
  assert.equal(frames.length, tags.length, 'every complete video tag is a packet');
  assert.equal(frames.at(-1)?.pts, tags.at(-1)?.timestamp, 'the last packet is the last tag');

  // Restarted on the same directory: listed 'interrupted', and told as ended.
  const o = await startOrigin({ record: { dir } }, t);
  const r = o.origin.recordings?.get(app, stream, name);
  assert.ok(r, 'listed after the restart');
  assert.equal(r.state, 'interrupted');
  assert.equal(r.bytes, size);
  const lastMs = frames.at(-1)?.pts ?? 0;
  assert.ok(r.durationMs > 0 && Math.abs(r.durationMs - lastMs) <= 200, `duration ${r.durationMs} ms, last frame at ${lastMs} ms`);
  const entry = (await (await fetch(`${o.httpBase}/api/recordings/${rec.id}`)).json()) as Recording;
  assert.equal(entry.state, 'interrupted');
});
