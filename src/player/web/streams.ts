// Reading the control plane's and the origin's JSON without depending on every field's exact name:
// the signal and origin engineers own those shapes, these pages only need a few facts from them.
import { first, get, httpUrl, isObj, list, num, str } from './common.js';
import { RUNG_NAME, SOURCE_RUNG, flvPath, isValidName, parsePath, parseStreamKey, playlistPath, renditionParts, streamKey } from '../../shared/url-contract.js';

export interface StreamRow {
  readonly id: string;
  /** "app/name" when known. */
  readonly key: string | undefined;
  readonly live: boolean | undefined;
  readonly videoCodec: string | undefined;
  readonly audioCodec: string | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fps: number | undefined;
  readonly bitrateIn: number | undefined;
  /** Viewers per protocol (hls, flv, rtmp, ...), as reported. */
  readonly viewers: Readonly<Record<string, number>>;
  readonly totalViewers: number | undefined;
  /** How the origin packages the stream as HLS, when it says (its `hls` field). */
  readonly hls: HlsMode | undefined;
  /** Its transcoding ladder, source first (the origin's `ladder`); undefined without one. */
  readonly ladder: readonly Rendition[] | undefined;
  /** Its transcoder (the origin's `transcode`). */
  readonly transcode: TranscodeInfo | undefined;
  /** Its latest keyframe as JPEG (the signal's `snapshot` URL), when it has video. */
  readonly snapshot: string | undefined;
  /** Its DVR window, seconds, when the origin keeps one (`dvr.windowMs`). */
  readonly dvrWindowS: number | undefined;
  /** The origin that holds it, first in the signal's route order (the signal's `origin`). */
  readonly origin: NodeRef | undefined;
  /** Ids of the edges pulling it (the signal's `edges`); undefined when the source does not say. */
  readonly edges: readonly string[] | undefined;
}

/** A node as the signal names it in a stream: its id and HTTP base. */
export interface NodeRef {
  readonly id: string;
  readonly url: string | undefined;
}

