// A movie fragment (14496-12 8.8.4-8.8.14, laid out as CMAF 7.3.2 has it): moof (mfhd, one traf per
// track run: tfhd with default-base-is-moof, tfdt v1, trun v1 with a data offset and each sample's
// duration, size, flags and signed composition offset) followed by one mdat holding the runs' data in
// order. Written for every LL-HLS flush, so the moof is laid out in one Buffer and the sample Buffers
// are passed through uncopied.
import { fourcc } from './box.js';
import { Mp4Error } from './error.js';

export { writeStyp } from './ftyp.js';

export interface Mp4Sample {
  duration: number;
  size: number;
  sync: boolean;
  /** signed, timescale units */
  cts: number;
}

export interface Mp4TrackRun {
  trackId: number;
  /** tfdt, timescale units (version 1, 64-bit) */
  baseDecodeTime: number;
  samples: readonly Mp4Sample[];
  data: readonly Buffer[];
}

/** tfhd flags: default-base-is-moof (data offsets count from the moof's first byte). */
const DEFAULT_BASE_IS_MOOF = 0x020000;
/** trun flags: data-offset, sample-duration, sample-size, sample-flags, sample-composition-time-offset. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
/** sample_depends_on = 2 (depends on no other sample). */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** sample_depends_on = 1 and sample_is_non_sync_sample. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

const [MOOF, MFHD, TRAF, TFHD, TFDT, TRUN, MDAT] = ['moof', 'mfhd', 'traf', 'tfhd', 'tfdt', 'trun', 'mdat'].map((t) => fourcc(t).readUInt32BE(0)) as [number, number, number, number, number, number, number];
const MFHD_SIZE = 16;
const TRAF_FIXED = 8 + 16 + 20 + 20; // traf header, tfhd, tfdt v1, trun v1 up to the first sample
const TRUN_SAMPLE = 16;

function checkRun(run: Mp4TrackRun): number {
  if (!Number.isInteger(run.trackId) || run.trackId < 1 || run.trackId > 0xffffffff) throw new Mp4Error(`track id ${run.trackId}`);
  if (run.samples.length === 0) throw new Mp4Error(`track ${run.trackId} run without samples`);
  if (!Number.isSafeInteger(run.baseDecodeTime) || run.baseDecodeTime < 0) throw new Mp4Error(`track ${run.trackId}: base decode time ${run.baseDecodeTime}`);
  let sizes = 0;
  for (const s of run.samples) {
    if (!(Number.isInteger(s.duration) && s.duration >= 0 && s.duration <= 0xffffffff)) throw new Mp4Error(`track ${run.trackId}: sample duration ${s.duration}`);
    if (!(Number.isInteger(s.size) && s.size >= 0 && s.size <= 0xffffffff)) throw new Mp4Error(`track ${run.trackId}: sample size ${s.size}`);
    if (!(Number.isInteger(s.cts) && s.cts >= -0x80000000 && s.cts <= 0x7fffffff)) throw new Mp4Error(`track ${run.trackId}: composition offset ${s.cts}`);
    sizes += s.size;
  }
  const bytes = run.data.reduce((n, d) => n + d.length, 0);
  if (bytes !== sizes) throw new Mp4Error(`track ${run.trackId}: samples of ${sizes} bytes but ${bytes} bytes of data`);
  return bytes;
}

/**
 * moof + mdat for the runs (one per track, each with at least one sample), numbered `sequenceNumber`
 * (mfhd: starts at 1, increasing). Returns the Buffers in order: moof, mdat header, then the runs' data
 * Buffers themselves. Throws Mp4Error on a value that does not fit its field.
 */
export function writeFragment(sequenceNumber: number, runs: readonly Mp4TrackRun[]): Buffer[] {
  if (runs.length === 0) throw new Mp4Error('a fragment needs at least one track run');
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0 || sequenceNumber > 0xffffffff) throw new Mp4Error(`fragment sequence number ${sequenceNumber}`);
  const dataBytes = runs.map(checkRun);
  const mdatSize = 8 + dataBytes.reduce((n, b) => n + b, 0);
  if (mdatSize > 0xffffffff) throw new Mp4Error(`mdat of ${mdatSize} bytes`);
  const moofSize = 8 + MFHD_SIZE + runs.reduce((n, r) => n + TRAF_FIXED + TRUN_SAMPLE * r.samples.length, 0);
  if (moofSize > 0xffffffff) throw new Mp4Error(`moof of ${moofSize} bytes`);

  // Every field is 32-bit, types included (as numbers): Buffer.writeUInt32BE returns the next offset.
  const moof = Buffer.allocUnsafe(moofSize);
  let at = moof.writeUInt32BE(moofSize, 0);
  at = moof.writeUInt32BE(MOOF, at);
  at = moof.writeUInt32BE(MFHD_SIZE, at);
  at = moof.writeUInt32BE(MFHD, at);
  at = moof.writeUInt32BE(0, at);
  at = moof.writeUInt32BE(sequenceNumber, at);
  let dataOffset = moofSize + 8;
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    const n = run.samples.length;
    at = moof.writeUInt32BE(TRAF_FIXED + TRUN_SAMPLE * n, at);
    at = moof.writeUInt32BE(TRAF, at);
    at = moof.writeUInt32BE(16, at);
    at = moof.writeUInt32BE(TFHD, at);
    at = moof.writeUInt32BE(DEFAULT_BASE_IS_MOOF, at);
    at = moof.writeUInt32BE(run.trackId, at);
    at = moof.writeUInt32BE(20, at);
    at = moof.writeUInt32BE(TFDT, at);
    at = moof.writeUInt32BE(0x01000000, at); // version 1: 64-bit time
    at = moof.writeUInt32BE(Math.floor(run.baseDecodeTime / 2 ** 32), at);
    at = moof.writeUInt32BE(run.baseDecodeTime % 2 ** 32, at);
    at = moof.writeUInt32BE(20 + TRUN_SAMPLE * n, at);
    at = moof.writeUInt32BE(TRUN, at);
    at = moof.writeUInt32BE(0x01000000 | TRUN_FLAGS, at); // version 1: signed composition offsets
    at = moof.writeUInt32BE(n, at);
    at = moof.writeUInt32BE(dataOffset, at);
    for (const s of run.samples) {
      at = moof.writeUInt32BE(s.duration, at);
      at = moof.writeUInt32BE(s.size, at);
      at = moof.writeUInt32BE(s.sync ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS, at);
      at = moof.writeInt32BE(s.cts, at);
    }
    dataOffset += dataBytes[i]!;
  }
  const mdat = Buffer.allocUnsafe(8);
  mdat.writeUInt32BE(mdatSize, 0);
  mdat.writeUInt32BE(MDAT, 4);
  const out: Buffer[] = [moof, mdat];
  for (const r of runs) out.push(...r.data);
  return out;
}
