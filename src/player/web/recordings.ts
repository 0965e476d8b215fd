// The recordings page (/player/recordings.html): the cluster's recordings from the signal's
// `GET /api/recordings` (admin: it merges every origin's own list), each with its first thumbnail
// (the sprite's first tile, read from its WebVTT track), duration, size and state; Play opens its VOD
// playlist on the origin that holds it in video.js with hls.js, Download fetches the FLV (the origin's
// admin route, with the token), Delete asks the signal, which passes it on to that origin. While a
// recording with thumbnails plays, the seek bar shows the tile of the time under the pointer.
import videojsModule from 'video.js';
import { apiBase, byId, fetchJson, h, query, td, withApi } from './common.js';
import { startEngine } from './engines.js';
import type { Engine, EngineError } from './engines.js';
import { cjsDefault } from './interop.js';
import { RECORDINGS_API_PATH, recordingApiPath } from '../../shared/url-contract.js';
import { cueAt, cueImageUrl, fmtBytes, fmtDuration, parseThumbsVtt, recordingRows } from './timeshift.js';
import type { RecordingRow, ThumbCue } from './timeshift.js';

const videojs = cjsDefault(videojsModule);
type VjsPlayer = ReturnType<typeof videojs>;

const REFRESH_MS = 10_000;
const TOKEN_KEY = 'livecdn-admin-token';

interface RecordingsState {
  rows: RecordingRow[];
  errors: string[];
  updatedAt: number;
  /** The recording playing, and what the engine reported. */
  playing: string | undefined;
  engineErrors: EngineError[];
}

const state: RecordingsState = { rows: [], errors: [], updatedAt: 0, playing: undefined, engineErrors: [] };

declare global {
  interface Window {
    __livecdnRecordings?: { state(): RecordingsState; video(): HTMLVideoElement | undefined };
  }
}

/** The admin token, sent only to this page's own origin: a link with ?api= pointing elsewhere must not collect it. */
function token(): string {
  const sameOrigin = new URL(apiBase(), location.href).origin === location.origin;
  return sameOrigin ? byId<HTMLInputElement>('admin-token').value.trim() : '';
}

const authHeaders = (): Record<string, string> => {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
};

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Thumbnail tracks read so far, by recording id: the list's first tiles and the seek bar's previews. */
const tracks = new Map<string, ThumbCue[]>();

