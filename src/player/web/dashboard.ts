// The operator dashboard (/player/dashboard.html): streams from `GET /api/streams` and nodes from
// `GET /api/nodes`, refreshed every 2 s. `?api=URL` points it at a control plane elsewhere; `&origin=URL`
// adds an origin's own `/api/streams` (codecs, bit rate in) when the control plane does not carry them.
// Each stream shows how it is packaged as HLS: TS, fMP4 or LL-HLS with its part target, and its CODECS;
// a source with a transcoding ladder shows its renditions (which are up) and its transcoder's speed, and
// its rung streams ({stream}_{rung}) are folded into that cell rather than listed as streams of their own.
// Nodes that transcode (remote transcoders, origins transcoding locally) show how many sources and the
// slowest one's speed. Each live stream shows its latest keyframe (the signal's `snapshot` URL, or the
// origin's /{app}/{stream}.jpg), 160 px wide, asked for again every 10 s, hidden while there is none.
// In a cluster, each stream shows the origin that holds it (the signal's `origin`: with several, the one
// edges are sent to first) and the edges pulling it (the signal's `edges`, from their heartbeats).
import { apiBase, byId, fetchJson, fmtBps, fmtPct, fmtSec, get, h, query, td, thumbImg, withApi } from './common.js';
import { SOURCE_RUNG, parseStreamKey, snapshotPath, streamKey } from '../../shared/url-contract.js';
import { foldRungs, nodeRows, renditionLabel, streamRows, toNodeRow } from './streams.js';
import type { HlsMode, NodeRow, StreamRow, TranscodeInfo } from './streams.js';
import { thumbUrl } from './timeshift.js';

const INTERVAL_MS = 2000;

interface DashboardState {
  streams: StreamRow[];
  nodes: NodeRow[];
  updatedAt: number;
  errors: string[];
}

const state: DashboardState = { streams: [], nodes: [], updatedAt: 0, errors: [] };

declare global {
  interface Window {
    __livecdnDashboard?: { state(): DashboardState };
  }
}
window.__livecdnDashboard = { state: () => state };

/**
 * Merge rows describing the same stream from several sources (the control plane, origins). The sources
 * overlap rather than add up, so counts take the largest report and descriptions the first one known.
 */
export function mergeStreams(lists: StreamRow[][]): StreamRow[] {
  const byKey = new Map<string, StreamRow>();
  const max = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
  for (const rows of lists) {
    for (const r of rows) {
      const k = r.key ?? r.id;
      const prev = byKey.get(k);
      if (!prev) {
        byKey.set(k, r);
        continue;
      }
      const viewers: Record<string, number> = { ...prev.viewers };
      for (const [p, n] of Object.entries(r.viewers)) viewers[p] = Math.max(viewers[p] ?? 0, n);
      const perProtoSum = Object.values(viewers).reduce((a, b) => a + b, 0);
      byKey.set(k, {
        id: prev.id.includes('.') || !r.id.includes('.') ? prev.id : r.id,
        key: prev.key ?? r.key,
        live: prev.live === true || r.live === true ? true : (prev.live ?? r.live),
        videoCodec: prev.videoCodec ?? r.videoCodec,
        audioCodec: prev.audioCodec ?? r.audioCodec,
        width: prev.width ?? r.width,
        height: prev.height ?? r.height,
        fps: prev.fps ?? r.fps,
        bitrateIn: prev.bitrateIn ?? r.bitrateIn,
        hls: prev.hls ?? r.hls,
        ladder: prev.ladder ?? r.ladder,
        transcode: prev.transcode?.speed !== undefined ? prev.transcode : (r.transcode ?? prev.transcode),
        snapshot: prev.snapshot ?? r.snapshot,
        dvrWindowS: prev.dvrWindowS ?? r.dvrWindowS,
        origin: prev.origin ?? r.origin,
        edges: prev.edges ?? r.edges,
        viewers,
        totalViewers: max(max(prev.totalViewers, r.totalViewers), Object.keys(viewers).length ? perProtoSum : undefined),
      });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key ?? a.id).localeCompare(b.key ?? b.id));
}

