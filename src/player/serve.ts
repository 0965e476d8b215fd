// Serves the built player pages under /player/ from any Node HTTP server (origin, edge, signal):
//
//   const player = createPlayerHandler();
//   http.createServer((req, res) => { if (player(req, res)) return; ...the rest... });
//   express: app.use((req, res, next) => { if (!player(req, res)) next(); });
//
// The pages are built by scripts/build-player.mjs (`npm run build`) into dist/player/www/. When that
// directory is missing the handler builds it once on first use (esbuild is a dependency), and when it
// cannot, answers 503 with the command to run.
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HttpError, reply, replyThrown } from '../shared/http.js';
import { createLogger, type Logger } from '../shared/log.js';

export interface PlayerHandlerOptions {
  /** Directory holding the built pages; default `<repo>/dist/player/www`. */
  readonly root?: string;
  /** Build the pages into `root` when they are missing (default true). */
  readonly buildIfMissing?: boolean;
  /** Where failures are told in full (clients get a short answer); default a 'player' logger. */
  readonly log?: Logger;
}

export type PlayerHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

// src/player/serve.ts and dist/player/serve.js both sit two levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const defaultPlayerRoot = join(repoRoot, 'dist', 'player', 'www');
const buildScript = join(repoRoot, 'scripts', 'build-player.mjs');

export const PREFIX = '/player';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** HTML revalidates every time so a new build shows at once; the rest is cached a little, with ETags. */
function cacheControl(ext: string): string {
  return ext === '.html' || ext === '.json' ? 'no-cache' : 'public, max-age=300';
}

/**
 * The path below /player/ as safe segments, '' for the index; `null` when the request is not ours;
 * an Error when it is ours but malformed (traversal, NUL, backslash, bad escapes).
 */
export function playerPath(rawUrl: string): string[] | null | Error {
  const q = rawUrl.search(/[?#]/);
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (path !== PREFIX && !path.startsWith(PREFIX + '/')) return null;
  const rest = path.slice(PREFIX.length + 1);
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return new Error('bad percent-encoding');
    }
    if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg) || seg.startsWith('.')) return new Error('bad path segment');
    segments.push(seg);
  }
  return segments;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function createPlayerHandler(opts: PlayerHandlerOptions = {}): PlayerHandler {
  const root = resolve(opts.root ?? defaultPlayerRoot);
  const buildIfMissing = opts.buildIfMissing ?? true;
  const log = opts.log ?? createLogger('player');
  let ready: Promise<void> | undefined;
  let readyNow = false;

  const ensureBuilt = (): Promise<void> => {
    if (ready) return ready;
    ready = (async () => {
      if (existsSync(join(root, 'index.html'))) return;
      if (!buildIfMissing || !existsSync(buildScript)) {
        throw new Error(`the player pages are not built (no ${join(root, 'index.html')}): run \`npm run build\``);
      }
      const mod = (await import(pathToFileURL(buildScript).href)) as { buildPlayer?: (o: { outdir: string }) => Promise<unknown> };
      if (typeof mod.buildPlayer !== 'function') throw new Error(`${buildScript} has no buildPlayer(): run \`npm run build\``);
      try {
        await mod.buildPlayer({ outdir: root });
      } catch (err) {
        throw new Error(`building the player pages failed (${err instanceof Error ? err.message : String(err)}): run \`npm run build\``);
      }
    })().then(
      () => {
        readyNow = true;
      },
      (err: unknown) => {
        ready = undefined; // try again on the next request: the operator may have run the build meanwhile
        log.warn({ err }, 'player pages unavailable');
        throw new HttpError(503, 'not_built', 'the player pages are not built: run `npm run build`');
      },
    );
    return ready;
  };
  // Known at once when the build is already there: no await on the hot path.
  if (existsSync(join(root, 'index.html'))) {
    readyNow = true;
    ready = Promise.resolve();
  }

  const serveFile = async (req: IncomingMessage, res: ServerResponse, segments: string[], url: string): Promise<void> => {
    const rel = segments.length ? segments.join('/') : 'index.html';
    const file = resolve(root, rel);
    if (file !== root && !file.startsWith(root + sep)) {
      reply(res, 400, 'bad path');
      return;
    }
    let st;
    try {
      st = await stat(file);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory() && (await isFile(join(file, 'index.html')))) {
      // /player/sub -> /player/sub/ so that the page's relative URLs resolve
      const q = url.indexOf('?');
      res.writeHead(301, { location: `${PREFIX}/${rel}/${q >= 0 ? url.slice(q) : ''}`, 'cache-control': 'no-cache' });
      res.end();
      return;
    }
    if (!st || !st.isFile()) {
      reply(res, 404, `not found: ${PREFIX}/${rel}`);
      return;
    }
    const ext = extname(file).toLowerCase();
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'cache-control': cacheControl(ext),
      etag,
      'last-modified': st.mtime.toUTCString(),
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(st.size);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  };

  return (req, res) => {
    // Mounted in express with app.use('/player', ...), req.url loses the prefix; originalUrl keeps it.
    const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
    const url = typeof original === 'string' ? original : (req.url ?? '/');
    const segments = playerPath(url);
    if (segments === null) return false;
    if (segments instanceof Error) {
      reply(res, 400, `bad request: ${segments.message}`);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return true;
    }
    if (segments.length === 0 && !/^\/player\/(\?|$)/.test(url)) {
      // /player -> /player/ (keeping the query) so that relative asset URLs resolve
      const q = url.indexOf('?');
      res.writeHead(301, { location: `${PREFIX}/${q >= 0 ? url.slice(q) : ''}`, 'cache-control': 'no-cache' });
      res.end();
      return true;
    }
    const go = (): void => {
      serveFile(req, res, segments, url).catch((err: unknown) => replyThrown(res, err, log, { url }));
    };
    if (readyNow) go();
    else ensureBuilt().then(go, (err: unknown) => replyThrown(res, err, log, { url }));
    return true;
  };
}
