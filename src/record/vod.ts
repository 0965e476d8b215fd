// A finished recording as HLS VOD: the playlist (EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST, a
// PROGRAM-DATE-TIME on each segment from the recording's start) lists segments of whole GOPs near the
// target duration, cut at the file's keyframes (flv-scan.ts); segment n is remuxed when asked for, from
// its byte range of the FLV through the pure pipeline (media/flv/demux.ts -> media/hls/ts-writer.ts or
// fmp4-writer.ts): MPEG-TS for H.264 (and audio-only), fMP4 with one init.mp4 for HEVC and AV1. Every
// segment is made alone, so each starts with the decoder state it needs: the sequence headers in force
// at its first byte are fed to the demuxer first. Nothing is stored: a segment costs one bounded read
// and a remux, and its URL is immutable (the edges and players cache it).
//
// Each tag goes to the segment whose byte range holds it: audio interleaved a few ms around a keyframe
// stays where the recorder wrote it, so no frame is lost or doubled between segments.
import type { FileHandle } from 'node:fs/promises';
import { MediaFormatError } from '../media/error.js';
import { FlvDemuxer } from '../media/flv/demux.js';
import type { AudioAccessUnit, Demuxed, VideoAccessUnit } from '../media/flv/demux.js';
import { Fmp4SegmentWriter } from '../media/hls/fmp4-writer.js';
import { writeMediaPlaylist } from '../media/hls/playlist.js';
import type { PlaylistSegment } from '../media/hls/playlist.js';
import type { SegmentWriter } from '../media/hls/segment-writer.js';
import { TsSegmentWriter } from '../media/hls/ts-writer.js';
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { ms } from '../media/time.js';
import { HttpError } from '../shared/http.js';
import { vodInitUri, vodSegmentUri } from '../shared/url-contract.js';
import { readAt, walkTags } from './flv-scan.js';
import type { FlvIndex } from './flv-scan.js';

export const VOD_LIMITS = {
  /** A segment grows past the target only by whole GOPs; past this many bytes it is cut at the next keyframe. */
  softSegmentBytes: 16 * 1024 * 1024,
  /** A byte range longer than this (one GOP bigger than this) is not read: such a segment is refused. */
  maxRangeBytes: 64 * 1024 * 1024,
} as const;

export type VodFormat = 'ts' | 'fmp4';

/** One VOD segment: the tags in [startPos, endPos) of the file. */
export interface VodSegment {
  /** ms on the file's timeline. */
  readonly startMs: number;
  readonly endMs: number;
  readonly startPos: number;
  readonly endPos: number;
}

export interface VodPlan {
  readonly format: VodFormat;
  readonly segments: readonly VodSegment[];
}

/** MPEG-TS carries H.264 (and audio alone); HEVC and AV1 go in fMP4. */
const vodFormat = (index: FlvIndex): VodFormat => (index.video === undefined || index.video === 'h264' ? 'ts' : 'fmp4');

/**
 * The segments of a recording: runs of whole GOPs, each cut at the first keyframe at least 90% of the
 * target after its start (or earlier, at a keyframe, when the next GOP would take it past
 * softSegmentBytes). The first segment starts at the first tag (headers and any audio before the
 * first keyframe); the last ends at the file's last complete tag.
 */
export function planVod(index: FlvIndex, targetMs: number): VodPlan {
  const segments: VodSegment[] = [];
  const sync = index.sync;
  if (sync.length === 0 || index.dataEnd <= index.dataStart) return { format: vodFormat(index), segments };
  let start = { timeMs: Math.min(index.startMs, sync[0]?.timeMs ?? index.startMs), pos: index.dataStart };
  for (const [i, p] of sync.entries()) {
    if (p.pos <= start.pos || p.timeMs <= start.timeMs || p.pos >= index.dataEnd) continue;
    const nextPos = sync[i + 1]?.pos ?? index.dataEnd;
    if (p.timeMs - start.timeMs >= targetMs * 0.9 || nextPos - start.pos > VOD_LIMITS.softSegmentBytes) {
      segments.push({ startMs: start.timeMs, endMs: p.timeMs, startPos: start.pos, endPos: p.pos });
      start = p;
    }
  }
  segments.push({ startMs: start.timeMs, endMs: Math.max(start.timeMs, index.endMs), startPos: start.pos, endPos: index.dataEnd });
  return { format: vodFormat(index), segments };
}

