// nginx/edge.conf.template against the URL contract (src/shared/url-contract.ts), without running nginx:
// its regex locations are read from the template and matched the way nginx does (in order, first match
// wins) against normalised paths, which is what nginx matches ($uri: merged slashes, no dot segments,
// percent-decoded). Every path the contract builds must reach the location of its kind, and no proxied
// location may accept a path the contract refuses or classifies differently.
// nginx/ingest.conf.template, rendered as nginx/README.md says, on Debian's nginx with its stream module:
// `nginx -t` accepts it, and as a TCP front it skips a dead origin at once, spreads connections over live
// ones, and closes a connection whose origin died (so that the encoder reconnects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { INGEST_VARIABLES, NGINX, prepareIngestNginx, startIngestNginx } from './nginx.js';
import {
  dvrPlaylistPath,
  flvPath,
  parsePath,
  playlistPath,
  segmentPath,
  snapshotPath,
  thumbsSpritePath,
  thumbsVttPath,
  vodInitUri,
  vodPlaylistPath,
  vodSegmentUri,
} from '../../src/shared/url-contract.js';

type LocationKind = 'flv' | 'playlist' | 'snapshot' | 'segment' | 'invalid';

const template = readFileSync(new URL('../../nginx/edge.conf.template', import.meta.url), 'utf8');

/** A location's kind, from what it does: each shape of the template must be recognised here. */
function kindOf(body: string): LocationKind {
  if (/^\s*return 400\b/m.test(body)) return 'invalid';
  // A live body: passed through as it arrives, never cached.
  if (/proxy_buffering off;/.test(body) && /proxy_cache off;/.test(body)) return 'flv';
  // A snapshot: one object per width, whatever else the query holds (checked first: it may be served stale while updating).
  if (/proxy_cache_key \$uri\?width=\$arg_width;/.test(body)) return 'snapshot';
  // A playlist must never be served stale: a player would see an old live window.
  if (/proxy_cache_use_stale off;/.test(body)) return 'playlist';
  // An immutable object: stale while it updates.
  if (/proxy_cache_use_stale updating\b/.test(body)) return 'segment';
  throw new Error(`a location of nginx/edge.conf.template has no kind known to this test:\n${body}`);
}

const locations = [...template.matchAll(/location\s+~\s+"([^"]+)"\s*\{([^}]*)\}/g)].map((m) => ({
  re: new RegExp(m[1] ?? ''),
  kind: kindOf(m[2] ?? ''),
}));

/** The kind of the first regex location that matches, or 'other' (`location /`: 404). */
const nginxKind = (path: string): LocationKind | 'other' => locations.find((l) => l.re.test(path))?.kind ?? 'other';

test('the template has a location for each kind of the contract', () => {
  assert.deepEqual(locations.map((l) => l.kind).sort(), ['flv', 'invalid', 'playlist', 'segment', 'snapshot']);
});

const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
/** A recording's name (RECORDING_NAME): {YYYYMMDD}-{HHMMSS}[-N]. */
const recName = fc.stringMatching(/^\d{8}-\d{6}(-\d{1,3})?$/);

test('every path the contract builds reaches the nginx location of its kind', () => {
  fc.assert(
    fc.property(name, name, fc.integer({ min: 0, max: 2 ** 40 }), recName, (app, stream, seq, rec) => {
      // A recording's objects are relative to its VOD playlist, one level below the stream (rec/).
      const recObject = (uri: string): string => `/${app}/${stream}/rec/${uri}`;
      for (const path of [
        flvPath(app, stream),
        playlistPath(app, stream),
        snapshotPath(app, stream),
        segmentPath(app, stream, seq),
        dvrPlaylistPath(app, stream),
        vodPlaylistPath(app, stream, rec),
        recObject(vodSegmentUri(rec, seq % 1e9, 'ts')),
        recObject(vodSegmentUri(rec, seq % 1e9, 'm4s')),
        recObject(vodInitUri(rec)),
        thumbsSpritePath(app, stream, rec),
        thumbsVttPath(app, stream, rec),
      ]) {
        assert.equal(nginxKind(path), parsePath(path).kind, path);
      }
    }),
  );
  // The reserved object shapes (see the contract's header) need no template change.
  for (const file of ['init-1764460800.mp4', '1764460800.m4s', '1764460800.3.m4s', 'rec-1764460800.mp4', '720p.m3u8', '720p-1764460800.ts']) {
    const path = `/live/cam/${file}`;
    assert.equal(nginxKind(path), parsePath(path).kind, path);
  }
});

// Normalised paths close to the contract: name-like parts, separators, extensions and a few bad bytes.
const part = fc
  .array(
    fc.oneof(
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), weight: 4 },
      { arbitrary: fc.constantFrom('.flv', '.m3u8', '.jpg', '.ts', '.mp4', '.', '..', '!', ' ', '~', 'é', '\\'), weight: 2 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{30,70}$/), weight: 1 },
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((xs) => xs.join(''))
  .filter((p) => p !== '.' && p !== '..');
