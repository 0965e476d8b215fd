// Playback engines behind one small interface: hls.js (low-latency live sync), mpegts.js (HTTP-FLV with
// latency chasing) and the browser's native HLS (Safari, iOS). Each reports errors through `onError`;
// `fatal` means the engine gave up and the page must restart it or move to a fallback.
import Hls from 'hls.js';
import type { ErrorData, FragLoadedData } from 'hls.js';
import mpegtsModule from 'mpegts.js';
import { cjsDefault } from './interop.js';

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
  destroy(): void;
}

export type ErrorSink = (e: EngineError) => void;

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

export function startHlsJs(video: HTMLVideoElement, url: string, onError: ErrorSink): Engine {
  const hls = new Hls({
    lowLatencyMode: true,
    liveSyncDurationCount: 2,
    liveMaxLatencyDurationCount: 5,
    maxLiveSyncPlaybackRate: 1.25,
    backBufferLength: 30,
    enableWorker: true,
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
export function startEngine(video: HTMLVideoElement, proto: Proto, url: string, onError: ErrorSink, nativeOverride: string | null): Engine {
  if (proto === 'flv') {
    if (!mpegts.isSupported()) throw new Error('this browser cannot play HTTP-FLV (no Media Source Extensions); try HLS');
    return startMpegts(video, url, onError);
  }
  if (preferNativeHls(video, nativeOverride)) return startNative(video, url, onError);
  if (!Hls.isSupported()) throw new Error('this browser can play neither HLS natively nor through Media Source Extensions');
  return startHlsJs(video, url, onError);
}
