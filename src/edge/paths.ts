// The URL contract of DESIGN.md, as the edge sees it. Names are validated before anything else so that
// a bad name is a 400 and never reaches the cache key, the upstream or a file path.
import { isValidName } from '../shared/names.js';

export type EdgePath =
  | { kind: 'flv'; app: string; stream: string; path: string }
  | { kind: 'playlist'; app: string; stream: string; path: string }
  | { kind: 'segment'; app: string; stream: string; path: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'other' };

// Segment file names under /{app}/{stream}/: conservative on purpose, no "..", no empty parts.
const SEGMENT_PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Classifies a request path (no query string). */
export function classifyPath(pathname: string): EdgePath {
  if (!pathname.startsWith('/')) return { kind: 'invalid', reason: 'path must start with /' };
  const parts = pathname.slice(1).split('/');
  if (parts.length < 2) return { kind: 'other' };
  let app = parts[0] ?? '';
  try {
    app = decodeURIComponent(app);
  } catch {
    return { kind: 'invalid', reason: 'bad percent-encoding' };
  }
  if (!isValidName(app)) return { kind: 'invalid', reason: 'invalid app name' };
  if (parts.length === 2) {
    const file = parts[1] ?? '';
    const m = /^(.*)\.(flv|m3u8)$/.exec(file);
    if (!m) return { kind: 'invalid', reason: 'expected {stream}.flv or {stream}.m3u8' };
    const stream = m[1] ?? '';
    if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
    return { kind: m[2] === 'flv' ? 'flv' : 'playlist', app, stream, path: pathname };
  }
  const stream = parts[1] ?? '';
  if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
  const rest = parts.slice(2);
  if (rest.some((p) => !SEGMENT_PART.test(p))) return { kind: 'invalid', reason: 'invalid segment path' };
  // Nested playlists (variants) are playlists too: they get playlist freshness and prefetch.
  const kind = pathname.endsWith('.m3u8') ? 'playlist' : 'segment';
  return { kind, app, stream, path: pathname };
}
