/**
 * Benchmark (issue #15): how an epoch's time grows with the embedding table's rows (10k, 100k, 1M at
 * the tutorial's data), with the data (1x, 2x, 4x the training reviews) and with the batch (128, 512,
 * 1024), per way of running the tutorial's model: captured per-op steps with LazyAdam (row-sparse:
 * work grows with the batch's distinct tokens), captured per-op steps with Keras' dense Adam (every
 * row every step, by definition), and the fused kernels with Adam (whose embedding-bag backward walks
 * every row). Each point: the median of `--epochs` epochs after one untimed epoch, no validation.
 *
 *   npm run bench:scaling -- [--epochs 2] [--data PATH] [--swiftshader]
 *
 * Writes bench/results/scaling.json and bench/results/scaling.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadData } from '../src/data/files.js';
import { Gpu } from '../src/gpu/gpu.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { Sequential, type CompileOptions, type TokenMatrix } from '../src/nn/model.js';
import { Adam, LazyAdam } from '../src/nn/optimizers/index.js';
import { curvesSvg } from '../src/runner/plot.js';
import { TUTORIAL, tutorialData } from '../src/runner/tutorial.js';
import { median } from './stats.js';
import { machine } from './tutorial-runs.js';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '2' }, data: { type: 'string' }, swiftshader: { type: 'boolean' } } });
const epochs = Number(values.epochs);
const data = tutorialData(await loadData({ path: values.data, numWords: TUTORIAL.numWords }));
const gpu = await Gpu.create({ forceSwiftShader: values.swiftshader });

const EXECUTORS: Record<string, () => CompileOptions> = {
  'captured, LazyAdam': () => ({ optimizer: new LazyAdam(), fuse: false }),
  'captured, Adam': () => ({ optimizer: new Adam(), fuse: false }),
  'fused, Adam': () => ({ optimizer: new Adam(), fuse: true }),
};

/** The training reviews `times` over (labels likewise). */
function repeated(times: number): { x: TokenMatrix; y: Uint8Array } {
  const { xTrain, yTrain } = data;
  const ids = new Int32Array(xTrain.data.length * times);
  const y = new Uint8Array(yTrain.length * times);
  for (let k = 0; k < times; k++) {
    ids.set(xTrain.data, k * xTrain.data.length);
    y.set(yTrain, k * yTrain.length);
  }
  return { x: { data: ids, shape: [xTrain.shape[0] * times, TUTORIAL.maxlen] }, y };
}

async function epochSeconds(executor: string, vocab: number, times: number, batchSize: number): Promise<number> {
  const model = new Sequential([new Embedding(vocab, TUTORIAL.embeddingDim), new GlobalAveragePooling1D(), new Dense(TUTORIAL.hiddenUnits, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })]);
  model.build(gpu, [TUTORIAL.maxlen], { seed: 0 });
  model.compile(EXECUTORS[executor]());
  const { x, y } = repeated(times);
  const ends: number[] = [];
  await model.fit(x, y, { epochs: epochs + 1, batchSize, verbose: 0, callbacks: [{ onEpochEnd: () => void ends.push(performance.now()) }] });
  model.dispose();
  gpu.trim();
  return median(ends.slice(1).map((t, i) => (t - ends[i]) / 1000));
}

type Point = [vocab: number, times: number, batchSize: number];
const axes: Record<'vocabulary' | 'data' | 'batch', { values: number[]; point: (v: number) => Point }> = {
  vocabulary: { values: [10_000, 100_000, 1_000_000], point: (v) => [v, 1, 512] },
  data: { values: [1, 2, 4], point: (v) => [10_000, v, 512] },
  batch: { values: [128, 512, 1024], point: (v) => [10_000, 1, v] },
};
const measured: Record<string, Record<string, Record<string, number>>> = {};
for (const [axis, { values: points, point }] of Object.entries(axes)) {
  measured[axis] = {};
  for (const executor of Object.keys(EXECUTORS)) {
    measured[axis][executor] = {};
    for (const v of points) {
      const seconds = await epochSeconds(executor, ...point(v));
      measured[axis][executor][v] = seconds;
      console.log(`${axis} ${v}, ${executor}: ${seconds.toFixed(2)} s per epoch`);
    }
  }
}
const summary = {
  benchmark: `median epoch (${epochs} after one untimed) of the tutorial's model, no validation, by table rows, data size and batch size`,
  date: new Date().toISOString(),
  adapter: gpu.describe(),
  machine: machine(),
  loadAverage: loadavg(),
  /** axis -> executor -> point -> seconds per epoch. */
  measured,
  /** Seconds at 1M rows over seconds at 10k rows, per executor. */
  millionOverTenThousand: Object.fromEntries(Object.keys(EXECUTORS).map((e) => [e, measured.vocabulary[e][1_000_000] / measured.vocabulary[e][10_000]])),
};
gpu.close();
mkdirSync(join('bench', 'results'), { recursive: true });
writeFileSync(join('bench', 'results', 'scaling.json'), JSON.stringify(summary, null, 2) + '\n');
// One panel per axis; the x positions are the points in order (10k, 100k, 1M; 1x, 2x, 4x; 128, 512, 1024).
const panel = (axis: keyof typeof axes, title: string) => ({
  title: `${title}: LazyAdam (dots) vs Adam (line), captured`,
  yLabel: 'seconds per epoch',
  training: axes[axis].values.map((v) => measured[axis]['captured, LazyAdam'][v]),
  validation: axes[axis].values.map((v) => measured[axis]['captured, Adam'][v]),
});
writeFileSync(join('bench', 'results', 'scaling.svg'), curvesSvg([panel('vocabulary', 'rows 10k, 100k, 1M'), panel('data', 'data 1x, 2x, 4x'), panel('batch', 'batch 128, 512, 1024')]));
console.log(`1M rows over 10k rows: ${JSON.stringify(summary.millionOverTenThousand)}. Wrote bench/results/scaling.json and scaling.svg`);
