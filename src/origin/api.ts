// /api/streams (JSON for operators and the signal service) and DELETE /api/streams/{app}/{stream}, which
// kicks a publisher (token revocation). The DELETE needs `Authorization: Bearer <secret>`.
import type { Hub } from './hub.js';
import type { HlsService } from './hls-service.js';
import type { RouteHandler } from './http-server.js';
import { reply } from './http-server.js';
import { checkBearer } from './auth.js';
import { validNames } from './names.js';

export const API_STREAMS_PATH = /^\/api\/streams\/?$/;
export const API_STREAM_PATH = /^\/api\/streams\/([^/]+)\/([^/]+)$/;

export function listStreams(hub: Hub, hls: HlsService): object[] {
  const now = Date.now();
  return hub.list().map((s) => {
    const info = s.info.toJSON(now);
    return {
      app: s.app,
      name: s.name,
      codecs: { video: info.video?.codec ?? null, audio: info.audio?.codec ?? null },
      width: info.video?.width ?? null,
      height: info.video?.height ?? null,
      fps: info.video?.fps ?? null,
      audioSampleRate: info.audio?.sampleRate ?? null,
      audioChannels: info.audio?.channels ?? null,
      video: info.video,
      audio: info.audio,
      bitrateIn: info.bitrateIn,
      viewers: { flv: s.viewerCount('flv'), rtmp: s.viewerCount('rtmp'), hls: hls.viewers(s.app, s.name) },
      publisher: s.publisher ? { id: s.publisher.id, remoteAddress: s.publisher.remoteAddress } : null,
      uptimeMs: s.info.uptimeMs,
    };
  });
}

export function streamsHandler(hub: Hub, hls: HlsService): RouteHandler {
  return (_req, res) => reply(res, 200, { streams: listStreams(hub, hls) });
}

export function kickHandler(hub: Hub, secret: string | undefined): RouteHandler {
  return (req, res, [app, name]) => {
    if (!checkBearer(req.headers.authorization, secret)) {
      return reply(res, secret ? 401 : 403, secret ? 'bad or missing bearer token' : 'no --secret configured: the admin API is off', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
    if (!hub.kick(app, name, 'revoked by the control plane')) return reply(res, 404, `stream ${app}/${name} is not live`);
    reply(res, 200, { kicked: `${app}/${name}` });
  };
}
