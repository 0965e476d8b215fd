// The JSON API: streams, play placement, nodes, hooks. Thin routes over the services; every input
// validated with zod, every error `{error, message}` (errors.ts).
//
// Who may call what (docs/README "Security model"): operators' write routes need the admin bearer; the
// node routes need a request signed with the node key (shared/signed-request.ts); reads, play and hooks
// are open (hooks decide by the tokens they carry). Without keys (--insecure) everything is open.
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { checkNodeSignature, hasAdminBearer } from '../shared/admin-auth.js';
import type { DvrStat, NodeRecord, RouteAnswer, RungStat, StreamHlsInfo, TranscodeStat } from '../shared/cluster.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { SIGNATURE_HEADER, checkHeaderShape, signedFetch } from '../shared/signed-request.js';
import {
  PLAY_API_ROUTE,
  ROUTE_API_ROUTE,
  RUNG_NAME,
  SOURCE_RUNG,
  dvrPlaylistPath,
  flvPath,
  isValidName,
  joinUrl,
  playApiPath,
  playlistPath,
  renditionStream,
  snapshotPath,
  streamApiPath,
  streamKey,
} from '../shared/url-contract.js';
import { HttpError, reply } from '../shared/http.js';
import { TRANSCODE_ASSIGNMENTS_PATH } from '../shared/transcode-job.js';
import { SIGNAL_DEFAULTS } from './defaults.js';
import type { SignalMetrics } from './metrics.js';
import type { ClusterView, Placement } from './placement.js';
import { addRecordingRoutes } from './recordings.js';
import type { RegionMap } from './region-map.js';
import {
  createStreamSchema,
  describeZodError,
  heartbeatSchema,
  hookSchema,
  nameSchema,
  nodeIdSchema,
  normaliseHookBody,
  playQuerySchema,
  registrationSchema,
} from './schemas.js';
import type { RegistryStore } from './store.js';
import type { StreamService } from './streams.js';
import { parseStreamId, streamId } from './types.js';
import type { StreamRecord } from './types.js';
import { transcodeAssignments } from './transcode-assignment.js';

export interface ApiContext {
  readonly store: RegistryStore;
  readonly streams: StreamService;
  readonly placement: Placement;
  /** The current cluster view (cached; see Signal). */
  view(): Promise<ClusterView>;
  /** A node changed: the next view() reads the store again. */
  nodesChanged(): void;
  readonly regionMap: RegionMap | undefined;
  /** Used when no origin is registered. */
  readonly fallbackOrigin: { readonly rtmpUrl: string | undefined; readonly httpUrl: string | undefined };
  /** rtmp://host:port of the ingest front (--ingest-url): every push URL is on it. */
  readonly ingestRtmpUrl?: string | undefined;
  /** The cluster's keys; undefined in an --insecure cluster (write routes open, nothing signed). */
  readonly keys: ClusterKeys | undefined;
  readonly kickTimeoutMs: number;
  readonly recordingsTimeoutMs: number;
  readonly metrics: SignalMetrics;
  readonly log: Logger;
  now(): number;
}

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, 'bad_request', `invalid ${what}: ${describeZodError(r.error)}`);
  return r.data;
}

const NEEDS_ADMIN = 'this route needs Authorization: Bearer <admin token> (`livecdn keys` prints it)';

/** Operators' write routes: the admin bearer. */
function requireAdmin(keys: ClusterKeys | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!hasAdminBearer(req.get('authorization'), keys)) throw new HttpError(401, 'unauthorized', NEEDS_ADMIN);
    next();
  };
}

/**
 * Node routes: the signature header is checked for shape and freshness, then the raw body is read (up to
 * `limit`), the signature checked over method, path, query and those exact bytes, and only then parsed as JSON into req.body. With `orAdmin`, the admin bearer is
 * accepted instead (an operator deleting a node).
 */
