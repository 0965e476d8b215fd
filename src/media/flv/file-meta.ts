// The onMetaData tag of a recorded FLV file, in the layout yamdi and flvmeta write (keyframes: {times,
// filepositions}, duration, filesize, last timestamps) so that players seek by it, with room reserved
// for the whole keyframes index up front: a recording cannot know its index before it ends, and the tag
// sits before the media, so the clean close rewrites this tag in place with exactly the same size.
//
// The reserve is a trailing strict array of numbers (`indexReserve`), two per free index slot: each
// keyframe adds two numbers (9 bytes each) to the index and takes two from the reserve, so the body's
// size depends on the capacity only. Not a padding string: FFmpeg's FLV demuxer logs an error at any
// string value of 256 bytes or more and at a long string, and stops reading the metadata there.
import { isAmfObject } from '../amf/amf0.js';
import type { Amf0Value } from '../amf/amf0.js';
import { encodeScriptData, parseScriptData } from './script.js';

/** Keyframes the reserved index holds by default (4.5 h at a 2 s GOP). */
export const RECORD_INDEX_CAPACITY = 8192;
/**
 * Largest capacity: the index and its reserve are 2 × capacity AMF values, which must stay well under
 * the AMF decoders' per-message value cap (MAX_AMF_ITEMS) for every reader, ours included.
 */
export const MAX_RECORD_INDEX_CAPACITY = 16384;
/**
 * Largest onMetaData body a recording writes (the index at its largest capacity, publisher fields at
 * their caps, ours): a reader of untrusted files reads no more than this before parseKeyframesIndex.
 */
export const MAX_FILE_META_BYTES = 512 * 1024;

/** Publisher fields kept, in order; the rest are dropped (a publisher's bytes must not grow every file). */
const MAX_PUBLISHER_FIELDS = 64;
/** FFmpeg reads metadata keys and string values into 256-byte buffers: anything longer breaks its parse. */
const MAX_AMF_SHORT_TEXT = 255;

/** The fields this module owns: a publisher's own values under these names are replaced. */
const OWN_FIELDS: ReadonlySet<string> = new Set([
  'duration',
  'filesize',
  'lasttimestamp',
  'lastkeyframetimestamp',
  'lastkeyframelocation',
  'hasKeyframes',
  'hasVideo',
  'hasAudio',
  'hasMetadata',
  'canSeekToEnd',
  'metadatacreator',
  'keyframes',
  'indexReserve',
]);

export interface FileKeyframes {
  /** Keyframe times in ms on the file's timeline (its first frame at 0), ascending. */
  readonly timesMs: readonly number[];
  /** Byte offset of each keyframe's video tag (its tag header) from the start of the file. */
  readonly positions: readonly number[];
}

export interface FileMetadata {
  readonly tracks: { readonly audio: boolean; readonly video: boolean };
  /** The publisher's onMetaData value (width, height, codec ids, …): its short scalar fields are kept. */
  readonly publisher: Readonly<Record<string, unknown>> | undefined;
  /** Keyframes the reserved index holds (2..MAX_RECORD_INDEX_CAPACITY). */
  readonly capacity: number;
  readonly durationMs: number;
  /** Bytes of the whole file; 0 until the clean close writes it. */
  readonly filesize: number;
  readonly lastTimestampMs: number;
  readonly lastKeyframeTimestampMs: number;
  /** Offset of the last keyframe's tag; 0 when none. */
  readonly lastKeyframeLocation: number;
  /** At most `capacity` entries. */
  readonly keyframes: FileKeyframes;
}

/** What the clean close fills in; the rest of FileMetadata is fixed when the file opens. */
export type FileMetaValues = Omit<FileMetadata, 'tracks' | 'publisher' | 'capacity'>;

/** The values of a file being written (or never closed): no index, no duration, filesize 0. */
export const OPEN_FILE_VALUES: FileMetaValues = {
  durationMs: 0,
  filesize: 0,
  lastTimestampMs: 0,
  lastKeyframeTimestampMs: 0,
  lastKeyframeLocation: 0,
  keyframes: { timesMs: [], positions: [] },
};

/** A recording's metadata as read back from its file. */
export interface KeyframesIndex extends FileKeyframes {
  readonly durationMs: number;
  /** The size the clean close wrote; 0 in a file that was never closed (it has no index either). */
  readonly filesize: number;
  readonly lastTimestampMs: number;
}

