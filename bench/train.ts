/**
 * Benchmark: the whole tutorial run (data load to test accuracy) on the adapter
 * at hand, with the time of every epoch and the GPU memory it held.
 *
 *   npm run bench:train -- [--epochs 40] [--data PATH] [--swiftshader]
 *
 * Writes bench/results/train.json (the run's outputs go to bench/results/tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainTutorial } from '../src/runner/train.js';
import { median } from './stats.js';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '40' }, data: { type: 'string' }, swiftshader: { type: 'boolean' } } });
const epochs = Number(values.epochs);
const results = join('bench', 'results');
mkdirSync(join(results, 'tmp'), { recursive: true });

const run = await trainTutorial({ epochs, data: values.data, swiftshader: values.swiftshader, out: join(results, 'tmp') });
const epochSeconds = run.epochSeconds;
const summary = {
  benchmark: `the tutorial: load, pad, ${epochs} epochs at batch 512 with validation, evaluate on the test set`,
  date: new Date().toISOString(),
  path: 'general autograd path (one kernel per op, per-step readback of loss and accuracy)',
  adapter: run.adapter,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  test: run.test,
  final: Object.fromEntries(Object.entries(run.history).map(([k, v]) => [k, v[v.length - 1]])),
  seconds: run.seconds,
  medianEpochSeconds: median(epochSeconds),
  epochSeconds,
  gpuMemory: run.gpuMemory,
};
writeFileSync(join(results, 'train.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`\n| adapter | epochs | median epoch | train | whole run | test accuracy | peak GPU memory |`);
console.log(`|---|---|---|---|---|---|---|`);
console.log(
  `| ${run.adapter} | ${epochs} | ${summary.medianEpochSeconds.toFixed(2)} s | ${run.seconds.train.toFixed(1)} s | ${run.seconds.total.toFixed(1)} s | ${run.test.accuracy.toFixed(4)} | ${(run.gpuMemory.peakBytesAllocated / 2 ** 20).toFixed(1)} MiB |`,
);
console.log('Wrote bench/results/train.json');
