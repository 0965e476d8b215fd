// Chromium for benchmarks: started like the servers under test (pinned to a core, in its own session at a
// given priority, see server-proc.ts) so that other jobs on a shared machine do not starve its decoder,
// and driven over CDP by playwright-core. Same binary and flags as the player's browser tests.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { startPinned } from './server-proc.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/player/helpers.js';
import { freePort } from '../../test/helpers/net.js';
import { sleep } from '../../test/helpers/wait.js';

export interface BenchBrowser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchPinnedChromium(core: number, nice: number, logFile: string): Promise<BenchBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'livecdn-bench-chromium-'));
  const port = await freePort();
  const proc = await startPinned({
    name: 'chromium',
    command: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--remote-debugging-address=127.0.0.1', `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, '--window-size=1280,800', 'about:blank'],
    core,
    nice,
    logFile,
    ports: [port],
  }).catch(async (e: unknown) => {
    await rm(profile, { recursive: true, force: true });
    throw e;
  });
  const close = async (): Promise<void> => {
    // The renderers and helpers outlive the browser process briefly; the profile goes once they are gone.
    const tree = proc.tree();
    await proc.stop();
    for (let i = 0; i < 50 && tree.some((pid) => existsSync(`/proc/${pid}`)); i++) await sleep(100);
    await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
    const context = browser.contexts()[0] ?? (await browser.newContext());
    return {
      newPage: () => context.newPage(),
      close: async () => {
        await browser.close().catch(() => undefined);
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
