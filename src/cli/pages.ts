// The player, streamer and dashboard pages under /player/. The README promises them on every node kind:
// each command mounts this one handler (built once per process), the same way.
import type { RequestHandler } from 'express';
import { createPlayerHandler } from '../player/serve.js';
import type { PlayerHandler } from '../player/serve.js';

let pages: PlayerHandler | undefined;

/** For the origin's extraHandlers and the edge's fallback (plain node:http handlers). */
export function playerPages(): PlayerHandler {
  pages ??= createPlayerHandler();
  return pages;
}

/** For the signal's express app. */
export function playerRoute(): { readonly path: string; readonly handler: RequestHandler } {
  const handler = playerPages();
  return { path: '/player', handler: (req, res, next) => void (handler(req, res) || next()) };
}
