// Test helpers for HLS: playlist parsing (the project's own parser) and per-segment probing with ffprobe.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { MediaPlaylist } from '../../src/media/hls/playlist.js';
import { ffprobeJson, runFfmpeg } from './ffmpeg.js';
import { fetchBuffer, fetchText } from './http.js';

export async function fetchPlaylist(url: string): Promise<{ status: number; text: string; playlist: MediaPlaylist | undefined; headers: Headers }> {
  const r = await fetchText(url);
  return { status: r.status, text: r.text, headers: r.headers, playlist: r.status === 200 ? parseMediaPlaylist(r.text) : undefined };
}

/** Absolute URL of a playlist entry. */
export const segmentUrl = (playlistUrl: string, uri: string): string => new URL(uri, playlistUrl).toString();

export interface ProbedSegment {
  /** Packets in decode order, per track: dts and duration in seconds. */
  packets: Record<'video' | 'audio', Array<{ dts: number; duration: number }>>;
  /** key_frame of the first decoded video frame, undefined without video. */
  firstVideoKey: boolean | undefined;
}

export async function probeSegment(url: string): Promise<ProbedSegment> {
  // With both sections asked for, ffprobe's JSON interleaves them in one "packets_and_frames" array.
  const j = (await ffprobeJson(url, ['-show_entries', 'packet=codec_type,dts_time,duration_time:frame=media_type,key_frame'])) as {
    packets_and_frames?: Array<{ type?: string; codec_type?: string; dts_time?: string; duration_time?: string; media_type?: string; key_frame?: number }>;
  };
  const all = j.packets_and_frames ?? [];
  const packets: ProbedSegment['packets'] = { video: [], audio: [] };
  for (const p of all) {
    if (p.type !== 'packet' || (p.codec_type !== 'video' && p.codec_type !== 'audio')) continue;
    packets[p.codec_type].push({ dts: Number(p.dts_time), duration: Number(p.duration_time) });
  }
  const firstVideo = all.find((f) => f.type === 'frame' && f.media_type === 'video');
  return { packets, firstVideoKey: firstVideo ? firstVideo.key_frame === 1 : undefined };
}

/** `ffmpeg -v error -i URL -f null -`: what it prints (empty when the input decodes cleanly). */
export async function decodeErrors(url: string): Promise<string> {
  const r = await runFfmpeg(['-nostdin', '-v', 'error', '-i', url, '-f', 'null', '-'], { timeoutMs: 30_000 });
  return (r.stderr + r.stdout).trim() + (r.code === 0 ? '' : `\n(exit ${r.code})`);
}

/** decodeErrors over the Buffers as one file: an fMP4 init segment followed by its segments or parts. */
export async function decodeBytesErrors(chunks: readonly Buffer[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-hls-'));
  try {
    const file = join(dir, 'media.mp4');
    writeFileSync(file, Buffer.concat(chunks));
    return await decodeErrors(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first EXT-X-MAP URI of a playlist (an fMP4 init segment); throws without one. */
export function mapUriOf(text: string): string {
  const uri = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
  if (uri === undefined) throw new Error(`no EXT-X-MAP in\n${text}`);
  return uri;
}

/** The body of a GET that must answer 200. */
export async function fetchOk(url: string): Promise<Buffer> {
  const r = await fetchBuffer(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  return r.body;
}
