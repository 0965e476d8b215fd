// What /api/streams reports about a stream: codecs and their parameters (from the sequence headers,
// falling back to onMetaData), frame rate and input bit rate measured over the last few seconds.
import type { AudioCodec, VideoCodec } from '../media/codec.js';
import { parseAvcConfig } from '../media/h264/avc-config.js';
import { parseSps } from '../media/h264/sps.js';
import { parseAsc } from '../media/aac/asc.js';
import { parseMpegAudioHeader } from '../media/mp3/frame-header.js';
import type { AudioTagHeader, VideoTagHeader } from '../media/flv/tag-header.js';
import { parseScriptData } from '../media/flv/script.js';
import { isAmfObject } from '../media/amf/amf0.js';
import type { OutPacket, TagHeader } from './out-packet.js';

export interface StreamInfoJson {
  video: { codec: VideoCodec; width?: number; height?: number; profile?: number; level?: number; fps?: number } | null;
  audio: { codec: AudioCodec; sampleRate?: number; channels?: number } | null;
  bitrateIn: number;
}

const WINDOW_S = 5;

/** Per-second buckets of a sliding window: bytes in and video frames. */
class Meter {
  private readonly buckets = new Float64Array(WINDOW_S + 1);
  private second = -1;

  add(n: number, nowMs: number): void {
    this.roll(nowMs);
    this.buckets[this.second % this.buckets.length] = (this.buckets[this.second % this.buckets.length] ?? 0) + n;
  }

  /** Average per second over the completed seconds of the window. */
  rate(nowMs: number): number {
    this.roll(nowMs);
    let sum = 0;
    for (let i = 1; i <= WINDOW_S; i++) sum += this.buckets[(this.second - i + this.buckets.length * 2) % this.buckets.length] ?? 0;
    return sum / WINDOW_S;
  }

  private roll(nowMs: number): void {
    const s = Math.floor(nowMs / 1000);
    if (this.second < 0 || s - this.second > this.buckets.length) {
      this.buckets.fill(0);
      this.second = s;
      return;
    }
    while (this.second < s) {
      this.second++;
      this.buckets[this.second % this.buckets.length] = 0;
    }
  }
}

export class StreamInfo {
  private video: StreamInfoJson['video'] = null;
  private audio: StreamInfoJson['audio'] = null;
  private metaFps: number | undefined;
  private metaTracks = { audio: false, video: false };
  private readonly bytes = new Meter();
  private readonly frames = new Meter();
  private readonly started = Date.now();

  /**
   * Cheap per packet: only headers and metadata are parsed. `header` is the packet's tag header as the
   * stream parsed it on arrival (always present for the media and codec header kinds).
   */
  observe(p: OutPacket, nowMs: number, header: TagHeader | undefined): void {
    this.bytes.add(p.size, nowMs);
    switch (p.kind) {
      case 'video':
      case 'video-key':
        this.frames.add(1, nowMs);
        this.video ??= { codec: (header as VideoTagHeader | undefined)?.codec ?? 'unknown' };
        break;
      case 'audio':
        this.audio ??= audioFromFrame(header as AudioTagHeader | undefined);
        break;
      case 'video-header':
        this.video = videoFromHeader(header as VideoTagHeader | undefined);
        break;
      case 'audio-header':
        this.audio = audioFromHeader(header as AudioTagHeader | undefined);
        break;
      case 'metadata': {
        const m = readMetadata(p.packet.payload);
        this.metaFps = m.fps;
        this.metaTracks = m.tracks;
        break;
      }
      default:
        break;
    }
  }

  /** Video seen or announced: then only video keyframes are places to start. */
  get hasVideo(): boolean {
    return this.video !== null || this.metaTracks.video;
  }

  /**
   * Tracks seen or announced by onMetaData (a joiner may arrive before the first audio frame), or
   * undefined while nothing is known yet.
   */
  tracks(): { audio: boolean; video: boolean } | undefined {
    const audio = this.audio !== null || this.metaTracks.audio;
    const video = this.video !== null || this.metaTracks.video;
    return audio || video ? { audio, video } : undefined;
  }

  toJSON(nowMs = Date.now()): StreamInfoJson {
    const measured = Math.round(this.frames.rate(nowMs) * 100) / 100;
    const fps = this.video?.fps ?? this.metaFps ?? (measured || undefined);
    return {
      video: this.video ? { ...this.video, ...(fps !== undefined ? { fps } : {}) } : null,
      audio: this.audio,
      bitrateIn: Math.round(this.bytes.rate(nowMs) * 8),
    };
  }

  get uptimeMs(): number {
    return Date.now() - this.started;
  }
}

function videoFromHeader(h: VideoTagHeader | undefined): NonNullable<StreamInfoJson['video']> {
  if (!h) return { codec: 'unknown' };
  const codec = h.codec;
  if (codec !== 'h264') return { codec };
  try {
    const cfg = parseAvcConfig(h.data);
    const sps = cfg.sps[0];
    if (!sps) return { codec, profile: cfg.profile, level: cfg.level };
    const s = parseSps(sps);
    return { codec, width: s.width, height: s.height, profile: s.profile, level: s.level, ...(s.fps ? { fps: s.fps } : {}) };
  } catch {
    // A header we cannot read in full still names its codec.
    return { codec };
  }
}

function audioFromHeader(h: AudioTagHeader | undefined): NonNullable<StreamInfoJson['audio']> {
  if (!h) return { codec: 'unknown' };
  const codec = h.codec;
  if (codec !== 'aac') return { codec };
  try {
    const asc = parseAsc(h.data);
    return { codec, sampleRate: asc.extensionSampleRate ?? asc.sampleRate, channels: asc.channels };
  } catch {
    return { codec };
  }
}

function audioFromFrame(h: AudioTagHeader | undefined): NonNullable<StreamInfoJson['audio']> {
  if (!h) return { codec: 'unknown' };
  if (h.codec !== 'mp3') return { codec: h.codec, sampleRate: h.rateHz, channels: h.channels };
  try {
    const m = parseMpegAudioHeader(h.data);
    return { codec: 'mp3', sampleRate: m.sampleRate, channels: m.channels };
  } catch {
    return { codec: 'unknown' };
  }
}

interface MetadataHints {
  fps: number | undefined;
  tracks: { audio: boolean; video: boolean };
}

function readMetadata(payload: Buffer): MetadataHints {
  const none: MetadataHints = { fps: undefined, tracks: { audio: false, video: false } };
  try {
    const { name, value } = parseScriptData(payload);
    if (name !== 'onMetaData' || !isAmfObject(value)) return none;
    const v = value as Record<string, unknown>;
    const f = v.framerate;
    const codecId = (k: string): boolean => v[k] !== undefined && v[k] !== null && v[k] !== 0 && v[k] !== '';
    return {
      fps: typeof f === 'number' && f > 0 ? f : undefined,
      tracks: { audio: codecId('audiocodecid'), video: codecId('videocodecid') },
    };
  } catch {
    // Malformed metadata only costs the hints.
    return none;
  }
}