/** "LL-HLS fMP4, parts 0.20 s", "fMP4", "TS"; the CODECS string beside it. */
function hlsCell(m: HlsMode | undefined): HTMLTableCellElement {
  const c = td('', 'hls');
  if (!m?.format) {
    c.textContent = '–';
    return c;
  }
  const container = m.format === 'fmp4' ? 'fMP4' : 'TS';
  c.append(h('span', 'hls-mode', m.partTargetS === undefined ? container : `LL-HLS ${container}, parts ${fmtSec(m.partTargetS)}`));
  if (m.codecs) c.append(' ', h('span', 'muted hls-codecs', m.codecs));
  return c;
}

/** An encoding speed, x real time. */
const fmtSpeed = (speed: number | undefined): string => (speed === undefined ? 'speed –' : `${speed.toFixed(2)}x`);

/** "1.20x local · 2 up · 1 restart". */
function transcodeText(t: TranscodeInfo): string {
  const speed = fmtSpeed(t.speed);
  const restarts = t.restarts ? ` · ${t.restarts} restart${t.restarts === 1 ? '' : 's'}` : '';
  return `${speed}${t.where ? ` ${t.where}` : ''}${t.rungsUp !== undefined ? ` · ${t.rungsUp} up` : ''}${restarts}`;
}

/** The ladder: one chip per rendition (live ones marked), then the transcoder. */
function ladderCell(r: StreamRow, rungs: ReadonlyMap<string, StreamRow>): HTMLTableCellElement {
  const c = td('', 'ladder');
  const key = r.key === undefined ? undefined : parseStreamKey(r.key);
  if (!r.ladder || !key) {
    c.textContent = '–';
    return c;
  }
  for (const x of r.ladder) {
    const chip = h('span', `rung${x.live ? ' up' : ''}`, renditionLabel(x));
    chip.dataset.rung = x.rung;
    const viewers = x.rung === SOURCE_RUNG ? undefined : rungs.get(streamKey(key.app, x.stream))?.totalViewers;
    chip.title = [x.stream, x.live ? 'up' : 'not up', x.bandwidthBps ? fmtBps(x.bandwidthBps) : undefined, viewers !== undefined ? `${viewers} viewers` : undefined]
      .filter(Boolean)
      .join(' · ');
    c.append(chip, ' ');
  }
  if (r.transcode) c.append(h('span', 'muted transcode', transcodeText(r.transcode)));
  return c;
}

/** The origin's id, its URL as the tooltip. */
function originCell(r: StreamRow): HTMLTableCellElement {
  const c = td(r.origin?.id ?? '–', 'origin');
  if (r.origin?.url) c.title = r.origin.url;
  return c;
}

/** Edges shown by name in a row; the rest are counted (all of them are in the tooltip). */
const EDGES_SHOWN = 6;

/** One chip per edge pulling the stream. */
function edgesCell(r: StreamRow): HTMLTableCellElement {
  const c = td('', 'edges');
  const edges = r.edges ?? [];
  if (!edges.length) {
    c.textContent = '–';
    return c;
  }
  for (const id of edges.slice(0, EDGES_SHOWN)) {
    const chip = h('span', 'chip', id);
    chip.dataset.edge = id;
    c.append(chip, ' ');
  }
  if (edges.length > EDGES_SHOWN) c.append(h('span', 'muted', `+${edges.length - EDGES_SHOWN} more`));
  c.title = edges.join(', ');
  return c;
}

/** The thumbnails by stream key: kept across the table's redraws, so an image loads once per refresh. */
const thumbs = new Map<string, HTMLImageElement>();

/** The stream's thumbnail, its src moved on every SNAPSHOT_REFRESH_MS; hidden until it loads (a 404: not live, no video). */
function thumbCell(r: StreamRow): HTMLTableCellElement {
  const c = td('', 'thumb');
  const key = r.key ?? r.id;
  const src = r.snapshot && r.live !== false ? thumbUrl(r.snapshot, Date.now()) : undefined;
  let img = thumbs.get(key);
  if (!src) {
    thumbs.delete(key);
    return c;
  }
  if (!img) {
    img = thumbImg(`${key}, latest keyframe`);
    thumbs.set(key, img);
  }
  if (img.getAttribute('src') !== src) img.src = src;
  c.append(img);
  return c;
}

