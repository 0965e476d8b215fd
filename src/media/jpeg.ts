// The pixel size a JPEG declares in its frame header (SOFn): the thumbnail sprite's tile height comes
// from it (FFmpeg scales tiles to a width and keeps the aspect). Pure.

export interface JpegSize {
  readonly width: number;
  readonly height: number;
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range but are not frame headers. */
const isSof = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/**
 * Width and height from the first frame header, walking the marker segments from SOI; undefined when
 * the bytes are not a JPEG or end (or reach the scan) before a frame header.
 */
export function jpegSize(buf: Buffer): JpegSize | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= buf.length) {
    if (buf[at] !== 0xff) return undefined;
    const marker = buf[at + 1] ?? 0;
    // Fill bytes (FF FF …) may pad before a marker.
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Start of scan or end of image before any frame header: none to find.
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = buf.readUInt16BE(at + 2);
    if (length < 2) return undefined;
    if (isSof(marker)) {
      if (at + 9 > buf.length || length < 7) return undefined;
      return { height: buf.readUInt16BE(at + 5), width: buf.readUInt16BE(at + 7) };
    }
    at += 2 + length;
  }
  return undefined;
}
