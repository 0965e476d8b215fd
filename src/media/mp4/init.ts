// The init segment of a fragmented MP4 (14496-12 8.1-8.7, laid out as CMAF 7.3.1 has it): ftyp + moov
// with one trak per track, empty sample tables (the samples are in the fragments) and mvex. Durations
// are 0: live.
import { box, fullBox, uint, UNITY_MATRIX, zeros } from './box.js';
import { Mp4Error } from './error.js';
import { writeFtyp } from './ftyp.js';
import { writeMvex } from './mvex.js';
import { writeAudioSampleEntry, writeVisualSampleEntry } from './sample-entry.js';

export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;

export interface Mp4VideoTrack {
  codec: 'h264' | 'hevc' | 'av1';
  width: number;
  height: number;
  timescale: number;
  /** The decoder configuration record exactly as carried in the FLV/E-RTMP sequence header: avcC, hvcC or av1C body. */
  config: Buffer;
}

export interface Mp4AudioTrack {
  codec: 'aac' | 'mp3';
  sampleRate: number;
  channels: number;
  timescale: number;
  /** AAC AudioSpecificConfig bytes (esds DecoderSpecificInfo); absent for MP3. */
  asc?: Buffer;
}

/** mvhd's own timescale: only its (zero) duration is in it. */
const MOVIE_TIMESCALE = 1000;
/** ISO 639-2/T "und", packed as three 5-bit letters (14496-12 8.4.2.3). */
const LANGUAGE_UND = ((('u'.charCodeAt(0) - 0x60) << 10) | (('n'.charCodeAt(0) - 0x60) << 5) | ('d'.charCodeAt(0) - 0x60));
/** tkhd flags: track_enabled | track_in_movie. */
const TRACK_ENABLED_IN_MOVIE = 0x3;

function mvhd(nextTrackId: number): Buffer {
  return fullBox(
    'mvhd', 0, 0,
    zeros(8), // creation and modification time
    uint(32, MOVIE_TIMESCALE),
    uint(32, 0), // duration
    uint(32, 0x00010000), // rate 1.0
    uint(16, 0x0100), // volume 1.0
    zeros(10),
    UNITY_MATRIX,
    zeros(24), // pre_defined
    uint(32, nextTrackId),
  );
}

interface TrackBoxes {
  id: number;
  handler: 'vide' | 'soun';
  name: string;
  timescale: number;
  width: number;
  height: number;
  sampleEntry: Buffer;
}

function trak(t: TrackBoxes): Buffer {
  const audio = t.handler === 'soun';
  const tkhd = fullBox(
    'tkhd', 0, TRACK_ENABLED_IN_MOVIE,
    zeros(8), // creation and modification time
    uint(32, t.id),
    zeros(4),
    uint(32, 0), // duration
    zeros(8),
    uint(16, 0), // layer
    uint(16, 0), // alternate_group
    uint(16, audio ? 0x0100 : 0), // volume
    zeros(2),
    UNITY_MATRIX,
    uint(32, t.width * 0x10000),
    uint(32, t.height * 0x10000),
  );
  const mdhd = fullBox('mdhd', 0, 0, zeros(8), uint(32, t.timescale), uint(32, 0), uint(16, LANGUAGE_UND), uint(16, 0));
  const hdlr = fullBox('hdlr', 0, 0, uint(32, 0), Buffer.from(t.handler, 'latin1'), zeros(12), Buffer.from(`${t.name}\0`, 'latin1'));
  const mediaHeader = audio ? fullBox('smhd', 0, 0, uint(16, 0), zeros(2)) : fullBox('vmhd', 0, 1, zeros(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, uint(32, 1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, uint(32, 1), t.sampleEntry),
    fullBox('stts', 0, 0, uint(32, 0)),
    fullBox('stsc', 0, 0, uint(32, 0)),
    fullBox('stsz', 0, 0, uint(32, 0), uint(32, 0)),
    fullBox('stco', 0, 0, uint(32, 0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

/** ftyp + moov for the tracks given: video is track 1, audio track 2 (at least one of them). */
export function writeInitSegment(t: { video?: Mp4VideoTrack; audio?: Mp4AudioTrack }): Buffer {
  if (!t.video && !t.audio) throw new Mp4Error('an init segment needs a video or an audio track');
  const tracks: TrackBoxes[] = [];
  if (t.video)
    tracks.push({ id: VIDEO_TRACK_ID, handler: 'vide', name: 'VideoHandler', timescale: t.video.timescale, width: t.video.width, height: t.video.height, sampleEntry: writeVisualSampleEntry(t.video) });
  if (t.audio)
    tracks.push({ id: AUDIO_TRACK_ID, handler: 'soun', name: 'SoundHandler', timescale: t.audio.timescale, width: 0, height: 0, sampleEntry: writeAudioSampleEntry(t.audio) });
  const moov = box('moov', mvhd(AUDIO_TRACK_ID + 1), ...tracks.map(trak), writeMvex(tracks.map((x) => x.id)));
  return Buffer.concat([writeFtyp(), moov]);
}
