// Publishes the test FLV in real time over RTMP, looping, optionally stamping every video frame's send
// time in an SEI message (see sei.ts).
import { readFileSync } from 'node:fs';
import { FlvReader } from '../../src/media/flv/reader.js';
import { parseAudioTagHeader, parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import type { NaluLengthSize } from '../../src/media/h264/avcc.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { MiniRtmpClient, MsgType } from './rtmp-mini.js';
import { decodeAmf0, encodeAmf0 } from '../../src/media/amf/amf0.js';
import { insertStamp, nalLengthSize, nowMs } from './sei.js';

export interface Media {
  /** onMetaData script packet, if any. */
  metadata: MediaPacket | undefined;
  /** Sequence headers, sent once at the start. */
  headers: MediaPacket[];
  /** Coded frames in file order; timestamps relative to the first. */
  frames: MediaPacket[];
  /** Per frame: is it a video keyframe. */
  keyframe: boolean[];
  /** Per frame: its number among the clip's video frames in file order (decode order), -1 for audio. */
  videoNumber: number[];
  lengthSize: NaluLengthSize;
  durationMs: number;
}

/** Loads the FLV once; every publisher of the process shares the buffers. */
export function loadMedia(file: string, durationMs: number): Media {
  const packets = new FlvReader().push(readFileSync(file));
  const media: Media = { metadata: undefined, headers: [], frames: [], keyframe: [], videoNumber: [], lengthSize: 4, durationMs };
  let videoFrames = 0;
  for (const p of packets) {
    if (p.type === TagType.Script) {
      media.metadata ??= p;
      continue;
    }
    const h = p.type === TagType.Video ? parseVideoTagHeader(p.payload) : undefined;
    if (h ? h.kind === 'sequence-header' : parseAudioTagHeader(p.payload).kind === 'sequence-header') {
      if (h) media.lengthSize = nalLengthSize(h.data);
      media.headers.push(p);
      continue;
    }
    media.frames.push(p);
    media.keyframe.push(h !== undefined && h.frameType === 'key' && h.kind === 'coded-frames');
    media.videoNumber.push(h ? videoFrames++ : -1);
  }
  return media;
}

/** An FLV tag is 11 header bytes + body + 4 PreviousTagSize bytes: what an HTTP-FLV viewer receives. */
export const flvTagBytes = (payloadLength: number): number => 15 + payloadLength;

export interface PublisherOptions {
  stamp: boolean;
  /** Called with the send time of every video keyframe. */
  onKeyframe?: (t: number) => void;
  /** Called with every video frame's number in the clip (Media.videoNumber) and its send time. */
  onVideo?: (videoNumber: number, t: number) => void;
}

export class RealtimePublisher {
  /** FLV-equivalent bytes of the media sent so far (tags as an HTTP-FLV viewer would get them). */
  flvBytes = 0;
  frames = 0;
  private client: MiniRtmpClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private index = 0;
  private loop = 0;
  private t0 = 0;
  private stopped = false;
  /** Largest lag behind the schedule seen (ms), to spot an overloaded publisher. */
  maxLagMs = 0;
  closed: Error | undefined;

  constructor(
    private readonly url: string,
    private readonly media: Media,
    private readonly opts: PublisherOptions,
  ) {}

  async start(): Promise<void> {
    const c = new MiniRtmpClient(this.url, { mode: 'parse', onClose: (e) => (this.closed = e ?? new Error('closed')) });
    this.client = c;
    await c.connect();
    await c.publish();
    const md = this.media.metadata;
    if (md) {
      // Wrap onMetaData in @setDataFrame as encoders do.
      const vals = decodeAmf0(md.payload);
      c.sendMedia(MsgType.DataAmf0, 0, encodeAmf0('@setDataFrame', ...vals));
    }
    for (const h of this.media.headers) c.sendMedia(h.type, 0, h.payload);
    this.t0 = performance.now();
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.client?.close();
  }

  private pump(): void {
    if (this.stopped || this.closed) return;
    const c = this.client;
    if (!c) return;
    const frames = this.media.frames;
    const now = performance.now() - this.t0;
    for (;;) {
      const f = frames[this.index];
      if (!f) {
        this.index = 0;
        this.loop++;
        continue;
      }
      const ts = f.timestamp + this.loop * this.media.durationMs;
      if (ts > now) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, ts - now));
        return;
      }
      this.maxLagMs = Math.max(this.maxLagMs, now - ts);
      let payload = f.payload;
      const key = this.media.keyframe[this.index] === true;
      if (f.type === TagType.Video) {
        const t = nowMs();
        if (this.opts.stamp) payload = insertStamp(payload, this.media.lengthSize, t);
        if (key) this.opts.onKeyframe?.(t);
        this.opts.onVideo?.(this.media.videoNumber[this.index] ?? -1, t);
      }
      c.sendMedia(f.type, ts, payload);
      this.flvBytes += flvTagBytes(payload.length);
      this.frames++;
      this.index++;
    }
  }
}