/** A recording's thumbnail cues (read once); none without thumbnails. */
async function cuesOf(r: RecordingRow): Promise<ThumbCue[]> {
  const known = tracks.get(r.id);
  if (known || !r.vtt) return known ?? [];
  const res = await fetch(r.vtt, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (!res?.ok) return [];
  const cues = parseThumbsVtt((await res.text()).slice(0, 1_000_000));
  tracks.set(r.id, cues);
  return cues;
}

/** Draws tile `cue` of the thumbnails of `r` as the element's background, at the tile's size. */
function drawTile(el: HTMLElement, r: RecordingRow, cue: ThumbCue): boolean {
  const url = r.vtt ? cueImageUrl(cue, r.vtt, r.sprite) : undefined;
  if (!url) return false;
  el.style.backgroundImage = `url("${url.replace(/"/g, '%22')}")`;
  el.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
  el.style.width = `${cue.w}px`;
  el.style.height = `${cue.h}px`;
  return true;
}

/** The first tile as the list's preview. */
async function showFirstTile(el: HTMLElement, r: RecordingRow): Promise<void> {
  const cue = (await cuesOf(r))[0];
  if (cue && drawTile(el, r, cue)) el.dataset.loaded = '1';
}

function button(label: string, cls: string | undefined, action: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', cls, label);
  b.type = 'button';
  b.dataset.action = action;
  b.addEventListener('click', onClick);
  return b;
}

/** Tiles already drawn, by recording id: a redraw reuses the element rather than fetching the track again. */
const tiles = new Map<string, HTMLElement>();

function render(): void {
  const body = byId('rec-body');
  body.replaceChildren();
  if (!state.rows.length) {
    const tr = h('tr');
    const c = td(state.updatedAt ? 'No recordings.' : 'Enter the admin token (or none for an --insecure cluster) and press Load.', 'none');
    c.colSpan = 7;
    c.className = 'muted';
    tr.append(c);
    body.append(tr);
    return;
  }
  for (const r of state.rows) {
    const tr = h('tr');
    tr.dataset.rec = r.id;
    const thumb = td('', 'thumb');
    let tile = tiles.get(r.id);
    if (!tile) {
      tile = h('div', 'rec-thumb');
      tiles.set(r.id, tile);
      void showFirstTile(tile, r);
    }
    thumb.append(tile);
    const state_ = td(r.state, 'state');
    state_.className = `state-${r.state}`;
    if (r.error) state_.title = r.error;
    const actions = td('', 'actions');
    const box = h('div', 'rec-actions');
    if (r.vod && r.state !== 'recording') box.append(button('Play', undefined, 'play', () => play(r)));
    if (r.file) box.append(button('Download', 'ghost', 'download', () => void download(r)));
    if (r.state !== 'recording') box.append(button('Delete', 'danger', 'delete', () => void remove(r)));
    actions.append(box);
    tr.append(
      thumb,
      td(`${r.app}/${r.stream}${r.part ? ` (part ${r.part + 1})` : ''}`, 'stream'),
      td(r.startedAt === undefined ? r.name : new Date(r.startedAt).toLocaleString(), 'started'),
      td(fmtDuration(r.durationMs), 'duration'),
      td(fmtBytes(r.bytes), 'size'),
      state_,
      actions,
    );
    body.append(tr);
  }
}

async function load(): Promise<void> {
  try {
    const body = await fetchJson(`${apiBase()}${RECORDINGS_API_PATH}`, { headers: authHeaders() }, 10_000);
    state.rows = recordingRows(body);
    const errs = (body as { errors?: { origin?: string; error?: string }[] } | undefined)?.errors;
    state.errors = Array.isArray(errs) ? errs.map((e) => `origin ${String(e.origin)}: ${String(e.error)}`) : [];
  } catch (e) {
    state.errors = [errText(e)];
  }
  state.updatedAt = Date.now();
  const listed = new Set(state.rows.map((r) => r.id));
  for (const id of [...tiles.keys()]) if (!listed.has(id)) tiles.delete(id);
  render();
  byId('rec-error').textContent = state.errors.join(' · ');
  byId('updated').textContent = `updated ${new Date(state.updatedAt).toLocaleTimeString()} · ${state.rows.length} recording${state.rows.length === 1 ? '' : 's'}`;
}

async function remove(r: RecordingRow): Promise<void> {
  if (!confirm(`Delete the recording ${r.id}? Its file is removed from the origin.`)) return;
  const qs = r.origin ? `?origin=${encodeURIComponent(r.origin)}` : '';
  try {
    await fetchJson(`${apiBase()}${recordingApiPath(r.app, r.stream, r.name)}${qs}`, { method: 'DELETE', headers: authHeaders() }, 10_000);
    if (state.playing === r.id) stopPlaying();
  } catch (e) {
    byId('rec-error').textContent = `Could not delete ${r.id}: ${errText(e)}`;
    return;
  }
  await load();
}

/**
 * The FLV through fetch with the admin token (an <a href> cannot send it), handed to the browser as a
 * download; the browser keeps a large Blob on disk rather than in memory.
 */
async function download(r: RecordingRow): Promise<void> {
  if (!r.file) return;
  const note = byId('rec-error');
  note.textContent = `Downloading ${r.id}…`;
  try {
    const res = await fetch(r.file, { headers: authHeaders() });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a');
    a.href = url;
    a.download = `${r.app}-${r.stream}-${r.name}.flv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    note.textContent = '';
  } catch (e) {
    note.textContent = `Could not download ${r.id}: ${errText(e)}`;
  }
}

let player: VjsPlayer | undefined;
let engine: Engine | undefined;

function videoEl(): HTMLVideoElement | undefined {
  return (player?.el().querySelector('video') as HTMLVideoElement | null) ?? undefined;
}

function stopPlaying(): void {
  engine?.destroy();
  engine = undefined;
  state.playing = undefined;
  playingRow = undefined;
  byId('vod-card').hidden = true;
}

let playingRow: RecordingRow | undefined;

/** Over the seek bar, the tile of the time under the pointer (the playing recording's thumbnails). */
function addSeekPreviews(p: VjsPlayer): void {
  const holder = p.el().querySelector<HTMLElement>('.vjs-progress-holder');
  if (!holder) return;
  const box = h('div', 'seek-preview');
  box.hidden = true;
  holder.append(box);
  holder.addEventListener('mousemove', (ev) => {
    const r = playingRow;
    const cues = r ? tracks.get(r.id) : undefined;
    const duration = videoEl()?.duration ?? NaN;
    const rect = holder.getBoundingClientRect();
    const at = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width)) * duration;
    const cue = cues && Number.isFinite(at) ? cueAt(cues, at) : undefined;
    if (!r || !cue || !drawTile(box, r, cue)) {
      box.hidden = true;
      return;
    }
    box.style.left = `${Math.min(rect.width - cue.w, Math.max(0, ev.clientX - rect.left - cue.w / 2))}px`;
    box.hidden = false;
  });
  holder.addEventListener('mouseleave', () => (box.hidden = true));
}

function play(r: RecordingRow): void {
  if (!r.vod) return;
  const card = byId('vod-card');
  card.hidden = false;
  byId('vod-title').textContent = `${r.id}${r.durationMs !== undefined ? ` · ${fmtDuration(r.durationMs)}` : ''}`;
  if (!player) {
    player = videojs(byId<HTMLVideoElement>('vod-video'), { controls: true, muted: true, preload: 'auto', fluid: true, playsinline: true });
    addSeekPreviews(player);
  }
  playingRow = r;
  void cuesOf(r);
  const video = videoEl();
  if (!video) return;
  engine?.destroy();
  state.engineErrors = [];
  state.playing = r.id;
  try {
    engine = startEngine(video, 'hls', r.vod, (e) => state.engineErrors.push(e), query().get('native'), 'vod');
  } catch (e) {
    player.error(errText(e));
    return;
  }
  void video.play().catch(() => {
    /* autoplay refused: the viewer presses play */
  });
  card.scrollIntoView({ block: 'nearest' });
}

window.__livecdnRecordings = { state: () => state, video: videoEl };
for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[data-keep-api]'))) a.href = withApi(a.getAttribute('href') ?? './');

const input = byId<HTMLInputElement>('admin-token');
input.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
let timer: ReturnType<typeof setTimeout> | undefined;
const loop = async (): Promise<void> => {
  if (timer) clearTimeout(timer);
  await load();
  timer = setTimeout(() => void loop(), REFRESH_MS);
};
byId<HTMLFormElement>('load-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  void loop();
});
byId('vod-close').addEventListener('click', stopPlaying);
render();
if (input.value || query().get('load') === '1') void loop();
