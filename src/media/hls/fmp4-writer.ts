// SegmentWriter for fMP4/CMAF (media/mp4): an init segment per track set and configuration, and
// segments of styp + fragments (moof + mdat). A sample's duration is only known when the next one of its
// track arrives, so each track holds its last sample back; a cut gives the held video sample the cut
// time as its end, and held audio its nominal frame duration. Fragments are flushed when the caller says
// (LL-HLS: every video frame, each flush a "chunk" of the open part) and at the end of a segment.
// Timescales: 90 kHz video, the sample rate for audio (track ids from media/mp4/init.ts).
import type { AudioSpecificConfig } from '../aac/asc.js';
import { MediaFormatError } from '../error.js';
import type { AudioAccessUnit, VideoAccessUnit, VideoConfig } from '../flv/demux.js';
import type { MpegAudioFrameHeader } from '../mp3/frame-header.js';
import { writeFragment, writeStyp } from '../mp4/fragment.js';
import type { Mp4Sample, Mp4TrackRun } from '../mp4/fragment.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, writeInitSegment } from '../mp4/init.js';
import type { Mp4AudioTrack, Mp4VideoTrack } from '../mp4/init.js';
import type { SegmentTracks, SegmentWriter } from './segment-writer.js';

export const VIDEO_TIMESCALE = 90000;
/** trun's 32-bit sample duration (13 h at 90 kHz): a longer gap in a publisher's timestamps is no sample's duration (the next run's tfdt carries the jump). */
const MAX_DURATION = 0xffffffff;

interface Sample extends Mp4Sample {
  /** ms on the input timeline (where cuts are made). */
  readonly dtsMs: number;
  /** Decode time in the track's timescale. */
  readonly time: number;
  readonly data: Buffer;
}

/** One track's samples not yet in a fragment: those whose duration is known, then the held one. */
class TrackQueue {
  ready: Sample[] = [];
  held: Sample | undefined;
  /** No sample may start before this (timescale units): decode times never go back, durations never negative. */
  private floor = 0;
  /** Where the next audio frame is expected (its predecessor's time + nominal duration). */
  expected: number | undefined;
  /** Bytes of the queued samples. */
  pendingBytes = 0;

  constructor(readonly trackId: number) {}

  /** Holds `s` back after giving the held sample its duration; `s.time` is raised to the floor. */
  push(s: Sample): void {
    const time = Math.max(s.time, this.floor);
    const held = this.held;
    if (held) {
      held.duration = Math.min(time - held.time, MAX_DURATION);
      this.ready.push(held);
    }
    this.held = time === s.time ? s : { ...s, time };
    this.floor = time;
    this.pendingBytes += s.size;
  }

  /** Ends the held sample at `end` (timescale units) if it starts before `beforeMs`. */
  resolve(beforeMs: number, end: number | undefined): void {
    const held = this.held;
    if (!held || held.dtsMs >= beforeMs) return;
    if (end !== undefined) held.duration = Math.min(Math.max(0, end - held.time), MAX_DURATION);
    this.ready.push(held);
    this.held = undefined;
    this.floor = held.time + held.duration;
  }

  /** Takes the ready samples that start before `beforeMs`, as a run of contiguous decode times (undefined if none). */
  take(beforeMs: number): Mp4TrackRun | undefined {
    const ready = this.ready;
    let n = 0;
    while (n < ready.length && (ready[n] as Sample).dtsMs < beforeMs) {
      const s = ready[n++] as Sample;
      // A clamped duration breaks the run: the next run's tfdt carries the jump.
      if (n < ready.length && s.time + s.duration !== (ready[n] as Sample).time) break;
    }
    if (n === 0) return undefined;
    const samples = n === ready.length ? ready : ready.slice(0, n);
    this.ready = n === ready.length ? [] : ready.slice(n);
    for (const s of samples) this.pendingBytes -= s.size;
    return { trackId: this.trackId, baseDecodeTime: (samples[0] as Sample).time, samples, data: samples.map((s) => s.data) };
  }

  clear(): void {
    this.ready = [];
    this.held = undefined;
    this.expected = undefined;
    this.pendingBytes = 0;
  }
}

