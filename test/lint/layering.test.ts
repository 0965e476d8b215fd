// The import direction between the folders of src/ (docs/architecture.md, "Layering") is enforced by the
// no-restricted-imports rules of eslint.config.js. These cases lint source text as if it lived at a given
// path (nothing is written to src/), so a rule that stopped firing, or fired on an allowed import, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The layering messages eslint gives `code` placed at `file` (relative to the repository). */
async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const refused: Array<[file: string, specifier: string]> = [
  ['src/media/flv/bad.ts', '../../rtmp/chunk-writer.js'],
  ['src/media/bad.ts', '../shared/log.js'],
  ['src/shared/bad.ts', '../hub/hub.js'],
  ['src/rtmp/bad.ts', '../hub/hub.js'],
  ['src/hub/bad.ts', '../origin/origin.js'],
  ['src/hub/bad.ts', '../edge/edge.js'],
  ['src/edge/bad.ts', '../origin/origin.js'],
  ['src/origin/bad.ts', '../edge/edge.js'],
  ['src/signal/bad.ts', '../hub/hub.js'],
  ['src/signal/bad.ts', '../media/packet.js'],
  ['src/origin/bad.ts', '../cli/options.js'],
  ['src/player/bad.ts', '../origin/origin.js'],
  ['src/player/web/bad.ts', '../serve.js'],
  ['src/player/web/bad.ts', '../../shared/log.js'],
  ['src/player/web/bad.ts', 'node:fs'],
  ['src/origin/bad.ts', '../../test/helpers/http.js'],
  ['src/transcode/bad.ts', '../origin/origin.js'],
  ['src/transcode/bad.ts', '../rtmp/server.js'],
  ['src/transcode/bad.ts', '../edge/edge.js'],
  ['src/hub/bad.ts', '../transcode/transcoder.js'],
  ['src/media/bad.ts', '../transcode/ladder.js'],
  ['src/edge/bad.ts', '../transcode/ladder.js'],
  ['src/signal/bad.ts', '../transcode/ladder.js'],
  ['src/shared/bad.ts', '../transcode/ladder.js'],
  ['src/record/bad.ts', '../origin/origin.js'],
  ['src/record/bad.ts', '../rtmp/server.js'],
  ['src/record/bad.ts', '../transcode/ladder.js'],
  ['src/hub/bad.ts', '../record/recorder.js'],
  ['src/media/bad.ts', '../record/catalogue.js'],
  ['src/edge/bad.ts', '../record/catalogue.js'],
  ['src/transcode/bad.ts', '../record/catalogue.js'],
  ['src/hub/bad.test.ts', '../origin/origin.js'],
  ['src/hub/bad.test.ts', '../../test/origin/shapes.test.js'],
];

const allowed: Array<[file: string, specifier: string]> = [
  ['src/media/flv/ok.ts', '../packet.js'],
  ['src/rtmp/ok.ts', '../media/packet.js'],
  ['src/hub/ok.ts', '../rtmp/chunk-writer.js'],
  ['src/origin/ok.ts', '../hub/hub.js'],
  ['src/edge/ok.ts', '../hub/hub.js'],
  ['src/edge/ok.ts', '../rtmp/server.js'],
  ['src/signal/ok.ts', '../shared/keys.js'],
  ['src/cli/commands/ok.ts', '../../origin/origin.js'],
  ['src/transcode/ok.ts', '../hub/hub.js'],
  ['src/transcode/ok.ts', '../media/flv/reader.js'],
  ['src/transcode/ok.ts', '../shared/ffmpeg.js'],
  ['src/origin/ok.ts', '../transcode/transcode-service.js'],
  ['src/cli/commands/ok.ts', '../../transcode/ladder.js'],
  ['src/record/ok.ts', '../hub/hub.js'],
  ['src/record/ok.ts', '../media/flv/script.js'],
  ['src/record/ok.ts', '../shared/http.js'],
  ['src/origin/ok.ts', '../record/recorder.js'],
  ['src/cli/ok.ts', '../record/patterns.js'],
  ['src/player/web/ok.ts', '../../shared/url-contract.js'],
  ['src/player/web/ok.ts', 'hls.js'],
  // a unit test beside its module may use the shared fixtures
  ['src/hub/ok.test.ts', '../../test/helpers/packets.js'],
];

for (const [file, specifier] of refused) {
  test(`${file} may not import ${specifier}`, async () => {
    const errors = await layeringErrors(file, `import { x } from '${specifier}';\nexport const y = x;\n`);
    assert.equal(errors.length, 1, `no layering error for ${specifier} in ${file}`);
    assert.match(errors[0] as string, /layering: src\//);
  });
}

test('the allowed directions lint clean', async () => {
  for (const [file, specifier] of allowed) {
    assert.deepEqual(await layeringErrors(file, `import { x } from '${specifier}';\nexport const y = x;\n`), [], `${specifier} in ${file}`);
  }
});
