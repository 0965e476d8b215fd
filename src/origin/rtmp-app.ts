// The origin's side of the RTMP server: publish (names, token, on_publish hook, one publisher per key)
// into the hub, and play (on_play hook) out of it through pre-chunked, shared RTMP bytes. A player of a
// stream that is not live yet gets Play.Start and waits for the publisher (hub/play-wait.ts); when the
// publisher stops it gets Play.UnpublishNotify and stays for a republish within the grace.
// Errors: publish() and play() may reject (the RTMP session drops that connection); what runs later, off
// the session's promise chain (the play wait), catches its own errors and closes only its player.
import type { PlayOutput, PlayResult, PublishResult, PublisherControl, Refusal, RtmpApp, RtmpStreamRequest } from '../rtmp/app.js';
import { encodeMessage } from '../rtmp/chunk-writer.js';
import { onStatus } from '../rtmp/messages.js';
import type { StatusInfo } from '../rtmp/messages.js';
import type { Hub, PublishRefusal } from '../hub/hub.js';
import type { Hooks, HookEvent } from '../hub/hooks.js';
import { checkPublishToken } from './auth.js';
import { playTokenRefusal } from '../hub/play-auth.js';
import { rtmpFormat } from '../hub/wire-formats.js';
import { streamKey, validNames } from '../shared/url-contract.js';
import type { PlayWaits } from '../hub/play-wait.js';
import { NO_RENDITIONS } from '../hub/renditions.js';
import type { Renditions } from '../hub/renditions.js';
import type { Stream } from '../hub/stream.js';
import type { Viewer, ViewerSink } from '../hub/viewer.js';

const event = (req: RtmpStreamRequest): HookEvent => ({
  app: req.app,
  stream: req.stream,
  query: req.query,
  remoteAddress: req.remoteAddress,
  clientId: req.connectionId,
});

/** The hub's publish refusal as RTMP says it. */
const publishRefusal = (req: RtmpStreamRequest, reason: PublishRefusal): Refusal => {
  switch (reason) {
    case 'taken':
      return { code: 'NetStream.Publish.BadName', description: `${streamKey(req.app, req.stream)} is already publishing` };
  }
};

/** An onStatus on the player's stream, written between media messages (every chunked message starts with fmt 0). */
const sendStatus = (output: PlayOutput, info: StatusInfo): void =>
  void output.write(encodeMessage(onStatus(output.streamId, info), output.chunkSize));

/**
 * A player's sink: a class (one hidden class for every player, prototype methods, no per-player
 * closures) so the fan-out's per-viewer writableLength read and write stay monomorphic and inlinable.
 */
class RtmpPlayerSink implements ViewerSink {
  constructor(
    private readonly output: PlayOutput,
    private readonly key: string,
  ) {}

  get writableLength(): number {
    return this.output.writableLength;
  }

  write(bytes: Buffer): void {
    this.output.write(bytes);
  }

  writev(parts: readonly Buffer[]): void {
    this.output.writev(parts);
  }

  end(reason: string): void {
    this.output.close(reason);
  }

  abort(reason: string): void {
    this.output.close(reason);
  }

  publisherChanged(change: 'unpublish' | 'republish'): void {
    sendStatus(
      this.output,
      change === 'unpublish'
        ? { level: 'status', code: 'NetStream.Play.UnpublishNotify', description: `${this.key} is now unpublished.` }
        : { level: 'status', code: 'NetStream.Play.PublishNotify', description: `${this.key} is now published.` },
    );
  }
}

export class OriginRtmpApp implements RtmpApp {
  constructor(
    private readonly hub: Hub,
    private readonly hooks: Hooks,
    private readonly publishKey: Buffer | undefined,
    private readonly waits: PlayWaits,
    /** Play token key when play tokens are on (hub/play-auth.ts): RTMP play is a media path too. */
    private readonly playKey?: Buffer,
    /** The ladders: a rung stream published over RTMP comes from a remote transcoder. */
    private readonly renditions: Pick<Renditions, 'sourceOf'> = NO_RENDITIONS,
  ) {}

