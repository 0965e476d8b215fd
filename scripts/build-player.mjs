// Bundles the player pages with esbuild: src/player/web/{player,streamer,dashboard,recordings}.ts plus
// video.js's CSS into dist/player/www/ (ESM, minified, source maps), and copies src/player/static/ beside them.
// `node scripts/build-player.mjs [--outdir DIR] [--dev]`; also imported by src/player/serve.ts to build
// on first use. dist/player/www/ rather than dist/player/ because tsc emits dist/player/serve.js, and the
// handler must not serve Node code.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const defaultOutdir = join(repoRoot, 'dist', 'player', 'www');

/**
 * Build the pages into `outdir`. Writes into a temporary sibling directory first and renames it into
 * place, so a server reading `outdir` never sees half a build.
 * @param {{ outdir?: string, minify?: boolean, logLevel?: import('esbuild').LogLevel }} [opts]
 * @returns {Promise<{ outdir: string, ms: number, files: string[] }>}
 */
export async function buildPlayer(opts = {}) {
  const started = performance.now();
  const outdir = resolve(opts.outdir ?? defaultOutdir);
  const tmp = `${outdir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await build({
      absWorkingDir: repoRoot,
      entryPoints: {
        player: 'src/player/web/player.ts',
        streamer: 'src/player/web/streamer.ts',
        dashboard: 'src/player/web/dashboard.ts',
        recordings: 'src/player/web/recordings.ts',
        'video-js': 'node_modules/video.js/dist/video-js.css',
      },
      outdir: tmp,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      logLimit: 5,
      minify: opts.minify ?? true,
      sourcemap: true,
      legalComments: 'external',
      // video.js's core build: the UI without its own HLS/DASH engine (VHS); hls.js and mpegts.js play.
      alias: { 'video.js': join(repoRoot, 'node_modules/video.js/dist/alt/video.core.js') },
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file' },
      logLevel: opts.logLevel ?? 'warning',
    });
    const staticDir = join(repoRoot, 'src', 'player', 'static');
    for (const name of await readdir(staticDir)) await copyFile(join(staticDir, name), join(tmp, name));
    await writeFile(join(tmp, 'build.json'), JSON.stringify({ builtAt: new Date().toISOString() }) + '\n');
    await rm(outdir, { recursive: true, force: true });
    await mkdir(dirname(outdir), { recursive: true });
    await rename(tmp, outdir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const files = (await readdir(outdir)).sort();
  return { outdir, ms: Math.round(performance.now() - started), files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--outdir');
  const outdir = i >= 0 ? args[i + 1] : undefined;
  if (i >= 0 && !outdir) {
    console.error('build-player: --outdir needs a directory');
    process.exit(2);
  }
  buildPlayer({ outdir, minify: !args.includes('--dev') }).then(
    (r) => console.log(`build-player: ${r.files.length} files in ${r.outdir} (${r.ms} ms)`),
    (err) => {
      console.error(`build-player: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
