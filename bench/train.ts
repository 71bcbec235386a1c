/**
 * Benchmark: the whole tutorial run (data load to test accuracy) on the adapter at hand, once per
 * executor, one after the other in one process: the fused kernels, captured per-op steps
 * (`--no-fuse`) and, when asked for, eager steps (`--no-jit`, the slowest), with the time of every
 * epoch and the GPU memory each held.
 *
 *   npm run bench:train -- [--epochs 40] [--data PATH] [--swiftshader] [--executors fused,captured,eager]
 *
 * Writes bench/results/train.json (the runs' outputs go to bench/results/tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trainTutorial } from '../src/runner/train.js';
import { machine, summariseRun as summarise } from './tutorial-runs.js';

const { values } = parseArgs({
  options: { epochs: { type: 'string', default: '40' }, data: { type: 'string' }, swiftshader: { type: 'boolean' }, executors: { type: 'string', default: 'fused,captured' } },
});
const epochs = Number(values.epochs);
const results = join('bench', 'results');
mkdirSync(join(results, 'tmp'), { recursive: true });

const EXECUTORS = {
  fused: { label: 'fused kernels (embedding-bag + classifier head), compiled steps', jitCompile: 'auto', fuse: true },
  captured: { label: 'captured per-op steps (--no-fuse: one kernel per op, recorded once, replayed)', jitCompile: 'auto', fuse: false },
  eager: { label: 'eager per-op steps (--no-jit: a read-back per step)', jitCompile: false, fuse: 'auto' },
} as const;
type Kind = keyof typeof EXECUTORS;
const kinds = values.executors!.split(',') as Kind[];
for (const k of kinds) if (!(k in EXECUTORS)) throw new Error(`--executors: unknown executor '${k}' (fused, captured, eager)`);

const runs: Partial<Record<Kind, ReturnType<typeof summarise>>> = {};
const loadAverages: number[] = [];
let adapter = '';
for (const kind of kinds) {
  const { label, jitCompile, fuse } = EXECUTORS[kind];
  const run = await trainTutorial({ epochs, data: values.data, swiftshader: values.swiftshader, jitCompile, fuse, out: join(results, 'tmp') });
  adapter = run.adapter;
  runs[kind] = summarise(label, run);
  loadAverages.push(loadavg()[0]);
}
const fused = runs.fused;
const summary = {
  benchmark: `the tutorial: load, pad, ${epochs} epochs at batch 512 with validation, evaluate on the test set; each executor in one process, one after the other`,
  date: new Date().toISOString(),
  adapter,
  machine: machine(),
  /** The machine's 1-minute load average after each run (other work on it slows both alike only if steady). */
  loadAverageAfterRuns: loadAverages,
  node: process.version,
  /** Each executor's whole run and median epoch over the fused kernels'. */
  ratioToFused: fused
    ? Object.fromEntries(kinds.map((k) => [k, { wholeRun: runs[k]!.seconds.total / fused.seconds.total, medianEpoch: runs[k]!.medianEpochSeconds / fused.medianEpochSeconds }]))
    : null,
  ...runs,
};
writeFileSync(join(results, 'train.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`\n| executor | epochs | median epoch | train | whole run | test accuracy | peak GPU memory |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const kind of kinds) {
  const r = runs[kind]!;
  console.log(
    `| ${kind} | ${epochs} | ${r.medianEpochSeconds.toFixed(2)} s | ${r.seconds.train.toFixed(1)} s | ${r.seconds.total.toFixed(1)} s | ${r.test.accuracy.toFixed(4)} | ${(r.gpuMemory.peakBytesAllocated / 2 ** 20).toFixed(1)} MiB |`,
  );
}
if (summary.ratioToFused) console.log(`\nwhole run over the fused kernels': ${kinds.map((k) => `${k} ${summary.ratioToFused![k].wholeRun.toFixed(2)}x`).join(', ')} on ${adapter}`);
console.log('Wrote bench/results/train.json');
