// Helpers shared by the three pages: DOM lookup, the control-plane base URL, tolerant JSON access and
// formatting. Browser code only; bundled by scripts/build-player.mjs.

/** The element with this id, or a clear error naming the page's missing element. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
}

/** Create an element with optional class and text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A table cell; `col` names its column (data-col) for the pages' tests. */
export function td(text: string, col?: string): HTMLTableCellElement {
  const c = h('td', undefined, text);
  if (col) c.dataset.col = col;
  return c;
}

/** A thumbnail <img>, hidden until its image loads and again when one fails (a 404: not live, no video). */
export function thumbImg(alt: string): HTMLImageElement {
  const img = h('img', 'thumb');
  img.alt = alt;
  img.hidden = true;
  img.addEventListener('load', () => (img.hidden = false));
  img.addEventListener('error', () => (img.hidden = true));
  return img;
}

export const query = (): URLSearchParams => new URLSearchParams(location.search);

/**
 * Base URL of the control plane. `?api=http://signal:8090` overrides; otherwise the page's own origin
 * (the signal serves these pages, and the origin and edge answer the read-only `/api/streams` too).
 */
export function apiBase(): string {
  const fromQuery = query().get('api');
  if (fromQuery && /^https?:\/\//.test(fromQuery)) return fromQuery.replace(/\/+$/, '');
  return location.origin;
}

/** Keep the `api` query parameter on links between the pages. */
export function withApi(path: string): string {
  const api = query().get('api');
  if (!api) return path;
  return path + (path.includes('?') ? '&' : '?') + 'api=' + encodeURIComponent(api);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** fetch + JSON with a timeout; a non-2xx answer becomes an HttpError carrying the API's `message`. */
export async function fetchJson(url: string, init: RequestInit = {}, timeoutMs = 5000): Promise<unknown> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, { ...init, signal: ctrl.signal, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const msg = str(get(body, 'message')) ?? str(get(body, 'error')) ?? (text.slice(0, 200) || res.statusText);
      throw new HttpError(res.status, `${res.status} ${msg}`);
    }
    return body;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof DOMException && err.name === 'AbortError') throw new Error(`timed out after ${timeoutMs} ms: ${url}`);
    throw new Error(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---- tolerant access to JSON whose exact shape other engineers own ----

export type Json = unknown;

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follow a dotted path ("load.viewers") through objects; undefined when any step is missing. */
export function get(v: unknown, path: string): unknown {
  let cur: unknown = v;
  for (const key of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** The first of several paths that holds a value. */
export function first(v: unknown, ...paths: string[]): unknown {
  for (const p of paths) {
    const x = get(v, p);
    if (x !== undefined && x !== null && x !== '') return x;
  }
  return undefined;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** An absolute http(s) URL, else undefined: an answer cannot make a page load javascript: or data: URLs. */
export function httpUrl(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && /^https?:\/\//i.test(s) ? s : undefined;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A list out of `[...]` or `{<key>: [...]}` for the first key that holds an array. */
export function list(v: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(v)) return v;
  for (const k of keys) {
    const x = get(v, k);
    if (Array.isArray(x)) return x;
  }
  return [];
}

// ---- formatting ----

export function fmtBps(bps: number | undefined): string {
  if (bps === undefined || !Number.isFinite(bps)) return '–';
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mbit/s';
  if (bps >= 1e3) return (bps / 1e3).toFixed(0) + ' kbit/s';
  return bps.toFixed(0) + ' bit/s';
}

export function fmtSec(s: number | undefined, digits = 2): string {
  return s === undefined || !Number.isFinite(s) ? '–' : s.toFixed(digits) + ' s';
}

export function fmtPct(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '–' : (ratio * 100).toFixed(0) + ' %';
}

/** Copy text to the clipboard; falls back to a hidden textarea where the async clipboard is refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/** A button that copies the text of `source()` and says so for a moment. */
export function copyButton(source: () => string, label = 'Copy'): HTMLButtonElement {
  const b = h('button', 'copy', label);
  b.type = 'button';
  b.addEventListener('click', () => {
    void copyText(source()).then((ok) => {
      b.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(() => (b.textContent = label), 1500);
    });
  });
  return b;
}
