// The chat panel: one WebSocket per stream on the control plane (`/api/streams/:id/chat`).
// Out: {type:'msg', text}. In: {type:'msg', from, text, ts} and {type:'error', message}.
import { get, h, num, str } from './common.js';

export class ChatPanel {
  private ws: WebSocket | undefined;
  private closed = false;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly log: HTMLElement,
    private readonly form: HTMLFormElement,
    private readonly input: HTMLInputElement,
    private readonly status: HTMLElement,
    private readonly url: string,
  ) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    this.setStatus('connecting…');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.setStatus(`chat unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.retryMs = 1000;
      this.setStatus('connected');
      this.input.disabled = false;
    });
    ws.addEventListener('message', (ev: MessageEvent) => this.receive(ev.data));
    ws.addEventListener('close', (ev: CloseEvent) => {
      this.input.disabled = true;
      if (this.closed) return;
      const why = ev.reason ? ` (${ev.reason})` : '';
      this.setStatus(`disconnected${why}, retrying in ${Math.round(this.retryMs / 1000)} s`);
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    });
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const type = str(get(msg, 'type'));
    if (type === 'msg') {
      const ts = num(get(msg, 'ts'));
      this.append(str(get(msg, 'from')) ?? 'anonymous', str(get(msg, 'text')) ?? '', ts);
    } else if (type === 'error') {
      this.append('', str(get(msg, 'message')) ?? 'error', undefined, true);
    }
  }

  private append(from: string, text: string, ts: number | undefined, isError = false): void {
    const line = h('div', isError ? 'chat-line chat-error' : 'chat-line');
    if (ts !== undefined) line.append(h('span', 'chat-time', new Date(ts).toLocaleTimeString()));
    if (from) line.append(h('span', 'chat-from', from));
    line.append(h('span', 'chat-text', text));
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 4;
    this.log.append(line);
    while (this.log.childElementCount > 200) this.log.firstElementChild?.remove();
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }

  private send(): void {
    const text = this.input.value.trim();
    if (!text || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: 'msg', text }));
    this.input.value = '';
  }

  private setStatus(s: string): void {
    this.status.textContent = s;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }
}
