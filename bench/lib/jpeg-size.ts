// The pixel size a JPEG declares in its frame header (SOFn), to check a snapshot without decoding it.

// The frame-header walk lives with the thumbnail sprites that need it too (src/media/jpeg.ts).
export { jpegSize, type JpegSize } from '../../src/media/jpeg.js';

/** Starts with SOI and ends with EOI: a JPEG that was not cut short. */
export const isWholeJpeg = (buf: Buffer): boolean => buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[buf.length - 2] === 0xff && buf[buf.length - 1] === 0xd9;
