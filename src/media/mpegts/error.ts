/** A request the MPEG-TS writer cannot honour (bad PID, unknown track, oversized section). */
export class TsError extends Error {
  override name = 'TsError';
}