/** One rendition of a ladder: from the play answer's `renditions` or a stream's `ladder`. */
export interface Rendition {
  /** 'source' or the rung's name. */
  readonly rung: string;
  /** Its hub stream: {stream} for the source, {stream}_{rung} for a rung. */
  readonly stream: string;
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** Peak bit rate, bit/s (measured, or the rung's setting until it has segments). */
  readonly bandwidthBps: number | undefined;
  /** The rung is being encoded (false: configured, not up, e.g. on demand before a viewer). */
  readonly live: boolean | undefined;
  /** Its HTTP-FLV URL on the chosen node, when the play answer gave one. */
  readonly flv: string | undefined;
}

/** The origin's `transcode: { where, rungsUp, restarts, speed }`. */
export interface TranscodeInfo {
  readonly where: string | undefined;
  readonly rungsUp: number | undefined;
  readonly restarts: number | undefined;
  /** Encoding speed, x real time; undefined until FFmpeg reports one. */
  readonly speed: number | undefined;
}

/** A rendition entry; undefined when its rung or stream name breaks the URL contract. */
function renditionOf(v: unknown): Rendition | undefined {
  const rung = str(get(v, 'rung'));
  // A stream may be given as app/stream: the name is the part after the slash.
  const given = str(get(v, 'stream')) ?? '';
  const stream = given.includes('/') ? parseStreamKey(given)?.stream : given;
  if (rung === undefined || !RUNG_NAME.test(rung) || stream === undefined || !isValidName(stream)) return undefined;
  const live = get(v, 'live');
  return {
    rung,
    stream,
    width: num(get(v, 'width')),
    height: num(get(v, 'height')),
    bandwidthBps: num(get(v, 'bandwidthBps')),
    live: typeof live === 'boolean' ? live : undefined,
    flv: str(get(v, 'flv')),
  };
}

/** A list of renditions (the play answer's `renditions`, a stream's `ladder`); undefined when there is none. */
export function renditionsOf(v: unknown): Rendition[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(renditionOf).filter((r): r is Rendition => r !== undefined);
  return out.length ? out : undefined;
}

function transcodeOf(v: unknown): TranscodeInfo | undefined {
  if (!isObj(v)) return undefined;
  return { where: str(get(v, 'where')), rungsUp: num(get(v, 'rungsUp')), restarts: num(get(v, 'restarts')), speed: num(get(v, 'speed')) };
}

/** "240p", or the rung's name when its height is unknown; "(source)" marks the source. */
export function renditionLabel(r: Pick<Rendition, 'rung' | 'height'>): string {
  if (r.height === undefined) return r.rung;
  return r.rung === SOURCE_RUNG ? `${r.height}p (source)` : `${r.height}p`;
}

/** The rung of a variant URL `…/{stream}_{rung}.m3u8?…` (the URL contract's renditionParts). */
export function rungOfUrl(url: string): string | undefined {
  const m = /([^/?#]+)\.m3u8(?:[?#]|$)/.exec(url);
  return m?.[1] === undefined ? undefined : renditionParts(m[1])?.rung;
}

/**
 * The rows without the rung streams of the ladders listed, and the rung rows by their key (their
 * viewers, as the nodes report them): a ladder is one stream to an operator.
 */
export function foldRungs(rows: readonly StreamRow[]): { sources: StreamRow[]; rungs: Map<string, StreamRow> } {
  const rungKeys = new Set<string>();
  for (const r of rows) {
    const key = r.key === undefined ? undefined : parseStreamKey(r.key);
    if (!key || !r.ladder) continue;
    for (const x of r.ladder) if (x.rung !== SOURCE_RUNG) rungKeys.add(streamKey(key.app, x.stream));
  }
  const rungs = new Map<string, StreamRow>();
  const sources: StreamRow[] = [];
  for (const r of rows) {
    if (r.key !== undefined && rungKeys.has(r.key)) rungs.set(r.key, r);
    else sources.push(r);
  }
  return { sources, rungs };
}

/**
 * `url`, an HTTP-FLV URL `/{app}/{name}.flv`, for the hub stream `stream` of the same app on the same
 * node; the query (a play token) stays. undefined when `url` is not shaped so.
 */
export function flvUrlOf(url: string, stream: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const p = parsePath(u.pathname);
  if (p.kind !== 'flv') return undefined;
  u.pathname = flvPath(p.app, stream);
  return u.toString();
}

/** The origin's `hls: { format, partTargetS, codecs }`: container, LL-HLS part target, CODECS string. */
export interface HlsMode {
  readonly format: 'ts' | 'fmp4' | undefined;
  /** Seconds; undefined when LL-HLS is off. */
  readonly partTargetS: number | undefined;
  /** The CODECS attribute value, e.g. "avc1.64001f,mp4a.40.2". */
  readonly codecs: string | undefined;
}

function hlsModeOf(v: unknown): HlsMode | undefined {
  if (!isObj(v)) return undefined;
  const format = str(get(v, 'format'));
  const partTargetS = num(get(v, 'partTargetS'));
  return {
    format: format === 'ts' || format === 'fmp4' ? format : undefined,
    partTargetS: partTargetS !== undefined && partTargetS > 0 ? partTargetS : undefined,
    codecs: str(get(v, 'codecs')),
  };
}

export interface NodeRow {
  readonly id: string;
  readonly kind: string;
  readonly region: string;
  readonly url: string | undefined;
  readonly viewers: number | undefined;
  readonly capacity: number | undefined;
  readonly load: number | undefined;
  readonly egressBps: number | undefined;
  readonly cpu: number | undefined;
  readonly hitRatio: number | undefined;
  readonly streams: readonly string[];
  readonly lastSeen: number | undefined;
  /** The sources it transcodes (a remote transcoder, or an origin transcoding locally) and the slowest one's speed. */
  readonly transcode: { readonly sources: number; readonly speed: number | undefined } | undefined;
}

function truthy(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'live' || v === 'publishing' || v === 'true' ? true : v === 'idle' || v === 'offline' || v === 'false' ? false : undefined;
  return undefined;
}

/** Kilobits in, when the field name says kbps; bits per second otherwise. */
function bitrateOf(s: unknown): number | undefined {
  const bps = num(first(s, 'bitrateIn', 'bitrate', 'bps', 'ingressBps', 'inBps', 'bitrateBps', 'stats.bitrateIn', 'stats.bps', 'ingest.bps', 'publisher.bitrate', 'publisher.bps'));
  if (bps !== undefined) return bps;
  const kbps = num(first(s, 'kbps', 'bitrateKbps', 'inKbps', 'publisher.kbps', 'stats.kbps'));
  return kbps === undefined ? undefined : kbps * 1000;
}

function codecName(v: unknown): string | undefined {
  if (isObj(v)) {
    const name = str(first(v, 'codec', 'name', 'codecName', 'type'));
    const p = first(v, 'profile');
    const profile = typeof p === 'string' ? p : undefined;
    return name ? (profile ? `${name} ${profile}` : name) : undefined;
  }
  return str(v);
}

function nodeRefOf(v: unknown): NodeRef | undefined {
  const id = str(get(v, 'id'));
  return id === undefined ? undefined : { id, url: httpUrl(get(v, 'url')) };
}

const stringsOf = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

export function toStreamRow(s: unknown): StreamRow {
  const app = str(first(s, 'app'));
  const name = str(first(s, 'name', 'stream', 'streamName'));
  const keyField = str(first(s, 'key', 'path', 'streamKey'));
  const key = keyField && parseStreamKey(keyField) ? keyField : app && name ? streamKey(app, name) : undefined;
  const id = str(first(s, 'id', 'streamId')) ?? key ?? '?';

  const video = first(s, 'video', 'codecs.video', 'media.video', 'tracks.video');
  const audio = first(s, 'audio', 'codecs.audio', 'media.audio', 'tracks.audio');
  const viewersField = first(s, 'viewers', 'clients', 'players');
  const viewers: Record<string, number> = {};
  let total: number | undefined;
  if (isObj(viewersField)) {
    for (const [k, v] of Object.entries(viewersField)) {
      const n = num(v);
      if (n === undefined) continue;
      if (k === 'total') total = n;
      else viewers[k] = n;
    }
    if (total === undefined && Object.keys(viewers).length) total = Object.values(viewers).reduce((a, b) => a + b, 0);
  } else {
    total = num(viewersField);
  }
  for (const p of ['hls', 'flv', 'rtmp']) {
    const n = num(first(s, `${p}Viewers`, `viewers_${p}`));
    if (n !== undefined && viewers[p] === undefined) viewers[p] = n;
  }
  if (total === undefined && Object.keys(viewers).length) total = Object.values(viewers).reduce((a, b) => a + b, 0);

  let live = truthy(first(s, 'live', 'isLive', 'active', 'publishing', 'state', 'status'));
  // The origin lists only streams it holds; `publisher: null` means it waits for a republish.
  if (live === undefined && isObj(s) && 'publisher' in s) live = s.publisher !== null;
  return {
    id,
    key,
    live,
    videoCodec: codecName(first(video, 'codec', 'name') ?? first(s, 'videoCodec', 'codecs.videoCodec')) ?? codecName(video),
    audioCodec: codecName(first(audio, 'codec', 'name') ?? first(s, 'audioCodec', 'codecs.audioCodec')) ?? codecName(audio),
    width: num(first(video, 'width') ?? first(s, 'width', 'resolution.width')),
    height: num(first(video, 'height') ?? first(s, 'height', 'resolution.height')),
    fps: num(first(video, 'fps', 'frameRate', 'framerate') ?? first(s, 'fps', 'frameRate')),
    bitrateIn: bitrateOf(s),
    viewers,
    totalViewers: total,
    hls: hlsModeOf(get(s, 'hls')),
    ladder: renditionsOf(get(s, 'ladder')),
    transcode: transcodeOf(get(s, 'transcode')),
    snapshot: httpUrl(get(s, 'snapshot')),
    dvrWindowS: ((ms) => (ms === undefined ? undefined : ms / 1000))(num(get(s, 'dvr.windowMs'))),
    origin: nodeRefOf(get(s, 'origin')),
    edges: stringsOf(get(s, 'edges')),
  };
}

/** A node's heartbeat stream stats that carry a `transcode`: how many, and the slowest speed. */
function nodeTranscode(stats: unknown): NodeRow['transcode'] {
  const all = list(stats).map((s) => transcodeOf(get(s, 'transcode'))).filter((t): t is TranscodeInfo => t !== undefined);
  if (!all.length) return undefined;
  const speeds = all.map((t) => t.speed).filter((x): x is number => x !== undefined);
  return { sources: all.length, speed: speeds.length ? Math.min(...speeds) : undefined };
}

export function toNodeRow(n: unknown): NodeRow {
  const viewers = num(first(n, 'load.viewers', 'viewers'));
  const capacity = num(first(n, 'capacity', 'load.capacity'));
  const loadField = num(first(n, 'load.ratio', 'loadRatio', 'utilization'));
  const hits = num(first(n, 'cache.hits', 'load.cacheHits', 'stats.cacheHits', 'cacheHits'));
  const misses = num(first(n, 'cache.misses', 'load.cacheMisses', 'stats.cacheMisses', 'cacheMisses'));
  const ratioField = num(first(n, 'load.cacheHitRatio', 'cacheHitRatio', 'cache.hitRatio', 'stats.cacheHitRatio', 'hitRatio'));
  const hitRatio = ratioField ?? (hits !== undefined && misses !== undefined && hits + misses > 0 ? hits / (hits + misses) : undefined);
  const streamsField = first(n, 'load.streams', 'streams');
  return {
    id: str(first(n, 'id')) ?? '?',
    kind: str(first(n, 'kind', 'type', 'role')) ?? '?',
    region: str(first(n, 'region')) ?? '–',
    url: str(first(n, 'publicUrl', 'url', 'httpUrl')),
    viewers,
    capacity,
    load: loadField ?? (viewers !== undefined && capacity ? viewers / capacity : undefined),
    egressBps: num(first(n, 'load.egressBps', 'egressBps')),
    cpu: num(first(n, 'load.cpu', 'cpu')),
    hitRatio,
    streams: stringsOf(streamsField) ?? [],
    lastSeen: num(first(n, 'lastSeen', 'updatedAt')),
    transcode: nodeTranscode(first(n, 'load.streamStats', 'streamStats')),
  };
}

export const streamRows = (body: unknown): StreamRow[] => list(body, 'streams', 'items', 'data').map(toStreamRow);
export const nodeRows = (body: unknown): NodeRow[] => list(body, 'nodes', 'items', 'data', 'edges').map(toNodeRow);

export interface PlaySource {
  readonly hls: string | undefined;
  readonly flv: string | undefined;
  /** The stream's DVR playlist on the same node, when it has a DVR window. */
  readonly dvr?: string | undefined;
  readonly via: string;
}

/** Absolute URL of a possibly relative one. */
function abs(u: string, base: string): string {
  try {
    return new URL(u, base).toString();
  } catch {
    return u;
  }
}

function sourceOf(v: unknown, app: string, name: string, base: string, via: string): PlaySource | undefined {
  if (typeof v === 'string') {
    const u = abs(v, base);
    if (/\.m3u8(\?|$)/.test(u)) return { hls: u, flv: undefined, via };
    if (/\.flv(\?|$)/.test(u)) return { hls: undefined, flv: u, via };
    const root = u.replace(/\/+$/, '');
    return { hls: root + playlistPath(app, name), flv: root + flvPath(app, name), via: root };
  }
  const hls = str(first(v, 'hls', 'urls.hls', 'play.hls', 'hlsUrl'));
  const flv = str(first(v, 'flv', 'urls.flv', 'play.flv', 'flvUrl', 'httpFlv'));
  const dvr = str(get(v, 'dvr'));
  if (hls || flv) {
    return {
      hls: hls ? abs(hls, base) : undefined,
      flv: flv ? abs(flv, base) : undefined,
      ...(dvr ? { dvr: abs(dvr, base) } : {}),
      via: str(first(v, 'node.id', 'edge.id', 'edgeId', 'id')) ?? via,
    };
  }
  const root = str(first(v, 'publicUrl', 'url', 'baseUrl', 'base', 'edge.publicUrl'));
  return root ? sourceOf(root, app, name, base, via) : undefined;
}

/** The play answer of `GET /api/play/:app/:stream`: the chosen URLs first, then the fallbacks in order. */
export function playSources(body: unknown, app: string, name: string, base: string): PlaySource[] {
  const out: PlaySource[] = [];
  const main = sourceOf(get(body, 'edge') !== undefined && !first(body, 'hls', 'flv') ? get(body, 'edge') : body, app, name, base, 'chosen edge');
  if (main) out.push(main);
  for (const f of list(get(body, 'fallbacks') ?? get(body, 'fallback'), 'urls')) {
    const s = sourceOf(f, app, name, base, 'fallback');
    if (s && !out.some((o) => o.hls === s.hls && o.flv === s.flv)) out.push(s);
  }
  return out;
}
