// `livecdn transcode` refuses to start without what it needs, with one clear line each: the signal, the
// cluster secret (or --insecure), FFmpeg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli } from '../helpers/cli-process.js';

async function exitOf(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null | 'timeout'; stderr: string }> {
  const proc = startCli('transcode', args, { LIVECDN_SECRET: '', ...env });
  const code = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  await proc.kill();
  return { code, stderr: proc.stderr() };
}

test('livecdn transcode: no signal, no secret, no FFmpeg: refused', async () => {
  const noSignal = await exitOf(['--insecure']);
  assert.equal(noSignal.code, 2, noSignal.stderr);
  assert.match(noSignal.stderr, /--signal: required/);

  const noSecret = await exitOf(['--signal', 'http://127.0.0.1:9']);
  assert.equal(noSecret.code, 2, noSecret.stderr);
  assert.match(noSecret.stderr, /--secret-file: required: a transcoder needs the cluster secret[\s\S]*--insecure/);

  const noFfmpeg = await exitOf(['--signal', 'http://127.0.0.1:9', '--insecure', '--http-port', '0'], { FFMPEG_PATH: '/nonexistent/ffmpeg' });
  assert.equal(noFfmpeg.code, 1, noFfmpeg.stderr);
  assert.match(noFfmpeg.stderr, /transcoding needs FFmpeg: set FFMPEG_PATH/);
});
