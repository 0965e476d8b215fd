// The streamer page (/player/streamer.html): create a stream with `POST /api/streams` and show what
// OBS asks for (Server, Stream Key), the full push URL and an FFmpeg command, each with a copy button.
// Once the stream is live, its latest keyframe shows beside them (the play answer's `snapshot`, asked for
// every 10 s; hidden while there is none).
import { apiBase, byId, copyButton, fetchJson, first, get, h, str, thumbImg, withApi } from './common.js';
import { playApiPath, streamKey } from '../../shared/url-contract.js';
import { SNAPSHOT_REFRESH_MS, thumbUrl } from './timeshift.js';

export interface CreatedStream {
  readonly id: string | undefined;
  readonly app: string | undefined;
  readonly name: string | undefined;
  readonly pushUrl: string;
  readonly server: string;
  readonly streamKey: string;
  readonly ffmpeg: string;
}

/** Split rtmp://host/app/stream?token=... the way OBS wants it: Server up to the app, Stream Key the rest. */
export function splitPushUrl(push: string): { server: string; key: string } {
  const m = /^(rtmps?:\/\/[^/]+\/[^/?#]+)\/(.+)$/.exec(push);
  return m ? { server: m[1] as string, key: m[2] as string } : { server: push, key: '' };
}

export function toCreated(body: unknown): CreatedStream {
  const pushUrl = str(first(body, 'pushUrl', 'push.url', 'push', 'publishUrl', 'rtmpUrl', 'url', 'urls.push'));
  if (!pushUrl) throw new Error('the control plane answered without a push URL');
  const split = splitPushUrl(pushUrl);
  const server = str(first(body, 'obs.server', 'server', 'push.server')) ?? split.server;
  const streamKey = str(first(body, 'obs.streamKey', 'obs.key', 'streamKey', 'obs.stream_key', 'push.streamKey', 'key')) ?? split.key;
  const ffmpeg =
    str(first(body, 'ffmpeg', 'ffmpegCommand', 'commands.ffmpeg', 'push.ffmpeg')) ??
    `ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv "${pushUrl}"`;
  return {
    id: str(first(body, 'id', 'streamId')),
    app: str(first(body, 'app')),
    name: str(first(body, 'name', 'stream')),
    pushUrl,
    server,
    streamKey,
    ffmpeg,
  };
}

function row(label: string, value: string, secret = false): HTMLElement {
  const wrap = h('div', 'field');
  wrap.append(h('label', undefined, label));
  const box = h('div', 'copy-row');
  const input = h('input');
  input.readOnly = true;
  input.value = value;
  input.type = secret ? 'password' : 'text';
  input.dataset.field = label;
  box.append(input);
  if (secret) {
    const show = h('button', 'ghost', 'Show');
    show.type = 'button';
    show.addEventListener('click', () => {
      input.type = input.type === 'password' ? 'text' : 'password';
      show.textContent = input.type === 'password' ? 'Show' : 'Hide';
    });
    box.append(show);
  }
  box.append(copyButton(() => input.value));
  wrap.append(box);
  return wrap;
}

let previewTimer: ReturnType<typeof setTimeout> | undefined;

/** The stream's snapshot from its play answer, every SNAPSHOT_REFRESH_MS while the page shows it. */
function preview(app: string, name: string): HTMLImageElement {
  const img = thumbImg(`${streamKey(app, name)}, latest keyframe`);
  img.id = 'stream-thumb';
  if (previewTimer) clearTimeout(previewTimer);
  const tick = async (): Promise<void> => {
    const answer = await fetchJson(`${apiBase()}${playApiPath(app, name)}`).catch(() => undefined);
    const snapshot = str(get(answer, 'snapshot'));
    const src = snapshot ? thumbUrl(snapshot, Date.now()) : undefined;
    if (src && img.getAttribute('src') !== src) img.src = src;
    if (!src) img.hidden = true;
    previewTimer = setTimeout(() => void tick(), SNAPSHOT_REFRESH_MS);
  };
  void tick();
  return img;
}

function show(c: CreatedStream): void {
  const out = byId('result');
  out.replaceChildren();
  out.append(h('h2', undefined, `Stream ${c.app && c.name ? streamKey(c.app, c.name) : (c.id ?? '')}`));
  if (c.app && c.name) out.append(preview(c.app, c.name));
  out.append(h('h3', undefined, 'OBS: Settings → Stream → Service: Custom'));
  out.append(row('Server', c.server), row('Stream Key', c.streamKey, true));
  out.append(h('h3', undefined, 'FFmpeg'));
  const pre = h('pre', 'cmd', c.ffmpeg);
  pre.dataset.field = 'ffmpeg';
  const cmdRow = h('div', 'copy-row');
  cmdRow.append(pre, copyButton(() => c.ffmpeg));
  out.append(cmdRow);
  out.append(h('h3', undefined, 'Full push URL'));
  out.append(row('Push URL', c.pushUrl, true));
  if (c.app && c.name) {
    const a = h('a', 'button', 'Watch this stream');
    a.href = withApi(`./?stream=${encodeURIComponent(streamKey(c.app, c.name))}`);
    out.append(h('p'), a);
  }
  out.hidden = false;
}

const form = byId<HTMLFormElement>('create-form');
const err = byId('create-error');
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  err.textContent = '';
  const app = byId<HTMLInputElement>('app').value.trim();
  const name = byId<HTMLInputElement>('name').value.trim();
  const body: Record<string, string> = {};
  for (const [k, v] of [
    ['app', app],
    ['name', name],
  ] as const) {
    if (!v) continue;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) {
      err.textContent = `${k}: letters, digits, _ and - only, at most 64`;
      return;
    }
    body[k] = v;
  }
  const button = form.querySelector('button');
  if (button) button.disabled = true;
  // A secured control plane takes new streams from operators only (the admin bearer); an --insecure one from anyone.
  // Only to this page's own origin: a link with ?api= pointing elsewhere must not collect the token.
  const sameOrigin = new URL(apiBase(), location.href).origin === location.origin;
  const adminToken = sameOrigin ? byId<HTMLInputElement>('admin-token').value.trim() : '';
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}) };
  fetchJson(`${apiBase()}/api/streams`, { method: 'POST', body: JSON.stringify(body), headers })
    .then((res) => show(toCreated(res)))
    .catch((e: unknown) => {
      err.textContent = `Could not create the stream: ${e instanceof Error ? e.message : String(e)}`;
    })
    .finally(() => {
      if (button) button.disabled = false;
    });
});
for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('a[data-keep-api]'))) a.href = withApi(a.getAttribute('href') ?? './');
