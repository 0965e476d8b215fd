// `livecdn signal`: bad flags exit 2 with one clear line per value; a good start serves and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort, req, sleep } from './util.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'signal', ...args], {
    env: { ...process.env, LIVECDN_SECRET: '', ...env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

test('bad values are refused with a clear message and exit code 2', async () => {
  const env = { LIVECDN_SECRET: undefined };
  const p = run(['--api-port', '70000', '--region-map', '10.0.0.0/99=eu', '--region-graph', 'eu=us', '--redis', 'http://x', '--origin-rtmp', 'http://x', '--node-ttl', '0'], env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  const code = await p.exited;
  clearTimeout(timer);
  assert.equal(code, 2, p.stderr());
  const err = p.stderr();
  for (const needle of ['--api-port', '--secret: required', '--region-map: bad region map entry "10.0.0.0/99=eu"', '--region-graph', '--redis: must be a redis://', '--origin-rtmp', '--node-ttl']) {
    assert.ok(err.includes(needle), `stderr mentions ${needle}: ${err}`);
  }
});

test('starts with flags and environment, serves the API, stops on SIGTERM', async () => {
  const port = await freePort();
  const p = run(['--api-port', String(port), '--host', '127.0.0.1', '--origin-rtmp', 'rtmp://o.test:1935', '--origin-http', 'http://o.test:8080'], {
    LIVECDN_SECRET: 'from-the-environment',
  });
  try {
    let health: { status: number } | undefined;
    for (let i = 0; i < 100 && !health; i++) {
      await sleep(100);
      health = await req(`http://127.0.0.1:${port}`, 'GET', '/api/health').catch(() => undefined);
    }
    assert.equal(health?.status, 200, p.stderr());
    const r = await req(`http://127.0.0.1:${port}`, 'POST', '/api/streams', { name: 'cli' });
    assert.match(String(r.body.pushUrl), /^rtmp:\/\/o\.test:1935\/live\/cli\?token=\d+\./);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});
