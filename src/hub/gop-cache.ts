// What a late joiner gets at once: every frame from the last video keyframe, or for an audio-only stream
// the last ~second of audio; both bounded by bytes and count, whatever the timestamps say (a publisher
// whose timestamps never advance would keep its whole audio window). Codec headers and metadata are
// kept by the stream, not here.
import type { OutPacket } from './out-packet.js';

export interface GopCacheLimits {
  /** Default 16 MiB. */
  readonly maxBytes?: number;
  /** Default 4096 packets. */
  readonly maxPackets?: number;
  /** Audio kept for audio-only streams (and before the first keyframe), within the caps above. Default 1000 ms. */
  readonly audioWindowMs?: number;
}

export class GopCache {
  private readonly maxBytes: number;
  private readonly maxPackets: number;
  private readonly audioWindowMs: number;
  private list: OutPacket[] = [];
  private head = 0;
  private total = 0;
  /** A keyframe has been seen: the cache holds a GOP, not an audio window. */
  private videoMode = false;
  /** The current GOP outgrew the limits: nothing is cached until the next keyframe. */
  private overflowed = false;

  constructor(limits: GopCacheLimits = {}) {
    this.maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
    this.maxPackets = limits.maxPackets ?? 4096;
    this.audioWindowMs = limits.audioWindowMs ?? 1000;
  }

  push(p: OutPacket): void {
    if (p.kind === 'video-key') {
      this.reset();
      this.videoMode = true;
      this.append(p);
      return;
    }
    if (p.kind !== 'video' && p.kind !== 'audio') return;
    if (this.videoMode) {
      if (!this.overflowed) this.append(p);
      return;
    }
    // No keyframe yet: inter frames are useless to a joiner, audio is kept for a short window.
    if (p.kind !== 'audio') return;
    this.append(p);
    const newest = p.packet.timestamp;
    while (this.head < this.list.length && newest - (this.list[this.head] as OutPacket).packet.timestamp > this.audioWindowMs) {
      this.total -= (this.list[this.head] as OutPacket).size;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.list.length) this.compact();
  }

  /** The cached packets, oldest first. */
  packets(): readonly OutPacket[] {
    if (this.head > 0) this.compact();
    return this.list;
  }

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.list.length - this.head;
  }

  /** The video keyframe the cached GOP starts at (the latest one); undefined without one (none yet, overflowed, audio only). */
  keyframe(): OutPacket | undefined {
    const first = this.list[this.head];
    return this.videoMode && first?.kind === 'video-key' ? first : undefined;
  }

  /** True when the stream has video and the cache holds no keyframe a joiner could start at. */
  get needsKeyframe(): boolean {
    return this.videoMode && this.overflowed;
  }

  clear(): void {
    this.reset();
    this.videoMode = false;
  }

  private append(p: OutPacket): void {
    this.list.push(p);
    this.total += p.size;
    if (this.total <= this.maxBytes && this.count <= this.maxPackets) return;
    if (this.videoMode) {
      // A GOP prefix without its tail would leave joiners with missing references: drop it all.
      this.reset();
      this.overflowed = true;
      return;
    }
    // Audio window: any frame is a start, so the oldest go.
    while (this.count > 0 && (this.total > this.maxBytes || this.count > this.maxPackets)) {
      this.total -= (this.list[this.head] as OutPacket).size;
      this.head++;
    }
  }

  private reset(): void {
    this.list = [];
    this.head = 0;
    this.total = 0;
    this.overflowed = false;
  }

  private compact(): void {
    this.list = this.list.slice(this.head);
    this.head = 0;
  }
}