function requireNode(keys: ClusterKeys | undefined, limit: string, orAdmin = false): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit });
  const refuse = (reason: string): never => {
    throw new HttpError(401, 'unauthorized', `this route needs a request signed with the node key (X-Livecdn-Signature: ${reason})`);
  };
  // Before the body is read: a client without a present, well-formed, fresh signature never makes the
  // signal buffer up to `limit` bytes for it.
  const gate: RequestHandler = (req, _res, next) => {
    if (keys && !(orAdmin && hasAdminBearer(req.get('authorization'), keys))) {
      const shape = checkHeaderShape(req.get(SIGNATURE_HEADER));
      if (!shape.ok) refuse(shape.reason);
    }
    next();
  };
  const verify: RequestHandler = (req, _res, next) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!(orAdmin && keys && hasAdminBearer(req.get('authorization'), keys))) {
      const check = checkNodeSignature(keys, req.headers, req.method, req.originalUrl, body);
      if (!check.ok) refuse(check.reason);
    }
    if (body.length === 0) req.body = undefined;
    else {
      try {
        req.body = JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        throw new HttpError(400, 'bad_json', 'the body is not valid JSON');
      }
    }
    next();
  };
  return [gate, raw, verify];
}

/** The query that signs a play URL: empty without play tokens. */
const tokenQuery = (token: string | undefined): string => (token ? `?token=${token}` : '');

function playUrls(base: string, app: string, stream: string, token: string | undefined): { flv: string; hls: string } {
  const q = tokenQuery(token);
  return { flv: joinUrl(base, flvPath(app, stream) + q), hls: joinUrl(base, playlistPath(app, stream) + q) };
}

/**
 * The stream's DVR playlist (when its origin keeps a window) and snapshot (once it has video) on `base`,
 * signed like the play URLs.
 */
function dvrAndSnapshotUrls(base: string, app: string, stream: string, token: string | undefined, st: StreamStats): { dvr?: string; snapshot?: string } {
  const q = tokenQuery(token);
  return {
    ...(st.dvr ? { dvr: joinUrl(base, dvrPlaylistPath(app, stream) + q) } : {}),
    ...(st.video ? { snapshot: joinUrl(base, snapshotPath(app, stream) + q) } : {}),
  };
}

/**
 * The play answer's renditions: the origin's ladder of app/stream (source first) as URLs on `base`. The
 * source's HLS URL is its media playlist (`{stream}_source.m3u8`: the multivariant one is the answer's
 * `hls`); each URL carries a play token for the stream it names when play tokens are on (the source's
 * HLS URL one for `{stream}_source`, as the multivariant playlist lists it: play-auth.ts).
 */
function renditionUrls(base: string, app: string, stream: string, ladder: readonly RungStat[], tokenFor: (hubStream: string) => string | undefined) {
  const query = (name: string): string => tokenQuery(tokenFor(name));
  const out = [];
  for (const r of ladder) {
    const rendition = renditionStream(stream, r.rung);
    // A heartbeat is another process's word: only names that make valid stream names become URLs.
    if (!RUNG_NAME.test(r.rung) || !isValidName(rendition)) continue;
    const hub = r.rung === SOURCE_RUNG ? stream : rendition;
    out.push({
      rung: r.rung,
      stream: hub,
      live: r.live,
      ...(r.width !== undefined ? { width: r.width } : {}),
      ...(r.height !== undefined ? { height: r.height } : {}),
      ...(r.bandwidthBps !== undefined ? { bandwidthBps: r.bandwidthBps } : {}),
      hls: joinUrl(base, playlistPath(app, rendition) + query(rendition)),
      flv: joinUrl(base, flvPath(app, hub) + query(hub)),
    });
  }
  return out;
}

interface StreamStats {
  live: boolean;
  viewers: number;
  video: string | undefined;
  audio: string | undefined;
  bitrateBps: number | undefined;
  hls: StreamHlsInfo | undefined;
  /** The origin's transcoding ladder of this source (source first) and its transcoder's state. */
  ladder: readonly RungStat[] | undefined;
  transcode: TranscodeStat | undefined;
  /** The origin's DVR window of this stream. */
  dvr: DvrStat | undefined;
  /** The origin a viewer or an edge is sent to (the first in route order). */
  origin: NodeRecord | undefined;
  nodes: string[];
  /** The edges whose heartbeat lists it (they pull it). */
  edges: string[];
}

