// Route patterns of the URL contract. Path segments are captured loosely and validated after, so a bad
// name is a clear 400 rather than a 404 or (never) a file path.
import { isValidName } from '../shared/names.js';

export const FLV_PATH = /^\/([^/]+)\/([^/]+)\.flv$/;
export const PLAYLIST_PATH = /^\/([^/]+)\/([^/]+)\.m3u8$/;
export const SEGMENT_PATH = /^\/([^/]+)\/([^/]+)\/(\d{1,15})\.ts$/;

export const validNames = (app: string | undefined, stream: string | undefined): boolean =>
  app !== undefined && stream !== undefined && isValidName(app) && isValidName(stream);

let nextId = 0;
/** Process-unique id for a client connection, for logs and hooks. */
export const newClientId = (prefix: string): string => `${prefix}-${(++nextId).toString(36)}-${process.pid.toString(36)}`;
