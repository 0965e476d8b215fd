// `livecdn signal`: bad flags exit 2 with one clear line per value; a good start serves and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { req } from './util.js';
import { freePort } from '../helpers/net.js';

const ROOT = 'cli-test-root-secret-0123456789abcdef';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/** `livecdn signal ARGS`, with no secret from this machine's environment unless `env` gives one. */
const run = (args: string[], env: NodeJS.ProcessEnv = {}): CliProcess => startCli('signal', args, { LIVECDN_SECRET: '', ...env, LOG_LEVEL: 'silent' });

test('bad values are refused with a clear message and exit code 2', async () => {
  const env = { LIVECDN_SECRET: undefined };
  const p = run(['--api-port', '70000', '--region-map', '10.0.0.0/99=eu', '--region-graph', 'eu=us', '--redis', 'http://x', '--origin-rtmp', 'http://x', '--ingest-url', 'rtmp://ingest:1935/live', '--node-ttl', '0'], env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  const code = await p.exited;
  clearTimeout(timer);
  assert.equal(code, 2, p.stderr());
  const err = p.stderr();
  for (const needle of ['--api-port', '--region-map: bad region map entry "10.0.0.0/99=eu"', '--region-graph', '--redis: must be a redis://', '--origin-rtmp', '--ingest-url: must be an rtmp:// URL without a path', '--node-ttl']) {
    assert.ok(err.includes(needle), `stderr mentions ${needle}: ${err}`);
  }
});

test('refuses to start without a secret unless --insecure; refuses a short secret and an unreadable file', async () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], {}, /--secret-file: required: the signal needs the cluster secret[\s\S]*--insecure/],
    [[], { LIVECDN_SECRET: 'too-short' }, /--secret: the secret must be at least 32 bytes/],
    [['--secret-file', '/nonexistent/secret'], {}, /--secret-file: cannot read \/nonexistent\/secret/],
    [['--insecure'], { LIVECDN_SECRET: ROOT }, /--insecure: runs without a secret/],
    [['--insecure', '--play-tokens'], {}, /--play-tokens: needs the cluster secret/],
  ];
  for (const [args, env, want] of cases) {
    const p = run(['--api-port', '0', '--host', '127.0.0.1', ...args], env);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
    const code = await p.exited;
    clearTimeout(timer);
    assert.equal(code, 2, `${args.join(' ')}: ${p.stderr()}`);
    assert.match(p.stderr(), want);
  }
});

test('--insecure starts with every write route open (development)', async () => {
  const port = await freePort();
  const p = run(['--api-port', String(port), '--host', '127.0.0.1', '--insecure', '--origin-rtmp', 'rtmp://o.test:1935', '--origin-http', 'http://o.test:8080']);
  try {
    await waitListening(p, `http://127.0.0.1:${port}/api/health`);
    const r = await req(`http://127.0.0.1:${port}`, 'POST', '/api/streams', { name: 'cli' });
    assert.equal(r.status, 201);
    assert.equal(r.body.pushUrl, 'rtmp://o.test:1935/live/cli', 'no token without a secret');
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('starts with the secret from a file, serves the API, stops on SIGTERM; `livecdn keys` prints its admin token', async () => {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'livecdn-secret-'));
  const file = join(dir, 'secret');
  await writeFile(file, `${ROOT}\n`, { mode: 0o600 });
  const p = run(['--api-port', String(port), '--host', '127.0.0.1', '--secret-file', file, '--origin-rtmp', 'rtmp://o.test:1935', '--origin-http', 'http://o.test:8080']);
  try {
    await waitListening(p, `http://127.0.0.1:${port}/api/health`);
    assert.equal((await req(`http://127.0.0.1:${port}`, 'POST', '/api/streams', { name: 'cli' })).status, 401);
    const keys = await runKeys(['--secret-file', file]);
    assert.equal(keys.code, 0, keys.stderr);
    const token = keys.stdout.trim();
    assert.equal(token, adminToken(deriveKeys(ROOT)));
    assert.equal((await runKeys([], { LIVECDN_SECRET: ROOT })).stdout.trim(), token, 'the same from LIVECDN_SECRET');
    const r = await req(`http://127.0.0.1:${port}`, 'POST', '/api/streams', { name: 'cli' }, { authorization: `Bearer ${token}` });
    assert.match(String(r.body.pushUrl), /^rtmp:\/\/o\.test:1935\/live\/cli\?token=\d+\./);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  } finally {
    p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

async function runKeys(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'keys', ...args], { env: { ...process.env, LIVECDN_SECRET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

test('`livecdn keys` without a secret exits 2', async () => {
  const r = await runKeys([]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--secret-file: required/);
});
