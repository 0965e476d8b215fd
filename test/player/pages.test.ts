// The player pages on their own: the esbuild bundle, the /player/ handler (content types, caching,
// traversal, build on first use), and the three pages in Debian's Chromium against a small in-test
// server: FFmpeg's live HLS and HTTP-FLV test streams, a fake control plane API and a chat WebSocket;
// and the dashboard against a real signal whose heartbeats place streams on origins and edges.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createPlayerHandler, playerPath } from '../../src/player/serve.js';
import { streamRows } from '../../src/player/web/streams.js';
import { buildPlayer, closeServer, launchBrowser, listen, median, playAndMeasure, Procs, saveArtifact, screenshot, stderrTail, TEST_SOURCE_ARGS, watchConsole, withPage } from './helpers.js';
import type { Browser } from './helpers.js';
import { waitFor } from '../helpers/wait.js';
import { ffmpegPath } from '../helpers/ffmpeg.js';
import { freePort } from '../helpers/net.js';
import { Signal } from '../../src/signal/signal.js';

interface Got {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Raw request: no URL normalisation, so traversal attempts reach the server as written. */
function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

let work: string;
let www: string;
let buildMs = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'livecdn-player-'));
  www = join(work, 'www');
  const r = await buildPlayer({ outdir: www });
  buildMs = r.ms;
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('build-player', () => {
  it('bundles the three pages and video.js CSS in under 5 s', async () => {
    assert.ok(buildMs < 5000, `build took ${buildMs} ms`);
    const files = await readdir(www);
    for (const f of ['index.html', 'streamer.html', 'dashboard.html', 'style.css', 'player.js', 'player.js.map', 'streamer.js', 'dashboard.js', 'video-js.css']) {
      assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    }
    const js = await readFile(join(www, 'player.js'), 'utf8');
    assert.ok(js.length > 100_000, 'player.js carries hls.js, mpegts.js and video.js');
    assert.match(js, /sourceMappingURL=player\.js\.map/);
    assert.ok(!/\n\s{4,}/.test(js.slice(0, 20_000)), 'player.js is minified');
    const html = await readFile(join(www, 'index.html'), 'utf8');
    assert.match(html, /<script type="module" src="player\.js">/);
  });
});

