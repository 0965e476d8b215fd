// The ISO BMFF oracle of the tests: mp4box (GPAC's parser) reads an init segment and fragments as a
// player would, and gives back the movie info and every sample with its timing, flags and bytes.
import { createFile, MP4BoxBuffer, type ISOFile, type Movie, type Sample } from 'mp4box';

export interface Mp4Read {
  info: Movie;
  /** By track id, in decode order. */
  samples: Map<number, Sample[]>;
  /** What mp4box reported through onError. */
  errors: string[];
  file: ISOFile;
}

/** Parses the Buffers as one file, each appended as its own chunk (as a player's fetches deliver them). Throws when there is no moov. */
export function readMp4(chunks: readonly Buffer[]): Mp4Read {
  const file = createFile();
  const errors: string[] = [];
  const samples = new Map<number, Sample[]>();
  let info: Movie | undefined;
  file.onError = (module: string, message: string) => errors.push(`${module}: ${message}`);
  file.onReady = (movie: Movie) => {
    info = movie;
    for (const t of movie.tracks) {
      samples.set(t.id, []);
      file.setExtractionOptions(t.id, undefined, { nbSamples: Number.MAX_SAFE_INTEGER });
    }
    file.start();
  };
  file.onSamples = (id: number, _user: unknown, got: Sample[]) => samples.get(id)?.push(...got);
  let at = 0;
  for (const c of chunks) {
    const ab = MP4BoxBuffer.fromArrayBuffer(c.buffer.slice(c.byteOffset, c.byteOffset + c.length), at);
    at += c.length;
    file.appendBuffer(ab);
  }
  file.flush();
  if (!info) throw new Error(`mp4box found no moov: ${errors.join('; ')}`);
  return { info, samples, errors, file };
}
