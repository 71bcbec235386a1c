/**
 * Benchmark: fuzz the readers (zip, .npy, pickle, the whole imdbFromNpz path, weights
 * files and checkpoints, the word index) with the harness of test/fuzz/harness.ts, an
 * equal share of inputs each. Every input must load correctly or end in one typed error
 * line within 2 s of CPU and its memory bounds; the first that does not stops the run
 * with fast-check's shrunk counterexample.
 *
 *   npm run bench:fuzz -- [--inputs 100000] [--seed N] [--readers zip,npy] [--out fuzz.json]
 *
 * Prints one row per reader (inputs, outcomes, slowest input) and writes
 * bench/results/fuzz.json (or --out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzz, LIMITS, loadCorpus, READERS, Tally, type Reader } from '../test/fuzz/harness.js';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '100000' }, seed: { type: 'string' }, readers: { type: 'string' }, out: { type: 'string', default: 'fuzz.json' } } });
// --readers zip,npy fuzzes only those (for a quick estimate); the default is all of them.
const readers = values.readers === undefined ? [...READERS] : values.readers.split(',').map((r) => r.trim());
const unknown = readers.filter((r) => !(READERS as readonly string[]).includes(r));
if (unknown.length) throw new RangeError(`--readers: unknown ${unknown.join(', ')} (choose from ${READERS.join(', ')})`);
const inputs = Number(values.inputs);
if (!Number.isInteger(inputs) || inputs < readers.length) throw new RangeError(`--inputs must be an integer of at least ${readers.length}, got ${values.inputs}`);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = loadCorpus(join(repo, 'test', 'fixtures'));
const tally = new Tally();
const started = performance.now();
(readers as Reader[]).forEach((reader, i) => {
  // An equal share each; the first readers take the remainder.
  const runs = Math.floor(inputs / readers.length) + (i < inputs % readers.length ? 1 : 0);
  const t = performance.now();
  fuzz(reader, runs, seed + READERS.indexOf(reader), corpus, tally);
  console.log(`${reader}: ${runs} inputs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
});
const seconds = (performance.now() - started) / 1000;

const result = {
  benchmark: 'fuzz the readers: every input loads correctly or ends in one typed error line, in bounded CPU time and memory',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  seed,
  inputs: tally.total,
  seconds,
  limits: { msPerInput: LIMITS.ms, arrayBufferBytes: `${LIMITS.bytesPerInputByte} per input byte + ${LIMITS.baseBytes}`, arrayBufferAndHeapBytes: LIMITS.totalBytes, messageCharacters: 1000 },
  corpus: { npz: corpus.npz.length, npy: corpus.npy.length, pickle: corpus.pickle.length },
  readers: tally.readers,
  mutations: Object.fromEntries(Object.entries(tally.mutations).sort(([a], [b]) => a.localeCompare(b))),
};
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, values.out), JSON.stringify(result, null, 2) + '\n');

console.log(`\n${result.machine.cpu}, ${result.machine.cores} cores; seed ${seed}; ${tally.total} inputs in ${seconds.toFixed(1)} s, none broke the property\n`);
console.log(tally.table());
console.log(`\nWrote bench/results/${values.out}`);
