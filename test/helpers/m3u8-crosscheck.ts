// Differential check of our playlist parser against an independent one (m3u8-parser, the parser of
// video.js): both read the same text and must agree on the header, segments, durations, discontinuities,
// PDT, EXT-X-START, the EXT-X-MAP in force, parts, skip, the open segment, the preload hint, rendition reports and
// gaps (EXT-X-GAP, which m3u8-parser 7 reads through a custom tag parser). crossCheckMultivariant does the
// same for multivariant playlists (each variant's URI and attributes).
import { Parser, type M3u8Manifest, type M3u8Part, type M3u8Segment } from 'm3u8-parser';
import { parseMediaPlaylist, parseMultivariantPlaylist, type MediaPlaylist, type PlaylistPart } from '../../src/media/hls/playlist.js';

interface PartView {
  uri: string;
  duration: number;
  independent: boolean;
}
interface SegmentView {
  uri: string;
  duration: number;
  discontinuity: boolean;
  pdt: number | null;
  map: string | null;
  parts: PartView[];
  gap: boolean;
}
interface View {
  header: Record<string, unknown>;
  segments: SegmentView[];
  open: { parts: PartView[]; hint: string | null; pdt: number | null; discontinuity: boolean; map: string | null } | null;
  renditionReports: unknown[];
}

const ourParts = (parts: readonly PlaylistPart[] | undefined): PartView[] => (parts ?? []).map((x) => ({ uri: x.uri, duration: x.durationS, independent: x.independent }));
const theirParts = (parts: readonly M3u8Part[] | undefined): PartView[] => (parts ?? []).map((x) => ({ uri: x.uri, duration: x.duration, independent: x.independent === true }));
const date = (s: string | undefined): number | null => (s === undefined ? null : Date.parse(s));

function ours(p: MediaPlaylist): View {
  const c = p.serverControl;
  let map: string | null = null;
  const segments = p.segments.map((s) => {
    map = s.map ?? map;
    return { uri: s.uri, duration: s.durationS, discontinuity: s.discontinuity, pdt: s.programDateTime ?? null, map, parts: ourParts(s.parts), gap: s.gap === true };
  });
  const hasOpen = (p.trailingParts?.length ?? 0) > 0 || p.preloadHint !== undefined;
  return {
    header: {
      version: p.version,
      targetDuration: p.targetDurationS,
      mediaSequence: p.mediaSequence,
      discontinuitySequence: p.discontinuitySequence,
      endList: p.endList,
      independentSegments: p.independentSegments ?? false,
      partTarget: p.partTargetS,
      skipped: p.skippedSegments,
      start: p.start?.timeOffsetS,
      playlistType: p.playlistType,
      // m3u8-parser fills HOLD-BACK/PART-HOLD-BACK defaults in: compare what the text states.
      serverControl: c && { canBlockReload: c.canBlockReload, partHoldBack: c.partHoldBackS, canSkipUntil: c.canSkipUntilS, holdBack: c.holdBackS },
    },
    segments,
    open: hasOpen
      ? { parts: ourParts(p.trailingParts), hint: p.preloadHint?.uri ?? null, pdt: p.openSegment?.programDateTime ?? null, discontinuity: p.openSegment?.discontinuity ?? false, map: p.openSegment?.map ?? map }
      : null,
    renditionReports: (p.renditionReports ?? []).map((r) => ({ uri: r.uri, lastMsn: r.lastMsn, lastPart: r.lastPart })),
  };
}

