// GET /{app}/{stream}.flv: HTTP-FLV live. After the response head the socket is written directly with
// pre-framed chunks (see formats.ts), so each batch is one shared buffer and one write per viewer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from './hub.js';
import type { Hooks } from './hooks.js';
import { CORS_HEADERS, reply } from './http-server.js';
import type { RouteHandler } from './http-server.js';
import { CHUNKED_END, flvFormat, httpFlvFormat } from './formats.js';
import type { ViewerSink } from './viewer.js';
import { newClientId, validNames } from './names.js';

/** Time a cleanly ended viewer gets to take its last bytes before the socket is cut. */
const END_GRACE_MS = 5000;

export function flvHandler(hub: Hub, hooks: Hooks): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse, [app, name], url) => {
    if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
    if (!hub.get(app, name)) return reply(res, 404, `stream ${app}/${name} not found`);
    const clientId = newClientId('flv');
    const remoteAddress = req.socket.remoteAddress ?? '';
    const event = { app, stream: name, query: Object.fromEntries(url.searchParams), remoteAddress, clientId };
    const allowed = await hooks.allowPlay(event, 'flv');
    if (!allowed.ok) return reply(res, 403, allowed.reason);
    // The hook took time: the stream may have ended, and the client may have gone.
    const stream = hub.get(app, name);
    if (!stream) return reply(res, 404, `stream ${app}/${name} not found`);
    const socket = req.socket;
    if (socket.destroyed) return;
    const chunked = req.httpVersionMinor >= 1 || req.httpVersionMajor > 1;
    res.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': 'video/x-flv',
      'Cache-Control': 'no-cache, no-store',
      ...(chunked ? { 'Transfer-Encoding': 'chunked' } : {}),
      Connection: 'close',
    });
    if (req.method === 'HEAD') return void res.end();
    res.flushHeaders();
    socket.setNoDelay(true);
    let ending = false;
    const sink: ViewerSink = {
      get writableLength() {
        return socket.writableLength;
      },
      write: (b) => void socket.write(b),
      writev: (parts) => {
        socket.cork();
        for (const p of parts) socket.write(p);
        socket.uncork();
      },
      end: () => {
        if (ending) return;
        ending = true;
        if (chunked) socket.write(CHUNKED_END);
        socket.end();
        setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
      },
      abort: () => void socket.destroy(),
    };
    const viewer = stream.addViewer(chunked ? httpFlvFormat : flvFormat, sink, { id: clientId, remoteAddress });
    hub.log.debug({ stream: stream.key, viewer: clientId, remoteAddress }, 'flv viewer joined');
    socket.once('close', () => {
      stream.removeViewer(viewer);
      hooks.done(event, 'play');
    });
  };
}
