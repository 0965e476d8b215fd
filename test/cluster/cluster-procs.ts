// Cluster tests: a signal, origins and edges as `livecdn` child processes (as an operator runs them), one
// cluster secret for all, a small FFmpeg publisher, and the origin's requests counted at its door (a
// counting HTTP proxy that the origin registers as its public URL, so edges and the signal use it).
// Everything started here is stopped by the test context's after hooks, also on failure.
import type { TestContext } from 'node:test';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';
import { publishTestStream } from '../helpers/publish.js';
import { FlvViewer, fetchText, type ReceivedPacket } from '../helpers/http.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { checkSegment } from '../edge/media-checks.js';
import { get } from '../edge/util.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { startCliEdge, type CliEdge } from '../edge/util.js';
import { startCountingProxy, type CountingProxy } from '../edge/proxy.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signedFetch } from '../../src/shared/signed-request.js';
import type { RouteAnswer } from '../../src/shared/cluster.js';
import type { EdgeStatus } from '../../src/edge/edge.js';
import { signPublishToken } from '../../src/shared/token.js';
import { playlistPath, routeApiPath, rtmpPath } from '../../src/shared/url-contract.js';

/** The secret every process of a test cluster shares (LIVECDN_SECRET). */
export const CLUSTER_SECRET = 'cluster-test-root-secret-0123456789abcdef';
export const CLUSTER_ENV = { LIVECDN_SECRET: CLUSTER_SECRET } as const;
const KEYS = deriveKeys(CLUSTER_SECRET);

export interface SignalProc extends CliProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
}

/** `livecdn signal` on a free port; `args` are added (e.g. ['--redis', url]). */
export async function startSignalProc(t: TestContext, args: readonly string[] = []): Promise<SignalProc> {
  const port = await freePort();
  const proc = startCli('signal', ['--api-port', String(port), '--host', '127.0.0.1', ...args], CLUSTER_ENV);
  t.after(() => proc.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitListening(proc, `${url}/api/nodes`);
  return { ...proc, url };
}

export interface OriginProcOptions {
  /** Its node id (registration), e.g. 'origin-a'. */
  readonly id: string;
  /** Signal URL(s) to register with (comma-joined); none: no registration. */
  readonly signal?: string | readonly string[];
  /** Put a counting HTTP proxy in front: `url` and the registered public URL are the proxy's. Default true. */
  readonly counted?: boolean;
  readonly args?: readonly string[];
}

export interface OriginProc extends CliProcess {
  readonly id: string;
  /** Where edges reach it: the counting proxy when counted, else its own HTTP base. */
  readonly url: string;
  /** Its own HTTP base (no proxy). */
  readonly directUrl: string;
  readonly rtmpPort: number;
  /** Requests that reached it through `url` (undefined when not counted). */
  readonly proxy: CountingProxy | undefined;
  /** Where to publish app/stream, with a publish token (origins with the secret require one). */
  rtmpUrl(app: string, stream: string): string;
}

/** rtmp://HOST:PORT (an origin, an ingest front) + /{app}/{stream}?token=… signed with the cluster's publish key, valid an hour. */
export function publishUrl(rtmpBase: string, app: string, stream: string): string {
  const token = signPublishToken({ app, stream, expSec: Math.floor(Date.now() / 1000) + 3600 }, KEYS.publish);
  return `${rtmpBase}${rtmpPath(app, stream)}?token=${token}`;
}

/** `livecdn origin` on free ports, heartbeating every 0.5 s (the signal knows its streams quickly). */
export async function startOriginProc(t: TestContext, o: OriginProcOptions): Promise<OriginProc> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const directUrl = `http://127.0.0.1:${httpPort}`;
  const proxy = o.counted === false ? undefined : await startCountingProxy(directUrl);
  if (proxy) t.after(() => proxy.kill());
  const url = proxy?.url ?? directUrl;
  const signal = o.signal === undefined ? [] : ['--signal', typeof o.signal === 'string' ? o.signal : o.signal.join(',')];
  const proc = startCli(
    'origin',
    [
      '--host', '127.0.0.1', '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort),
      '--node-id', o.id, '--public-url', url, '--rtmp-url', `rtmp://127.0.0.1:${rtmpPort}`, '--heartbeat', '0.5',
      '--hls-segment', '1', ...signal, ...(o.args ?? []),
    ],
    CLUSTER_ENV,
  );
  t.after(() => proc.stop());
  await waitListening(proc, `${directUrl}/metrics`);
  return { ...proc, id: o.id, url, directUrl, rtmpPort, proxy, rtmpUrl: (app, stream) => publishUrl(`rtmp://127.0.0.1:${rtmpPort}`, app, stream) };
}

export interface EdgeProcOptions {
  readonly id: string;
  readonly upstreams: readonly string[];
  readonly signal?: string | readonly string[];
  readonly args?: readonly string[];
}

export interface EdgeProc extends CliEdge {
  /** Its node id: what it writes in the Via of its upstream requests ('1.1 {id}'). */
  readonly id: string;
}