function theirs(m: M3u8Manifest, stated: View['header']['serverControl']): View {
  const seg = (s: M3u8Segment): SegmentView => ({
    uri: s.uri ?? '',
    duration: s.duration ?? NaN,
    discontinuity: s.discontinuity === true,
    pdt: date(s.dateTimeString),
    map: s.map?.uri ?? null,
    parts: theirParts(s.parts),
    gap: s.custom?.gap === true,
  });
  const c = m.serverControl;
  const s = stated as Record<string, unknown> | undefined;
  const pick = <T>(key: string, v: T): T | undefined => (s?.[key] === undefined ? undefined : v);
  const o = m.preloadSegment;
  return {
    header: {
      version: m.version,
      targetDuration: m.targetDuration,
      mediaSequence: m.mediaSequence ?? 0,
      discontinuitySequence: m.discontinuitySequence ?? 0,
      endList: m.endList === true,
      independentSegments: m.independentSegments === true,
      partTarget: m.partInf?.partTarget,
      skipped: m.skip?.skippedSegments,
      start: m.start?.timeOffset,
      playlistType: m.playlistType,
      serverControl: c && { canBlockReload: c.canBlockReload === true, partHoldBack: pick('partHoldBack', c.partHoldBack), canSkipUntil: pick('canSkipUntil', c.canSkipUntil), holdBack: pick('holdBack', c.holdBack) },
    },
    segments: m.segments.map(seg),
    open: o
      ? {
          parts: theirParts(o.parts),
          hint: o.preloadHints?.find((h) => h.type === 'PART')?.uri ?? null,
          pdt: date(o.dateTimeString),
          discontinuity: o.discontinuity === true,
          map: o.map?.uri ?? null,
        }
      : null,
    renditionReports: (m.renditionReports ?? []).map((r) => ({ uri: r.uri, lastMsn: r.lastMsn, lastPart: r.lastPart })),
  };
}

function diff(path: string, a: unknown, b: unknown, out: string[]): void {
  if (out.length >= 20) return;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) diff(`${path}.${k}`, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
    return;
  }
  if (!Object.is(a, b)) out.push(`${path}: ours ${JSON.stringify(a)}, m3u8-parser ${JSON.stringify(b)}`);
}

/**
 * Where our parser and m3u8-parser disagree on `text` (empty when they agree), plus m3u8-parser's warnings
 * other than its notes on filling in defaults. Our parser must accept the text.
 */
export function crossCheckPlaylist(text: string): string[] {
  const mine = ours(parseMediaPlaylist(text));
  const { manifest, warnings } = parseWithM3u8Parser(text);
  const out: string[] = [];
  diff('playlist', mine, theirs(manifest, mine.header.serverControl), out);
  return [...out, ...warnings];
}

function parseWithM3u8Parser(text: string): { manifest: M3u8Manifest; warnings: string[] } {
  const parser = new Parser();
  // m3u8-parser 7 has no EXT-X-GAP: a custom parser marks the segment the tag precedes.
  parser.addParser({ expression: /^#EXT-X-GAP$/, customType: 'gap', dataParser: () => true, segment: true });
  const warnings: string[] = [];
  parser.on('warn', (w) => {
    if (!/defaulting/.test(w.message)) warnings.push(`m3u8-parser warns: ${w.message}`);
  });
  parser.push(text);
  parser.end();
  return { manifest: parser.manifest, warnings };
}

/** Where our multivariant parser and m3u8-parser disagree on `text` (empty when they agree). Ours must accept it. */
export function crossCheckMultivariant(text: string): string[] {
  const mine = parseMultivariantPlaylist(text);
  const { manifest, warnings } = parseWithM3u8Parser(text);
  const view = {
    independentSegments: mine.independentSegments,
    variants: mine.variants.map((v) => ({ uri: v.uri, bandwidth: v.bandwidthBps, average: v.averageBandwidthBps, codecs: v.codecs, resolution: v.resolution, frameRate: v.frameRate })),
  };
  const theirView = {
    independentSegments: manifest.independentSegments === true,
    variants: (manifest.playlists ?? []).map((p) => {
      const a = p.attributes;
      const average = a['AVERAGE-BANDWIDTH'];
      return { uri: p.uri, bandwidth: a.BANDWIDTH, average: average === undefined ? undefined : Number(average), codecs: a.CODECS, resolution: a.RESOLUTION && { width: a.RESOLUTION.width, height: a.RESOLUTION.height }, frameRate: a['FRAME-RATE'] };
    }),
  };
  const out: string[] = [];
  diff('multivariant', view, theirView, out);
  return [...out, ...warnings];
}
