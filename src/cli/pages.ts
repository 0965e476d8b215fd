// The player, streamer and dashboard pages under /player/. The README promises them on every node kind:
// each command passes this one handler (built once per process) as its service's `pages`, the same way.
import { createPlayerHandler } from '../player/serve.js';
import type { PlayerHandler } from '../player/serve.js';

let pages: PlayerHandler | undefined;

/** The `pages` of the origin, edge and signal configs. */
export function playerPages(): PlayerHandler {
  pages ??= createPlayerHandler();
  return pages;
}
