/**
 * Soak: the whole tutorial (load, 40 epochs with validation, test evaluation) several times
 * back to back in one process on one GPU device, recording GPU memory (the buffer pool) and
 * host memory (after a garbage collection) after each run. Memory that grows from run to run
 * is a leak.
 *
 *   npm run bench:soak -- [--runs 3] [--epochs 40] [--data PATH] [--swiftshader]
 *
 * Writes bench/results/soak.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadData } from '../src/data/files.js';
import { Gpu } from '../src/gpu/gpu.js';
import { runTutorial, TUTORIAL } from '../src/runner/tutorial.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, epochs: { type: 'string', default: '40' }, data: { type: 'string' }, swiftshader: { type: 'boolean' } } });
const runs = Number(values.runs);
const epochs = Number(values.epochs);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:soak does)');

const MiB = 2 ** 20;
const gpu = await Gpu.create({ forceSwiftShader: values.swiftshader });
console.log(`Using ${gpu.describe()}`);
const quiet = { write: () => true };
interface Row {
  run: number;
  seconds: number;
  testAccuracy: number;
  gpu: { bytesAllocated: number; bytesInUse: number; peakBytesAllocated: number };
  host: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}
const rows: Row[] = [];
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  const data = await loadData({ path: values.data, numWords: TUTORIAL.numWords });
  const result = await runTutorial(gpu, data, { epochs, batchSize: 512, seed: run, log: () => {}, output: quiet });
  result.model.dispose();
  await gpu.sync();
  gc();
  const host = process.memoryUsage();
  const row: Row = {
    run,
    seconds: (performance.now() - started) / 1000,
    testAccuracy: result.test.accuracy,
    gpu: { bytesAllocated: gpu.stats.bytesAllocated, bytesInUse: gpu.stats.bytesInUse, peakBytesAllocated: gpu.stats.peakBytesAllocated },
    host: { rss: host.rss, heapUsed: host.heapUsed, external: host.external, arrayBuffers: host.arrayBuffers },
  };
  rows.push(row);
  console.log(
    `run ${run}: ${row.seconds.toFixed(1)} s, test accuracy ${row.testAccuracy.toFixed(4)}; GPU pool ${(row.gpu.bytesAllocated / MiB).toFixed(1)} MiB ` +
      `(in use ${(row.gpu.bytesInUse / MiB).toFixed(2)} MiB); host RSS ${(host.rss / MiB).toFixed(0)} MiB, heap ${(host.heapUsed / MiB).toFixed(1)} MiB, array buffers ${(host.arrayBuffers / MiB).toFixed(1)} MiB`,
  );
}
gpu.close();

const growth = (pick: (r: Row) => number) => pick(rows[rows.length - 1]) - pick(rows[0]);
const summary = {
  benchmark: `${runs} tutorial runs back to back in one process on one device (${epochs} epochs each, then the test evaluation); memory after each run, the model disposed, after a GC`,
  date: new Date().toISOString(),
  adapter: gpu.describe(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length },
  node: process.version,
  growthFromFirstToLastRun: {
    gpuBytesAllocated: growth((r) => r.gpu.bytesAllocated),
    gpuBytesInUse: growth((r) => r.gpu.bytesInUse),
    hostRss: growth((r) => r.host.rss),
    hostHeapUsed: growth((r) => r.host.heapUsed),
    hostArrayBuffers: growth((r) => r.host.arrayBuffers),
  },
  runs: rows,
};
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'soak.json'), JSON.stringify(summary, null, 2) + '\n');
console.log('growth from the first run to the last:', Object.entries(summary.growthFromFirstToLastRun).map(([k, v]) => `${k} ${(v / MiB).toFixed(2)} MiB`).join(', '));
console.log('Wrote bench/results/soak.json');