function renderStreams(rows: StreamRow[], rungs: ReadonlyMap<string, StreamRow>): void {
  const body = byId('streams-body');
  body.replaceChildren();
  const shown = new Set(rows.map((r) => r.key ?? r.id));
  for (const k of [...thumbs.keys()]) if (!shown.has(k)) thumbs.delete(k);
  if (!rows.length) {
    const tr = h('tr');
    const c = td('No streams.');
    c.colSpan = 12;
    c.className = 'muted';
    tr.append(c);
    body.append(tr);
    return;
  }
  for (const r of rows) {
    const tr = h('tr');
    tr.dataset.stream = r.key ?? r.id;
    const name = td('', 'stream');
    if (r.key) {
      const a = h('a', undefined, r.key);
      a.href = withApi(`./?stream=${encodeURIComponent(r.key)}`);
      name.append(a);
    } else name.textContent = r.id;
    const perProto = Object.entries(r.viewers)
      .map(([k, v]) => `${k.toUpperCase()} ${v}`)
      .join(' · ');
    tr.append(
      thumbCell(r),
      name,
      td(r.live === undefined ? '–' : r.live ? 'live' : r.dvrWindowS ? 'idle (DVR)' : 'idle', 'state'),
      originCell(r),
      edgesCell(r),
      td([r.videoCodec, r.audioCodec].filter(Boolean).join(' + ') || '–', 'codecs'),
      td(r.width && r.height ? `${r.width}x${r.height}${r.fps ? ` @${Math.round(r.fps)}` : ''}` : '–', 'resolution'),
      hlsCell(r.hls),
      ladderCell(r, rungs),
      td(fmtBps(r.bitrateIn), 'bitrate'),
      td(perProto || '–', 'per-proto'),
      td(r.totalViewers === undefined ? '–' : String(r.totalViewers), 'viewers'),
    );
    if (r.live) tr.classList.add('live');
    body.append(tr);
  }
}

