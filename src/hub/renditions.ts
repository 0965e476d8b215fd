// What the HLS service, the HTTP-FLV route and the APIs know of a stream's transcoding ladder
// (issue 11): which renditions a source has, which source a rung stream belongs to, and a viewer's
// demand, which starts an on-demand ladder. Local transcoding (transcode/transcode-service.ts) and a
// remote transcoder's origin side both answer it; without a ladder, NO_RENDITIONS.

export interface RenditionInfo {
  /** 'source' (SOURCE_RUNG) or a rung name. */
  readonly rung: string;
  /** The hub stream: {stream} for the source, {stream}_{rung} for a rung. */
  readonly stream: string;
  /** Configured (rungs) or known (source). */
  readonly height?: number;
  /** Configured video bit rate, bit/s (undefined for the source). */
  readonly videoBps?: number;
  readonly audioBps?: number;
  readonly maxFps?: number;
}

export interface Renditions {
  /** The ladder of source app/stream (source first, then rungs highest first) while it has one; else undefined. */
  ladderOf(app: string, stream: string): readonly RenditionInfo[] | undefined;
  /** When app/name is a rung stream of a source with a ladder: its source stream name and its entry. */
  sourceOf(app: string, name: string): { readonly source: string; readonly info: RenditionInfo } | undefined;
  /** A viewer asked for app/name (playlist, FLV). On demand: starts the ladder. True when name is a rung that will appear. */
  demand(app: string, name: string): boolean;
}

/** No stream has a ladder. */
export const NO_RENDITIONS: Renditions = {
  ladderOf: () => undefined,
  sourceOf: () => undefined,
  demand: () => false,
};