/** What heartbeats say about one stream: where it is, its viewers (edges and origins), its codecs. */
function statsFor(view: ClusterView, key: string): StreamStats {
  const origin = view.originsOf.get(key)?.[0]?.node;
  const s: StreamStats = { live: false, viewers: 0, video: undefined, audio: undefined, bitrateBps: undefined, hls: undefined, ladder: undefined, transcode: undefined, dvr: undefined, origin, nodes: [], edges: [] };
  let remote: TranscodeStat | undefined;
  for (const { node: n, stat } of view.streams.get(key) ?? []) {
    s.nodes.push(n.id);
    if (n.kind === 'edge') s.edges.push(n.id);
    if (n.kind === 'origin') s.live = stat?.publishing ?? true;
    if (stat) {
      s.viewers += stat.viewers;
      s.video ??= stat.video;
      s.audio ??= stat.audio;
      s.bitrateBps ??= stat.bitrateBps;
      s.hls ??= stat.hls;
      // Only the origin knows the ladder: an edge lists the rung streams it relays, not the ladder.
      if (n.kind === 'origin') {
        s.ladder ??= stat.ladder;
        s.transcode ??= stat.transcode;
        s.dvr ??= stat.dvr;
      }
      if (n.kind === 'transcoder') remote ??= stat.transcode;
    }
  }
  // A remote transcoder knows its encoding speed; the origin that asked for it does not.
  if (s.transcode?.where === 'remote' && s.transcode.speed === null && remote) s.transcode = { ...s.transcode, speed: remote.speed };
  return s;
}

/**
 * `withAddresses`: the publisher's IP address is personal data, for admin callers only. `token`: the play
 * token of app/stream, when play tokens are on (the snapshot URL carries it, as the play answer's do).
 */
function streamView(rec: StreamRecord | undefined, app: string, stream: string, view: ClusterView, withAddresses: boolean, token: string | undefined) {
  const st = statsFor(view, streamKey(app, stream));
  const publisher = rec?.publisher ?? null;
  return {
    id: streamId(app, stream),
    app,
    stream,
    live: (rec?.live ?? false) || st.live,
    publisher: publisher && !withAddresses ? { clientId: publisher.clientId, since: publisher.since, ...(publisher.nodeId ? { nodeId: publisher.nodeId } : {}) } : publisher,
    viewers: st.viewers,
    codecs: { video: st.video ?? null, audio: st.audio ?? null },
    bitrateBps: st.bitrateBps ?? null,
    hls: st.hls ?? null,
    ladder: st.ladder ?? null,
    transcode: st.transcode ?? null,
    dvr: st.dvr ?? null,
    // The origin's snapshot: the dashboard's thumbnail.
    snapshot: st.origin ? (dvrAndSnapshotUrls(st.origin.publicUrl, app, stream, token, st).snapshot ?? null) : null,
    nodes: st.nodes,
    origin: st.origin ? { id: st.origin.id, url: st.origin.publicUrl } : null,
    edges: st.edges,
    createdAt: rec?.createdAt ?? null,
    tokenExp: rec?.tokenExp ?? null,
    chat: `/api/streams/${streamId(app, stream)}/chat`,
  };
}

const nodeRef = (n: NodeRecord) => ({ id: n.id, kind: n.kind, region: n.region });