/** What an init segment was written for: a new one is due when this changes at a segment start. */
interface InitKey {
  video?: { codec: VideoConfig['codec']; record: Buffer; width: number; height: number };
  audio?: { codec: 'aac' | 'mp3'; record?: Buffer; sampleRate: number; channels: number };
}

const sameKey = (a: InitKey | undefined, b: InitKey): boolean =>
  a !== undefined &&
  a.video?.codec === b.video?.codec &&
  (a.video === undefined || (b.video !== undefined && a.video.record.equals(b.video.record) && a.video.width === b.video.width && a.video.height === b.video.height)) &&
  a.audio?.codec === b.audio?.codec &&
  a.audio?.sampleRate === b.audio?.sampleRate &&
  a.audio?.channels === b.audio?.channels &&
  (a.audio?.record === undefined) === (b.audio?.record === undefined) &&
  (a.audio?.record === undefined || a.audio.record.equals(b.audio?.record as Buffer));

export class Fmp4SegmentWriter implements SegmentWriter {
  video: VideoConfig | undefined;
  asc: AudioSpecificConfig | undefined;
  ascRecord: Buffer | undefined;
  mp3: MpegAudioFrameHeader | undefined;
  private tracks: SegmentTracks = {};
  private key: InitKey | undefined;
  /** The init segment written by the last begin(), until taken. */
  private newInit: Buffer | undefined;
  private readonly videoQ = new TrackQueue(VIDEO_TRACK_ID);
  private readonly audioQ = new TrackQueue(AUDIO_TRACK_ID);
  /** Audio timescale of the current init (its sample rate). */
  private audioRate = 0;
  /** mfhd sequence number: increases over the writer's life. */
  private fragments = 0;
  /** The open segment's flushed chunks (styp first). */
  private chunks: Buffer[] = [];
  private flushedBytes = 0;
  private stypDue = true;

  setTracks(tracks: SegmentTracks): void {
    this.tracks = tracks;
  }

  /** Starts a segment: a new init segment when the tracks or their configuration changed (see takeInit). */
  begin(): void {
    this.chunks = [];
    this.flushedBytes = 0;
    this.stypDue = true;
    const key = this.initKey();
    if (sameKey(this.key, key)) return;
    this.key = key;
    const video: Mp4VideoTrack | undefined = key.video && { codec: key.video.codec, width: key.video.width, height: key.video.height, timescale: VIDEO_TIMESCALE, config: key.video.record };
    const a = key.audio;
    const audio: Mp4AudioTrack | undefined = a && { codec: a.codec, sampleRate: a.sampleRate, channels: a.channels, timescale: a.sampleRate, ...(a.record ? { asc: a.record } : {}) };
    // Samples queued under the old configuration cannot be described by the new init.
    if (!video) this.videoQ.clear();
    if (!audio || audio.timescale !== this.audioRate) this.audioQ.clear();
    this.audioRate = audio?.timescale ?? 0;
    try {
      this.newInit = video || audio ? writeInitSegment({ ...(video ? { video } : {}), ...(audio ? { audio } : {}) }) : undefined;
    } catch (e) {
      // A configuration no sample entry can carry (a publisher's bad header): no tracks until it changes.
      if (!(e instanceof MediaFormatError)) throw e;
      this.key = {};
      this.audioRate = 0;
      this.newInit = undefined;
    }
  }

  /** The init segment the last begin() made necessary (once), or undefined when the previous one still holds. */
  takeInit(): Buffer | undefined {
    const init = this.newInit;
    this.newInit = undefined;
    return init;
  }

  /** Whether the current init segment has a video track (frames of a track it lacks are not written). */
  get hasVideoTrack(): boolean {
    return this.key?.video !== undefined;
  }

  /** DTS (ms) of the held video sample, the last one written. */
  get heldVideoDts(): number | undefined {
    return this.videoQ.held?.dtsMs;
  }

  /** Whether the held video sample is a keyframe (a part cut before it starts INDEPENDENT). */
  get heldVideoKey(): boolean {
    return this.videoQ.held?.sync === true;
  }

