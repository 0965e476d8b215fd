// The cluster's root secret on the command line: `--secret-file PATH` (or LIVECDN_SECRET_FILE), the
// LIVECDN_SECRET variable, or `--secret` (visible in `ps`: for tests and one-off runs), and `--insecure`
// for development without one. Every command derives its keys from it (shared/keys.ts).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { RootSecretError, deriveKeys } from '../shared/keys.js';
import type { ClusterKeys } from '../shared/keys.js';
import { OptionsError, boolFlag } from './options.js';

/** Fields to merge into a command's schema; an empty variable counts as unset. */
export const secretFields = {
  secretFile: z.string().min(1).optional(),
  secret: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s)),
  insecure: boolFlag,
};

export interface SecretOptions {
  readonly secretFile?: string | undefined;
  readonly secret?: string | undefined;
  readonly insecure: boolean;
}

/** The secret's flags; `--insecure` only where a command refuses to run without a secret otherwise. */
export function addSecretOptions(cmd: Command, insecureHelp?: string): Command {
  cmd
    .option('--secret-file <path>', 'file holding the cluster secret (>= 32 bytes, e.g. openssl rand -base64 32 > FILE); or LIVECDN_SECRET')
    .option('--secret <key>', 'the cluster secret itself: visible in `ps`, prefer --secret-file or LIVECDN_SECRET');
  return insecureHelp === undefined ? cmd : cmd.option('--insecure', insecureHelp);
}

const fail = (flag: string, message: string): never => {
  throw new OptionsError(`invalid options:\n  ${flag}: ${message}`);
};

/** The keys, or undefined without a secret; throws OptionsError for a bad, unreadable or conflicting secret. */
export function readKeys(o: SecretOptions): ClusterKeys | undefined {
  if (o.secretFile !== undefined && o.secret !== undefined) fail('--secret-file', 'give either --secret-file or --secret/LIVECDN_SECRET, not both');
  let root = o.secret;
  let flag = '--secret';
  if (o.secretFile !== undefined) {
    flag = '--secret-file';
    try {
      // A file written by `echo` or an editor ends with a newline that is no part of the secret.
      root = readFileSync(o.secretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      fail(flag, `cannot read ${o.secretFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (root === undefined) return undefined;
  if (o.insecure) fail('--insecure', 'runs without a secret: drop --insecure or the secret');
  try {
    return deriveKeys(root);
  } catch (err) {
    if (err instanceof RootSecretError) fail(flag, err.message);
    throw err;
  }
}

/** The keys; without a secret, OptionsError unless --insecure. */
export function requireKeys(o: SecretOptions, who: string): ClusterKeys | undefined {
  const keys = readKeys(o);
  if (!keys && !o.insecure) {
    fail('--secret-file', `required: ${who} needs the cluster secret (--secret-file PATH or LIVECDN_SECRET), or --insecure for development`);
  }
  return keys;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Play tokens are signed and checked with a key derived from the cluster secret: one is needed. */
export function requirePlayKeys(playTokens: boolean, keys: ClusterKeys | undefined): void {
  if (playTokens && !keys) throw new OptionsError('invalid options:\n  --play-tokens: needs the cluster secret');
}
