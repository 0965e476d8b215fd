// The player page (/player/): pick a stream, or play `?stream=APP/NAME` through the control plane's
// chosen edge, or `?src=URL` directly; `&proto=hls|flv` picks the protocol. video.js draws the UI and
// shows errors; hls.js, mpegts.js or the native player feed the <video>. A stats panel samples latency,
// bit rate, buffer and dropped frames every second (for HLS also the playlist's mode, LL-HLS or plain,
// the engine's target latency and drift, and how far behind the PDT clock the picture is); a chat panel
// talks to the stream's WebSocket. A stream with a transcoding ladder gets a quality menu in the control
// bar: over HLS hls.js picks the level by bandwidth ("Auto") unless the viewer picks one; over HTTP-FLV
// each rung of the ladder is its own stream, and a choice reloads the player on it. The stats panel
// shows the rendition on screen and how often it changed.
// A stream whose origin keeps a DVR window (the play answer's `dvr`, or /{app}/{stream}/dvr.m3u8 on this
// host) is played from its DVR playlist over HLS: video.js's live seek bar spans the window and its LIVE
// button goes back to the live edge (to the engine's target latency, not the very edge). `?start=ISO8601`
// starts it at that wall-clock time; `?dvr=0` plays the live playlist instead.
import videojsModule from 'video.js';
import { apiBase, byId, fetchJson, fmtBps, fmtSec, get, h, query, str, withApi } from './common.js';
import { DVR_START_PARAM, dvrPlaylistPath, flvPath, parsePath, parseStreamKey, playApiPath, playlistPath, streamKey } from '../../shared/url-contract.js';
import { ChatPanel } from './chat.js';
import { drawChart, RingSeries } from './chart.js';
import { bufferAhead, startEngine } from './engines.js';
import type { Engine, EngineError, LiveInfo, PlaylistKind, Proto } from './engines.js';
import { cjsDefault } from './interop.js';
import { FlvRungs, HlsQuality, qualityText } from './quality.js';
import type { QualityNow } from './quality.js';
import { addQualityMenu } from './quality-menu.js';
import { foldRungs, playSources, renditionsOf, streamRows } from './streams.js';
import type { PlaySource, Rendition } from './streams.js';
import { dvrUrlAt, isDvrUrl, parseStart } from './timeshift.js';

const videojs = cjsDefault(videojsModule);
type VjsPlayer = ReturnType<typeof videojs>;

export interface PlayerStats {
  readonly engine: string | undefined;
  readonly proto: Proto;
  readonly url: string | undefined;
  readonly via: string | undefined;
  readonly currentTime: number;
  readonly paused: boolean;
  readonly readyState: number;
  /** Seconds behind the live edge (hls.js latency / distance to the live edge; FLV: buffered end - currentTime). */
  readonly latency: number | undefined;
  /** HLS through hls.js: the playlist's kind (part target, container) and the engine's live-edge numbers. */
  readonly live: LiveInfo | undefined;
  /** `waiting` events of the <video> since it first played: the stalls a viewer saw. */
  readonly stalls: number;
  readonly buffer: number | undefined;
  readonly bitrate: number | undefined;
  readonly droppedFrames: number | undefined;
  readonly totalFrames: number | undefined;
  readonly width: number;
  readonly height: number;
  /** Latency sampled once a second, last 60 s. */
  readonly latencyHistory: readonly (number | undefined)[];
  readonly restarts: number;
  /** The rendition on screen, when the stream has more than one; undefined otherwise. */
  readonly quality: QualityNow | undefined;
  /** Playing a DVR playlist: the seekable window (seconds) and whether video.js counts the viewer at the live edge. */
  readonly dvr: { readonly window: number | undefined; readonly atLiveEdge: boolean } | undefined;
}

export interface RecordedError extends EngineError {
  readonly at: number;
  readonly url: string | undefined;
}

declare global {
  interface Window {
    __livecdn?: { stats(): PlayerStats; errors: RecordedError[]; page: string };
  }
}

