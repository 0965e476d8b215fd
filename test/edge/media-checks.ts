// Media checks shared by the edge integration tests: an HLS client loop, and decode checks with
// ffmpeg/ffprobe (a segment decodes without a single error line and starts on a keyframe).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { ffprobeJson, runFfmpeg } from '../helpers/ffmpeg.js';
import { get } from './util.js';
import { sleep } from '../helpers/wait.js';

export interface HlsClientResult {
  /** Segment URL -> body, for every segment this client fetched. */
  readonly segments: Map<string, Buffer>;
  readonly errors: string[];
  playlists: number;
}

/** A player's polling loop: playlist every `everyMs`, each new segment once, until `untilMs` (Date.now scale). */
export async function hlsClient(playlistUrl: string, untilMs: number, everyMs = 1000): Promise<HlsClientResult> {
  const out: HlsClientResult = { segments: new Map(), errors: [], playlists: 0 };
  while (Date.now() < untilMs) {
    try {
      const pl = await get(playlistUrl);
      out.playlists++;
      if (pl.status !== 200) out.errors.push(`playlist ${pl.status}`);
      else {
        for (const s of parseMediaPlaylist(pl.body.toString()).segments) {
          const url = new URL(s.uri, playlistUrl).toString();
          if (out.segments.has(url)) continue;
          const r = await get(url);
          if (r.status !== 200) out.errors.push(`${url} ${r.status}`);
          else out.segments.set(url, r.body);
        }
      }
    } catch (err) {
      out.errors.push(String(err));
    }
    await sleep(everyMs);
  }
  return out;
}

/** ffmpeg decodes the segment with no error output; the first video frame is a keyframe. */
export async function checkSegment(body: Buffer, expectVideo = true): Promise<{ errors: string; firstKey: boolean | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'livecdn-edge-'));
  try {
    const file = join(dir, 'seg.ts');
    await writeFile(file, body);
    const dec = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
    let firstKey: boolean | undefined;
    if (expectVideo) {
      const j = (await ffprobeJson(file, ['-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-read_intervals', '%+#1'])) as {
        frames?: { key_frame?: number }[];
      };
      firstKey = j.frames?.[0]?.key_frame === 1;
    }
    return { errors: dec.stderr.trim() + (dec.code === 0 ? '' : ` (exit ${dec.code})`), firstKey };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ffprobe's view of a live HTTP-FLV URL: codec names of its streams. */
export async function probeFlv(url: string): Promise<string[]> {
  const j = (await ffprobeJson(url, ['-show_entries', 'stream=codec_name,codec_type', '-analyzeduration', '3000000'], 20_000)) as {
    streams?: { codec_name?: string }[];
  };
  return (j.streams ?? []).map((s) => s.codec_name ?? '?').sort();
}
