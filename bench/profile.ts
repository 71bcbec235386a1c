/**
 * Benchmark: where a training step's time goes, per executor (fused kernels, captured per-op
 * steps, eager steps), on the adapter at hand. Trains the tutorial model on the full data per executor: `epochs` + 1 untimed epochs (the
 * first, with the set-up, left out) for wall time, dispatches, submits and read-backs per
 * epoch; then one epoch with a GpuTimer attached (timestamp queries where the device has
 * them: one pass per dispatch then) for the GPU time per kernel, per step and per epoch.
 *
 *   npm run bench:profile -- [--epochs 2] [--data PATH] [--swiftshader] [--executors fused,captured,eager]
 *                            [--recipe NAME [--limit N]]
 *
 * Writes bench/results/profile.json; with --recipe (runner/recipes.ts: its data, model, optimizer and
 * batch size; validation on the test split's first 1,000 reviews), bench/results/profile-NAME.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadData } from '../src/data/files.js';
import { Gpu } from '../src/gpu/gpu.js';
import { GpuTimer, type PassTime } from '../src/gpu/timer.js';
import type { Callback } from '../src/nn/callbacks.js';
import type { LabelArray, Sequential, TokenMatrix } from '../src/nn/model.js';
import { getRecipe, prepareRecipeData, recipeModel } from '../src/runner/recipes.js';
import { TUTORIAL, tutorialData, tutorialModel } from '../src/runner/tutorial.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' },
    data: { type: 'string' },
    swiftshader: { type: 'boolean' },
    executors: { type: 'string', default: 'fused,captured,eager' },
    recipe: { type: 'string' },
    limit: { type: 'string' },
  },
});
type Kind = 'fused' | 'captured' | 'eager';
const kinds = values.executors!.split(',') as Kind[];
for (const k of kinds) if (!['fused', 'captured', 'eager'].includes(k)) throw new Error(`--executors: unknown executor '${k}'`);
const COMPILE: Record<Kind, { jitCompile: boolean; fuse: boolean | 'auto' }> = {
  fused: { jitCompile: true, fuse: true },
  captured: { jitCompile: true, fuse: false },
  eager: { jitCompile: false, fuse: 'auto' },
};
const epochs = Number(values.epochs);
const recipe = values.recipe === undefined ? null : getRecipe(values.recipe);
const batchSize = recipe ? recipe.fit.batchSize : 512;
const limit = values.limit === undefined ? undefined : Number(values.limit);

/** Training and validation matrices: the tutorial's, or the recipe's with the test split's head for validation. */
async function profileData(): Promise<{ xTrain: TokenMatrix; yTrain: LabelArray; xVal: TokenMatrix; yVal: LabelArray; vocabularySize: number }> {
  if (!recipe) return { ...tutorialData(await loadData({ path: values.data, numWords: TUTORIAL.numWords })), vocabularySize: TUTORIAL.numWords };
  const prepared = prepareRecipeData(recipe, await loadData({ path: values.data, numWords: recipe.data.numWords }), { limit });
  const validation = Math.min(1000, prepared.xTest.shape[0]);
  const steps = prepared.xTest.shape[1];
  const xVal: TokenMatrix = { shape: [validation, steps], data: prepared.xTest.data.subarray(0, validation * steps) };
  return { xTrain: prepared.xTrain, yTrain: prepared.yTrain, xVal, yVal: prepared.yTest.subarray(0, validation), vocabularySize: prepared.vocabularySize };
}
const data = await profileData();
const gpu = await Gpu.create({ forceSwiftShader: values.swiftshader });
console.log(`Using ${gpu.describe()}`);
const newModel = (): Sequential => (recipe ? recipeModel(gpu, recipe, data.vocabularySize, 0) : tutorialModel(gpu, 0));
const steps = Math.ceil(data.xTrain.shape[0] / batchSize);

interface KernelRow {
  kernel: string;
  calls: number;
  totalMs: number;
  perStepMs: number;
  share: number;
}

