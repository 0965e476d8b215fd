// A tiny in-memory RtmpApp for tests and fuzzing: relays each publisher to its players (metadata,
// sequence headers and the GOP from the last keyframe for late joiners).
import { TagType, type MediaPacket } from '../../src/media/packet.js';
import type { PlayOutput, PlayResult, PublishResult, RtmpApp, RtmpStreamRequest } from '../../src/rtmp/app.js';
import { Csid, encodeMessage } from '../../src/rtmp/chunk-writer.js';
import { streamKey } from '../../src/shared/url-contract.js';

interface RelayStream {
  meta?: MediaPacket;
  avcHeader?: MediaPacket;
  aacHeader?: MediaPacket;
  gop: MediaPacket[];
  players: Set<PlayOutput>;
}

export const isKeyframe = (p: MediaPacket): boolean => p.type === TagType.Video && p.payload[0]! >> 4 === 1;
const isAvcHeader = (p: MediaPacket): boolean => p.type === TagType.Video && (p.payload[0]! & 0x0f) === 7 && p.payload[1] === 0;
const isAacHeader = (p: MediaPacket): boolean => p.type === TagType.Audio && p.payload[0]! >> 4 === 10 && p.payload[1] === 0;

export class RelayApp implements RtmpApp {
  readonly streams = new Map<string, RelayStream>();
  readonly publishes: RtmpStreamRequest[] = [];
  packetsIn = 0;

  async publish(req: RtmpStreamRequest): Promise<PublishResult> {
    const key = streamKey(req.app, req.stream);
    if (this.streams.has(key))
      return { ok: false, refusal: { code: 'NetStream.Publish.BadName', description: 'already publishing' } };
    if (req.query.token === 'bad') return { ok: false, refusal: { code: 'NetStream.Publish.Unauthorized', description: 'bad token' } };
    this.publishes.push(req);
    const s: RelayStream = { gop: [], players: new Set() };
    this.streams.set(key, s);
    return {
      ok: true,
      sink: {
        onPacket: (p) => {
          this.packetsIn++;
          if (p.type === TagType.Script) s.meta = p;
          else if (isAvcHeader(p)) s.avcHeader = p;
          else if (isAacHeader(p)) s.aacHeader = p;
          else {
            if (isKeyframe(p)) s.gop = [];
            s.gop.push(p);
          }
          for (const out of s.players) out.write(chunk(p, out));
        },
        onEnd: () => {
          this.streams.delete(key);
          for (const out of s.players) out.close('publisher gone');
        },
      },
    };
  }

  async play(req: RtmpStreamRequest, out: PlayOutput): Promise<PlayResult> {
    const s = this.streams.get(streamKey(req.app, req.stream));
    if (!s) return { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: 'no such stream' } };
    return {
      ok: true,
      start: () => {
        const first = [s.meta, s.avcHeader, s.aacHeader].filter((p): p is MediaPacket => p !== undefined);
        out.writev([...first, ...s.gop].map((p) => chunk(p, out)));
        s.players.add(out);
      },
      detach: () => s.players.delete(out),
    };
  }
}

function chunk(p: MediaPacket, out: PlayOutput): Buffer {
  const csid = p.type === TagType.Audio ? Csid.Audio : p.type === TagType.Video ? Csid.Video : Csid.Data;
  return encodeMessage({ csid, timestamp: p.timestamp, typeId: p.type, streamId: out.streamId, payload: p.payload }, out.chunkSize);
}