export function createApiRouter(ctx: ApiContext): Router {
  const r = express.Router();
  const small = express.json({ limit: '16kb' });
  const hookBody = [express.json({ limit: '16kb' }), express.urlencoded({ extended: false, limit: '16kb' })];
  const admin = requireAdmin(ctx.keys);
  // Without keys there is no admin to show addresses to: they stay hidden.
  const isAdmin = (req: Request): boolean => ctx.keys !== undefined && hasAdminBearer(req.get('authorization'), ctx.keys);

  r.get('/api/health', (_req, res) => {
    reply(res, 200, { ok: true, store: ctx.store.kind });
  });

  // ---- streams ----

  r.post('/api/streams', admin, small, async (req, res) => {
    const body = parse(createStreamSchema, req.body ?? {}, 'stream request');
    // Behind an ingest front the front picks the origin (the live one with the fewest connections), not the placement:
    // the answer names none, and a publisher whose origin died reconnects to the same URL and lands on another.
    const { origin, registered } = ctx.ingestRtmpUrl ? { origin: undefined, registered: 0 } : ctx.placement.publish(await ctx.view());
    const rtmpBase = ctx.ingestRtmpUrl ?? origin?.rtmpUrl ?? (registered === 0 ? ctx.fallbackOrigin.rtmpUrl : undefined);
    if (!rtmpBase) {
      throw registered > 0
        ? new HttpError(503, 'no_capacity', 'every registered origin is at capacity')
        : new HttpError(503, 'no_origin', 'no origin is registered and no --origin-rtmp is configured');
    }
    const now = ctx.now();
    const { rec, token } = await ctx.streams.create(body.app, body.name, body.expiresInSec, now);
    const key = token ? `${rec.stream}?token=${token}` : rec.stream;
    const server = joinUrl(rtmpBase, `/${rec.app}`);
    const pushUrl = `${server}/${key}`;
    const httpBase = origin?.publicUrl ?? ctx.fallbackOrigin.httpUrl;
    reply(res, 201, {
      id: rec.id,
      app: rec.app,
      stream: rec.stream,
      token: token ?? null,
      expiresAt: token ? rec.tokenExp : null,
      pushUrl,
      obs: { server, streamKey: key },
      ffmpeg:
        `ffmpeg -re -i INPUT -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -b:a 128k ` +
        `-f flv '${pushUrl}'`,
      origin: origin ? nodeRef(origin) : null,
      play: { api: playApiPath(rec.app, rec.stream), ...(httpBase ? { origin: playUrls(httpBase, rec.app, rec.stream, undefined) } : {}) },
      chat: `/api/streams/${rec.id}/chat`,
    });
  });

  r.get('/api/streams', async (req, res) => {
    const [records, view] = await Promise.all([ctx.store.listStreams(), ctx.view()]);
    const withAddresses = isAdmin(req);
    const seen = new Map<string, StreamRecord | undefined>(records.map((rec) => [streamKey(rec.app, rec.stream), rec]));
    // Streams live on an origin that never went through the API or a hook are listed too.
    for (const o of view.origins) {
      for (const key of o.load.streams) {
        const [app, stream, extra] = key.split('/');
        if (!seen.has(key) && app && stream && extra === undefined && parseStreamId(`${app}.${stream}`)) seen.set(key, undefined);
      }
    }
    const now = ctx.now();
    const streams = [...seen.entries()].map(([key, rec]) => {
      const [app, stream] = key.split('/') as [string, string];
      return streamView(rec, app, stream, view, withAddresses, ctx.streams.playToken(app, stream, now));
    });
    reply(res, 200, { streams });
  });

  const idParam = (req: Request): { app: string; stream: string } => {
    const parsed = parseStreamId(String(req.params.id));
    if (!parsed) throw new HttpError(400, 'bad_request', 'stream id must be app.stream, each [A-Za-z0-9_-]{1,64}');
    return parsed;
  };

  r.get('/api/streams/:id', async (req, res) => {
    const { app, stream } = idParam(req);
    const [rec, view] = await Promise.all([ctx.store.getStream(streamId(app, stream)), ctx.view()]);
    const v = streamView(rec, app, stream, view, isAdmin(req), ctx.streams.playToken(app, stream, ctx.now()));
    if (!rec && v.nodes.length === 0) throw new HttpError(404, 'not_found', `no stream ${streamId(app, stream)}`);
    reply(res, 200, v);
  });

  r.delete('/api/streams/:id', admin, async (req, res) => {
    const { app, stream } = idParam(req);
    const revocation = await ctx.streams.revoke(app, stream, ctx.now());
    const kicked = await kickEverywhere(ctx, app, stream);
    ctx.log.info({ app, stream, kicked }, 'stream revoked');
    reply(res, 200, { id: streamId(app, stream), revoked: true, untilExp: revocation.untilExp, kicked });
  });

  // ---- recordings (the origins' lists, merged) ----

  addRecordingRoutes(r, admin, {
    view: () => ctx.view(),
    fallbackOrigin: ctx.fallbackOrigin,
    keys: ctx.keys,
    timeoutMs: ctx.recordingsTimeoutMs,
    playToken: (app, stream) => ctx.streams.playToken(app, stream, ctx.now()),
  });

  // ---- play ----

  r.get(PLAY_API_ROUTE, async (req, res) => {
    const app = parse(nameSchema, req.params.app, 'app');
    const stream = parse(nameSchema, req.params.stream, 'stream');
    const q = parse(playQuerySchema, req.query, 'query');
    reply(res, 200, await placePlay(ctx, app, stream, q.region ?? ctx.regionMap?.lookup(req.ip ?? req.socket.remoteAddress)));
  });

  // ---- route: where a stream lives, for nodes (edges and origins locate streams: shared/route-client.ts) ----

  // Signed like the other node routes (or the admin bearer): origins' addresses are the cluster's business.
  r.get(ROUTE_API_ROUTE, ...requireNode(ctx.keys, '1kb', true), async (req, res) => {
    const app = parse(nameSchema, req.params.app, 'app');
    const stream = parse(nameSchema, req.params.stream, 'stream');
    const { status, answer } = await lookupRoute(ctx, app, stream);
    reply(res, status, answer);
  });

  // ---- nodes ----

  r.post('/api/nodes', ...requireNode(ctx.keys, '16kb'), async (req, res) => {
    const reg = parse(registrationSchema, req.body, 'registration');
    const now = ctx.now();
    // A live id keeps its URLs: registering it again (a restart) is fine, moving its viewers elsewhere is not.
    const prev = await ctx.store.getNode(reg.id, now);
    if (prev && (prev.kind !== reg.kind || prev.publicUrl !== reg.publicUrl || (prev.rtmpUrl ?? '') !== (reg.rtmpUrl ?? ''))) {
      throw new HttpError(409, 'node_id_taken', `node ${reg.id} is registered with other URLs; it can be registered again once it is deleted or its TTL passes`);
    }
    if (reg.kind === 'origin' && !reg.rtmpUrl) ctx.log.warn({ id: reg.id }, 'origin registered without rtmpUrl: it gets no publishers');
    await ctx.store.registerNode(reg, now);
    ctx.nodesChanged();
    await ctx.store.publishEvent({ type: 'nodes' });
    reply(res, 201, { id: reg.id });
  });

  r.post('/api/nodes/:id/heartbeat', ...requireNode(ctx.keys, '2mb'), async (req, res) => {
    const id = parse(nodeIdSchema, req.params.id, 'node id');
    const hb = parse(heartbeatSchema, req.body, 'heartbeat');
    if (hb.id !== undefined && hb.id !== id) throw new HttpError(400, 'bad_request', `heartbeat id ${hb.id} does not match the path's ${id}`);
    const rec = await ctx.store.heartbeat({ id, load: hb.load }, ctx.now());
    if (!rec) throw new HttpError(404, 'unknown_node', `node ${id} is not registered (or its TTL passed): POST /api/nodes again`);
    ctx.nodesChanged();
    res.status(204).end();
  });

  r.delete('/api/nodes/:id', ...requireNode(ctx.keys, '1kb', true), async (req, res) => {
    const id = parse(nodeIdSchema, req.params.id, 'node id');
    if (await ctx.store.removeNode(id)) {
      ctx.nodesChanged();
      await ctx.store.publishEvent({ type: 'nodes' });
    }
    res.status(204).end();
  });

  // A transcoder's sources (signal/transcode-assignment.ts); signed, as only nodes of the cluster learn origins' RTMP URLs.
  r.get(TRANSCODE_ASSIGNMENTS_PATH, ...requireNode(ctx.keys, '1kb'), async (req, res) => {
    const id = parse(nodeIdSchema, req.query.node, 'node query');
    const view = await ctx.view();
    if (!view.nodes.some((n) => n.id === id && n.kind === 'transcoder')) {
      throw new HttpError(404, 'unknown_node', `transcoder ${id} is not registered (or its TTL passed): POST /api/nodes again`);
    }
    reply(res, 200, { assignments: transcodeAssignments(view.nodes).get(id) ?? [] });
  });

  r.get('/api/nodes', async (_req, res) => {
    const nodes = await ctx.store.listNodes(ctx.now());
    nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    reply(res, 200, { nodes });
  });

  // ---- hooks (origin and edge call these; non-2xx refuses) ----

  const hook = (name: 'on_publish' | 'on_play' | 'on_done') =>
    async (req: Request, res: Response): Promise<void> => {
      const h = parse(hookSchema, normaliseHookBody(req.body), 'hook body');
      const now = ctx.now();
      let decision: { ok: true } | { ok: false; code: string; message: string };
      if (name === 'on_publish') decision = await ctx.streams.onPublish(h, now);
      else if (name === 'on_play') decision = ctx.streams.onPlay(h, now);
      else {
        await ctx.streams.onDone(h, now);
        decision = { ok: true };
      }
      ctx.metrics.hooks.inc({ hook: name, result: decision.ok ? 'allowed' : decision.code });
      if (!decision.ok) {
        ctx.log.info({ hook: name, app: h.app, stream: h.stream, code: decision.code, remoteAddress: h.remoteAddress }, 'hook refused');
        reply(res, 403, { error: decision.code, message: decision.message });
        return;
      }
      // nginx-rtmp and SRS read a 2xx; SRS wants the body "0" or {code: 0}.
      reply(res, 200, { code: 0, ok: true });
    };
  r.post('/api/hooks/on_publish', hookBody, hook('on_publish'));
  r.post('/api/hooks/on_play', hookBody, hook('on_play'));
  r.post('/api/hooks/on_done', hookBody, hook('on_done'));

  r.use('/api', (req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });
  return r;
}

