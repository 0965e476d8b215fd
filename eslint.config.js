// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The import direction between the folders of src/ (docs/architecture.md, "Layering"): each folder may
// import only the folders listed here (and itself). Checked on relative import paths: src/'s top-level
// folder names do not recur as subfolder names, so `../../rtmp/x.js` always means src/rtmp.
// Nothing imports cli/; tests, benchmarks and fuzzers may import anything, and src/ none of them, except
// that a unit test beside its module (src/**/*.test.ts) may use the shared test fixtures in test/helpers/.
const LAYERS = {
  media: [], // pure formats: no I/O, no timers
  shared: [], // cluster-wide building blocks: URL contract, keys, tokens, logging, HTTP toolkit
  rtmp: ['media', 'shared'],
  hub: ['media', 'rtmp', 'shared'], // rtmp for its chunk writer: RTMP play bytes are serialised once in the hub
  origin: ['hub', 'media', 'record', 'rtmp', 'shared', 'transcode'],
  edge: ['hub', 'media', 'rtmp', 'shared'],
  transcode: ['hub', 'media', 'shared'], // the FFmpeg ladder: hub streams in, rung streams back into the hub
  record: ['hub', 'media', 'shared'], // recordings: hub streams to FLV files, their catalogue, VOD and thumbnails
  signal: ['shared'],
  player: ['shared'], // the page server; player/web (the browser) is below
  cli: ['edge', 'hub', 'media', 'origin', 'player', 'record', 'rtmp', 'shared', 'signal', 'transcode'],
};
const OUTSIDE_SRC = ['test', 'bench', 'fuzz', 'scripts'];
const layerRules = Object.entries(LAYERS).flatMap(([folder, allowed]) => [false, true].map((unitTest) => {
  const denied = [...Object.keys(LAYERS), ...OUTSIDE_SRC].filter((f) => f !== folder && !allowed.includes(f));
  return {
    files: [unitTest ? `src/${folder}/**/*.test.ts` : `src/${folder}/**/*.ts`],
    ignores: folder === 'player' ? ['src/player/web/**'] : [],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+${unitTest ? '(?!test/helpers/)' : ''}(${denied.join('|')})(/|$)`,
              message: `layering: src/${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (docs/architecture.md)`,
            },
          ],
        },
      ],
    },
  };
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'artifacts/**', '.bench-tmp/**', 'src/player/static/vendor/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
  {
    // The player's browser code is bundled by esbuild for the pages: browser libraries and the URL contract only.
    files: ['src/player/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!\\.\\./shared/url-contract\\.js$)', message: 'layering: src/player/web/ may import only shared/url-contract.ts of ours (docs/architecture.md)' },
            { regex: '^node:', message: 'layering: src/player/web/ runs in the browser' },
          ],
        },
      ],
    },
  },
);
