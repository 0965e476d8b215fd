// What the quality menu offers and what the stats panel says of the rendition on screen, per engine:
// hls.js chooses among the levels of a multivariant playlist itself ("Auto") unless the viewer picks one;
// HTTP-FLV has one stream per rung ({stream}_{rung}.flv), so a choice plays another stream.
import { fmtBps } from './common.js';
import type { Engine, QualityLevel } from './engines.js';
import type { QualityChoice, QualityModel } from './quality-menu.js';
import { flvUrlOf, renditionLabel } from './streams.js';
import type { PlaySource, Rendition } from './streams.js';

/** The rendition on screen, as the stats panel and the tests (window.__livecdn.stats()) read it. */
export interface QualityNow {
  /** Renditions to choose from: hls.js levels, or the HTTP-FLV rungs of the ladder. */
  readonly levels: number;
  /** Index of the one on screen (hls.js: its level index, lowest first; FLV: ladder order, source first); -1 before the first. */
  readonly level: number;
  readonly rung: string | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** The rendition's BANDWIDTH (HLS) or peak bit rate (FLV ladder), bit/s. */
  readonly bitrate: number | undefined;
  /** hls.js chooses by bandwidth; false once the viewer chose (always false for FLV). */
  readonly auto: boolean;
  /** Changes of the rendition on screen since playback began. */
  readonly switches: number;
}

const heightText = (height: number | undefined, rung: string | undefined): string => (height ? `${height}p` : (rung ?? '?'));

/** "240p · 420 kbit/s", "360p (source) · 900 kbit/s". */
function levelText(l: QualityLevel): string {
  const name = l.rung === undefined ? heightText(l.height, undefined) : renditionLabel({ rung: l.rung, height: l.height });
  return l.bitrate ? `${name} · ${fmtBps(l.bitrate)}` : name;
}

/** The stats panel's line: "240p 426x240 · 420 kbit/s, auto". */
export function qualityText(q: QualityNow | undefined): string {
  if (!q || q.level < 0) return '–';
  const size = q.width && q.height ? ` ${q.width}x${q.height}` : '';
  const rate = q.bitrate ? ` · ${fmtBps(q.bitrate)}` : '';
  return `${heightText(q.height, q.rung)}${size}${rate}${q.auto ? ', auto' : ''}`;
}

/** hls.js's levels: "Auto", then each level, highest first. */
export class HlsQuality implements QualityModel {
  private chosen = -1;

  constructor(private readonly engine: () => Engine | undefined) {}

  private quality() {
    return this.engine()?.quality?.();
  }

  choices(): QualityChoice[] {
    const q = this.quality();
    if (!q || q.levels.length < 2) return [];
    const levels = q.levels.map((l, i) => ({ value: i, label: levelText(l) })).reverse();
    return [{ value: -1, label: 'Auto' }, ...levels];
  }

  selected(): number {
    const q = this.quality();
    return !q || q.auto ? -1 : this.chosen;
  }

  label(): string {
    const q = this.quality();
    const l = q?.levels[q.playing];
    const name = l ? heightText(l.height, l.rung) : '';
    return q?.auto === false ? name : `Auto ${name}`.trim();
  }

  choose(value: number): void {
    this.chosen = value;
    this.engine()?.setLevel?.(value);
  }

  now(): QualityNow | undefined {
    const q = this.quality();
    if (!q || q.levels.length < 2) return undefined;
    const l = q.levels[q.playing];
    return { levels: q.levels.length, level: q.playing, rung: l?.rung, width: l?.width, height: l?.height, bitrate: l?.bitrate, auto: q.auto, switches: q.switches };
  }
}

/**
 * The rungs of a ladder over HTTP-FLV: each its own stream. A choice plays `{stream}_{rung}.flv` from
 * the same nodes: the play answer's URL on the chosen node, the fallbacks' URLs with the stream renamed.
 */
export class FlvRungs implements QualityModel {
  private renditions: readonly Rendition[] = [];
  private current = -1;
  private switches = 0;

  constructor(
    private readonly sources: readonly PlaySource[],
    private readonly play: (sources: PlaySource[]) => void,
  ) {}

  /** The ladder became known; `playing` is the hub stream the player plays now. */
  setRenditions(renditions: readonly Rendition[], playing: string | undefined): void {
    this.renditions = renditions;
    this.current = renditions.findIndex((r) => r.stream === playing);
  }

  /** The index of rung `name` in the ladder, -1 when it has none. */
  indexOf(name: string): number {
    return this.renditions.findIndex((r) => r.rung === name);
  }

  choices(): QualityChoice[] {
    if (this.renditions.length < 2) return [];
    return this.renditions.map((r, i) => {
      const rate = r.bandwidthBps ? ` · ${fmtBps(r.bandwidthBps)}` : '';
      return { value: i, label: `${renditionLabel(r)}${rate}${r.live === false ? ' (off)' : ''}` };
    });
  }

  selected(): number {
    return this.current;
  }

  label(): string {
    const r = this.renditions[this.current];
    return r ? heightText(r.height, r.rung) : '';
  }

  choose(value: number): void {
    const r = this.renditions[value];
    if (!r || value === this.current) return;
    this.play(this.sources.map((s, k) => ({ ...s, flv: (k === 0 ? r.flv : undefined) ?? (s.flv === undefined ? undefined : flvUrlOf(s.flv, r.stream)) ?? s.flv })));
    this.current = value;
    this.switches++;
  }

  /**
   * The rung's height as the ladder names it (the decoded one may be a line off: Chromium applies the
   * rung's sample aspect ratio); its width as decoded (`video`), which the ladder may not know.
   */
  now(video: HTMLVideoElement): QualityNow | undefined {
    if (this.renditions.length < 2) return undefined;
    const r = this.renditions[this.current];
    return {
      levels: this.renditions.length,
      level: this.current,
      rung: r?.rung,
      width: video.videoWidth || r?.width,
      height: r?.height ?? (video.videoHeight || undefined),
      bitrate: r?.bandwidthBps,
      auto: false,
      switches: this.switches,
    };
  }
}