/** The play answer for validated names (the route and Signal's direct path for plain requests share it). */
export async function placePlay(ctx: ApiContext, app: string, stream: string, region: string | undefined) {
  const view = await ctx.view();
  const choice = ctx.placement.play(view, streamKey(app, stream), region);
  const now = ctx.now();
  const token = ctx.streams.playToken(app, stream, now);
  const originBase = choice.origin?.publicUrl ?? ctx.fallbackOrigin.httpUrl;
  const st = statsFor(view, streamKey(app, stream));
  const urls = (base: string) => ({ ...playUrls(base, app, stream, token), ...dvrAndSnapshotUrls(base, app, stream, token, st) });
  const targets = [
    ...choice.edges.map((e) => ({ ...nodeRef(e), ...urls(e.publicUrl) })),
    ...(originBase ? [{ ...(choice.origin ? nodeRef(choice.origin) : { id: 'origin', kind: 'origin' as const, region: null }), ...urls(originBase) }] : []),
  ];
  const first = targets[0];
  const firstBase = choice.edges[0]?.publicUrl ?? originBase;
  if (!first || firstBase === undefined) {
    ctx.metrics.placements.inc({ result: 'none' });
    throw new HttpError(503, 'no_node', 'no live edge or origin can serve this stream');
  }
  const ladder = st.ladder;
  const renditions = ladder ? renditionUrls(firstBase, app, stream, ladder, (hub) => ctx.streams.playToken(app, hub, now)) : [];
  const result = choice.edges.length === 0 ? 'origin' : choice.servedRegion === region || region === undefined ? 'edge' : 'fallback_region';
  ctx.metrics.placements.inc({ result });
  return {
    app,
    stream,
    region: region ?? null,
    servedRegion: choice.servedRegion ?? null,
    via: choice.edges.length > 0 ? ('edge' as const) : ('origin' as const),
    node: { id: first.id, kind: first.kind, region: first.region },
    flv: first.flv,
    hls: first.hls,
    ...(first.dvr ? { dvr: first.dvr } : {}),
    ...(first.snapshot ? { snapshot: first.snapshot } : {}),
    token: token ?? null,
    ...(renditions.length ? { renditions } : {}),
    fallbacks: targets.slice(1),
  };
}