/** The VOD playlist text (relative URIs `{rec}/{n}.ts|m4s`, `{rec}/init.mp4`), without play tokens. */
export function vodPlaylistText(plan: VodPlan, rec: string, startedAt: number, targetMs: number, hasVideo: boolean): string {
  const ext = plan.format === 'ts' ? 'ts' : 'm4s';
  const segments = plan.segments.map((s, n): PlaylistSegment => ({
    uri: vodSegmentUri(rec, n, ext),
    durationS: (s.endMs - s.startMs) / 1000,
    discontinuity: false,
    // The file's timeline starts at 0 at startedAt (the recorder rebases it).
    programDateTime: startedAt + s.startMs,
    ...(n === 0 && plan.format === 'fmp4' ? { map: vodInitUri(rec) } : {}),
  }));
  return writeMediaPlaylist({
    targetDurationS: targetMs / 1000,
    mediaSequence: 0,
    discontinuitySequence: 0,
    segments,
    endList: true,
    playlistType: 'VOD',
    independentSegments: hasVideo,
  });
}

/** One media tag as the demuxer takes it. */
const packet = (type: number, timeMs: number, body: Buffer): MediaPacket => ({
  type: type as TagType,
  timestamp: ms(timeMs),
  payload: body,
});

/**
 * A demuxer that knows the decoder configuration in force at `pos`: the last video and audio headers
 * before it (before the first keyframe for a range from the file's start, so that an fMP4 writer knows
 * its tracks before the range's own headers come by).
 */
function primedDemuxer(index: FlvIndex, pos: number): FlvDemuxer {
  const demux = new FlvDemuxer();
  const before = Math.max(pos, index.sync[0]?.pos ?? pos);
  let video;
  let audio;
  for (const c of index.configs) {
    if (c.pos >= before) break;
    if (c.type === TagType.Video) video = c;
    else audio = c;
  }
  for (const c of [video, audio]) if (c) demux.push(packet(c.type, c.timeMs, c.body));
  return demux;
}

/** A writer of `format` for the index's tracks, configured from `demux`, with its segment begun. */
function beginWriter(format: VodFormat, index: FlvIndex, demux: FlvDemuxer): { writer: SegmentWriter; fmp4: Fmp4SegmentWriter | undefined } {
  const fmp4 = format === 'fmp4' ? new Fmp4SegmentWriter() : undefined;
  const writer: SegmentWriter = fmp4 ?? new TsSegmentWriter();
  writer.video = demux.video;
  writer.asc = demux.asc;
  writer.ascRecord = demux.ascRecord;
  writer.mp3 = demux.mp3;
  writer.setTracks({ ...(index.video ? { video: index.video } : {}), ...(index.audio ? { audio: index.audio } : {}) });
  writer.begin();
  return { writer, fmp4 };
}

/** Reads [from, to) of the file, refusing a range over maxRangeBytes. */
async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  if (to - from > VOD_LIMITS.maxRangeBytes) throw new HttpError(500, 'segment_too_large', 'this part of the recording is too large to remux');
  return readAt(fh, from, to - from);
}

/**
 * What a range yields to a writer: the units of the index's tracks (a unit the writer refuses as
 * malformed costs that unit only, as in the live segmenter); header changes update a TS writer.
 */
function feed(demux: FlvDemuxer, index: FlvIndex, buf: Buffer, base: number, writer: SegmentWriter, unit: (d: VideoAccessUnit | AudioAccessUnit) => void): void {
  walkTags(buf, base, (t) => {
    if (t.type !== TagType.Audio && t.type !== TagType.Video) return;
    const d: Demuxed = demux.push(packet(t.type, t.timeMs, t.body));
    try {
      if (d.kind === 'video' && d.codec === index.video) unit(d);
      else if (d.kind === 'audio' && d.codec === index.audio) {
        writer.mp3 = demux.mp3;
        unit(d);
      } else if (d.kind === 'video-config' && writer instanceof TsSegmentWriter) writer.video = d.video;
      else if (d.kind === 'audio-config' && writer instanceof TsSegmentWriter) writer.asc = d.asc;
    } catch (e) {
      if (!(e instanceof MediaFormatError)) throw e;
    }
  });
}

/** Segment n's bytes (MPEG-TS or an fMP4 segment: styp + fragments). */
export async function remuxSegment(fh: FileHandle, index: FlvIndex, plan: VodPlan, n: number): Promise<Buffer> {
  const seg = plan.segments[n];
  if (!seg) throw new HttpError(404, 'not_found', 'no such segment');
  return remuxRange(await readRange(fh, seg.startPos, seg.endPos), index, plan.format, seg);
}