const normalisedPath = fc
  .tuple(fc.array(part, { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([parts, trailingSlash]) => '/' + parts.join('/') + (trailingSlash ? '/' : ''));

test('no nginx location proxies a path that the contract refuses or classifies otherwise', () => {
  fc.assert(
    fc.property(normalisedPath, (path) => {
      const kind = nginxKind(path);
      const contract = parsePath(path).kind;
      if (kind === 'flv' || kind === 'playlist' || kind === 'snapshot' || kind === 'segment') assert.equal(contract, kind, path);
      // And the other way round: what the contract serves, at any depth, nginx proxies as the same kind;
      // what nginx answers itself agrees too: a bad /{app}/… is a 400, a single segment a 404.
      assert.equal(kind, contract, path);
    }),
    { numRuns: 20_000 },
  );
});

// ---- nginx/ingest.conf.template ----

const ingestTemplate = readFileSync(new URL('../../nginx/ingest.conf.template', import.meta.url), 'utf8');

test('ingest template: its placeholders are the documented ones, and every origin fails fast', () => {
  const vars = new Set([...ingestTemplate.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]));
  assert.deepEqual([...vars].sort(), [...INGEST_VARIABLES].sort());
  const readme = readFileSync(new URL('../../nginx/README.md', import.meta.url), 'utf8');
  for (const v of INGEST_VARIABLES) assert.ok(readme.includes(v), `nginx/README.md documents ${v}`);
  const servers = [...ingestTemplate.matchAll(/^\s*server\s+(?!\{)(\S+)([^;]*);/gm)];
  assert.equal(servers.length, 2);
  for (const m of servers) assert.match(m[2] ?? '', /max_fails=1 fail_timeout=10s/, `passive health on ${m[1]}`);
  for (const d of ['proxy_connect_timeout 1s;', 'proxy_next_upstream on;', 'zone livecdn_origins', 'least_conn;']) {
    assert.ok(ingestTemplate.includes(d), d);
  }
});

test('ingest template: rendered with envsubst, `nginx -t` accepts it', async () => {
  const { prefix, args } = await prepareIngestNginx(['127.0.0.1:1935', '127.0.0.1:1936'], await freePort());
  try {
    const conf = readFileSync(`${prefix}/nginx.conf`, 'utf8');
    assert.doesNotMatch(conf, /\$\{LIVECDN_/, 'every placeholder substituted');
    assert.match(conf, /\$binary_remote_addr/, "nginx's own $variables left alone");
    const r = await promisify(execFile)(NGINX, ['-t', ...args.slice(0, -2)], { timeout: 20_000 }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`nginx -t refused the rendered ingest configuration: ${e.stderr ?? e.message}`);
    });
    assert.match(r.stderr, /test is successful/);
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
});

/** A stand-in origin: a TCP server that greets every connection with its name; kill() drops it all at once. */
async function namedServer(name: string, port: number): Promise<{ kill(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write(name);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    kill: () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}

/** Connects through the front: the greeting (the origin reached), how long it took, and the open socket. */
function through(port: number): Promise<{ name: string; ms: number; socket: net.Socket }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(10_000, () => socket.destroy(new Error('no greeting through the front within 10 s')));
    socket.once('data', (b: Buffer) => {
      socket.setTimeout(0);
      resolve({ name: b.toString(), ms: Date.now() - t0, socket });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a greeting')));
  });
}

test('ingest front (real nginx stream module): a dead origin is skipped at once, live ones share the load, a lost origin closes its connections', async (t) => {
  const [portA, portB] = [await freePort(), await freePort()];
  const sockets: net.Socket[] = [];
  // Clients first: nginx's graceful stop waits for the connections it proxies.
  t.after(() => sockets.forEach((s) => s.destroy()));
  const b = await namedServer('B', portB);
  t.after(() => b.kill());
  // A is not listening: its connect is refused.
  const front = await startIngestNginx([`127.0.0.1:${portA}`, `127.0.0.1:${portB}`]);
  t.after(() => front.stop());

  for (let i = 0; i < 3; i++) {
    const c = await through(front.port);
    sockets.push(c.socket);
    assert.equal(c.name, 'B', 'every connection reaches the live origin');
    assert.ok(c.ms < 1500, `without waiting on the dead one (${c.ms} ms)`);
  }
  for (const s of sockets.splice(0)) s.destroy();

  // A comes up; once its fail_timeout (10 s) has passed, new connections go to whichever has fewer.
  const a = await namedServer('A', portA);
  t.after(() => a.kill());
  const held = await through(front.port);
  sockets.push(held.socket);
  const deadline = Date.now() + 20_000;
  let other = held.name;
  while (other === held.name && Date.now() < deadline) {
    const c = await through(front.port);
    other = c.name;
    if (c.name === held.name) {
      c.socket.destroy();
      await new Promise((r) => setTimeout(r, 500));
    } else {
      sockets.push(c.socket);
    }
  }
  assert.notEqual(other, held.name, 'with one connection held on one origin, a new one goes to the other (least_conn)');

  // The origin holding `held` dies: its connection through the front is closed, and the next one lands on the other.
  const dying = held.name === 'A' ? a : b;
  held.socket.on('error', () => undefined);
  await dying.kill();
  await waitFor('the front to close the connection of the dead origin', () => held.socket.destroyed, 5000);
  const again = await through(front.port);
  sockets.push(again.socket);
  assert.equal(again.name, held.name === 'A' ? 'B' : 'A');
  assert.ok(again.ms < 1500, `reconnect in ${again.ms} ms`);
});