function renderNodes(rows: NodeRow[]): void {
  const body = byId('nodes-body');
  body.replaceChildren();
  if (!rows.length) {
    const tr = h('tr');
    const c = td('No nodes registered.');
    c.colSpan = 10;
    c.className = 'muted';
    tr.append(c);
    body.append(tr);
    return;
  }
  const sorted = [...rows].sort((a, b) => a.kind.localeCompare(b.kind) || a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
  for (const n of sorted) {
    const tr = h('tr');
    tr.dataset.node = n.id;
    const bar = h('div', 'bar');
    const fill = h('div', 'fill');
    const loadPct = n.load === undefined ? 0 : Math.max(0, Math.min(1, n.load));
    fill.style.width = `${(loadPct * 100).toFixed(0)}%`;
    if (loadPct > 0.8) fill.classList.add('hot');
    bar.append(fill);
    const loadCell = td('', 'load');
    loadCell.append(bar, h('span', undefined, ` ${fmtPct(n.load)}`));
    const age = n.lastSeen ? `${Math.max(0, Math.round((Date.now() - n.lastSeen) / 1000))} s ago` : '–';
    tr.append(
      td(n.id, 'id'),
      td(n.kind, 'kind'),
      td(n.region, 'region'),
      td(`${n.viewers ?? '–'} / ${n.capacity ?? '–'}`, 'viewers'),
      loadCell,
      td(fmtBps(n.egressBps), 'egress'),
      td(n.cpu === undefined ? '–' : fmtPct(n.cpu), 'cpu'),
      td(fmtPct(n.hitRatio), 'hit-ratio'),
      td(n.transcode ? `${n.transcode.sources} source${n.transcode.sources === 1 ? '' : 's'} · ${fmtSpeed(n.transcode.speed)}` : '–', 'transcode'),
      td(age, 'seen'),
    );
    body.append(tr);
  }
}

/** Sources that failed recently are skipped for a while (a node without CORS or down). */
const failedUntil = new Map<string, number>();

async function optional(url: string): Promise<unknown> {
  const until = failedUntil.get(url);
  if (until !== undefined && until > Date.now()) return undefined;
  try {
    const body = await fetchJson(url, {}, 1500);
    failedUntil.delete(url);
    return body;
  } catch {
    failedUntil.set(url, Date.now() + 30_000);
    return undefined;
  }
}

const errText = (what: string, e: unknown): string => `${what}: ${e instanceof Error ? e.message : String(e)}`;

async function refresh(): Promise<void> {
  const api = apiBase();
  const errors: string[] = [];
  const [streamsBody, nodesBody] = await Promise.all([
    fetchJson(`${api}/api/streams`).catch((e: unknown) => void errors.push(errText('streams', e))),
    fetchJson(`${api}/api/nodes`).catch((e: unknown) => void errors.push(errText('nodes', e))),
  ]);
  const streamLists: StreamRow[][] = [];
  if (streamsBody !== undefined) streamLists.push(streamRows(streamsBody));
  if (nodesBody !== undefined) state.nodes = nodeRows(nodesBody);

  // Origins know resolution and viewers per protocol; edges know their cache hit ratio.
  const origins = new Set<string>();
  const fromQuery = query().get('origin');
  if (fromQuery && /^https?:\/\//.test(fromQuery)) origins.add(fromQuery.replace(/\/+$/, ''));
  for (const n of state.nodes) if (n.kind === 'origin' && n.url) origins.add(n.url.replace(/\/+$/, ''));
  const edgeLookups = state.nodes.filter((n) => n.kind === 'edge' && n.url && n.hitRatio === undefined);
  const [originBodies, edgeBodies] = await Promise.all([
    Promise.all([...origins].map((o) => optional(`${o}/api/streams`))),
    Promise.all(edgeLookups.map((n) => optional(`${(n.url ?? '').replace(/\/+$/, '')}/api/edge`))),
  ]);
  // An origin's own list names no snapshot URL: its snapshots are at /{app}/{stream}.jpg on it.
  [...origins].forEach((base, i) => {
    const b = originBodies[i];
    if (b === undefined) return;
    streamLists.push(
      streamRows(b).map((r) => {
        const key = r.key === undefined ? undefined : parseStreamKey(r.key);
        return r.snapshot || !key ? r : { ...r, snapshot: base + snapshotPath(key.app, key.stream) };
      }),
    );
  });
  edgeLookups.forEach((n, i) => {
    const ratio = edgeBodies[i] === undefined ? undefined : toNodeRow({ id: n.id, cache: get(edgeBodies[i], 'cache') }).hitRatio;
    if (ratio !== undefined) state.nodes = state.nodes.map((x) => (x.id === n.id ? { ...x, hitRatio: ratio } : x));
  });
  if (!origins.size && streamsBody === undefined) errors.push('no stream source answered');
  if (streamLists.length) state.streams = mergeStreams(streamLists);
  state.errors = errors;
  state.updatedAt = Date.now();
  const { sources, rungs } = foldRungs(state.streams);
  renderStreams(sources, rungs);
  renderNodes(state.nodes);
  byId('dash-error').textContent = errors.join(' · ');
  byId('updated').textContent = `updated ${new Date(state.updatedAt).toLocaleTimeString()}`;
  const totalViewers = state.streams.reduce((a, s) => a + (s.totalViewers ?? 0), 0);
  const live = sources.filter((s) => s.live !== false).length;
  const edges = state.nodes.filter((n) => n.kind === 'edge').length;
  const transcoders = state.nodes.filter((n) => n.kind === 'transcoder').length;
  byId('summary').textContent =
    `${live} live stream${live === 1 ? '' : 's'} · ${totalViewers} viewer${totalViewers === 1 ? '' : 's'} · ${edges} edge${edges === 1 ? '' : 's'}` +
    (transcoders ? ` · ${transcoders} transcoder${transcoders === 1 ? '' : 's'}` : '');
}

async function loop(): Promise<void> {
  try {
    await refresh();
  } finally {
    setTimeout(() => void loop(), INTERVAL_MS);
  }
}

for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[data-keep-api]'))) a.href = withApi(a.getAttribute('href') ?? './');
void loop();
