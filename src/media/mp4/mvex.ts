// Movie extends (14496-12 8.8.1, 8.8.3): announces that the movie is fragmented, one trex per track.
// Its defaults are never used: every trun carries each sample's duration, size and flags.
import { box, fullBox, uint } from './box.js';

export const writeMvex = (trackIds: readonly number[]): Buffer =>
  box('mvex', ...trackIds.map((id) => fullBox('trex', 0, 0, uint(32, id), uint(32, 1), uint(32, 0), uint(32, 0), uint(32, 0))));
