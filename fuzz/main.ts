// npm run fuzz -- --seconds N [--target NAME]... [--seed S] [--batch N] [--save-corpus] [--crashes DIR] [--json]
// Fuzzes each target (or one) for N seconds, prints executions, executions/s, blocks covered, corpus
// growth and findings, writes each finding's input to the crashes folder, and exits 1 on any finding.
// npm run fuzz -- --target NAME --replay FILE runs one saved input and lets a finding throw with its stack.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FUZZ_DIR, fuzz } from './harness.js';
import { corpusDir, loadCorpus } from './corpus.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    batch: { type: 'string', default: '256' },
    'save-corpus': { type: 'boolean', default: false },
    crashes: { type: 'string', default: join(FUZZ_DIR, 'crashes') },
    json: { type: 'boolean', default: false },
    replay: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, not ${values.seconds}`);
const names = values.target ?? TARGETS.map((t) => t.name);
const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length) {
  console.error(`unknown target(s) ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
if (values.replay !== undefined) {
  const target = names.length === 1 ? TARGETS.find((t) => t.name === names[0]) : undefined;
  if (!target) throw new Error('--replay needs exactly one --target');
  try {
    await target.run(readFileSync(values.replay));
    console.log('no finding');
  } catch (e) {
    if (!target.expected.some((c) => e instanceof c)) throw e;
    console.log(`rejected with a documented error: ${String(e)}`);
  }
  process.exit(0);
}

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
console.log(`seed ${seed}, ${seconds} s per target`);

const sha = (b: Buffer): string => createHash('sha1').update(b).digest('hex').slice(0, 16);
let findings = 0;
const rows: object[] = [];
for (const target of TARGETS.filter((t) => names.includes(t.name))) {
  const seeds = loadCorpus(target.name);
  const r = await fuzz(target, { seconds, seed, corpus: seeds, batchSize: Number(values.batch) });
  const row = {
    target: r.target,
    executions: r.executions,
    execPerSec: Math.round(r.execPerSec),
    blocks: `${r.blocksInitial} -> ${r.blocks}`,
    corpus: `${r.corpusInitial} -> ${r.corpus.length}`,
    findings: r.findings.length,
  };
  rows.push(row);
  console.log(
    `${r.target.padEnd(15)} ${String(r.executions).padStart(9)} execs ${String(row.execPerSec).padStart(7)}/s  blocks ${row.blocks.padEnd(12)} corpus ${row.corpus.padEnd(11)} findings ${r.findings.length}`,
  );
  for (const f of r.findings) {
    findings++;
    mkdirSync(values.crashes, { recursive: true });
    const file = join(values.crashes, `${r.target}-${sha(f.input)}.bin`);
    writeFileSync(file, f.input);
    console.log(`  FINDING ${f.error.split('\n').join('\n    ')}\n    input (${f.input.length} bytes): ${file}\n    replay: npm run fuzz -- --target ${r.target} --replay ${file}\n    hex: ${f.input.subarray(0, 96).toString('hex')}`);
  }
  if (values['save-corpus']) {
    const dir = corpusDir(target.name);
    mkdirSync(dir, { recursive: true });
    for (const c of r.corpus.slice(r.corpusInitial)) writeFileSync(join(dir, `found-${sha(c)}.bin`), c);
  }
}
if (values.json) console.log(JSON.stringify(rows));
process.exitCode = findings > 0 ? 1 : 0;
