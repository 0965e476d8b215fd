// The part of m3u8-parser's (untyped) API the cross-check reads: test/helpers/m3u8-crosscheck.ts.
declare module 'm3u8-parser' {
  export interface M3u8Part {
    uri: string;
    duration: number;
    independent?: boolean;
  }
  export interface M3u8PreloadHint {
    type: string;
    uri: string;
  }
  export interface M3u8Segment {
    uri?: string;
    duration?: number;
    discontinuity?: boolean;
    dateTimeString?: string;
    map?: { uri: string };
    parts?: M3u8Part[];
    preloadHints?: M3u8PreloadHint[];
    /** What custom tag parsers (addParser with segment: true) found. */
    custom?: Record<string, unknown>;
  }
  export interface M3u8Variant {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      /** Left a string by m3u8-parser 7. */
      'AVERAGE-BANDWIDTH'?: string;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
    };
  }
  export interface M3u8Manifest {
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    endList?: boolean;
    playlistType?: string;
    independentSegments?: boolean;
    partInf?: { partTarget: number };
    serverControl?: { canBlockReload?: boolean; partHoldBack?: number; canSkipUntil?: number; holdBack?: number };
    skip?: { skippedSegments: number };
    renditionReports?: Array<{ uri: string; lastMsn?: number; lastPart?: number }>;
    /** EXT-X-START. */
    start?: { timeOffset: number; precise: boolean };
    segments: M3u8Segment[];
    preloadSegment?: M3u8Segment;
    /** A multivariant playlist's variants. */
    playlists?: M3u8Variant[];
  }
  export class Parser {
    manifest: M3u8Manifest;
    on(event: 'warn' | 'info', listener: (e: { message: string }) => void): void;
    addParser(options: { expression: RegExp; customType: string; dataParser?: (line: string) => unknown; segment?: boolean }): void;
    push(chunk: string): void;
    end(): void;
  }
}
