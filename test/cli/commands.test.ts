// The commands as a new user starts them (issue 8, items 10 and 16): `livecdn signal` and `livecdn edge`
// on their own serve the player pages, as the README promises of every node; `livecdn all` needs a secret
// or --insecure, and then listens on loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { freePort } from '../helpers/net.js';

async function assertServesPages(base: string, proc: CliProcess): Promise<void> {
  // The first request may build the pages (esbuild) when dist/ has none yet.
  const res = await fetch(`${base}/player/`, { signal: AbortSignal.timeout(60_000) });
  const body = await res.text();
  assert.equal(res.status, 200, `${base}/player/: ${body.slice(0, 200)} ${proc.stderr().slice(-1000)}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(body, /<html/i);
  const streamer = await fetch(`${base}/player/streamer.html`);
  assert.equal(streamer.status, 200);
  await streamer.arrayBuffer();
}

test('livecdn signal on its own serves /player/', async () => {
  const port = await freePort();
  const proc = startCli('signal', ['--api-port', String(port), '--host', '127.0.0.1', '--insecure']);
  try {
    await waitListening(proc, `http://127.0.0.1:${port}/api/health`);
    await assertServesPages(`http://127.0.0.1:${port}`, proc);
  } finally {
    await proc.stop();
  }
});

test('livecdn edge on its own serves /player/', async () => {
  const port = await freePort();
  const proc = startCli('edge', ['--upstream', 'http://127.0.0.1:9', '--http-port', String(port), '--host', '127.0.0.1']);
  try {
    await waitListening(proc, `http://127.0.0.1:${port}/metrics`);
    await assertServesPages(`http://127.0.0.1:${port}`, proc);
  } finally {
    await proc.stop();
  }
});

/** Local addresses of listening TCP sockets on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes them). */
function listenAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [addr, p] = (f[1] ?? '').split(':');
      if (f[3] === '0A' && p !== undefined && parseInt(p, 16) === port) out.push(addr as string);
    }
  }
  return out;
}

test('livecdn all refuses to start without a secret or --insecure', async () => {
  const proc = startCli('all', ['--rtmp-port', '0', '--http-port', '0', '--edge-port', '0', '--api-port', '0'], { LIVECDN_SECRET: '' });
  const code = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  await proc.kill();
  assert.equal(code, 2, proc.stderr());
  assert.match(proc.stderr(), /--secret-file: required: `livecdn all` needs the cluster secret[\s\S]*--insecure/);
});

test('livecdn all --insecure listens on 127.0.0.1 only, and serves the pages on every port', async () => {
  const [rtmp, http, edge, api] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const proc = startCli('all', ['--insecure', '--rtmp-port', String(rtmp), '--http-port', String(http), '--edge-port', String(edge), '--api-port', String(api)], {
    LIVECDN_SECRET: '',
  });
  try {
    await waitListening(proc, `http://127.0.0.1:${api}/api/health`);
    await waitListening(proc, `http://127.0.0.1:${edge}/metrics`);
    for (const port of [rtmp, http, edge, api]) {
      const addrs = listenAddresses(port);
      assert.ok(addrs.length > 0, `something listens on ${port}`);
      // 0100007F is 127.0.0.1; 00000000 would be 0.0.0.0 (and all zeros in tcp6, ::)
      assert.deepEqual([...new Set(addrs)], ['0100007F'], `port ${port} bound to loopback only: ${addrs.join(', ')}`);
    }
    for (const port of [http, edge, api]) await assertServesPages(`http://127.0.0.1:${port}`, proc);
  } finally {
    await proc.stop();
  }
});

test('livecdn origin bound to every address refuses to start without a secret or --insecure', async () => {
  const exitOf = async (args: string[]): Promise<{ code: number | null | 'timeout'; stderr: string }> => {
    const proc = startCli('origin', ['--rtmp-port', '0', '--http-port', '0', ...args], { LIVECDN_SECRET: '' });
    const code = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    await proc.kill();
    return { code, stderr: proc.stderr() };
  };
  const open = await exitOf([]);
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /--secret-file: required when binding 0\.0\.0\.0[\s\S]*127\.0\.0\.1[\s\S]*--insecure/);
  const tokens = await exitOf(['--host', '127.0.0.1', '--play-tokens']);
  assert.equal(tokens.code, 2, tokens.stderr);
  assert.match(tokens.stderr, /--play-tokens: needs the cluster secret/);
});
