// A remote transcoder's job against a real origin (in process) with publish and play tokens: FFmpeg
// publishes a source, the job pulls its HTTP-FLV with a play token, and FFmpeg publishes each rung back over
// RTMP with a publish token. kill -9 of the job's FFmpeg: the job restarts it and the rungs return, on the
// source's timeline. Stopping the job leaves no FFmpeg. No token reaches the logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Origin } from '../../src/origin/origin.js';
import type { OutPacket } from '../../src/hub/out-packet.js';
import type { Stream } from '../../src/hub/stream.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPublishToken } from '../../src/shared/token.js';
import type { TranscodeAssignment } from '../../src/shared/cluster.js';
import { parseLadderFile } from '../../src/transcode/ladder.js';
import { RemoteJob, sameJob } from '../../src/transcode/remote-job.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { pidAlive } from '../helpers/cli-process.js';

const keys = deriveKeys('remote-job-test-root-secret-0123456789abcdef');
const RUNGS = [
  { name: '180p', height: 180, videoKbps: 250, maxFps: 30, audioKbps: 64 },
  { name: '120p', height: 120, videoKbps: 150, maxFps: 15, audioKbps: 64 },
];

test('pull with a play token, rungs published with publish tokens, restart after kill -9, nothing left after stop', { timeout: 90_000 }, async (t) => {
  // --transcode-remote with the assignment's ladder: the origin takes the RTMP rungs as keeping their source's clock.
  const ladders = parseLadderFile(JSON.stringify({ live: RUNGS }), 'json');
  const transcode = { ladders, settings: { preset: 'ultrafast', tune: 'zerolatency' }, onDemand: false, remote: true };
  const origin = new Origin({ host: '127.0.0.1', rtmpPort: 0, httpPort: 0, keys, playTokens: true, hlsSegmentMs: 1000, transcode });
  const { rtmpPort, httpPort } = await origin.start();
  t.after(() => origin.stop());
  // Source and rung video timestamps as the hub sees them (after its timeline).
  const last = new Map<string, number>();
  origin.hub.observe({
    onPacket: (s: Stream, p: OutPacket) => {
      if (p.kind === 'video' || p.kind === 'video-key') last.set(s.name, p.packet.timestamp);
    },
  });
  const token = signPublishToken({ app: 'live', stream: 'cam', expSec: Math.floor(Date.now() / 1000) + 600 }, keys.publish);
  const source = publishTestStream(`rtmp://127.0.0.1:${rtmpPort}/live/cam?token=${token}`, 'baseline+aac-mono', { gopS: 1 });
  t.after(() => source.stop());
  await waitFor('the source', () => origin.hub.get('live', 'cam')?.info.toJSON().video?.height === 240, 20_000);

  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const assignment: TranscodeAssignment = {
    app: 'live',
    stream: 'cam',
    origin: 'o1',
    httpUrl: `http://127.0.0.1:${httpPort}`,
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}`,
    rungs: RUNGS,
    preset: 'ultrafast',
    tune: 'zerolatency',
    audio: 'copy',
    sourceFps: 25,
  };
  const job = new RemoteJob({ assignment, keys, tokenTtlSec: 600, maxBacklogBytes: 8 << 20, pullIdleMs: 10_000, log });
  t.after(() => job.stop());
  job.start();

  const heightOf = (name: string): number | undefined => origin.hub.get('live', name)?.info.toJSON().video?.height;
  await waitFor('both rungs', () => heightOf('cam_180p') === 180 && heightOf('cam_120p') === 120, 30_000);
  await waitFor('progress', () => job.stats().rungsUp === 2 && job.stats().speed !== null);
  // Rung timestamps are the source's (-copyts): a rung trails its source by the pipeline's delay only.
  // Median of a few samples, as frames arrive in bursts.
  const lag = async (): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 11; i++) {
      samples.push((last.get('cam') ?? 0) - (last.get('cam_180p') ?? 0));
      await sleep(100);
    }
    return samples.sort((a, b) => a - b)[5] as number;
  };
  const lagBefore = await lag();
  assert.ok(lagBefore > -500 && lagBefore < 4000, `rung trails the source by ${lagBefore} ms`);

  const first = job.pid;
  assert.ok(first !== undefined);
  process.kill(first, 'SIGKILL');
  await waitFor('a restarted ffmpeg', () => job.stats().restarts === 1 && job.pid !== undefined && job.pid !== first, 15_000);
  const restartedAt = last.get('cam_180p') ?? 0;
  // The rungs come back from the restarted FFmpeg, and move on from where they were (no GOP replayed behind them).
  await waitFor('the rungs back', () => (last.get('cam_180p') ?? 0) > restartedAt + 3000 && heightOf('cam_120p') === 120, 20_000);
  // Had the restart replayed the cached GOP, the origin would have rebased the rung behind the source by
  // the outage (backoff + a GOP + FFmpeg's start, about 2 s).
  const lagAfter = await lag();
  assert.ok(Math.abs(lagAfter - lagBefore) < 1000, `the rung trailed by ${lagBefore} ms, after the restart by ${lagAfter} ms`);

  const second = job.pid;
  await job.stop();
  assert.ok(second !== undefined && !pidAlive(second), 'ffmpeg still running after stop()');
  await waitFor('the rungs gone', () => origin.hub.get('live', 'cam_180p') === undefined);
  assert.equal(job.stats().rungsUp, 0);

  const text = lines.join('');
  assert.match(text, /"msg":"transcoding"/);
  assert.doesNotMatch(text, /token=\d/, 'a token reached the logs');
});

test('sameJob: a new measure of the source frame rate keeps the running FFmpeg; anything else restarts it', () => {
  const a: TranscodeAssignment = {
    app: 'live',
    stream: 'cam',
    origin: 'o1',
    httpUrl: 'http://127.0.0.1:1',
    rtmpUrl: 'rtmp://127.0.0.1:2',
    rungs: RUNGS,
    preset: 'ultrafast',
    tune: null,
    audio: 'copy',
    sourceFps: 25,
  };
  assert.ok(sameJob(a, { ...a, sourceFps: 24.97 }));
  assert.ok(sameJob(a, { ...a, sourceFps: null }));
  assert.ok(!sameJob(a, { ...a, preset: 'veryfast' }));
  assert.ok(!sameJob(a, { ...a, rungs: RUNGS.slice(1) }));
  assert.ok(!sameJob(a, { ...a, rtmpUrl: 'rtmp://127.0.0.1:3' }));
});