  async publish(req: RtmpStreamRequest, control: PublisherControl): Promise<PublishResult> {
    if (!validNames(req.app, req.stream)) {
      return { ok: false, refusal: { code: 'NetStream.Publish.BadName', description: 'invalid app or stream name: [A-Za-z0-9_-]{1,64}' } };
    }
    const denied = checkPublishToken(this.publishKey, req.app, req.stream, req.query.token);
    if (denied) {
      this.hub.log.warn({ app: req.app, stream: req.stream, remoteAddress: req.remoteAddress, reason: denied.description }, 'publish refused');
      return { ok: false, refusal: denied };
    }
    // Refuse a live key before asking the hook, so the hook sees only publishes that can happen.
    const taken = this.hub.publishRefusal(req.app, req.stream);
    if (taken) return { ok: false, refusal: publishRefusal(req, taken) };
    const e = event(req);
    const hook = await this.hooks.allowPublish(e);
    if (!hook.ok) return { ok: false, refusal: { code: 'NetStream.Publish.Unauthorized', description: hook.reason } };
    const out = this.hub.publish(req.app, req.stream, {
      id: req.connectionId,
      remoteAddress: req.remoteAddress,
      query: req.query,
      // A remote transcoder's rung carries its source's times (-copyts), across its restarts too.
      keepClock: this.renditions.sourceOf(req.app, req.stream) !== undefined,
      close: (reason) => control.close(reason),
    });
    if (!out.ok) return { ok: false, refusal: publishRefusal(req, out.reason) };
    return {
      ok: true,
      sink: {
        onPacket: (p) => out.push(p),
        onEnd: () => {
          try {
            out.end();
          } finally {
            this.hooks.done(e, 'publish');
          }
        },
      },
    };
  }

  async play(req: RtmpStreamRequest, output: PlayOutput): Promise<PlayResult> {
    if (!validNames(req.app, req.stream)) {
      return { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: 'invalid app or stream name: [A-Za-z0-9_-]{1,64}' } };
    }
    const key = streamKey(req.app, req.stream);
    const notLive = (why: string): PlayResult => ({ ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: `stream ${key} is not live${why}` } });
    const refused = this.hub.get(req.app, req.stream) ? undefined : this.waits.refusal(key);
    if (refused) return notLive(refused === 'full' ? ' and too many players wait for it' : '');
    const tokenRefused = playTokenRefusal(this.playKey, req.app, req.stream, new URLSearchParams(req.query));
    if (tokenRefused) return { ok: false, refusal: { code: 'NetStream.Play.Failed', description: tokenRefused } };
    const e = event(req);
    const hook = await this.hooks.allowPlay(e, 'rtmp');
    if (!hook.ok) return { ok: false, refusal: { code: 'NetStream.Play.Failed', description: hook.reason } };
    let joined: { stream: Stream; viewer: Viewer } | undefined;
    const gone = new AbortController();
    const join = (stream: Stream): void => {
      const viewer = stream.addViewer(
        rtmpFormat(output.chunkSize, output.streamId),
        new RtmpPlayerSink(output, key),
        { id: req.connectionId, remoteAddress: req.remoteAddress, keepAcrossRepublish: true },
      );
      joined = { stream, viewer };
    };
    return {
      ok: true,
      start: () => {
        const live = this.hub.get(req.app, req.stream);
        if (live) return join(live);
        // Not live yet, or the publisher went while the server sent the play statuses: wait for one.
        this.waits
          .wait(key, gone.signal)
          .then((got) => {
            if (typeof got !== 'string') return join(got);
            if (got === 'aborted') return;
            sendStatus(output, { level: 'error', code: 'NetStream.Play.StreamNotFound', description: `stream ${key} did not go live in time` });
            output.close('stream not live');
          })
          .catch((err: unknown) => {
            this.hub.log.error({ err, app: req.app, stream: req.stream, conn: req.connectionId }, 'rtmp player failed to join');
            output.close('internal error');
          });
      },
      detach: () => {
        gone.abort();
        try {
          if (joined) joined.stream.removeViewer(joined.viewer);
        } finally {
          this.hooks.done(e, 'play');
        }
      },
    };
  }
}
