// Playback engines behind one small interface: hls.js (LL-HLS and plain HLS), mpegts.js (HTTP-FLV with
// latency chasing) and the browser's native HLS (Safari, iOS). Each reports errors through `onError`;
// `fatal` means the engine gave up and the page must restart it or move to a fallback.
import Hls from 'hls.js';
import type { ErrorData, FragLoadedData, Level, LevelDetails } from 'hls.js';
import mpegtsModule from 'mpegts.js';
import { cjsDefault } from './interop.js';
import { rungOfUrl } from './streams.js';

const mpegts = cjsDefault(mpegtsModule);

export type EngineKind = 'hls.js' | 'mpegts.js' | 'native';
export type Proto = 'hls' | 'flv';

export interface EngineError {
  readonly fatal: boolean;
  readonly type: string;
  readonly message: string;
}

export interface Engine {
  readonly kind: EngineKind;
  readonly url: string;
  /** Seconds behind the live edge as the engine measures it; undefined before it knows. */
  latency(): number | undefined;
  /** Media bit rate arriving, bits per second, over the last few seconds. */
  bitrate(): number | undefined;
  /** HLS engines that read the playlist: what it is and how the engine keeps up with its live edge. */
  live?(): LiveInfo;
  /** Engines that choose among renditions themselves (hls.js on a multivariant playlist). */
  quality?(): Quality;
  /** Play level `index` of quality().levels from the next segment on; -1: choose automatically (ABR). */
  setLevel?(index: number): void;
  /** A live playlist: where the engine would place a viewer who goes back to live (its target latency behind the edge). */
  liveSyncPosition?(): number | undefined;
  destroy(): void;
}

/** One rendition an engine can play: a variant of a multivariant playlist. */
export interface QualityLevel {
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** The variant's BANDWIDTH, bit/s. */
  readonly bitrate: number | undefined;
  /** The ladder rung ('source', '240p'), read from the variant's URL ({stream}_{rung}.m3u8). */
  readonly rung: string | undefined;
}

/** What an ABR engine plays and how it chooses. */
export interface Quality {
  /** Lowest first (hls.js sorts its levels so). */
  readonly levels: readonly QualityLevel[];
  /** Index of the level on screen; -1 before the first frame. */
  readonly playing: number;
  /** The engine chooses by its bandwidth estimate; false once the viewer picked a level. */
  readonly auto: boolean;
  /** Changes of the level on screen since playback began (not counting the first level). */
  readonly switches: number;
}

/** What hls.js knows of the live playlist it plays; a field is undefined until the engine knows it. */
export interface LiveInfo {
  /** EXT-X-PART-INF PART-TARGET in seconds: the playlist is LL-HLS. */
  readonly partTarget: number | undefined;
  /** fMP4 when the segments come with an EXT-X-MAP init segment, TS otherwise. */
  readonly container: 'ts' | 'fmp4' | undefined;
  /** Seconds behind the live edge the engine steers to (PART-HOLD-BACK for LL-HLS). */
  readonly targetLatency: number | undefined;
  /** How fast the playlist's live edge advances against the clock (1 = real time). */
  readonly drift: number | undefined;
  /**
   * Now minus the EXT-X-PROGRAM-DATE-TIME of the frame on screen, seconds: publisher to screen as far as
   * the origin's clock (which stamps PDT at ingest) agrees with this one.
   */
  readonly wallClockLatency: number | undefined;
}

export type ErrorSink = (e: EngineError) => void;

/**
 * What an HLS playlist is to the player: 'live' (stay near the edge, catch up), 'dvr' (a live playlist
 * over a long window the viewer may seek back in: never pulled back to the edge, duration Infinity so
 * video.js shows its live seek bar) or 'vod' (a finished recording).
 */
export type PlaylistKind = 'live' | 'dvr' | 'vod';

/** Distance from currentTime to the end of what is buffered: the FLV latency and everyone's buffer. */
export function bufferAhead(video: HTMLVideoElement): number | undefined {
  const b = video.buffered;
  if (b.length === 0) return undefined;
  for (let i = 0; i < b.length; i++) {
    if (video.currentTime >= b.start(i) - 0.1 && video.currentTime <= b.end(i) + 0.1) return Math.max(0, b.end(i) - video.currentTime);
  }
  return Math.max(0, b.end(b.length - 1) - video.currentTime);
}

/** Distance to the end of the seekable range: the live edge as a native HLS player exposes it. */
export function seekableLatency(video: HTMLVideoElement): number | undefined {
  const s = video.seekable;
  if (s.length === 0) return undefined;
  const d = s.end(s.length - 1) - video.currentTime;
  return Number.isFinite(d) && d >= 0 ? d : undefined;
}

/** Use the browser's own HLS when it has one and MSE is missing, or on Apple's Safari. `?native=0|1` overrides. */
export function preferNativeHls(video: HTMLVideoElement, override: string | null): boolean {
  const can = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  if (override === '1') return can;
  if (override === '0') return !Hls.isSupported() && can;
  if (!can) return false;
  if (!Hls.isSupported()) return true;
  const ua = navigator.userAgent;
  return /Safari\//.test(ua) && /Apple/.test(navigator.vendor) && !/Chrome|Chromium|CriOS|Edg|Android/.test(ua);
}

