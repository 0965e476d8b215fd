// The file-type boxes (14496-12 4.3, 8.16.2): ftyp opens the init segment, styp each media segment.
import { box, fourcc, uint } from './box.js';

const typeBox = (type: 'ftyp' | 'styp', major: string, compatible: readonly string[]): Buffer =>
  box(type, fourcc(major), uint(32, 0), ...compatible.map(fourcc));

/**
 * iso6: movie fragments with default-base-is-moof, tfdt and trun v1 (signed composition offsets). Not
 * cmfc: CMAF wants one track per file, and our HLS init segments carry video and audio together.
 */
export const writeFtyp = (): Buffer => typeBox('ftyp', 'iso6', ['iso6', 'mp41']);

/** msdh: a media segment (ISO 23009-1 6.3.4.2). Not msix, which promises a sidx. */
export const writeStyp = (): Buffer => typeBox('styp', 'msdh', ['msdh']);