/**
 * The route answer for validated names (the route and Signal's direct path for plain lookups share it): the
 * origins whose heartbeats list app/stream, in route order (ClusterView.originsOf: no scan, no sort here);
 * 404 with the same shape when there is none.
 */
export async function lookupRoute(ctx: ApiContext, app: string, stream: string): Promise<{ status: 200 | 404; answer: RouteAnswer }> {
  const holders = (await ctx.view()).originsOf.get(streamKey(app, stream)) ?? [];
  const found = holders.length > 0;
  ctx.metrics.routeLookups.inc({ result: found ? 'found' : 'not_found' });
  const origins = holders.map(({ node, publishing }) => ({ id: node.id, url: node.publicUrl, ...(node.rtmpUrl ? { rtmpUrl: node.rtmpUrl } : {}), publishing }));
  return { status: found ? 200 : 404, answer: { app, stream, origins, ttlMs: SIGNAL_DEFAULTS.routeTtlMs } };
}

export interface KickResult {
  readonly url: string;
  readonly status: number | null;
  readonly error?: string;
}

/**
 * Asks every registered origin (registration is authenticated) and the operator-configured one to drop the
 * publisher. We do not know for sure which origin holds it (heartbeats lag), and a 404 from the others is
 * harmless. Each kick is a DELETE signed with the node key: no secret is sent, and a signature is good for
 * that one path for ±30 s only.
 */
async function kickEverywhere(ctx: ApiContext, app: string, stream: string): Promise<KickResult[]> {
  const view = await ctx.view();
  const bases = new Set(view.origins.map((o) => o.publicUrl));
  if (ctx.fallbackOrigin.httpUrl) bases.add(ctx.fallbackOrigin.httpUrl);
  return Promise.all(
    [...bases].map(async (base): Promise<KickResult> => {
      const url = joinUrl(base, streamApiPath(app, stream));
      try {
        const res = await signedFetch(url, { method: 'DELETE', key: ctx.keys?.node, timeoutMs: ctx.kickTimeoutMs });
        return { url, status: res.status };
      } catch (err) {
        return { url, status: null, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}