const errors: RecordedError[] = [];
function record(e: EngineError, url: string | undefined): void {
  errors.push({ ...e, at: Date.now(), url });
  if (errors.length > 200) errors.splice(0, errors.length - 200);
}
const q = query();

function protoOf(url: string, fallback: Proto): Proto {
  if (/\.flv(\?|#|$)/i.test(url)) return 'flv';
  if (/\.m3u8(\?|#|$)/i.test(url)) return 'hls';
  return fallback;
}

function requestedProto(): Proto | undefined {
  const p = q.get('proto');
  return p === 'hls' || p === 'flv' ? p : undefined;
}

// ---------------------------------------------------------------- picker

function showPicker(): void {
  byId('picker').hidden = false;
  const form = byId<HTMLFormElement>('pick-form');
  const input = byId<HTMLInputElement>('pick-input');
  const protoSel = byId<HTMLSelectElement>('pick-proto');
  const err = byId('pick-error');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    const params = new URLSearchParams();
    const api = q.get('api');
    if (api) params.set('api', api);
    if (protoSel.value) params.set('proto', protoSel.value);
    if (/^https?:\/\//.test(v)) params.set('src', v);
    else if (parseStreamKey(v)) params.set('stream', v);
    else {
      err.textContent = 'Type app/name (letters, digits, _ and -) or an http(s) URL of a .m3u8 or .flv';
      return;
    }
    location.search = params.toString();
  });
  const ul = byId('live-list');
  const refresh = async (): Promise<void> => {
    try {
      // A ladder's rung streams are played through their source (its quality menu).
      const rows = foldRungs(streamRows(await fetchJson(`${apiBase()}/api/streams`))).sources;
      ul.replaceChildren();
      for (const r of rows) {
        if (!r.key || r.live === false) continue;
        const li = h('li');
        const a = h('a', undefined, r.key);
        a.href = withApi(`./?stream=${encodeURIComponent(r.key)}`);
        li.append(a, h('span', 'muted', ` ${r.videoCodec ?? ''} ${r.width && r.height ? `${r.width}x${r.height}` : ''}`));
        ul.append(li);
      }
      if (!ul.childElementCount) ul.append(h('li', 'muted', 'No live streams yet.'));
    } catch (e) {
      ul.replaceChildren(h('li', 'muted', `Stream list unavailable: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  void refresh();
  setInterval(() => void refresh(), 5000);
}

// ---------------------------------------------------------------- sources

interface Resolved {
  readonly sources: PlaySource[];
  readonly title: string;
  readonly chatUrl: string | undefined;
  readonly note: string | undefined;
  /** The stream played, when the URL names one. */
  readonly key: { readonly app: string; readonly stream: string } | undefined;
  /** The play answer's renditions (a transcoding ladder), source first. */
  readonly renditions: Rendition[] | undefined;
  /** The control plane answered: its renditions (or none) are the ladder. */
  readonly answered: boolean;
}

/** ws(s):// URL of a chat path or URL, relative to the control plane. */
function wsUrl(pathOrUrl: string): string {
  const u = new URL(pathOrUrl, apiBase() + '/');
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  return u.toString();
}

function chatUrlFor(id: string): string {
  return wsUrl(`/api/streams/${encodeURIComponent(id)}/chat`);
}

async function resolveSources(): Promise<Resolved> {
  const src = q.get('src');
  if (src) {
    const proto = requestedProto() ?? protoOf(src, 'hls');
    const m = /\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})\.(m3u8|flv)(\?|$)/.exec(src);
    return {
      sources: [{ hls: proto === 'hls' ? src : undefined, flv: proto === 'flv' ? src : undefined, ...(proto === 'hls' && isDvrUrl(src) ? { dvr: src } : {}), via: 'src' }],
      title: src,
      chatUrl: q.get('chat') ?? (m ? chatUrlFor(`${m[1]}.${m[2]}`) : undefined),
      note: undefined,
      key: m?.[1] && m[2] ? { app: m[1], stream: m[2] } : undefined,
      renditions: undefined,
      answered: false,
    };
  }
  const key = parseStreamKey(q.get('stream') ?? '');
  if (!key) throw new Error(`"${q.get('stream') ?? ''}" is not a stream name: use ?stream=app/name`);
  const { app, stream: name } = key;
  const region = q.get('region');
  const playUrl = `${apiBase()}${playApiPath(app, name)}${region ? `?region=${encodeURIComponent(region)}` : ''}`;
  try {
    const body = await fetchJson(playUrl);
    const sources = playSources(body, app, name, apiBase());
    if (!sources.length) throw new Error('the control plane answered without play URLs');
    // The control plane names a stream `app.stream` (src/signal/types.ts); it may also hand a chat path.
    const id = str(get(body, 'id')) ?? `${app}.${name}`;
    const chat = str(get(body, 'chat'));
    return { sources, title: streamKey(app, name), chatUrl: chat ? wsUrl(chat) : chatUrlFor(id), note: undefined, key, renditions: renditionsOf(get(body, 'renditions')), answered: true };
  } catch (e) {
    // No control plane behind this page (served by an origin or an edge): play from this host, its DVR
    // playlist when it answers.
    const here = location.origin;
    const dvr = here + dvrPlaylistPath(app, name);
    const hasDvr = await fetch(dvr, { method: 'HEAD', signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
    return {
      sources: [{ hls: here + playlistPath(app, name), flv: here + flvPath(app, name), ...(hasDvr ? { dvr } : {}), via: here }],
      title: streamKey(app, name),
      chatUrl: chatUrlFor(`${app}.${name}`),
      note: `control plane unavailable (${e instanceof Error ? e.message : String(e)}); playing from this host`,
      key,
      renditions: undefined,
      answered: false,
    };
  }
}

// ---------------------------------------------------------------- playback supervisor

class Playback {
  private engine: Engine | undefined;
  private index = 0;
  private failuresInRow = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  restarts = 0;
  source: PlaySource | undefined;

  constructor(
    private readonly player: VjsPlayer,
    private readonly video: HTMLVideoElement,
    private sources: readonly PlaySource[],
    readonly proto: Proto,
    private readonly onStatus: (s: string) => void,
    private readonly kind: PlaylistKind = 'live',
  ) {
    video.addEventListener('playing', () => {
      this.failuresInRow = 0;
      if (this.player.error()) this.player.error(null);
      this.onStatus(`playing ${this.engine?.kind ?? ''} from ${this.source?.via ?? ''}`);
    });
  }

  get current(): Engine | undefined {
    return this.engine;
  }

  start(): void {
    const source = this.sources[this.index % this.sources.length];
    this.source = source;
    const url = this.urlOf(source);
    if (!url) {
      this.fail({ fatal: true, type: 'config', message: `no ${this.proto.toUpperCase()} URL for this stream` });
      return;
    }
    this.onStatus(`loading ${url}`);
    try {
      this.engine = startEngine(this.video, this.proto, url, (e) => this.onEngineError(e), q.get('native'), this.kind);
    } catch (e) {
      this.fail({ fatal: true, type: 'unsupported', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    void this.video.play().catch(() => {
      /* autoplay refused: the viewer presses play */
    });
  }

  private urlOf(source: PlaySource | undefined): string | undefined {
    return source ? (this.proto === 'hls' ? source.hls : source.flv) : undefined;
  }

  private onEngineError(e: EngineError): void {
    if (e.fatal) this.fail(e);
    else record(e, this.engine?.url);
  }

  /** The engine gave up (or could not start): show it, then try the next source after a pause. */
  private fail(e: EngineError): void {
    record(e, this.engine?.url ?? this.urlOf(this.source));
    this.stopEngine();
    this.failuresInRow++;
    this.index++;
    const wrapped = this.index % this.sources.length === 0;
    const delay = wrapped ? Math.min(1000 * 2 ** Math.min(this.failuresInRow, 4), 15_000) : 300;
    this.player.error(`${e.message}. Retrying in ${Math.round(delay / 1000)} s…`);
    this.onStatus(`error: ${e.message}`);
    this.retryTimer = setTimeout(() => {
      this.restarts++;
      this.player.error(null);
      this.start();
    }, delay);
  }

  private stopEngine(): void {
    const eng = this.engine;
    this.engine = undefined;
    try {
      eng?.destroy();
    } catch {
      /* already torn down */
    }
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopEngine();
  }

  /** Plays other sources from the first (an HTTP-FLV rung chosen in the quality menu). */
  restartWith(sources: readonly PlaySource[]): void {
    this.stop();
    this.sources = sources;
    this.index = 0;
    this.failuresInRow = 0;
    this.start();
  }
}

// ---------------------------------------------------------------- HTTP-FLV rungs

/** The hub stream an HTTP-FLV URL plays. */
function flvStreamOf(url: string | undefined): string | undefined {
  try {
    const p = url === undefined ? undefined : parsePath(new URL(url).pathname);
    return p?.kind === 'flv' ? p.stream : undefined;
  } catch {
    return undefined;
  }
}

/** Lookups of a ladder in /api/streams, LADDER_LOOKUP_MS apart: a few, as every viewer of the page makes them. */
const LADDER_LOOKUPS = 3;
const LADDER_LOOKUP_MS = 10_000;

/**
 * The ladder for the HTTP-FLV rung menu: the play answer's renditions (a play answer without them is the
 * control plane's word: no ladder), else the `ladder` of the stream in `/api/streams` of this page's host
 * or of the node the URL points at (an origin knows it), asked again a few times (a source that just
 * started has none yet).
 */
async function findRungs(resolved: Resolved, rungs: FlvRungs, changed: () => void): Promise<void> {
  const playing = flvStreamOf(resolved.sources[0]?.flv);
  if (resolved.renditions) {
    rungs.setRenditions(resolved.renditions, playing);
    changed();
    return;
  }
  const key = resolved.key;
  if (!key || resolved.answered) return;
  const hosts = new Set([apiBase()]);
  try {
    hosts.add(new URL(resolved.sources[0]?.flv ?? '').origin);
  } catch {
    /* no URL: this page's host only */
  }
  for (let i = 0; i < LADDER_LOOKUPS; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, LADDER_LOOKUP_MS));
    for (const host of hosts) {
      const body = await fetchJson(`${host}/api/streams`).catch(() => undefined);
      const ladder = body === undefined ? undefined : streamRows(body).find((r) => r.key === streamKey(key.app, key.stream))?.ladder;
      if (ladder) {
        rungs.setRenditions(ladder, playing);
        changed();
        return;
      }
    }
  }
}

// ---------------------------------------------------------------- watch

/** "LL-HLS fMP4, parts 0.20 s", "HLS TS", "HLS TS, DVR 120 s", "HTTP-FLV": what the stats panel calls the stream. */
function modeText(proto: Proto, live: LiveInfo | undefined, dvr: PlayerStats['dvr']): string {
  if (proto === 'flv') return 'HTTP-FLV';
  const container = live?.container === 'fmp4' ? ' fMP4' : live?.container === 'ts' ? ' TS' : '';
  if (dvr) return `HLS${container}, DVR ${fmtSec(dvr.window, 0)}`;
  return live?.partTarget === undefined ? `HLS${container}` : `LL-HLS${container}, parts ${fmtSec(live.partTarget)}`;
}

/** video.js's live tracker, as far as this page uses it. */
interface LiveTracker {
  seekToLiveEdge(): void;
  behindLiveEdge(): boolean;
  atLiveEdge(): boolean;
  liveWindow(): number;
  isTracking(): boolean;
}

/**
 * video.js's LIVE button seeks to the end of the seekable range, where the buffer runs dry at once;
 * going back to live goes to where the engine itself would start a live viewer instead.
 */
function backToLiveAtTarget(tracker: LiveTracker, video: HTMLVideoElement, engine: () => Engine | undefined): void {
  const toEdge = tracker.seekToLiveEdge.bind(tracker);
  tracker.seekToLiveEdge = () => {
    const behind = tracker.behindLiveEdge();
    toEdge();
    const target = engine()?.liveSyncPosition?.();
    if (behind && target !== undefined && Number.isFinite(target) && video.currentTime > target) video.currentTime = target;
  };
}

async function watch(): Promise<void> {
  byId('watch').hidden = false;
  const status = byId('status');
  const setStatus = (s: string): void => {
    status.textContent = s;
  };
  const videoEl = byId<HTMLVideoElement>('video');
  const player = videojs(videoEl, {
    controls: true,
    autoplay: false,
    muted: true,
    preload: 'auto',
    fluid: true,
    liveui: true,
    playsinline: true,
    controlBar: { pictureInPictureToggle: false },
  });
  // video.js keeps the original element as its HTML5 tech; look it up again in case it wrapped it.
  const video = (player.el().querySelector('video') as HTMLVideoElement | null) ?? videoEl;
  video.muted = true;

  let resolved: Resolved;
  try {
    resolved = await resolveSources();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    record({ fatal: true, type: 'config', message }, undefined);
    player.error(message);
    setStatus(message);
    return;
  }
  byId('title').textContent = resolved.title;
  if (resolved.note) byId('note').textContent = resolved.note;

  const first = resolved.sources[0];
  const available: Proto[] = (['hls', 'flv'] as const).filter((p) => resolved.sources.some((s) => (p === 'hls' ? s.hls : s.flv)));
  const proto: Proto = requestedProto() ?? (first?.hls ? 'hls' : 'flv');
  // DVR: over HLS, when a source has a DVR playlist, unless ?dvr=0; ?start= picks where it begins.
  const startParam = q.get(DVR_START_PARAM);
  const startMs = parseStart(startParam);
  const dvr = proto === 'hls' && q.get('dvr') !== '0' && resolved.sources.some((s) => s.dvr);
  const sources = dvr ? resolved.sources.map((s) => (s.dvr ? { ...s, hls: dvrUrlAt(s.dvr, startMs) } : s)) : resolved.sources;
  if (startParam !== null) {
    const why = startMs === undefined ? `?${DVR_START_PARAM}= is not an ISO 8601 date-time with a zone` : dvr ? undefined : 'this stream has no DVR window';
    if (why) byId('note').textContent = `${resolved.note ?? ''} ${why}: playing live`.trim();
  }
  for (const p of ['hls', 'flv'] as const) {
    const a = byId<HTMLAnchorElement>(`proto-${p}`);
    const params = new URLSearchParams(location.search);
    params.set('proto', p);
    a.href = `?${params.toString()}`;
    a.classList.toggle('active', p === proto);
    if (!available.includes(p) && !q.get('src')) a.classList.add('disabled');
  }

  const playback = new Playback(player, video, sources, proto, setStatus, dvr ? 'dvr' : 'live');
  playback.start();
  const tracker = (player as unknown as { liveTracker?: LiveTracker }).liveTracker;
  if (dvr && tracker) backToLiveAtTarget(tracker, video, () => playback.current);

  // Quality: hls.js's levels of a multivariant playlist, or the HTTP-FLV rungs of the ladder.
  const hlsQuality = new HlsQuality(() => playback.current);
  const flvRungs = new FlvRungs(resolved.sources, (sources) => playback.restartWith(sources));
  const menu = addQualityMenu(player, proto === 'flv' ? flvRungs : hlsQuality);
  if (proto === 'flv') void findRungs(resolved, flvRungs, () => menu.refresh());

  // stats
  let stalls = 0;
  let played = false;
  video.addEventListener('playing', () => (played = true));
  video.addEventListener('waiting', () => {
    if (played) stalls++;
  });
  const latency = new RingSeries(60);
  const buffer = new RingSeries(60);
  const canvas = byId<HTMLCanvasElement>('chart');
  // The one-second tick reads everything but the history; only stats() copies that.
  const sample = (): Omit<PlayerStats, 'latencyHistory'> => {
    const eng = playback.current;
    const quality = typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality() : undefined;
    return {
      live: eng?.live?.(),
      stalls,
      engine: eng?.kind,
      proto,
      url: eng?.url,
      via: playback.source?.via,
      currentTime: video.currentTime,
      paused: video.paused,
      readyState: video.readyState,
      latency: eng?.latency(),
      buffer: bufferAhead(video),
      bitrate: eng?.bitrate(),
      droppedFrames: quality?.droppedVideoFrames,
      totalFrames: quality?.totalVideoFrames,
      width: video.videoWidth,
      height: video.videoHeight,
      restarts: playback.restarts,
      quality: proto === 'flv' ? flvRungs.now(video) : hlsQuality.now(),
      dvr: dvr ? { window: tracker?.isTracking() ? tracker.liveWindow() : undefined, atLiveEdge: tracker?.atLiveEdge() ?? true } : undefined,
    };
  };
  const fields = {
    engine: byId('st-engine'),
    mode: byId('st-mode'),
    latency: byId('st-latency'),
    target: byId('st-target'),
    wallClock: byId('st-wallclock'),
    drift: byId('st-drift'),
    stalls: byId('st-stalls'),
    buffer: byId('st-buffer'),
    bitrate: byId('st-bitrate'),
    dropped: byId('st-dropped'),
    resolution: byId('st-resolution'),
    time: byId('st-time'),
    quality: byId('st-quality'),
    switches: byId('st-switches'),
  };
  const tick = (): void => {
    const s = sample();
    latency.push(s.latency);
    buffer.push(s.buffer);
    fields.engine.textContent = s.engine ? `${s.engine} (${s.proto.toUpperCase()})` : '–';
    fields.mode.textContent = modeText(s.proto, s.live, s.dvr);
    fields.latency.textContent = fmtSec(s.latency);
    fields.target.textContent = fmtSec(s.live?.targetLatency);
    fields.wallClock.textContent = fmtSec(s.live?.wallClockLatency);
    fields.drift.textContent = s.live?.drift === undefined ? '–' : `${s.live.drift.toFixed(2)}x`;
    fields.stalls.textContent = String(s.stalls);
    fields.buffer.textContent = fmtSec(s.buffer);
    fields.bitrate.textContent = fmtBps(s.bitrate);
    fields.dropped.textContent = s.totalFrames !== undefined ? `${s.droppedFrames ?? 0} / ${s.totalFrames}` : '–';
    fields.resolution.textContent = s.width ? `${s.width}x${s.height}` : '–';
    fields.time.textContent = fmtSec(s.currentTime, 1);
    fields.quality.textContent = qualityText(s.quality);
    fields.switches.textContent = s.quality ? String(s.quality.switches) : '–';
    menu.refresh();
    drawChart(canvas, [
      { label: 'latency', color: '#d9534f', values: latency.values },
      { label: 'buffer', color: '#337ab7', values: buffer.values },
    ]);
  };
  setInterval(tick, 1000);
  tick();
  window.__livecdn = { stats: () => ({ ...sample(), latencyHistory: [...latency.values] }), errors, page: 'player' };
  window.addEventListener('pagehide', () => playback.stop());

  // chat
  if (resolved.chatUrl) {
    new ChatPanel(byId('chat-log'), byId<HTMLFormElement>('chat-form'), byId<HTMLInputElement>('chat-input'), byId('chat-status'), resolved.chatUrl);
  } else {
    byId('chat-status').textContent = 'no chat for this source';
  }
}

// ---------------------------------------------------------------- main

window.__livecdn = {
  stats: () => {
    throw new Error('not playing');
  },
  errors,
  page: 'player',
};
for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[data-keep-api]'))) a.href = withApi(a.getAttribute('href') ?? './');
if (q.get('src') || q.get('stream')) {
  watch().catch((e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    record({ fatal: true, type: 'page', message }, undefined);
    byId('status').textContent = message;
  });
} else {
  showPicker();
}