  get heldAudioDts(): number | undefined {
    return this.audioQ.held?.dtsMs;
  }

  /** Whether a flush would carry video (a video sample's duration became known since the last). */
  get videoReady(): boolean {
    return this.videoQ.ready.length > 0;
  }

  /** Duration (ms) of the audio ready to flush, for audio-only streams. */
  get audioReadyMs(): number {
    const r = this.audioQ.ready;
    const last = r[r.length - 1];
    return last && this.audioRate ? ((last.time + last.duration - (r[0] as Sample).time) * 1000) / this.audioRate : 0;
  }

  writeVideo(au: VideoAccessUnit): void {
    if (!this.key?.video || au.codec !== this.key.video.codec) return;
    const time = Math.max(0, Math.round(au.dts * 90));
    this.videoQ.push({ dtsMs: au.dts, time, duration: 0, size: au.data.length, sync: au.key, cts: Math.round(au.pts * 90) - Math.round(au.dts * 90), data: au.data });
  }

  writeAudio(au: AudioAccessUnit): void {
    const rate = this.audioRate;
    if (!rate || au.codec !== this.key?.audio?.codec) return;
    const q = this.audioQ;
    const nominal = Math.round((au.durationMs * rate) / 1000);
    let time = Math.max(0, Math.round((au.dts * rate) / 1000));
    // FLV timestamps are whole ms: a frame within half a frame of where its predecessor ends continues it exactly.
    if (q.expected !== undefined && Math.abs(time - q.expected) * 2 <= nominal) time = q.expected;
    q.push({ dtsMs: au.dts, time, duration: nominal, size: au.frame.length, sync: true, cts: 0, data: au.frame });
    const held = q.held as Sample;
    q.expected = held.time + nominal;
  }

  /**
   * Writes a fragment of the samples whose durations are known (the held ones stay back) and returns it
   * (styp first in a segment's first chunk), or undefined when there is nothing to write. With `cutMs`,
   * a cut there: held samples that start before it are ended (video at the cut, audio after its nominal
   * duration) and only samples that start before it are written.
   */
  flush(cutMs?: number): Buffer | undefined {
    const before = cutMs ?? Infinity;
    if (cutMs !== undefined) {
      this.videoQ.resolve(cutMs, Math.max(0, Math.round(cutMs * 90)));
      this.audioQ.resolve(cutMs, undefined);
    }
    const pieces: Buffer[] = [];
    for (;;) {
      const v = this.videoQ.take(before);
      const a = this.audioQ.take(before);
      if (!v && !a) break;
      pieces.push(...writeFragment(++this.fragments, v && a ? [v, a] : [(v ?? a) as Mp4TrackRun]));
    }
    if (pieces.length === 0) return undefined;
    if (this.stypDue) pieces.unshift(writeStyp());
    this.stypDue = false;
    const chunk = Buffer.concat(pieces);
    this.chunks.push(chunk);
    this.flushedBytes += chunk.length;
    return chunk;
  }

  get bytes(): number {
    return this.flushedBytes + this.videoQ.pendingBytes + this.audioQ.pendingBytes;
  }

  /** Cuts at `endMs` and returns the segment: its chunks concatenated. */
  finish(endMs: number): Buffer {
    this.flush(endMs);
    const data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    this.flushedBytes = 0;
    return data;
  }

  discard(): void {
    this.chunks = [];
    this.flushedBytes = 0;
    this.videoQ.clear();
    this.audioQ.clear();
  }

  private initKey(): InitKey {
    const key: InitKey = {};
    const v = this.video;
    if (this.tracks.video && v && v.codec === this.tracks.video) key.video = { codec: v.codec, record: v.record, width: v.width ?? 0, height: v.height ?? 0 };
    if (this.tracks.audio === 'aac' && this.asc && this.ascRecord) key.audio = { codec: 'aac', record: this.ascRecord, sampleRate: this.asc.sampleRate, channels: this.asc.channels };
    else if (this.tracks.audio === 'mp3' && this.mp3) key.audio = { codec: 'mp3', sampleRate: this.mp3.sampleRate, channels: this.mp3.channels };
    return key;
  }
}
