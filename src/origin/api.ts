// /api/streams (JSON for operators and the signal service) and DELETE /api/streams/{app}/{stream}, which
// kicks a publisher (token revocation). The DELETE needs the admin bearer or a request signed with the node
// key (the signal's kicks); publishers' addresses are shown to admin callers only.
import type { DvrStat, NodeLoad, RungStat, StreamStat, TranscodeJob, TranscodeStat } from '../shared/cluster.js';
import type { Hub } from '../hub/hub.js';
import type { HlsService } from './hls-service.js';
import type { Stream } from '../hub/stream.js';
import { reply, type RouteHandler } from '../shared/http.js';
import { checkNodeSignature, hasAdminBearer } from '../shared/admin-auth.js';
import type { ClusterKeys } from '../shared/keys.js';
import { streamKey, validNames } from '../shared/url-contract.js';

export const API_STREAMS_PATH = /^\/api\/streams\/?$/;

/** A source's transcoder as the APIs report it (the transcode service, local or remote). */
export interface TranscodeStats {
  stats(app: string, stream: string): TranscodeStat | undefined;
  /** What a remote transcoder must make of a source (--transcode-remote): the heartbeat's transcodeJob. */
  jobOf?(app: string, stream: string): TranscodeJob | undefined;
}

/**
 * Remote transcoding: the job the signal hands a transcoder (GET /api/transcode/assignments), while the
 * source is published here. The signal assigns exactly the streams that carry one.
 */
function remoteJob(s: Stream, transcode: TranscodeStats | undefined): { transcodeJob?: TranscodeJob } {
  if (!s.publisher || transcode?.stats(s.app, s.name)?.where !== 'remote') return {};
  const job = transcode.jobOf?.(s.app, s.name);
  return job ? { transcodeJob: job } : {};
}

/** The ABR fields of a source with a ladder: its renditions as HLS serves them and its transcoder. */
function abrFields(s: Stream, hls: HlsService, transcode: TranscodeStats | undefined): { ladder?: RungStat[]; transcode?: TranscodeStat } {
  const ladder = hls.ladder(s.app, s.name);
  if (!ladder) return {};
  const t = transcode?.stats(s.app, s.name);
  return { ladder, ...(t ? { transcode: t } : {}) };
}

/** A stream's DVR window (the DVR store), for the `dvr` of /api/streams and heartbeats. */
export interface DvrInfo {
  info(app: string, stream: string): DvrStat | undefined;
}

/** Viewers of one stream by protocol (hls: distinct playlist fetchers over the last 10 s). */
export function streamViewers(s: Stream, hls: HlsService): { flv: number; rtmp: number; hls: number } {
  return { flv: s.viewerCount('flv'), rtmp: s.viewerCount('rtmp'), hls: hls.viewers(s.app, s.name) };
}

/** The origin's load for a heartbeat to the signal service; egress and CPU come from the caller's sampler. */
export function originLoad(hub: Hub, hls: HlsService, sampled: { egressBps: number; cpu: number }, transcode?: TranscodeStats, dvr?: DvrInfo): NodeLoad {
  const now = Date.now();
  const streamStats: StreamStat[] = hub.list().map((s) => {
    const v = streamViewers(s, hls);
    const info = s.info.toJSON(now);
    const hlsInfo = hls.info(s.app, s.name);
    const dvrInfo = dvr?.info(s.app, s.name);
    return {
      stream: s.key,
      viewers: v.flv + v.rtmp + v.hls,
      publishing: s.publisher !== undefined,
      ...(info.video ? { video: info.video.codec } : {}),
      ...(info.audio ? { audio: info.audio.codec } : {}),
      bitrateBps: info.bitrateIn,
      ...(hlsInfo ? { hls: hlsInfo } : {}),
      ...(dvrInfo ? { dvr: dvrInfo } : {}),
      ...abrFields(s, hls, transcode),
      ...remoteJob(s, transcode),
    };
  });
  return {
    viewers: streamStats.reduce((n, s) => n + s.viewers, 0),
    publishers: streamStats.filter((s) => s.publishing).length,
    egressBps: Math.round(sampled.egressBps),
    cpu: Math.round(sampled.cpu * 1000) / 1000,
    streams: streamStats.map((s) => s.stream),
    streamStats,
  };
}

/** The file being recorded for a stream (the recorder), for /api/streams' `recording`. */
export interface RecordingNow {
  current(key: string): { readonly id: string; readonly bytes: number; readonly durationMs: number } | undefined;
}

/** `withAddresses`: publishers' IP addresses are personal data, for admin callers only. */
export function listStreams(hub: Hub, hls: HlsService, withAddresses: boolean, transcode?: TranscodeStats, recorder?: RecordingNow, dvr?: DvrInfo): object[] {
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
      viewers: streamViewers(s, hls),
      // The HLS container, LL-HLS part target and CODECS (the dashboard shows them); null until chosen.
      hls: hls.info(s.app, s.name) ?? null,
      publisher: s.publisher ? { id: s.publisher.id, ...(withAddresses ? { remoteAddress: s.publisher.remoteAddress } : {}) } : null,
      uptimeMs: s.info.uptimeMs,
      recording: recordingOf(s, recorder),
      // With --dvr-window: the time-shift window kept now; null without DVR or before its first segment.
      dvr: dvr?.info(s.app, s.name) ?? null,
      // A source with a ladder: its renditions (multivariant figures) and transcoder.
      ...abrFields(s, hls, transcode),
    };
  });
}

function recordingOf(s: Stream, recorder: RecordingNow | undefined): { id: string; bytes: number; durationMs: number } | null {
  const r = recorder?.current(s.key);
  return r ? { id: r.id, bytes: r.bytes, durationMs: r.durationMs } : null;
}

export function streamsHandler(hub: Hub, hls: HlsService, keys: ClusterKeys | undefined, transcode?: TranscodeStats, recorder?: RecordingNow, dvr?: DvrInfo): RouteHandler {
  return (req, res) =>
    reply(res, 200, { streams: listStreams(hub, hls, keys !== undefined && hasAdminBearer(req.headers.authorization, keys), transcode, recorder, dvr) });
}

/** Operators (admin bearer) and the signal (a DELETE signed with the node key) may kick; anyone without keys. */
export function kickHandler(hub: Hub, keys: ClusterKeys | undefined): RouteHandler {
  return (req, res, [app, name]) => {
    const allowed = hasAdminBearer(req.headers.authorization, keys) || checkNodeSignature(keys, req.headers, 'DELETE', req.url ?? '', '').ok;
    if (!allowed) return reply(res, 401, 'bad or missing bearer token or signature', { 'WWW-Authenticate': 'Bearer' });
    if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
    if (!hub.kick(app, name, 'revoked by the control plane')) return reply(res, 404, `stream ${streamKey(app, name)} is not live`);
    reply(res, 200, { kicked: streamKey(app, name) });
  };
}
