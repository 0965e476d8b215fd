// `livecdn keys`: prints the admin bearer token derived from the cluster secret, so that operators never
// derive keys by hand: curl -H "Authorization: Bearer $(livecdn keys --secret-file /etc/livecdn/secret)" …
import type { Command } from 'commander';
import { z } from 'zod';
import { adminToken } from '../../shared/keys.js';
import { OptionsError, readCommandOptions } from '../options.js';
import { readKeys, secretFields } from '../secret.js';

const schema = z.object({ secretFile: secretFields.secretFile, secret: secretFields.secret });

export function registerKeys(program: Command): void {
  program
    .command('keys')
    .description('print the admin token (Authorization: Bearer …) derived from the cluster secret')
    .option('--secret-file <path>', 'file holding the cluster secret; or LIVECDN_SECRET')
    .option('--secret <key>', 'the cluster secret itself (visible in `ps`)')
    .action((flags: Record<string, unknown>, cmd: Command) => {
      const o = readCommandOptions(schema, cmd, flags);
      const keys = readKeys({ ...o, insecure: false });
      if (!keys) throw new OptionsError('invalid options:\n  --secret-file: required: the cluster secret (--secret-file PATH or LIVECDN_SECRET)');
      process.stdout.write(`${adminToken(keys)}\n`);
    });
}
