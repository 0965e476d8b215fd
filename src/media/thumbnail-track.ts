// Seek-bar thumbnails of a recording: which tiles a sprite holds (thumbnailLayout) and the WebVTT track
// that maps each stretch of the recording to its tile (`sprite.jpg#xywh=x,y,w,h`, the media-fragment
// syntax that Video.js thumbnail plugins, JW Player and our player read). Pure.

export interface ThumbnailLayoutOptions {
  /** One tile per this many ms (at least). */
  readonly intervalMs: number;
  /** Tiles per sprite row at most. */
  readonly columns: number;
  /** Tiles in all at most: a longer recording gets a longer interval (whole seconds). */
  readonly maxTiles: number;
}

export interface ThumbnailLayout {
  /** Whole seconds, as FFmpeg's fps filter gets it (fps=1/intervalS). */
  readonly intervalS: number;
  readonly count: number;
  readonly columns: number;
  readonly rows: number;
}

/** The tiles of a recording of `durationMs` (> 0). */
export function thumbnailLayout(durationMs: number, o: ThumbnailLayoutOptions): ThumbnailLayout {
  const intervalS = Math.max(Math.ceil(o.intervalMs / 1000), Math.ceil(durationMs / o.maxTiles / 1000), 1);
  const count = Math.max(1, Math.ceil(durationMs / (intervalS * 1000)));
  const columns = Math.min(o.columns, count);
  return { intervalS, count, columns, rows: Math.ceil(count / columns) };
}

/** HH:MM:SS.mmm (hours may run past 99). */
function vttTime(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(t % 1000, 3)}`;
}

/**
 * The WebVTT track: cue i covers [i × interval, (i + 1) × interval), the last one ending at the
 * recording's end, and points at tile i of `spriteUri` (row-major, `tileWidth` × `tileHeight` each).
 */
export function thumbnailVtt(layout: ThumbnailLayout, durationMs: number, tileWidth: number, tileHeight: number, spriteUri: string): string {
  const lines = ['WEBVTT', ''];
  const step = layout.intervalS * 1000;
  for (let i = 0; i < layout.count; i++) {
    const start = i * step;
    const end = i === layout.count - 1 ? Math.max(durationMs, start + 1) : (i + 1) * step;
    const x = (i % layout.columns) * tileWidth;
    const y = Math.floor(i / layout.columns) * tileHeight;
    lines.push(`${vttTime(start)} --> ${vttTime(end)}`, `${spriteUri}#xywh=${x},${y},${tileWidth},${tileHeight}`, '');
  }
  return lines.join('\n');
}