/** `livecdn edge` on a free port; resolves once it answers HTTP. */
export async function startEdgeProc(t: TestContext, o: EdgeProcOptions): Promise<EdgeProc> {
  const signal = o.signal === undefined ? [] : ['--signal', typeof o.signal === 'string' ? o.signal : o.signal.join(','), '--heartbeat', '0.5'];
  const edge = await startCliEdge(['--upstream', o.upstreams.join(','), '--node-id', o.id, ...signal, ...(o.args ?? [])], CLUSTER_ENV);
  t.after(() => edge.stop());
  await waitListening(edge, `${edge.base}/metrics`);
  return { ...edge, id: o.id };
}

/** A small FFmpeg publisher (320x240 baseline + AAC mono, 1 s GOP) to `rtmpUrl`, stopped after the test. */
export function publishSmall(t: TestContext, rtmpUrl: string, durationS?: number): ReturnType<typeof publishTestStream> {
  const p = publishTestStream(rtmpUrl, 'baseline+aac-mono', { gopS: 1, ...(durationS !== undefined ? { durationS } : {}) });
  t.after(() => p.stop());
  return p;
}

/** Resolves once the origin (by its direct URL) serves the stream's playlist with at least `segments` segments. */
export async function waitOriginLive(origin: OriginProc, app: string, stream: string, segments = 2, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${app}/${stream} live on ${origin.id}`, async () => {
    const r = await fetchText(origin.directUrl + playlistPath(app, stream));
    return r.status === 200 && (r.text.match(/#EXTINF/g)?.length ?? 0) >= segments;
  }, timeoutMs, 250);
}

/** The signal's route answer (signed GET with the cluster's node key): status and body. */
export async function routeOf(signalUrl: string, app: string, stream: string): Promise<{ status: number; answer: RouteAnswer | undefined }> {
  const r = await signedFetch(signalUrl + routeApiPath(app, stream), { method: 'GET', key: KEYS.node, timeoutMs: 2000 });
  return { status: r.status, answer: r.status === 200 ? (JSON.parse(r.body) as RouteAnswer) : undefined };
}

/** Resolves once the signal's route for app/stream lists the origin `originId` first. */
export async function waitRouted(signalUrl: string, app: string, stream: string, originId: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`the signal routing ${app}/${stream} to ${originId}`, async () => (await routeOf(signalUrl, app, stream)).answer?.origins[0]?.id === originId, timeoutMs, 200);
}

/** An edge's GET /api/edge (its relays' upstreams, the locator's counts, the upstreams' health). */
export async function edgeStatus(base: string): Promise<EdgeStatus> {
  return (await (await fetch(`${base}/api/edge`)).json()) as EdgeStatus;
}

/** An H.264 keyframe (coded frames, not the sequence header) in an FLV video tag. */
export const isKeyframe = (p: ReceivedPacket): boolean => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1;

/** An HTTP-FLV viewer of `url` once it answers 200, with a keyframe and audio received; closed after the test. */
export async function watchFlv(t: TestContext, url: string, timeoutMs = 30_000): Promise<FlvViewer> {
  const v = await FlvViewer.openLive(url, timeoutMs);
  t.after(() => v.close());
  await v.waitFor(isKeyframe, 15_000);
  await v.waitFor((p) => p.type === TagType.Audio, 15_000);
  return v;
}

export interface HlsCheck {
  /** The playlist's segment URIs, absolute, and its media sequence. */
  readonly segments: readonly string[];
  readonly mediaSequence: number;
}

/**
 * A live HLS playlist at `url` (polled until it lists `min` segments) that m3u8-parser reads as we do, its
 * last two segments MPEG-TS (sync byte every 188 bytes), the last one decoding clean from a keyframe.
 */
export async function checkHls(url: string, min = 2, timeoutMs = 30_000): Promise<HlsCheck> {
  const text = await waitFor(`a playlist with ${min} segments at ${url}`, async () => {
    const r = await get(url);
    const body = r.body.toString();
    return r.status === 200 && parseMediaPlaylist(body).segments.length >= min ? body : undefined;
  }, timeoutMs, 300);
  const disagreements = crossCheckPlaylist(text);
  if (disagreements.length > 0) throw new Error(`playlist at ${url}: ${disagreements.join('; ')}`);
  const pl = parseMediaPlaylist(text);
  const segments = pl.segments.map((s) => new URL(s.uri, url).toString());
  const last = segments.slice(-2);
  let body: Buffer = Buffer.alloc(0);
  for (const u of last) {
    const r = await get(u);
    if (r.status !== 200) throw new Error(`GET ${u}: ${r.status}`);
    body = r.body;
    if (body.length === 0 || body.length % 188 !== 0) throw new Error(`${u}: ${body.length} bytes, not whole TS packets`);
    for (let i = 0; i < body.length; i += 188) if (body[i] !== 0x47) throw new Error(`${u}: no TS sync byte at ${i}`);
  }
  const c = await checkSegment(body);
  if (c.errors !== '' || c.firstKey !== true) throw new Error(`${last.at(-1) ?? url}: decode errors "${c.errors}", starts on a keyframe: ${c.firstKey}`);
  return { segments, mediaSequence: pl.mediaSequence };
}