describe('createPlayerHandler', () => {
  let server: Server;
  let port: number;
  before(async () => {
    const handler = createPlayerHandler({ root: www });
    server = createServer((req, res) => {
      if (handler(req, res)) return;
      res.writeHead(418, { 'content-type': 'text/plain' });
      res.end('not the player');
    });
    port = await listen(server);
  });
  after(() => closeServer(server));

  it('serves the pages with content types and cache headers', async () => {
    const index = await get(port, '/player/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.body, /livecdn player/);
    const withQuery = await get(port, '/player/?stream=live/test');
    assert.equal(withQuery.status, 200);
    assert.equal(withQuery.body, index.body);
    for (const [path, type] of [
      ['/player/player.js', 'text/javascript; charset=utf-8'],
      ['/player/video-js.css', 'text/css; charset=utf-8'],
      ['/player/player.js.map', 'application/json; charset=utf-8'],
      ['/player/dashboard.html', 'text/html; charset=utf-8'],
    ] as const) {
      const r = await get(port, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], type, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(Number(r.headers['content-length']), (await stat(join(www, path.slice('/player/'.length)))).size);
    }
    const js = await get(port, '/player/player.js');
    assert.equal(js.headers['cache-control'], 'public, max-age=300');
    const etag = js.headers.etag;
    assert.ok(etag);
    const again = await get(port, '/player/player.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const head = await get(port, '/player/player.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('redirects /player to /player/ keeping the query', async () => {
    const r = await get(port, '/player?stream=live/x');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/player/?stream=live/x');
  });

  it('leaves other paths to the server', async () => {
    for (const p of ['/', '/live/test.m3u8', '/playerx', '/api/streams', '/players/']) {
      const r = await get(port, p);
      assert.equal(r.status, 418, p);
    }
  });

  it('answers 404 for a missing file and 405 for other methods', async () => {
    assert.equal((await get(port, '/player/nope.js')).status, 404);
    const post = await get(port, '/player/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('refuses path traversal in every spelling', async () => {
    const secret = await readFile(join(work, '..', 'package.json'), 'utf8').catch(() => '');
    for (const p of [
      '/player/../package.json',
      '/player/../../package.json',
      '/player/%2e%2e/package.json',
      '/player/%2E%2E/%2e%2e/package.json',
      '/player/..%2fpackage.json',
      '/player/..%2f..%2f..%2fetc%2fpasswd',
      '/player/..%5c..%5cpackage.json',
      '/player/%2fetc%2fpasswd',
      '/player//etc/passwd',
      '/player/.%2e/%2e./package.json',
      '/player/index.html%00.js',
      '/player/%zz',
      '/player/.tmp',
    ]) {
      const r = await get(port, p);
      assert.ok(r.status === 400 || r.status === 404, `${p} -> ${r.status}`);
      assert.doesNotMatch(r.body, /root:|"name":|livecdn player/, p);
      if (secret) assert.ok(!r.body.includes(secret.slice(0, 40)), p);
    }
    assert.ok(playerPath('/player/../x') instanceof Error);
    assert.deepEqual(playerPath('/player/a/b.js?x=1'), ['a', 'b.js']);
    assert.equal(playerPath('/other'), null);
  });

  it('builds on first use when the pages are missing, once for concurrent requests', async () => {
    const root = join(work, 'lazy', 'www');
    const handler = createPlayerHandler({ root });
    const s = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    const p = await listen(s);
    try {
      assert.equal(existsSync(root), false);
      const rs = await Promise.all([get(p, '/player/'), get(p, '/player/player.js'), get(p, '/player/dashboard.html')]);
      assert.deepEqual(
        rs.map((r) => r.status),
        [200, 200, 200],
      );
      assert.ok(existsSync(join(root, 'player.js')));
      const siblings = await readdir(join(work, 'lazy'));
      assert.deepEqual(siblings, ['www'], 'no leftover temporary build directories');
    } finally {
      await closeServer(s);
    }
  });

  it('works mounted in express with app.use("/player", ...)', async () => {
    const handler = createPlayerHandler({ root: www });
    const app = express();
    app.use('/player', (req, res, next) => {
      if (!handler(req, res)) next();
    });
    app.use((_req, res) => {
      res.status(418).send('not the player');
    });
    const s = createServer(app);
    const p = await listen(s);
    try {
      assert.equal((await get(p, '/player/')).status, 200);
      const js = await get(p, '/player/player.js');
      assert.equal(js.status, 200);
      assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal((await get(p, '/player?x=1')).headers.location, '/player/?x=1');
      assert.equal((await get(p, '/player/%2e%2e/package.json')).status, 400);
      assert.equal((await get(p, '/api/x')).status, 418);
    } finally {
      await closeServer(s);
    }
  });

  it('answers 503 telling to run npm run build when it may not build', async () => {
    const handler = createPlayerHandler({ root: join(work, 'absent'), buildIfMissing: false });
    const s = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    const p = await listen(s);
    try {
      const r = await get(p, '/player/');
      assert.equal(r.status, 503);
      assert.match(r.body, /npm run build/);
    } finally {
      await closeServer(s);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// In the browser, against a tiny in-test server

describe('pages in Chromium (in-test server, FFmpeg test streams)', () => {
  const procs = new Procs();
  let browser: Browser | undefined;
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  let port = 0;
  let base = '';
  const hlsDir = () => join(work, 'hls');
  const flvViewers = new Set<ServerResponse>();
  let lastPlaylistAt = 0;
  const created: unknown[] = [];

  const streamsBody = (): unknown => ({
    streams: [
      {
        app: 'live',
        name: 'test',
        publisher: { id: 'p1', remoteAddress: '127.0.0.1' },
        codecs: { video: 'H264', audio: 'AAC' },
        video: { codec: 'H264', profile: 77, width: 640, height: 360, fps: 25 },
        audio: { codec: 'AAC', sampleRate: 44100, channels: 1 },
        bitrateIn: 700_000,
        viewers: { hls: Date.now() - lastPlaylistAt < 4000 ? 1 : 0, flv: flvViewers.size, rtmp: 0 },
        hls: { format: 'ts', partTargetS: null, codecs: 'avc1.4d401e,mp4a.40.2' },
      },
      // The origin's shape for an LL-HLS stream (src/shared/cluster.ts StreamHlsInfo).
      { app: 'live', name: 'lowlat', publisher: { id: 'p2' }, codecs: { video: 'H264', audio: 'AAC' }, hls: { format: 'fmp4', partTargetS: 0.2, codecs: 'avc1.64001f,mp4a.40.2' } },
    ],
  });
  const nodesBody = (): unknown => ({ nodes: [
    {
      id: 'edge-eu-1',
      kind: 'edge',
      region: 'eu',
      publicUrl: base,
      capacity: 100,
      load: { viewers: flvViewers.size, publishers: 0, egressBps: 1_200_000, cpu: 0.12, streams: ['live/test'], cacheHitRatio: 0.93 },
      lastSeen: Date.now(),
    },
    { id: 'origin-1', kind: 'origin', region: 'eu', publicUrl: base, capacity: 10, load: { viewers: 0, publishers: 1, egressBps: 700_000, cpu: 0.2, streams: ['live/test'] }, lastSeen: Date.now() },
  ] });

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  before(async () => {
    await mkdir(hlsDir(), { recursive: true });
    const hls = procs.spawn(ffmpegPath(), [
      ...TEST_SOURCE_ARGS,
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_list_size',
      '6',
      '-hls_flags',
      'delete_segments+independent_segments+temp_file',
      join(hlsDir(), 'live.m3u8'),
    ]);
    const handler = createPlayerHandler({ root: www });
    server = createServer((req, res) => {
      if (handler(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://x');
      const p = url.pathname;
      if (p.startsWith('/hls/')) {
        const name = p.slice(5);
        if (!/^[\w-]+\.(m3u8|ts)$/.test(name)) return json(res, 400, { error: 'bad_name' });
        const file = join(hlsDir(), name);
        if (!existsSync(file)) return json(res, 404, { error: 'not_found' });
        if (name.endsWith('.m3u8')) lastPlaylistAt = Date.now();
        res.writeHead(200, {
          'content-type': name.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t',
          'cache-control': 'no-cache',
          'access-control-allow-origin': '*',
        });
        createReadStream(file).on('error', () => res.destroy()).pipe(res);
        return;
      }
      if (p === '/live/test.flv') {
        const ff = procs.spawn(ffmpegPath(), [...TEST_SOURCE_ARGS, '-f', 'flv', 'pipe:1']);
        res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
        flvViewers.add(res);
        ff.stdout?.pipe(res);
        res.on('close', () => {
          flvViewers.delete(res);
          ff.kill('SIGKILL');
        });
        return;
      }
      if (p === '/api/play/live/test') {
        // The shape of src/signal/api.ts's answer.
        return json(res, 200, {
          app: 'live',
          stream: 'test',
          region: null,
          servedRegion: 'eu',
          via: 'edge',
          node: { id: 'edge-eu-1', kind: 'edge', region: 'eu' },
          flv: `${base}/live/test.flv`,
          hls: `${base}/hls/live.m3u8`,
          token: null,
          fallbacks: [{ id: 'origin', kind: 'origin', region: null, flv: `${base}/live/test.flv`, hls: `${base}/hls/live.m3u8` }],
        });
      }
      if (p.startsWith('/api/play/')) return json(res, 404, { error: 'not_found', message: 'no such stream' });
      if (p === '/api/streams' && req.method === 'GET') return json(res, 200, streamsBody());
      if (p === '/api/streams' && req.method === 'POST') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const input = JSON.parse(body || '{}') as { app?: string; name?: string };
          created.push(input);
          const app = input.app ?? 'live';
          const name = input.name ?? 'gen1234';
          json(res, 201, {
            id: `${app}/${name}`,
            app,
            name,
            pushUrl: `rtmp://127.0.0.1:1935/${app}/${name}?token=tok123`,
            obs: { server: `rtmp://127.0.0.1:1935/${app}`, streamKey: `${name}?token=tok123` },
            ffmpeg: `ffmpeg -re -i input.mp4 -c copy -f flv "rtmp://127.0.0.1:1935/${app}/${name}?token=tok123"`,
          });
        });
        return;
      }
      if (p === '/api/nodes') return json(res, 200, nodesBody());
      json(res, 404, { error: 'not_found', message: p });
    });
    // Chat: the signal engineer's protocol, echoed to every member of the room.
    wss = new WebSocketServer({ noServer: true });
    const rooms = new Map<string, Set<WebSocket>>();
    server.on('upgrade', (req, socket, head) => {
      const m = /^\/api\/streams\/([^/]+)\/chat$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (!m || !wss) return socket.destroy();
      const room = decodeURIComponent(m[1] as string);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const members = rooms.get(room) ?? new Set<WebSocket>();
        rooms.set(room, members);
        members.add(ws);
        ws.on('close', () => members.delete(ws));
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as { type?: string; text?: string };
          if (msg.type !== 'msg' || typeof msg.text !== 'string') return ws.send(JSON.stringify({ type: 'error', message: 'bad message' }));
          if (msg.text === 'flood') return ws.send(JSON.stringify({ type: 'error', message: 'slow down: muted for 10 s' }));
          for (const m2 of members) m2.send(JSON.stringify({ type: 'msg', from: `viewer-${room}`, text: msg.text, ts: Date.now() }));
        });
      });
    });
    port = await listen(server);
    base = `http://127.0.0.1:${port}`;
    await waitFor(
      'FFmpeg to write 3 HLS segments',
      async () => {
        if (hls.exitCode !== null) throw new Error(`ffmpeg exited: ${stderrTail(hls)}`);
        const pl = await readFile(join(hlsDir(), 'live.m3u8'), 'utf8').catch(() => '');
        return (pl.match(/#EXTINF/g) ?? []).length >= 3 ? true : undefined;
      },
      30_000,
      250,
    );
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const c of wss?.clients ?? []) c.terminate();
    wss?.close();
    await closeServer(server);
    await procs.stopAll();
  });

  const latencies: Record<string, { median: number | undefined; samples: number[] }> = {};

  it('plays a ?src= HLS URL with hls.js: currentTime advances >= 5 s, no fatal error, latency measured', async () => {
    await withPage(browser, async (page) => {
      const log = watchConsole(page);
      const r = await playAndMeasure(page, `${base}/player/?src=${encodeURIComponent(`${base}/hls/live.m3u8`)}`);
      assert.ok(r.advanced >= 5, `advanced ${r.advanced} s; console: ${log.join('\n')}`);
      assert.deepEqual(r.fatalErrors, [], `fatal errors; console: ${log.join('\n')}`);
      assert.equal(r.stats.engine, 'hls.js');
      assert.ok(r.latencies.length >= 3, `latency samples ${r.latencies.join(',')}`);
      const med = median(r.latencies) as number;
      assert.ok(med > 0 && med < 15, `HLS latency ${med} s`);
      assert.ok(typeof r.stats.bitrate === 'number' && r.stats.bitrate > 100_000, `bit rate ${String(r.stats.bitrate)}`);
      assert.equal(r.stats.width, 640);
      latencies.hls = { median: med, samples: r.latencies };
      // the stats panel shows it too
      assert.match((await page.textContent('#st-latency')) ?? '', /^\d+\.\d\d s$/);
      assert.match((await page.textContent('#st-engine')) ?? '', /hls\.js \(HLS\)/);
      // a plain playlist: played as before lowLatencyMode learnt LL-HLS, two target durations behind the edge
      assert.equal(await page.textContent('#st-mode'), 'HLS TS');
      const playlist = await readFile(join(hlsDir(), 'live.m3u8'), 'utf8');
      const td = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(playlist)?.[1]);
      const live = r.stats.live as { targetLatency?: number; partTarget?: number; container?: string };
      assert.equal(live.partTarget, undefined);
      assert.equal(live.container, 'ts');
      // hls.js adds a second (liveSyncOnStallIncrease) per stall it reported, up to one target duration
      const stalled = r.allErrors.filter((e) => e.message.startsWith('bufferStalledError')).length;
      const expected = 2 * td + Math.min(stalled, td);
      assert.ok(live.targetLatency !== undefined && Math.abs(live.targetLatency - expected) < 0.01, `target latency ${String(live.targetLatency)} s, expected ${expected} (TARGETDURATION ${td}, ${stalled} stalls)`);
      assert.match((await page.textContent('#st-target')) ?? '', /^\d+\.\d\d s$/);
      assert.equal(await page.textContent('#st-wallclock'), '–', 'no EXT-X-PROGRAM-DATE-TIME in this playlist');
      await screenshot(page, 'player-hls-local.png');
    });
  });

  it('plays ?stream= through the control plane by HTTP-FLV with mpegts.js', async () => {
    await withPage(browser, async (page) => {
      const log = watchConsole(page);
      const r = await playAndMeasure(page, `${base}/player/?stream=live/test&proto=flv`);
      assert.ok(r.advanced >= 5, `advanced ${r.advanced} s; console: ${log.join('\n')}`);
      assert.deepEqual(r.fatalErrors, [], `fatal errors; console: ${log.join('\n')}`);
      assert.equal(r.stats.engine, 'mpegts.js');
      assert.equal(r.stats.url, `${base}/live/test.flv`);
      const med = median(r.latencies) as number;
      assert.ok(med >= 0 && med < 5, `FLV latency ${med} s`);
      latencies.flv = { median: med, samples: r.latencies };
      assert.equal(await page.textContent('#title'), 'live/test');
      await saveArtifact('player-latency-local.json', JSON.stringify({ source: 'in-test ffmpeg server', ...latencies }, null, 2) + '\n');
      console.log(`# local latency: HLS median ${latencies.hls?.median?.toFixed(2)} s, FLV median ${med.toFixed(2)} s`);
      await screenshot(page, 'player-flv-local.png');
    });
  });

  it('chat: a message sent reaches the room and an error frame is shown', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${base}/player/?stream=live/test&proto=hls`);
      await page.waitForSelector('#chat-input:not([disabled])', { timeout: 10_000 });
      assert.equal(await page.textContent('#chat-status'), 'connected');
      await page.fill('#chat-input', 'hello from chromium');
      await page.press('#chat-input', 'Enter');
      await page.waitForSelector('.chat-line >> text=hello from chromium', { timeout: 5000 });
      assert.equal(await page.textContent('.chat-line .chat-from'), 'viewer-live.test');
      await page.fill('#chat-input', 'flood');
      await page.press('#chat-input', 'Enter');
      await page.waitForSelector('.chat-error >> text=slow down', { timeout: 5000 });
    });
  });

  it('shows a fatal error in the video.js error display and records it', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${base}/player/?src=${encodeURIComponent(`${base}/hls/missing.m3u8`)}`);
      await page.waitForSelector('.vjs-error .vjs-error-display', { timeout: 15_000 });
      const text = (await page.textContent('.vjs-error-display')) ?? '';
      assert.match(text, /manifestLoadError|404/i);
      const errs = await page.evaluate(() => window.__livecdn?.errors.filter((e) => e.fatal).length ?? 0);
      assert.ok(errs >= 1);
      await screenshot(page, 'player-error.png');
    });
  });

  it('streamer page creates a stream and shows the OBS settings and the FFmpeg command', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${base}/player/streamer.html`);
      await page.fill('#name', 'bad name!');
      await page.click('#create-form button');
      assert.match((await page.textContent('#create-error')) ?? '', /letters, digits/);
      await page.fill('#name', 'mystream');
      await page.click('#create-form button');
      await page.waitForSelector('#result:not([hidden])');
      assert.deepEqual(created.at(-1), { app: 'live', name: 'mystream' });
      assert.equal(await page.inputValue('input[data-field="Server"]'), 'rtmp://127.0.0.1:1935/live');
      assert.equal(await page.inputValue('input[data-field="Stream Key"]'), 'mystream?token=tok123');
      assert.match((await page.textContent('pre[data-field="ffmpeg"]')) ?? '', /^ffmpeg .*rtmp:\/\/127\.0\.0\.1:1935\/live\/mystream\?token=tok123/);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      await page.click('#result .copy-row:has(input[data-field="Server"]) button.copy');
      await page.waitForSelector('#result button.copy >> text=Copied', { timeout: 3000 });
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'rtmp://127.0.0.1:1935/live');
      await screenshot(page, 'streamer.png');
    });
  });

  it('dashboard lists streams and nodes and the viewer count rises when someone watches', async () => {
    assert.ok(browser);
    const dash = await browser.newPage();
    const viewer = await browser.newPage();
    try {
      await dash.goto(`${base}/player/dashboard.html`);
      const row = 'tr[data-stream="live/test"]';
      await dash.waitForSelector(row, { timeout: 10_000 });
      assert.equal(await dash.textContent(`${row} [data-col="codecs"]`), 'H264 + AAC');
      assert.equal(await dash.textContent(`${row} [data-col="state"]`), 'live');
      assert.equal(await dash.textContent(`${row} [data-col="resolution"]`), '640x360 @25');
      assert.equal(await dash.textContent(`${row} [data-col="bitrate"]`), '700 kbit/s');
      assert.match((await dash.textContent('tr[data-node="edge-eu-1"] [data-col="hit-ratio"]')) ?? '', /93 %/);
      assert.equal(await dash.textContent(`${row} [data-col="hls"]`), 'TS avc1.4d401e,mp4a.40.2');
      assert.equal(await dash.textContent('tr[data-stream="live/lowlat"] [data-col="hls"]'), 'LL-HLS fMP4, parts 0.20 s avc1.64001f,mp4a.40.2');
      assert.equal(await dash.textContent('tr[data-node="edge-eu-1"] [data-col="region"]'), 'eu');
      const viewersNow = async (): Promise<number> => Number((await dash.textContent(`${row} [data-col="viewers"]`)) ?? 'NaN');
      await waitFor('no viewers before the test viewer', async () => ((await viewersNow()) === 0 ? true : undefined), 15_000, 250);
      await viewer.goto(`${base}/player/?stream=live/test&proto=flv`);
      await waitFor('viewer count to rise on the dashboard', async () => ((await viewersNow()) >= 1 ? true : undefined), 15_000, 250);
      assert.match((await dash.textContent(`${row} [data-col="per-proto"]`)) ?? '', /FLV 1/);
      await screenshot(dash, 'dashboard-local.png');
    } finally {
      await viewer.close();
      await dash.close();
    }
  });

  it('player picker lists live streams and navigates to one', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${base}/player/`);
      await page.waitForSelector('#live-list a >> text=live/test');
      await page.fill('#pick-input', 'not a stream');
      await page.press('#pick-input', 'Enter');
      assert.match((await page.textContent('#pick-error')) ?? '', /app\/name/);
      await page.fill('#pick-input', 'live/test');
      await page.selectOption('#pick-proto', 'flv');
      await Promise.all([page.waitForURL(/stream=live%2Ftest/), page.press('#pick-input', 'Enter')]);
      assert.match(page.url(), /proto=flv/);
    });
  });
});