/** A segment's bytes from its range of the file (`buf`, read from seg.startPos). Pure. */
export function remuxRange(buf: Buffer, index: FlvIndex, format: VodFormat, seg: VodSegment): Buffer {
  const demux = primedDemuxer(index, seg.startPos);
  const { writer, fmp4 } = beginWriter(format, index, demux);
  let lastUnitEnd = seg.endMs;
  feed(demux, index, buf, seg.startPos, writer, (d) => {
    if (d.kind === 'video') writer.writeVideo(d);
    else {
      writer.writeAudio(d);
      lastUnitEnd = Math.max(lastUnitEnd, d.dts + d.durationMs);
    }
  });
  let data: Buffer;
  if (fmp4) {
    // The last video frame ends where the next segment starts; audio written after that time (interleaving) keeps its own duration.
    fmp4.flush(seg.endMs);
    data = fmp4.finish(lastUnitEnd);
  } else {
    data = writer.finish(seg.endMs);
  }
  if (data.length === 0) throw new HttpError(500, 'unreadable', 'this part of the recording holds no media');
  return data;
}

/** The fMP4 init segment (ftyp + moov) of a recording's tracks, as its first headers configure them. */
export function vodInitSegment(index: FlvIndex): Buffer {
  const init = beginWriter('fmp4', index, primedDemuxer(index, index.dataStart)).fmp4?.takeInit();
  if (!init) throw new HttpError(500, 'unreadable', 'the recording has no codec headers');
  return init;
}

/** The clip [from, to] (ms on the file's timeline) widened to keyframes: the one at or before `from`, the one at or after `to` (or the end). */
export function clipBounds(index: FlvIndex, fromMs: number, toMs: number): { first: number; last: number; startMs: number; endMs: number } {
  const sync = index.sync;
  let first = 0;
  while (first + 1 < sync.length && (sync[first + 1] as { timeMs: number }).timeMs <= fromMs) first++;
  let last = first + 1;
  while (last < sync.length && (sync[last] as { timeMs: number }).timeMs < toMs) last++;
  const startMs = sync[first]?.timeMs ?? index.startMs;
  const endMs = last < sync.length ? (sync[last] as { timeMs: number }).timeMs : index.endMs;
  return { first, last, startMs, endMs };
}

/**
 * Writes an MP4 (fragmented: ftyp + moov, then styp and one moof + mdat per GOP) of the GOPs from sync
 * point `first` up to `last` (exclusive; the file's end when `last` is past the sync points), its times
 * starting at 0. `write` receives each piece as it is made: memory stays one GOP.
 */
export async function writeClip(fh: FileHandle, index: FlvIndex, first: number, last: number, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const sync = index.sync;
  const start = sync[first];
  if (!start) throw new HttpError(404, 'not_found', 'the recording has no keyframes');
  const endOf = (i: number): { timeMs: number; pos: number } => sync[i] ?? { timeMs: index.endMs, pos: index.dataEnd };
  const base = start.timeMs;
  const demux = primedDemuxer(index, start.pos);
  const { writer, fmp4 } = beginWriter('fmp4', index, demux);
  const init = fmp4?.takeInit();
  if (!fmp4 || !init) throw new HttpError(500, 'unreadable', 'the recording has no codec headers');
  await write(init);
  const endMs = endOf(last).timeMs;
  let lastUnitEnd = endMs - base;
  for (let i = first; i < Math.min(last, sync.length); i++) {
    const gop = endOf(i + 1);
    const from = (sync[i] as { pos: number }).pos;
    const buf = await readRange(fh, from, Math.min(gop.pos, index.dataEnd));
    feed(demux, index, buf, from, writer, (d) => {
      // Audio before the first keyframe or after the last frame lies outside the clip.
      if (d.dts < base || d.dts >= endMs) return;
      const shifted = { ...d, dts: d.dts - base, pts: d.pts - base };
      if (shifted.kind === 'video') writer.writeVideo(shifted);
      else {
        writer.writeAudio(shifted);
        lastUnitEnd = Math.max(lastUnitEnd, shifted.dts + shifted.durationMs);
      }
    });
    // finish() hands over (and forgets) what this GOP made: the writer holds no more than one GOP.
    const chunk = fmp4.finish(gop.timeMs - base);
    if (chunk.length > 0) await write(chunk);
  }
  const tail = fmp4.finish(lastUnitEnd);
  if (tail.length > 0) await write(tail);
}
