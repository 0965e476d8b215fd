// Which streams --record records: patterns `app/stream` where either part may hold `*` wildcards
// (`live/*`, `*/*`, `live/cam1`, `live/cam*`). A rung ({stream}_{rung}) is a stream like any other:
// `live/*` records rungs too, `live/cam1` only the source.

export type RecordPatterns = readonly { readonly app: RegExp; readonly stream: RegExp }[];

const PART = /^[A-Za-z0-9_*-]{1,64}$/;

const partRegex = (part: string): RegExp => new RegExp(`^${part.replace(/-/g, '\\-').replace(/\*/g, '[A-Za-z0-9_-]*')}$`);

/** The single patterns in values that may each be a comma-separated list: trimmed, empties dropped. */
export const recordPatternList = (values: readonly string[]): string[] =>
  values.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');

/** Parses patterns (each may be a comma-separated list); throws an Error naming a bad one. */
export function parseRecordPatterns(values: readonly string[]): RecordPatterns {
  const out: { app: RegExp; stream: RegExp }[] = [];
  for (const v of recordPatternList(values)) {
    const [app, stream, ...rest] = v.split('/');
    if (app === undefined || stream === undefined || rest.length > 0 || !PART.test(app) || !PART.test(stream)) {
      throw new Error(`bad record pattern ${JSON.stringify(v)}: expected app/stream, * as a wildcard (live/*, */*, live/cam1)`);
    }
    out.push({ app: partRegex(app), stream: partRegex(stream) });
  }
  return out;
}

export const matchesRecordPatterns = (patterns: RecordPatterns, app: string, stream: string): boolean =>
  patterns.some((p) => p.app.test(app) && p.stream.test(stream));