async function profile(kind: Kind) {
  const model = newModel();
  model.compile({ ...COMPILE[kind], ...(recipe ? { optimizer: recipe.optimizer() } : {}) });

  // Untimed epochs, measured from one epoch's end to the next (the first, with the set-up, is left out):
  // wall time, dispatches, submits, read-backs.
  let readBacks = 0;
  const readBack = gpu.readAll.bind(gpu);
  const readScalars = gpu.readScalars.bind(gpu);
  gpu.readAll = (t) => (readBacks++, readBack(t));
  gpu.readScalars = (t) => (readBacks++, readScalars(t));
  const marks: { at: number; dispatches: number; submits: number; readBacks: number }[] = [];
  const mark: Callback = { onEpochEnd: () => void marks.push({ at: performance.now(), dispatches: gpu.stats.dispatches, submits: gpu.stats.submits, readBacks }) };
  await model.fit(data.xTrain, data.yTrain, { epochs: epochs + 1, batchSize, validationData: [data.xVal, data.yVal], verbose: 0, seed: 0, callbacks: [mark] });
  gpu.readAll = readBack;
  gpu.readScalars = readScalars;
  const wall = marks.slice(1).map((m, i) => (m.at - marks[i].at) / 1000);
  const [first, last] = [marks[0], marks[marks.length - 1]];
  const perEpoch = {
    dispatches: (last.dispatches - first.dispatches) / epochs,
    submits: (last.submits - first.submits) / epochs,
    readBacks: (last.readBacks - first.readBacks) / epochs,
  };

  // A timed epoch: one pass per dispatch, each with timestamps.
  const timer = new GpuTimer(gpu);
  gpu.timer = timer;
  const times: PassTime[] = [];
  await model.fit(data.xTrain, data.yTrain, {
    epochs: 1,
    batchSize,
    validationData: [data.xVal, data.yVal],
    verbose: 0,
    seed: 1,
    callbacks: [{ onEpochEnd: async () => void times.push(...(await timer.read())) }],
  });
  times.push(...(await timer.read()));
  timer.destroy();

  const byKernel = new Map<string, { calls: number; ns: number }>();
  for (const { label, ns } of times) {
    const row = byKernel.get(label) ?? { calls: 0, ns: 0 };
    row.calls++;
    row.ns += ns;
    byKernel.set(label, row);
  }
  const totalNs = times.reduce((a, t) => a + t.ns, 0);
  const kernels: KernelRow[] = [...byKernel]
    .map(([kernel, { calls, ns }]) => ({ kernel, calls, totalMs: ns / 1e6, perStepMs: ns / 1e6 / steps, share: ns / totalNs }))
    .sort((a, b) => b.totalMs - a.totalMs);
  return {
    path: kind,
    timing: timer.method,
    epochWallSeconds: wall,
    medianEpochSeconds: median(wall),
    perEpoch,
    gpuMsPerEpoch: totalNs / 1e6,
    gpuMsPerStep: totalNs / 1e6 / steps,
    kernels,
  };
}

const results: Partial<Record<Kind, Awaited<ReturnType<typeof profile>>>> = {};
for (const kind of kinds) results[kind] = await profile(kind);
const fused = results.fused;
const summary = {
  benchmark: `one epoch of ${recipe ? `the ${recipe.name} recipe${limit !== undefined ? ` (--limit ${limit})` : ''}` : 'the tutorial'} (${data.xTrain.shape[0]} reviews, ${steps} steps at batch ${batchSize}, validation on ${data.xVal.shape[0]}), per executor`,
  date: new Date().toISOString(),
  adapter: gpu.describe(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length },
  /** Median epoch of each executor over the fused one's (measured in this run). */
  epochRatioToFused: fused ? Object.fromEntries(kinds.map((k) => [k, results[k]!.medianEpochSeconds / fused.medianEpochSeconds])) : null,
  ...results,
};
gpu.close();
mkdirSync(join('bench', 'results'), { recursive: true });
const outFile = recipe ? `profile-${recipe.name}.json` : 'profile.json';
writeFileSync(join('bench', 'results', outFile), JSON.stringify(summary, null, 2) + '\n');

for (const r of Object.values(results)) {
  console.log(`\n${r.path}: ${r.medianEpochSeconds.toFixed(2)} s per epoch (wall), ${r.perEpoch.dispatches} dispatches, ${r.perEpoch.submits} submits, ${r.perEpoch.readBacks} read-backs per epoch; GPU time ${r.gpuMsPerEpoch.toFixed(0)} ms per epoch (${r.timing})`);
  console.log('| kernel | calls | ms per step | share |');
  console.log('|---|---|---|---|');
  for (const k of r.kernels) console.log(`| ${k.kernel} | ${k.calls} | ${k.perStepMs.toFixed(3)} | ${(100 * k.share).toFixed(1)}% |`);
}
if (summary.epochRatioToFused) console.log(`\nepoch time over the fused kernels': ${JSON.stringify(summary.epochRatioToFused)}. Wrote bench/results/${outFile}`);