/** A sliding window of (bytes, media seconds) pairs giving the media bit rate. */
class RateWindow {
  private samples: { at: number; bytes: number; seconds: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}
  add(bytes: number, seconds: number): void {
    const now = performance.now();
    this.samples.push({ at: now, bytes, seconds });
    while (this.samples.length > 1 && (this.samples[0]?.at ?? now) < now - this.windowMs) this.samples.shift();
  }
  bps(): number | undefined {
    let bytes = 0;
    let seconds = 0;
    for (const s of this.samples) {
      bytes += s.bytes;
      seconds += s.seconds;
    }
    return seconds > 0 ? (bytes * 8) / seconds : undefined;
  }
}

/** Plain HLS: steer to two target durations behind the edge, jump back to it beyond five. */
const PLAIN_SYNC_SEGMENTS = 2;
const PLAIN_MAX_LATENCY_SEGMENTS = 5;
/**
 * LL-HLS: jump forward once more than two target durations behind PART-HOLD-BACK. hls.js speeds up only
 * within one target duration of its target, so without this a viewer set back by a hiccup would stay
 * seconds late (two pages side by side in Chromium on a loaded machine: publisher to screen 1.5 s with
 * the jump, 3.3 s without, no stall in either; the same when the machine is quiet).
 */
const LL_MAX_BEHIND_SEGMENTS = 2;

const qualityLevel = (l: Level): QualityLevel => ({
  width: l.width || undefined,
  height: l.height || undefined,
  bitrate: l.bitrate || undefined,
  rung: rungOfUrl(l.uri),
});

/** The live-edge numbers hls.js keeps once it has a playlist. */
function liveInfo(hls: Hls, details: LevelDetails | null): LiveInfo {
  const finite = (x: number | null | undefined): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const date = hls.playingDate;
  return {
    partTarget: details && details.partTarget > 0 ? details.partTarget : undefined,
    container: details?.fragments[0] ? (details.fragments[0].initSegment ? 'fmp4' : 'ts') : undefined,
    targetLatency: details ? finite(hls.targetLatency) : undefined,
    drift: details ? finite(hls.drift) : undefined,
    wallClockLatency: date ? finite((Date.now() - date.getTime()) / 1000) : undefined,
  };
}

export function startHlsJs(video: HTMLVideoElement, url: string, onError: ErrorSink, mode: PlaylistKind = 'live'): Engine {
  // lowLatencyMode: an LL-HLS playlist (EXT-X-PART-INF) is played from its parts with blocking reloads,
  // PART-HOLD-BACK behind the edge, catching up at up to 1.25x. No liveSync* here: set, they would
  // override PART-HOLD-BACK; each kind of playlist gets its targets once the first one is read.
  // DVR: the live seekable range spans the window and the duration stays Infinity (video.js's liveui).
  // DVR and VOD keep a longer back buffer, as a viewer who rewound tends to rewind again.
  const hls = new Hls({
    lowLatencyMode: mode === 'live',
    maxLiveSyncPlaybackRate: 1.25,
    backBufferLength: mode === 'live' ? 30 : 90,
    enableWorker: true,
    liveDurationInfinity: mode === 'dvr',
  });
  let tuned = mode === 'vod';
  const tune = (details: LevelDetails | undefined): void => {
    if (tuned || !details) return;
    tuned = true;
    if (mode === 'dvr') {
      // Start (and come back to) two target durations behind the edge; never jump there by itself.
      hls.targetLatency = PLAIN_SYNC_SEGMENTS * details.targetduration;
      hls.config.liveMaxLatencyDuration = Infinity;
      return;
    }
    if (details.partTarget > 0) {
      // hls.js's own target for LL-HLS: PART-HOLD-BACK, or HOLD-BACK, or liveSyncDurationCount segments.
      const target = details.partHoldBack || details.holdBack || hls.config.liveSyncDurationCount * details.targetduration;
      hls.config.liveMaxLatencyDuration = target + LL_MAX_BEHIND_SEGMENTS * details.targetduration;
      // Jump only as far as is buffered: the jump itself never stalls.
      hls.config.liveSyncMode = 'buffered';
    } else {
      hls.targetLatency = PLAIN_SYNC_SEGMENTS * details.targetduration;
      hls.config.liveMaxLatencyDuration = PLAIN_MAX_LATENCY_SEGMENTS * details.targetduration;
    }
  };
  // A media playlist URL (ours) has its details at MANIFEST_LOADED, before the start position is chosen.
  hls.on(Hls.Events.MANIFEST_LOADED, (_e, data) => tune(data.levels[0]?.details));
  hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => tune(data.details));
  // The level on screen: LEVEL_SWITCHED fires when the fragment playing comes from another level than
  // the one before (hls.js's stream controller), so it counts what a viewer saw change.
  let playing = -1;
  let switches = 0;
  hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
    if (playing >= 0 && data.level !== playing) switches++;
    playing = data.level;
  });
  const rate = new RateWindow();
  let networkRetries = 0;
  let mediaRecoveries = 0;
  hls.on(Hls.Events.FRAG_LOADED, (_e, data: FragLoadedData) => {
    networkRetries = 0;
    const bytes = data.frag.stats.loaded || data.frag.stats.total;
    if (bytes > 0 && data.frag.duration > 0) rate.add(bytes, data.frag.duration);
  });
  hls.on(Hls.Events.ERROR, (_e, data: ErrorData) => {
    const message = `${data.details}${data.response ? ` (HTTP ${data.response.code})` : ''}${data.error ? `: ${data.error.message}` : ''}`;
    if (!data.fatal) {
      onError({ fatal: false, type: data.type, message });
      return;
    }
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 3) {
      mediaRecoveries++;
      onError({ fatal: false, type: data.type, message: `recovering from ${message}` });
      hls.recoverMediaError();
      return;
    }
    // A live playlist that failed after the first load: retry a few times before giving up.
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && data.details !== Hls.ErrorDetails.MANIFEST_LOAD_ERROR && networkRetries < 3) {
      networkRetries++;
      onError({ fatal: false, type: data.type, message: `retrying after ${message}` });
      hls.startLoad();
      return;
    }
    onError({ fatal: true, type: data.type, message });
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    kind: 'hls.js',
    url,
    latency: () => {
      const l = hls.latency;
      return Number.isFinite(l) && l > 0 ? l : seekableLatency(video);
    },
    bitrate: () => rate.bps(),
    live: () => liveInfo(hls, hls.latestLevelDetails),
    quality: () => ({ levels: hls.levels.map(qualityLevel), playing, auto: hls.autoLevelEnabled, switches }),
    // nextLevel: from the next segment, keeping what is buffered of the current one on screen.
    setLevel: (index) => {
      hls.nextLevel = index;
    },
    liveSyncPosition: () => hls.liveSyncPosition ?? undefined,
    destroy: () => hls.destroy(),
  };
}

