// A ladder without FFmpeg is a clear error at start, never a crash loop later: `livecdn origin
// --transcode …` exits non-zero with one line naming what it tried, and the service and the Origin
// throw the same message. A remote ladder (--transcode-remote) spawns nothing and needs no FFmpeg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from '../../src/hub/hub.js';
import { Origin } from '../../src/origin/origin.js';
import { createLogger } from '../../src/shared/log.js';
import { TranscodeService } from '../../src/transcode/transcode-service.js';
import { startCli } from '../helpers/cli-process.js';
import { startOrigin } from '../helpers/origin.js';
import { TEST_LADDER, testTranscode } from './helpers.js';

const MESSAGE = /transcoding needs FFmpeg: set FFMPEG_PATH, install Debian's ffmpeg or npm i @ffmpeg-installer\/ffmpeg \(tried FFMPEG_PATH=\/nonexistent\)/;

/** Runs fn with FFMPEG_PATH pointing nowhere. */
async function withoutFfmpeg(fn: () => Promise<void>): Promise<void> {
  const saved = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = '/nonexistent';
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
}

test('livecdn origin --transcode without FFmpeg exits non-zero with the message', { timeout: 60_000 }, async (t) => {
  const cli = startCli('origin', ['--insecure', '--host', '127.0.0.1', '--rtmp-port', '0', '--http-port', '0', '--transcode', 'live=360p'], {
    FFMPEG_PATH: '/nonexistent',
  });
  t.after(() => cli.kill());
  const code = await cli.exited;
  assert.equal(code, 1);
  assert.match(cli.stderr(), MESSAGE);
  assert.doesNotMatch(cli.stderr(), /\n\s+at /, 'one line, no stack');
});

test('the service and the Origin throw it at start; a remote ladder needs no FFmpeg', async (t) => {
  await withoutFfmpeg(async () => {
    const service = new TranscodeService({
      hub: new Hub({ writeBatchMs: 0 }),
      ladders: TEST_LADDER,
      settings: { preset: 'ultrafast', tune: undefined },
      onDemand: false,
      idleMs: 1000,
      local: true,
      log: createLogger('test'),
    });
    await assert.rejects(service.start(), MESSAGE);
    await service.close();
    const origin = new Origin({ host: '127.0.0.1', rtmpPort: 0, httpPort: 0, transcode: testTranscode() });
    await assert.rejects(origin.start(), MESSAGE);
    const remote = await startOrigin({ transcode: testTranscode({ remote: true }) }, t);
    assert.equal(remote.origin.transcode?.totals().transcoders, 0);
  });
});
