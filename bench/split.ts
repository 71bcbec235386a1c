/**
 * Benchmark: the whole tutorial run on the fused path twice in one process, as the device gives
 * it and with storage bindings capped (`maxBindingBytes`) so that the embedding table, its
 * bitmap and the resident data are split over several buffers: what splitting costs, and that
 * it trains the same model.
 *
 *   npm run bench:split -- [--epochs 40] [--max-binding-bytes 524288] [--data PATH] [--swiftshader]
 *
 * Writes bench/results/split.json (the runs' outputs go to bench/results/tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainTutorial } from '../src/runner/train.js';
import { machine, summariseRun } from './tutorial-runs.js';

const { values } = parseArgs({
  options: { epochs: { type: 'string', default: '40' }, 'max-binding-bytes': { type: 'string', default: '524288' }, data: { type: 'string' }, swiftshader: { type: 'boolean' } },
});
const epochs = Number(values.epochs);
const cap = Number(values['max-binding-bytes']);
const results = join('bench', 'results');
mkdirSync(join(results, 'tmp'), { recursive: true });

const train = (maxBindingBytes?: number) =>
  trainTutorial({ epochs, data: values.data, swiftshader: values.swiftshader, maxBindingBytes, out: join(results, 'tmp'), log: () => {} });
const wholeRun = await train();
const whole = summariseRun("fused, the device's binding limit: nothing split", wholeRun);
const split = summariseRun(`fused, bindings capped at ${cap} bytes: table, bitmap and data split`, await train(cap));

const summary = {
  benchmark: `the tutorial on the fused path, ${epochs} epochs at batch 512 with validation, unsplit then split, in one process`,
  date: new Date().toISOString(),
  adapter: wholeRun.adapter,
  machine: machine(),
  node: process.version,
  slowdown: { wholeRun: split.seconds.total / whole.seconds.total, medianEpoch: split.medianEpochSeconds / whole.medianEpochSeconds },
  whole,
  split,
};
writeFileSync(join(results, 'split.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`\n| bindings | median epoch | whole run | test accuracy | test loss | peak GPU memory |`);
console.log(`|---|---|---|---|---|---|`);
for (const [name, r] of [["device's limit", whole], [`${cap} bytes`, split]] as const) {
  console.log(
    `| ${name} | ${r.medianEpochSeconds.toFixed(2)} s | ${r.seconds.total.toFixed(1)} s | ${r.test.accuracy.toFixed(4)} | ${r.test.loss.toFixed(4)} | ${(r.gpuMemory.peakBytesAllocated / 2 ** 20).toFixed(1)} MiB |`,
  );
}
console.log(`\nsplit runs ${summary.slowdown.medianEpoch.toFixed(1)}x slower per epoch on ${wholeRun.adapter}`);
console.log('Wrote bench/results/split.json');