export function startMpegts(video: HTMLVideoElement, url: string, onError: ErrorSink): Engine {
  const player = mpegts.createPlayer(
    { type: 'flv', isLive: true, url, cors: true },
    {
      enableWorker: false,
      enableStashBuffer: false,
      stashInitialSize: 128 * 1024,
      lazyLoad: false,
      liveBufferLatencyChasing: true,
      liveBufferLatencyMaxLatency: 1.5,
      liveBufferLatencyMinRemain: 0.5,
      autoCleanupSourceBuffer: true,
      autoCleanupMaxBackwardDuration: 30,
      autoCleanupMinBackwardDuration: 15,
    },
  );
  let speedKBps: number | undefined;
  player.on(mpegts.Events.STATISTICS_INFO, (info: { speed?: number }) => {
    if (typeof info.speed === 'number' && info.speed > 0) speedKBps = info.speed;
  });
  player.on(mpegts.Events.ERROR, (type: string, detail: string, info: { msg?: string; code?: number } | undefined) => {
    const extra = info?.code !== undefined && info.code !== -1 ? ` (HTTP ${info.code})` : '';
    onError({ fatal: true, type, message: `${detail}${extra}${info?.msg ? `: ${info.msg}` : ''}` });
  });
  player.on(mpegts.Events.LOADING_COMPLETE, () => {
    onError({ fatal: true, type: 'ended', message: 'the live FLV stream ended' });
  });
  player.attachMediaElement(video);
  player.load();
  return {
    kind: 'mpegts.js',
    url,
    latency: () => bufferAhead(video),
    bitrate: () => (speedKBps === undefined ? undefined : speedKBps * 1024 * 8),
    destroy: () => {
      try {
        player.pause();
        player.unload();
        player.detachMediaElement();
      } finally {
        player.destroy();
      }
    },
  };
}

export function startNative(video: HTMLVideoElement, url: string, onError: ErrorSink): Engine {
  const onErr = (): void => {
    const e = video.error;
    onError({ fatal: true, type: 'media', message: e ? `media error ${e.code}${e.message ? `: ${e.message}` : ''}` : 'media error' });
  };
  video.addEventListener('error', onErr);
  video.src = url;
  return {
    kind: 'native',
    url,
    latency: () => seekableLatency(video),
    bitrate: () => undefined,
    destroy: () => {
      video.removeEventListener('error', onErr);
      video.removeAttribute('src');
      video.load();
    },
  };
}

export function mseSupported(): boolean {
  return typeof window.MediaSource !== 'undefined' || 'ManagedMediaSource' in window;
}

/** Start the right engine for a URL and protocol. */
export function startEngine(video: HTMLVideoElement, proto: Proto, url: string, onError: ErrorSink, nativeOverride: string | null, mode: PlaylistKind = 'live'): Engine {
  if (proto === 'flv') {
    if (!mpegts.isSupported()) throw new Error('this browser cannot play HTTP-FLV (no Media Source Extensions); try HLS');
    return startMpegts(video, url, onError);
  }
  if (preferNativeHls(video, nativeOverride)) return startNative(video, url, onError);
  if (!Hls.isSupported()) throw new Error('this browser can play neither HLS natively nor through Media Source Extensions');
  return startHlsJs(video, url, onError, mode);
}