/** The publisher's scalar fields FFmpeg and Flash read back without trouble, capped in number. */
function publisherFields(publisher: Readonly<Record<string, unknown>> | undefined): [string, Amf0Value][] {
  const out: [string, Amf0Value][] = [];
  if (!publisher) return out;
  for (const [k, v] of Object.entries(publisher)) {
    if (out.length >= MAX_PUBLISHER_FIELDS) break;
    if (k === '' || OWN_FIELDS.has(k) || Buffer.byteLength(k) > MAX_AMF_SHORT_TEXT) continue;
    const kept =
      (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || (typeof v === 'string' && Buffer.byteLength(v) <= MAX_AMF_SHORT_TEXT);
    if (kept) out.push([k, v]);
  }
  return out;
}

const seconds = (t: number): number => t / 1000;

/**
 * The onMetaData script tag body. Its length depends only on the capacity, the tracks and the
 * publisher's fields, never on the index or the other values: the same inputs but those give the same
 * size, which is what lets the close patch the tag in place. Throws RangeError on a capacity out of
 * range or an index longer than the capacity.
 */
export function encodeFileMetadata(m: FileMetadata): Buffer {
  const { capacity, keyframes } = m;
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > MAX_RECORD_INDEX_CAPACITY) throw new RangeError(`index capacity ${capacity} out of 2..${MAX_RECORD_INDEX_CAPACITY}`);
  const n = keyframes.timesMs.length;
  if (n !== keyframes.positions.length) throw new RangeError(`${n} keyframe times but ${keyframes.positions.length} positions`);
  if (n > capacity) throw new RangeError(`${n} keyframes exceed the index capacity ${capacity}`);
  // A null prototype: a publisher key "__proto__" stays an ordinary field.
  const value = Object.create(null) as Record<string, Amf0Value>;
  for (const [k, v] of publisherFields(m.publisher)) value[k] = v;
  Object.assign(value, {
    metadatacreator: 'livecdn',
    hasMetadata: true,
    hasVideo: m.tracks.video,
    hasAudio: m.tracks.audio,
    hasKeyframes: n > 0,
    duration: seconds(m.durationMs),
    filesize: m.filesize,
    lasttimestamp: seconds(m.lastTimestampMs),
    lastkeyframetimestamp: seconds(m.lastKeyframeTimestampMs),
    lastkeyframelocation: m.lastKeyframeLocation,
    keyframes: { times: keyframes.timesMs.map(seconds), filepositions: [...keyframes.positions] },
    indexReserve: new Array<number>(2 * (capacity - n)).fill(0),
  });
  return encodeScriptData('onMetaData', value);
}

const isNumberArray = (v: Amf0Value): v is number[] => Array.isArray(v) && v.every((e) => typeof e === 'number' && Number.isFinite(e));

/** A field in seconds as whole ms; 0 when absent, negative or out of range. */
const msField = (o: { [k: string]: Amf0Value }, k: string): number => {
  const v = own(o, k);
  const t = typeof v === 'number' ? Math.round(v * 1000) : 0;
  return Number.isSafeInteger(t) && t >= 0 ? t : 0;
};

/**
 * The keyframes index (and duration, filesize) of an onMetaData body, as encodeFileMetadata writes it
 * and yamdi or flvmeta do. Undefined when the body is not onMetaData or holds no usable index: no
 * keyframes object, arrays of other than finite numbers, of different lengths, of more than
 * MAX_RECORD_INDEX_CAPACITY entries, times going back, positions not strictly ascending integers, or a
 * body over MAX_FILE_META_BYTES. Throws FlvError on malformed AMF. Files are untrusted: a caller still
 * checks that positions lie inside the file before seeking to them.
 */
export function parseKeyframesIndex(body: Buffer): KeyframesIndex | undefined {
  if (body.length > MAX_FILE_META_BYTES) return undefined;
  const { name, value } = parseScriptData(body);
  if (name !== 'onMetaData' || !isAmfObject(value)) return undefined;
  const kf = own(value, 'keyframes');
  if (kf === undefined || !isAmfObject(kf)) return undefined;
  const times = own(kf, 'times');
  const positions = own(kf, 'filepositions');
  if (!isNumberArray(times) || !isNumberArray(positions) || times.length !== positions.length || times.length > MAX_RECORD_INDEX_CAPACITY) return undefined;
  const timesMs = times.map((t) => Math.round(t * 1000));
  for (let i = 0; i < timesMs.length; i++) {
    const p = positions[i]!;
    if (!Number.isSafeInteger(timesMs[i]) || timesMs[i]! < 0 || !Number.isSafeInteger(p) || p < 0) return undefined;
    if (i > 0 && (timesMs[i]! < timesMs[i - 1]! || p <= positions[i - 1]!)) return undefined;
  }
  const filesize = own(value, 'filesize');
  return {
    timesMs,
    positions,
    durationMs: msField(value, 'duration'),
    filesize: typeof filesize === 'number' && Number.isSafeInteger(filesize) && filesize >= 0 ? filesize : 0,
    lastTimestampMs: msField(value, 'lasttimestamp'),
  };
}

/** An own property only: a key such as "constructor" must not find Object.prototype's. */
const own = (o: { [k: string]: Amf0Value }, k: string): Amf0Value | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
