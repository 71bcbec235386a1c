/**
 * Benchmark: the whole tutorial run (data load to test accuracy) on the adapter at hand, on
 * the fused path (jitCompile) and on the general autograd path, one after the other in one
 * process, with the time of every epoch and the GPU memory each held.
 *
 *   npm run bench:train -- [--epochs 40] [--data PATH] [--swiftshader] [--fused-only]
 *
 * Writes bench/results/train.json (the runs' outputs go to bench/results/tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainTutorial } from '../src/runner/train.js';
import { machine, summariseRun as summarise } from './tutorial-runs.js';

const { values } = parseArgs({
  options: { epochs: { type: 'string', default: '40' }, data: { type: 'string' }, swiftshader: { type: 'boolean' }, 'fused-only': { type: 'boolean' } },
});
const epochs = Number(values.epochs);
const results = join('bench', 'results');
mkdirSync(join(results, 'tmp'), { recursive: true });

const train = (jitCompile: boolean) =>
  trainTutorial({ epochs, data: values.data, swiftshader: values.swiftshader, jitCompile, out: join(results, 'tmp') });
const fusedRun = await train(true);
const fused = summarise('fused (jitCompile: data resident on the GPU, 5 dispatches per step, one read per epoch)', fusedRun);
const general = values['fused-only'] ? null : summarise('general autograd path (one kernel per op, per-step readback of loss and accuracy)', await train(false));

const summary = {
  benchmark: `the tutorial: load, pad, ${epochs} epochs at batch 512 with validation, evaluate on the test set; both paths in one process`,
  date: new Date().toISOString(),
  adapter: fusedRun.adapter,
  machine: machine(),
  node: process.version,
  speedup: general && { wholeRun: general.seconds.total / fused.seconds.total, medianEpoch: general.medianEpochSeconds / fused.medianEpochSeconds },
  fused,
  general,
};
writeFileSync(join(results, 'train.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`\n| path | epochs | median epoch | train | whole run | test accuracy | peak GPU memory |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const [name, r] of [['fused', fused], ['general', general]] as const) {
  if (!r) continue;
  console.log(
    `| ${name} | ${epochs} | ${r.medianEpochSeconds.toFixed(2)} s | ${r.seconds.train.toFixed(1)} s | ${r.seconds.total.toFixed(1)} s | ${r.test.accuracy.toFixed(4)} | ${(r.gpuMemory.peakBytesAllocated / 2 ** 20).toFixed(1)} MiB |`,
  );
}
if (summary.speedup) console.log(`\nfused is ${summary.speedup.wholeRun.toFixed(1)}x faster over the whole run (${summary.speedup.medianEpoch.toFixed(1)}x per epoch) on ${fusedRun.adapter}`);
console.log('Wrote bench/results/train.json');
