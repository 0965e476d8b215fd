// A real origin with FFmpeg publishing live/{stream}, ready once its playlist lists a few segments: what
// the edge integration tests put their edges in front of.
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream, type StreamShape } from '../helpers/publish.js';
import { get } from './util.js';
import { waitFor } from '../helpers/wait.js';

export interface LiveOrigin {
  readonly origin: TestOrigin;
  readonly publisher: ReturnType<typeof publishTestStream>;
  stop(): Promise<void>;
}

export async function startLiveOrigin(stream: string, shape: StreamShape, minSegments: number): Promise<LiveOrigin> {
  const origin = await startOrigin({ hlsSegmentMs: 1000, hlsWindow: 6 });
  const publisher = publishTestStream(origin.rtmpUrl('live', stream), shape, { gopS: 1 });
  const stop = async (): Promise<void> => {
    await publisher.stop();
    await origin.stop();
  };
  try {
    await waitFor(
      `origin playlist with ${minSegments} segments`,
      async () => {
        const r = await get(origin.hlsUrl('live', stream));
        return r.status === 200 && parseMediaPlaylist(r.body.toString()).segments.length >= minSegments ? true : undefined;
      },
      20_000,
      200,
    );
  } catch (e) {
    await stop();
    throw new Error(`${String(e)}\nffmpeg: ${publisher.log()}`);
  }
  return { origin, publisher, stop };
}