describe('dashboard in Chromium against a real signal: the origin and the edges of each stream', () => {
  let signal: Signal | undefined;
  let browser: Browser | undefined;
  let base = '';

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** The heartbeat of a node that lists `streams`, publishers connected to those in `publishing`. */
  async function heartbeat(id: string, kind: 'origin' | 'edge', streams: string[], publishing: string[] = []): Promise<void> {
    const streamStats = streams.map((stream) => ({ stream, viewers: 1, ...(kind === 'origin' ? { publishing: publishing.includes(stream) } : {}) }));
    const hb = await post(`/api/nodes/${id}/heartbeat`, { load: { viewers: streams.length, publishers: publishing.length, egressBps: 0, cpu: 0, streams, streamStats } });
    assert.equal(hb.status, 204, await hb.text());
  }

  /** Registers a node (without a secret the signal takes unsigned node requests), then its heartbeat; its URL. */
  async function node(id: string, kind: 'origin' | 'edge', streams: string[], publishing: string[] = []): Promise<string> {
    // A port nothing listens on: the dashboard's own look-ups at the node (/api/streams, /api/edge) fail fast.
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    const reg = await post('/api/nodes', { id, kind, region: 'eu', publicUrl, capacity: 100, ...(kind === 'origin' ? { rtmpUrl: `rtmp://127.0.0.1:${await freePort()}` } : {}) });
    assert.equal(reg.status, 201, await reg.text());
    await heartbeat(id, kind, streams, publishing);
    return publicUrl;
  }

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', insecure: true, nodeTtlMs: 120_000, pages: createPlayerHandler({ root: www }) });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await signal?.stop();
  });

  it('reads origin and edges from /api/streams rows, leaving out malformed values', () => {
    const rows = streamRows({
      streams: [
        { app: 'live', stream: 'a', origin: { id: 'origin-a', url: 'http://o:8080' }, edges: ['e1', 3, null, 'e2'] },
        { app: 'live', stream: 'b', origin: { url: 'http://o:8080' }, edges: 'e1' },
        { app: 'live', stream: 'c', origin: null, edges: [] },
        { app: 'live', stream: 'd', origin: { id: 'o', url: 'javascript:alert(1)' } },
      ],
    });
    assert.deepEqual(
      rows.map((r) => [r.key, r.origin, r.edges]),
      [
        ['live/a', { id: 'origin-a', url: 'http://o:8080' }, ['e1', 'e2']],
        ['live/b', undefined, undefined],
        ['live/c', undefined, []],
        ['live/d', { id: 'o', url: undefined }, undefined],
      ],
    );
  });

  it('shows the origin that holds each stream (the publishing one first) and the edges pulling it', async () => {
    // live/moved was republished on origin-b; origin-a still lists it in its republish grace.
    await node('origin-a', 'origin', ['live/moved', 'live/solo'], ['live/solo']);
    const originB = await node('origin-b', 'origin', ['live/moved'], ['live/moved']);
    await node('edge-1', 'edge', ['live/moved']);
    await node('edge-2', 'edge', ['live/moved']);
    await node('edge-3', 'edge', []);
    await node('origin-c', 'origin', ['live/wide'], ['live/wide']);
    const wideEdges = Array.from({ length: 8 }, (_, i) => `edge-w${i + 1}`);
    for (const id of wideEdges) await node(id, 'edge', ['live/wide']);
    const listed = (await (await fetch(`${base}/api/streams`)).json()) as { streams: { id: string; origin: { id: string; url: string } | null; edges: string[] }[] };
    const moved = listed.streams.find((s) => s.id === 'live.moved');
    assert.deepEqual(moved && { origin: moved.origin, edges: [...moved.edges].sort() }, { origin: { id: 'origin-b', url: originB }, edges: ['edge-1', 'edge-2'] });

    await withPage(browser, async (page) => {
      const errors = watchConsole(page);
      await page.goto(`${base}/player/dashboard.html`);
      const row = 'tr[data-stream="live/moved"]';
      await page.waitForSelector(row, { timeout: 10_000 });
      assert.deepEqual(
        await page.$$eval('#streams thead th', (ths) => ths.map((t) => t.textContent)),
        ['Preview', 'Stream', 'State', 'Origin', 'Edges', 'Codecs', 'Resolution', 'HLS', 'Ladder', 'Bit rate in', 'Viewers by protocol', 'Viewers'],
      );
      assert.equal(await page.textContent(`${row} [data-col="origin"]`), 'origin-b');
      assert.equal(await page.getAttribute(`${row} [data-col="origin"]`, 'title'), originB);
      assert.deepEqual((await page.$$eval(`${row} [data-col="edges"] .chip`, (cs) => cs.map((c) => c.textContent))).sort(), ['edge-1', 'edge-2']);
      const solo = 'tr[data-stream="live/solo"]';
      assert.equal(await page.textContent(`${solo} [data-col="origin"]`), 'origin-a');
      assert.equal(await page.textContent(`${solo} [data-col="edges"]`), '–');
      // Past six edges the rest are counted; the tooltip names them all.
      const wide = 'tr[data-stream="live/wide"]';
      assert.equal(await page.locator(`${wide} [data-col="edges"] .chip`).count(), 6);
      assert.equal(await page.textContent(`${wide} [data-col="edges"] .muted`), '+2 more');
      assert.deepEqual((await page.getAttribute(`${wide} [data-col="edges"]`, 'title'))?.split(', ').sort(), wideEdges);
      // Each row has as many cells as the header.
      assert.deepEqual(await page.$$eval('#streams-body tr', (trs) => trs.map((tr) => tr.children.length)), [12, 12, 12]);
      await screenshot(page, 'dashboard-cluster.png');

      // An edge that stops pulling the stream leaves the row on the next refresh (every 2 s).
      await heartbeat('edge-2', 'edge', []);
      await waitFor(
        'edge-2 to leave the row',
        async () => ((await page.$$eval(`${row} [data-col="edges"] .chip`, (cs) => cs.map((c) => c.textContent))).join() === 'edge-1' ? true : undefined),
        10_000,
        250,
      );
      assert.deepEqual(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e)), []);
    });
  });
});
