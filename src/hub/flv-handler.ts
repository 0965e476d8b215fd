// GET /{app}/{stream}.flv: HTTP-FLV live. After the response head the socket is written directly with
// pre-framed chunks (see wire-formats.ts), so each batch is one shared buffer and one write per viewer.
// A viewer of a stream that is not live yet waits for it (play-wait.ts) before the response head, whose
// FLV header needs the stream's tracks; it stays connected over a republish within the grace. The origin
// mounts it with hooks, play waits and relay detection; the edge's relay with its own hooks only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Hub } from './hub.js';
import { newClientId, type Hooks } from './hooks.js';
import { reply, type RouteHandler } from '../shared/http.js';
import { CHUNKED_END, flvFormat, httpFlvFormat } from './wire-formats.js';
import type { ViewerSink } from './viewer.js';
import { CONTENT_TYPE, PUBLICATION_HEADER, streamKey, validNames } from '../shared/url-contract.js';
import type { PlayWaits, WaitOutcome } from './play-wait.js';

/** Time a cleanly ended viewer gets to take its last bytes before the socket is cut. */
const END_GRACE_MS = 5000;

function notLive(res: ServerResponse, key: string, why: Exclude<WaitOutcome, object>): void {
  if (why === 'full') return reply(res, 503, `stream ${key} is not live and too many viewers wait for it`, { 'Retry-After': '5' });
  if (why === 'aborted') return reply(res, 503, 'shutting down');
  reply(res, 404, `stream ${key} not found`);
}

/**
 * The socket as a viewer sink. A class rather than a literal with a getter closure: every viewer then
 * shares one hidden class, so the fan-out's per-viewer writableLength read and write stay monomorphic.
 */
class FlvSocketSink implements ViewerSink {
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly chunked: boolean,
  ) {}

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  writev(parts: readonly Buffer[]): void {
    // One buffer needs no cork/uncork round.
    if (parts.length === 1) return void this.socket.write(parts[0] as Buffer);
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  }

  end(): void {
    if (this.ending) return;
    this.ending = true;
    const socket = this.socket;
    if (this.chunked) socket.write(CHUNKED_END);
    socket.end();
    setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
  }

  abort(): void {
    this.socket.destroy();
  }
}

export interface FlvHandlerOptions {
  /** Asked about every viewer (on_play) and told when it leaves (on_done); without, every viewer may play. */
  readonly hooks?: Hooks;
  /** Play before publish: a viewer of a stream that is not live yet waits for it; without, a 404 at once. */
  readonly waits?: PlayWaits;
  /**
   * Whether a request comes from a relay (a downstream edge). A relay keeps its own grace and retries:
   * holding its request for a publisher, or keeping it over a republish, would only trip its timeouts.
   */
  readonly fromRelay?: (req: IncomingMessage) => boolean;
}

export function flvHandler(hub: Hub, opts: FlvHandlerOptions = {}): RouteHandler {
  const { hooks, waits, fromRelay } = opts;
  return async (req: IncomingMessage, res: ServerResponse, [app, name], url) => {
    if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
    const key = streamKey(app, name);
    const relay = fromRelay?.(req) ?? false;
    // HEAD asks about now.
    const mayWait = waits !== undefined && !relay && req.method !== 'HEAD';
    if (!hub.get(app, name)) {
      const refused = mayWait ? waits.refusal(key) : 'off';
      if (refused) return notLive(res, key, refused);
    }
    const clientId = newClientId('flv');
    const remoteAddress = req.socket.remoteAddress ?? '';
    const event = { app, stream: name, query: Object.fromEntries(url.searchParams), remoteAddress, clientId };
    if (hooks) {
      const allowed = await hooks.allowPlay(event, 'flv');
      if (!allowed.ok) return reply(res, 403, allowed.reason);
    }
    const socket = req.socket;
    // The hook took time: the stream may have ended (or not started yet), and the client may have gone.
    let stream = hub.get(app, name);
    if (!stream) {
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      socket.once('close', onClose);
      if (mayWait) hub.log.debug({ stream: key, viewer: clientId, remoteAddress }, 'flv viewer waits for the publisher');
      const got = mayWait ? await waits.wait(key, gone.signal) : 'off';
      socket.off('close', onClose);
      if (typeof got === 'string') {
        hooks?.done(event, 'play');
        return socket.destroyed ? undefined : notLive(res, key, got);
      }
      stream = got;
    }
    if (socket.destroyed) return;
    const chunked = req.httpVersionMinor >= 1 || req.httpVersionMajor > 1;
    // CORS comes from the server, as for every answer (shared/http.ts: allowCrossOrigin on the origin, CrossOriginResponse on the edge).
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPE.flv,
      'Cache-Control': 'no-cache, no-store',
      // Which publication this answer carries: a relay reconnecting to it tells a replay from new frames.
      [PUBLICATION_HEADER]: stream.publicationId,
      ...(chunked ? { 'Transfer-Encoding': 'chunked' } : {}),
      Connection: 'close',
    });
    if (req.method === 'HEAD') return void res.end();
    res.flushHeaders();
    socket.setNoDelay(true);
    const sink = new FlvSocketSink(socket, chunked);
    const joined = stream;
    const viewer = joined.addViewer(chunked ? httpFlvFormat : flvFormat, sink, { id: clientId, remoteAddress, keepAcrossRepublish: !relay });
    hub.log.debug({ stream: key, viewer: clientId, remoteAddress }, 'flv viewer joined');
    socket.once('close', () => {
      joined.removeViewer(viewer);
      hooks?.done(event, 'play');
    });
  };
}
