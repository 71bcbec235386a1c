/**
 * Benchmark: fuzz the data readers (zip, .npy, pickle and the whole imdbFromNpz
 * path) with the harness of test/fuzz/harness.ts, an equal share of inputs each.
 * Every input must load correctly or throw a DataError within 2 s and its memory
 * bound; the first that does not stops the run with fast-check's shrunk counterexample.
 *
 *   npm run bench:fuzz -- [--inputs 100000] [--seed N]
 *
 * Prints one row per reader (inputs, outcomes, slowest input) and writes
 * bench/results/fuzz.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzz, LIMITS, loadCorpus, READERS, Tally } from '../test/fuzz/harness.js';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
const inputs = Number(values.inputs);
if (!Number.isInteger(inputs) || inputs < READERS.length) throw new RangeError(`--inputs must be an integer of at least ${READERS.length}, got ${values.inputs}`);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = loadCorpus(join(repo, 'test', 'fixtures'));
const tally = new Tally();
const started = performance.now();
READERS.forEach((reader, i) => {
  // An equal share each; the first readers take the remainder.
  const runs = Math.floor(inputs / READERS.length) + (i < inputs % READERS.length ? 1 : 0);
  const t = performance.now();
  fuzz(reader, runs, seed + i, corpus, tally);
  console.log(`${reader}: ${runs} inputs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
});
const seconds = (performance.now() - started) / 1000;

const result = {
  benchmark: 'fuzz the data readers: every input loads correctly or throws a DataError, in bounded time and memory',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  seed,
  inputs: tally.total,
  seconds,
  limits: { msPerInput: LIMITS.ms, arrayBufferBytes: `${LIMITS.bytesPerInputByte} per input byte + ${LIMITS.baseBytes}` },
  corpus: { npz: corpus.npz.length, npy: corpus.npy.length, pickle: corpus.pickle.length },
  readers: tally.readers,
  mutations: Object.fromEntries(Object.entries(tally.mutations).sort(([a], [b]) => a.localeCompare(b))),
};
const out = join(repo, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fuzz.json'), JSON.stringify(result, null, 2) + '\n');

console.log(`\n${result.machine.cpu}, ${result.machine.cores} cores; seed ${seed}; ${tally.total} inputs in ${seconds.toFixed(1)} s, none broke the property\n`);
console.log(tally.table());
console.log('\nWrote bench/results/fuzz.json');
