// The frame number painted into the picture, for publisher-to-screen latency: a strip in the top-left
// corner of CODE_BITS blocks, bit i (least significant first) from the left, white for 1, over a second
// row with every block inverted. Large flat blocks survive lossy coding; the inverted row lets the reader
// check every bit (top and bottom must clearly differ), so a frame caught mid-transition or blurred is
// dropped, never misread.

export const CODE_BITS = 12;
export const CODE_BLOCK_W = 64;
export const CODE_ROW_H = 40;
/** Size of the strip in the source picture (pixels). */
export const CODE_WIDTH = CODE_BITS * CODE_BLOCK_W;
export const CODE_HEIGHT = 2 * CODE_ROW_H;
/** Frame numbers wrap at this (a clip must have fewer frames). */
export const CODE_MODULUS = 2 ** CODE_BITS;

/**
 * FFmpeg `geq` luma expression drawing frame N's code on a CODE_WIDTH x CODE_HEIGHT picture (limited
 * range: 16 black, 235 white); pair it with cb=128:cr=128.
 */
export function frameCodeGeq(): string {
  const bit = `mod(floor(N/pow(2,floor(X/${CODE_BLOCK_W}))),2)`;
  return `16+219*abs(${bit}-gte(Y,${CODE_ROW_H}))`;
}

/**
 * `-filter_complex` chain painting the code over the video `[input]` (at `rate` fps, starting at frame
 * 0) as `[output]`; the picture must be at least CODE_WIDTH x CODE_HEIGHT.
 */
export function frameCodeFilter(input: string, output: string, rate: number): string {
  return (
    `color=c=black:s=${CODE_WIDTH}x${CODE_HEIGHT}:r=${rate},format=yuv420p,geq=lum='${frameCodeGeq()}':cb=128:cr=128[code];` +
    `[${input}][code]overlay=0:0:shortest=1[${output}]`
  );
}

/**
 * Reads the code from RGBA pixels of the strip scaled to `width` x `height` (the whole strip, any
 * scale). Averages the middle half of every block; undefined when any bit's two rows differ by less
 * than `minContrast` (0..255).
 *
 * Self-contained (no imports, no inner named functions): the latency page runs its source text.
 */
export function decodeFrameCode(rgba: ArrayLike<number>, width: number, height: number, bits: number, minContrast = 64): number | undefined {
  const blockW = width / bits;
  const rowH = height / 2;
  let value = 0;
  for (let b = 0; b < bits; b++) {
    const means = [0, 0];
    for (let row = 0; row < 2; row++) {
      const x0 = Math.floor(b * blockW + blockW / 4);
      const x1 = Math.max(x0 + 1, Math.floor(b * blockW + (3 * blockW) / 4));
      const y0 = Math.floor(row * rowH + rowH / 4);
      const y1 = Math.max(y0 + 1, Math.floor(row * rowH + (3 * rowH) / 4));
      let sum = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * 4;
          // Rec. 601 luma of the pixel.
          sum += 0.299 * Number(rgba[i]) + 0.587 * Number(rgba[i + 1]) + 0.114 * Number(rgba[i + 2]);
        }
      }
      means[row] = sum / ((x1 - x0) * (y1 - y0));
    }
    const top = means[0] ?? 0;
    const bottom = means[1] ?? 0;
    if (Math.abs(top - bottom) < minContrast) return undefined;
    if (top > bottom) value += 2 ** b;
  }
  return value;
}
