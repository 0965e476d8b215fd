// The cluster's keys. Operators hold one root secret (at least 32 bytes); every service derives the keys
// it needs from it with HKDF-SHA256, one key per purpose, so that a key used for one job is useless for
// another: a play token never publishes, a publish token never administers, and the signal's requests to
// origins are signed with a key that no token is ever made from.
import { hkdfSync } from 'node:crypto';

/** Shortest root secret accepted, in bytes (UTF-8). */
const MIN_ROOT_SECRET_BYTES = 32;

export interface ClusterKeys {
  /** Signs and verifies publish tokens (`?token=` on RTMP publish). */
  readonly publish: Buffer;
  /** Signs and verifies play tokens (`?token=` on playlists, segments and FLV). */
  readonly play: Buffer;
  /** The operators' bearer token for write routes (signal API, origin kicks), as base64url. */
  readonly admin: Buffer;
  /** Signs requests between nodes and the signal (registration, heartbeats, kicks): never sent. */
  readonly node: Buffer;
}

type KeyPurpose = keyof ClusterKeys;

const SALT = 'livecdn-keys-v1';

const derive = (root: string, purpose: KeyPurpose): Buffer => Buffer.from(hkdfSync('sha256', root, SALT, purpose, 32));

export class RootSecretError extends Error {}

/** Checks the root secret's length, then derives every key. */
export function deriveKeys(root: string): ClusterKeys {
  if (Buffer.byteLength(root, 'utf8') < MIN_ROOT_SECRET_BYTES) {
    throw new RootSecretError(`the secret must be at least ${MIN_ROOT_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`);
  }
  return { publish: derive(root, 'publish'), play: derive(root, 'play'), admin: derive(root, 'admin'), node: derive(root, 'node') };
}

/** The admin bearer token operators send as `Authorization: Bearer …` (printed by the CLI, never logged). */
export const adminToken = (keys: ClusterKeys): string => keys.admin.toString('base64url');
