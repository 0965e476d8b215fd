// Fan-out of one stream to its viewers of one wire format. The stream hands over a batch of packets per
// write window; the batch is joined ONCE into a shared buffer that every in-sync viewer gets in one
// write. Joiners and viewers resuming after a skip take their own (writev, still shared packet bytes) path.
import type { OutPacket } from './out-packet.js';
import type { WireFormat } from './wire-formats.js';
import type { Viewer } from './viewer.js';
import { decide } from './viewer-policy.js';
import type { SlowViewerLimits } from './viewer-policy.js';

/** Plain numbers (no prom-client on the hot path); /metrics reads them on scrape. */
export interface FanoutCounters {
  bytesOut: number;
  droppedFrames: number;
  slowDisconnects: number;
}

/** What a joiner needs from the stream; undefined while the stream's tracks are still unknown. */
export interface JoinState {
  readonly tracks: { readonly audio: boolean; readonly video: boolean };
  /** Metadata, codec headers, then the GOP cache. */
  readonly packets: readonly OutPacket[];
  /** The seq after the last packet the stream has taken in. */
  readonly nextSeq: number;
  /** No keyframe is cached: the joiner waits for the next one. */
  readonly waitKey: boolean;
}

export interface FanoutSource {
  joinState(): JoinState | undefined;
  /** Current codec headers, resent to a viewer that skipped one. */
  headers(): readonly OutPacket[];
}

export class Fanout {
  readonly viewers = new Set<Viewer>();

  constructor(
    readonly format: WireFormat,
    private readonly source: FanoutSource,
    private readonly limits: SlowViewerLimits,
    private readonly counters: FanoutCounters,
    private readonly onSlowDisconnect: (v: Viewer) => void,
  ) {}

  /** Adds a viewer and sends it everything from the last keyframe at once, if the stream is ready. */
  add(v: Viewer): void {
    this.viewers.add(v);
    this.start(v);
  }

  remove(v: Viewer): void {
    this.viewers.delete(v);
  }

  deliver(batch: readonly OutPacket[], now: number): void {
    const first = batch[0];
    const lastPacket = batch[batch.length - 1];
    if (!first || !lastPacket || this.viewers.size === 0) return;
    const firstSeq = first.seq;
    const end = lastPacket.seq + 1;
    let shared: Buffer | undefined;
    const keyIndex = (from: number): number => {
      for (let i = from; i < batch.length; i++) if ((batch[i] as OutPacket).randomAccess) return i;
      return -1;
    };
    for (const v of this.viewers) {
      if (!v.started) {
        this.start(v); // its start burst already covers this batch
        continue;
      }
      if (v.nextSeq >= end) continue;
      // The common case, kept free of allocations: an in-sync viewer with room gets the shared batch.
      if (v.nextSeq === firstSeq && !v.lag.skipping && v.sink.writableLength <= this.limits.maxQueueBytes) {
        shared ??= this.joinBatch(batch);
        v.write(shared);
        this.counters.bytesOut += shared.length;
        v.nextSeq = end;
        continue;
      }
      const from = Math.max(0, v.nextSeq - firstSeq);
      const d = decide(v.lag, v.sink.writableLength, from, keyIndex, now, this.limits);
      if (d.action === 'send') {
        if (d.from === 0) {
          shared ??= this.joinBatch(batch);
          v.write(shared);
          this.counters.bytesOut += shared.length;
        } else {
          const parts = d.resumed && v.headersDropped ? this.encode(this.source.headers()) : [];
          v.headersDropped = false;
          this.counters.bytesOut += this.writeParts(v, this.encode(batch, d.from, parts));
        }
      } else if (d.action === 'skip') {
        this.countSkipped(v, batch, from);
      } else {
        this.counters.slowDisconnects++;
        this.onSlowDisconnect(v);
        continue;
      }
      v.nextSeq = end;
    }
  }

  private start(v: Viewer): void {
    const js = this.source.joinState();
    if (!js) return;
    const parts: Buffer[] = [];
    const header = this.format.header?.(js.tracks);
    if (header) {
      parts.push(header);
      v.tracks = js.tracks;
    }
    this.counters.bytesOut += this.writeParts(v, this.encode(js.packets, 0, parts));
    v.nextSeq = js.nextSeq;
    v.started = true;
    if (js.waitKey) v.lag.skipping = true; // behindSince stays undefined: waiting, not lagging
  }

  private joinBatch(batch: readonly OutPacket[]): Buffer {
    const parts = this.encode(batch);
    return this.format.join(parts, totalLength(parts));
  }

  /** Appends the bytes of packets[from..] in this fan-out's format to `parts`. */
  private encode(packets: readonly OutPacket[], from = 0, parts: Buffer[] = []): Buffer[] {
    for (let i = from; i < packets.length; i++) parts.push((packets[i] as OutPacket).bytes(this.format.encoder));
    return parts;
  }

  /** Writes the parts framed for this format in one writev; returns the bytes written. */
  private writeParts(v: Viewer, parts: readonly Buffer[]): number {
    const total = totalLength(parts);
    return total > 0 ? v.writev(this.format.frame(parts, total)) : 0;
  }

  private countSkipped(v: Viewer, batch: readonly OutPacket[], from: number): void {
    const lagging = v.lag.behindSince !== undefined;
    for (let i = from; i < batch.length; i++) {
      const p = batch[i] as OutPacket;
      if (p.kind === 'video-header' || p.kind === 'audio-header') v.headersDropped = true;
      else if (lagging && p.isMedia) {
        v.droppedFrames++;
        this.counters.droppedFrames++;
      }
    }
  }
}

function totalLength(parts: readonly Buffer[]): number {
  let total = 0;
  for (const p of parts) total += p.length;
  return total;
}
