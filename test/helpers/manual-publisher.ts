// Test helper: a publisher whose stream moves only when told to. FFmpeg encodes 12 s of H.264 (a keyframe
// per second, 25 fps) + AAC into FLV once per process; advance() pushes the next seconds of those packets
// straight into a hub, so a test decides when segments and parts complete (or stall).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hub } from '../../src/hub/hub.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { runFfmpeg } from './ffmpeg.js';
import { publishArgs } from './publish.js';

const MANUAL_SECONDS = 12;

let encoded: Promise<MediaPacket[]> | undefined;
function flvPackets(): Promise<MediaPacket[]> {
  encoded ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livecdn-manual-'));
    try {
      const file = join(dir, 'in.flv');
      const args = publishArgs(file, 'baseline+aac-mono', { gopS: 1, durationS: MANUAL_SECONDS }).filter((a) => a !== '-re');
      const r = await runFfmpeg(args, { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      return new FlvReader().push(await readFile(file));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return encoded;
}

export interface ManualPublisher {
  /** Pushes the next `seconds` of frames (up to MANUAL_SECONDS in all). */
  advance(seconds: number): void;
  /** Drops the next `seconds` of frames (a publisher that loses them: its timestamps jump). */
  skip(seconds: number): void;
  /** Unpublishes. */
  end(): void;
}

export async function manualPublisher(hub: Hub, app: string, name: string): Promise<ManualPublisher> {
  const packets = await flvPackets();
  const out = hub.publish(app, name, { id: `manual-${name}`, remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
  if (!out.ok) throw new Error(out.reason);
  let at = 0;
  let until = 0;
  return {
    advance(seconds) {
      until += seconds * 1000;
      for (; at < packets.length && (packets[at] as MediaPacket).timestamp < until; at++) out.push(packets[at] as MediaPacket);
    },
    skip(seconds) {
      until += seconds * 1000;
      // Codec headers (timestamp 0) are never lost.
      for (; at < packets.length && (packets[at] as MediaPacket).timestamp < until; at++) if ((packets[at] as MediaPacket).timestamp === 0) out.push(packets[at] as MediaPacket);
    },
    end: () => out.end(),
  };
}
