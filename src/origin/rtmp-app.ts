// The origin's side of the RTMP server: publish (names, token, on_publish hook, one publisher per key)
// into the hub, and play (on_play hook) out of it through pre-chunked, shared RTMP bytes.
import type { PlayOutput, PlayResult, PublishResult, PublisherControl, RtmpApp, RtmpStreamRequest } from '../rtmp/app.js';
import type { Hub } from './hub.js';
import type { Hooks, HookEvent } from './hooks.js';
import { checkPublishToken } from './auth.js';
import { rtmpFormat } from './formats.js';
import { validNames } from './names.js';
import type { Viewer } from './viewer.js';

const event = (req: RtmpStreamRequest): HookEvent => ({
  app: req.app,
  stream: req.stream,
  query: req.query,
  remoteAddress: req.remoteAddress,
  clientId: req.connectionId,
});

export class OriginRtmpApp implements RtmpApp {
  constructor(
    private readonly hub: Hub,
    private readonly hooks: Hooks,
    private readonly secret: string | undefined,
  ) {}

  async publish(req: RtmpStreamRequest, control: PublisherControl): Promise<PublishResult> {
    if (!validNames(req.app, req.stream)) {
      return { ok: false, refusal: { code: 'NetStream.Publish.BadName', description: 'invalid app or stream name: [A-Za-z0-9_-]{1,64}' } };
    }
    const denied = checkPublishToken(this.secret, req.app, req.stream, req.query.token);
    if (denied) {
      this.hub.log.warn({ app: req.app, stream: req.stream, remoteAddress: req.remoteAddress, reason: denied.description }, 'publish refused');
      return { ok: false, refusal: denied };
    }
    // Refuse a live key before asking the hook, so the hook sees only publishes that can happen.
    if (this.hub.get(req.app, req.stream) && !this.hub.takeover) {
      return { ok: false, refusal: { code: 'NetStream.Publish.BadName', description: `${req.app}/${req.stream} is already publishing` } };
    }
    const e = event(req);
    const hook = await this.hooks.allowPublish(e);
    if (!hook.ok) return { ok: false, refusal: { code: 'NetStream.Publish.Unauthorized', description: hook.reason } };
    const out = this.hub.publish(req.app, req.stream, {
      id: req.connectionId,
      remoteAddress: req.remoteAddress,
      query: req.query,
      close: (reason) => control.close(reason),
    });
    if (!out.ok) return { ok: false, refusal: { code: out.code, description: out.description } };
    return {
      ok: true,
      sink: {
        onPacket: (p) => out.push(p),
        onEnd: () => {
          out.end();
          this.hooks.done(e, 'publish');
        },
      },
    };
  }

  async play(req: RtmpStreamRequest, output: PlayOutput): Promise<PlayResult> {
    if (!validNames(req.app, req.stream)) {
      return { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: 'invalid app or stream name: [A-Za-z0-9_-]{1,64}' } };
    }
    const notFound = { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: `stream ${req.app}/${req.stream} is not live` } } as const;
    if (!this.hub.get(req.app, req.stream)) return notFound;
    const e = event(req);
    const hook = await this.hooks.allowPlay(e, 'rtmp');
    if (!hook.ok) return { ok: false, refusal: { code: 'NetStream.Play.Failed', description: hook.reason } };
    const stream = this.hub.get(req.app, req.stream);
    if (!stream) return notFound;
    let viewer: Viewer | undefined;
    return {
      ok: true,
      start: () => {
        // The publisher may have gone while the server sent the play statuses.
        if (!stream.live) return output.close('stream ended');
        viewer = stream.addViewer(
          rtmpFormat(output.chunkSize, output.streamId),
          {
            get writableLength() {
              return output.writableLength;
            },
            write: (b) => void output.write(b),
            writev: (parts) => void output.writev(parts),
            end: (reason) => output.close(reason),
            abort: (reason) => output.close(reason),
          },
          { id: req.connectionId, remoteAddress: req.remoteAddress },
        );
      },
      detach: () => {
        if (viewer) stream.removeViewer(viewer);
        this.hooks.done(e, 'play');
      },
    };
  }
}
