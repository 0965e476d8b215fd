// A source's ABR ladder as HLS serves it: the multivariant playlist at /{app}/{stream}.m3u8 (source first,
// then the rungs highest first) and the same figures for /api/streams and heartbeats (RungStat). Pure:
// the HLS service hands in what each rendition's playlist knows now.
//
// BANDWIDTH is the peak segment bit rate over the listed window (bits / EXTINF) and AVERAGE-BANDWIDTH the
// mean (RFC 8216 4.3.4.2), measured on the segments served; before a rung has segments, its configured
// video + audio rate with headroom. RESOLUTION, FRAME-RATE and CODECS come from the rendition's own
// stream (SPS, media/codec.ts) once it has one, else from the ladder and the source.
import { writeMultivariantPlaylist, type VariantStream } from '../media/hls/playlist.js';
import type { RenditionInfo } from '../hub/renditions.js';
import type { RungStat } from '../shared/cluster.js';
import { SOURCE_RUNG, renditionStream, variantUri } from '../shared/url-contract.js';
import type { MeasuredBandwidth } from './hls-playlist.js';

/** What one rendition's playlist knows now. */
export interface RenditionState {
  /** It lists a segment. */
  readonly listed: boolean;
  readonly bandwidth: MeasuredBandwidth | undefined;
  readonly codecs: string | undefined;
  readonly video: { readonly width?: number; readonly height?: number; readonly fps?: number } | undefined;
}

/** A rendition's media playlist as the multivariant playlist (and the rendition reports) list it: the source's is {source}_source.m3u8. */
export function variantUriOf(source: string, info: Pick<RenditionInfo, 'rung' | 'stream'>): string {
  return variantUri(info.rung === SOURCE_RUNG ? renditionStream(source, SOURCE_RUNG) : info.stream);
}

/** A configured rate is what the encoder aims at; segments carry container overhead and rate-control peaks on top. */
const CONFIGURED_HEADROOM = 1.1;

interface Variant {
  readonly stat: RungStat;
  readonly frameRate: number | undefined;
}

/** Each rendition's figures; undefined while the source itself has no segments. */
function variants(source: string, ladder: readonly RenditionInfo[], stateOf: (hubStream: string) => RenditionState | undefined): Variant[] | undefined {
  const src = stateOf(source);
  if (!src?.listed) return undefined;
  const srcVideo = src.video;
  const aspect = srcVideo?.width && srcVideo.height ? srcVideo.width / srcVideo.height : undefined;
  const out: Variant[] = [];
  for (const info of ladder) {
    const isSource = info.rung === SOURCE_RUNG;
    const st = isSource ? src : stateOf(info.stream);
    const configured = info.videoBps !== undefined ? Math.round((info.videoBps + (info.audioBps ?? 0)) * CONFIGURED_HEADROOM) : undefined;
    const bandwidthBps = st?.bandwidth?.peakBps ?? configured;
    // A rendition with nothing to say about its rate is not offered (players pick by BANDWIDTH).
    if (bandwidthBps === undefined) continue;
    const height = st?.video?.height ?? info.height;
    // Before a rung's first SPS: the width the scaler gives (scale=-2:H keeps the aspect, even width).
    const width = st?.video?.width ?? (height !== undefined && aspect !== undefined ? Math.round((height * aspect) / 2) * 2 : undefined);
    const fps = st?.video?.fps ?? (srcVideo?.fps !== undefined ? Math.min(srcVideo.fps, info.maxFps ?? Infinity) : undefined);
    const stat: RungStat = {
      rung: info.rung,
      stream: isSource ? source : info.stream,
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      bandwidthBps,
      ...(st?.bandwidth ? { averageBandwidthBps: st.bandwidth.averageBps } : {}),
      ...(st?.codecs !== undefined ? { codecs: st.codecs } : {}),
      live: st?.listed ?? false,
    };
    out.push({ stat, frameRate: fps });
  }
  return out;
}

/** The ladder for /api/streams and heartbeats; undefined while the source has no segments. */
export function ladderStats(source: string, ladder: readonly RenditionInfo[], stateOf: (hubStream: string) => RenditionState | undefined): RungStat[] | undefined {
  return variants(source, ladder, stateOf)?.map((v) => v.stat);
}

/** The multivariant playlist text (URIs relative to /{app}/); undefined while the source has no segments. */
export function multivariantText(source: string, ladder: readonly RenditionInfo[], stateOf: (hubStream: string) => RenditionState | undefined): string | undefined {
  const vs = variants(source, ladder, stateOf);
  if (!vs) return undefined;
  return writeMultivariantPlaylist({
    // Every segment of every rendition starts with a keyframe (the source's cutter, and the rungs follow it).
    independentSegments: true,
    variants: vs.map(({ stat, frameRate }): VariantStream => {
      const v: VariantStream = { uri: variantUriOf(source, stat), bandwidthBps: stat.bandwidthBps ?? 0 };
      // (A mean of segment rates never exceeds their peak.)
      if (stat.averageBandwidthBps !== undefined) v.averageBandwidthBps = stat.averageBandwidthBps;
      if (stat.codecs !== undefined) v.codecs = stat.codecs;
      if (stat.width !== undefined && stat.height !== undefined) v.resolution = { width: stat.width, height: stat.height };
      if (frameRate !== undefined) v.frameRate = frameRate;
      return v;
    }),
  });
}
