/**
 * The TensorFlow tutorial "basic text classification" (IMDB), end to end on the
 * GPU: load the data as Keras does, pad to 256, hold out the first 10,000 training
 * reviews for validation, build Embedding(10000, 16) -> GlobalAveragePooling1D ->
 * Dense(16, relu) -> Dense(1, sigmoid), train 40 epochs at batch 512, evaluate on
 * the 25,000 test reviews, and write the history, the curves and the weights.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadData } from '../data/files.js';
import { Gpu } from '../gpu/gpu.js';
import { historySvg } from './plot.js';
import { runTutorial, TUTORIAL, type TutorialSettings } from './tutorial.js';

export interface TutorialOptions extends Omit<TutorialSettings, 'output' | 'onEpochEnd'> {
  /** The imdb.npz (default: Keras' lookup, see README). */
  data?: string;
  /** Folder for history.json, curves.svg and weights.sgw. */
  out?: string;
  /** Use SwiftShader even when a GPU is present. */
  swiftshader?: boolean;
}

export interface TutorialResult {
  adapter: string;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  seconds: { load: number; train: number; evaluate: number; total: number };
  epochSeconds: number[];
  gpuMemory: { peakBytesAllocated: number; bytesAllocatedAfterEachEpoch: number[] };
  files: { history: string; curves: string; weights: string };
}

export async function trainTutorial(options: TutorialOptions = {}): Promise<TutorialResult> {
  const { epochs = 40, batchSize = 512, seed = 0, out = 'out', log = console.log } = options;
  const started = performance.now();
  const data = await loadData({ path: options.data, numWords: TUTORIAL.numWords });
  const loaded = performance.now();
  const gpu = await Gpu.create({ forceSwiftShader: options.swiftshader });
  log(`Using ${gpu.describe()}`);
  const run = await runTutorial(gpu, data, { ...options, epochs, batchSize, seed, log });

  await mkdir(out, { recursive: true });
  const files = { history: join(out, 'history.json'), curves: join(out, 'curves.svg'), weights: join(out, 'weights.sgw') };
  const result: TutorialResult = {
    adapter: gpu.describe(),
    history: run.history,
    test: run.test,
    seconds: { load: (loaded - started) / 1000, ...run.seconds, total: (performance.now() - started) / 1000 },
    epochSeconds: run.epochSeconds,
    gpuMemory: run.gpuMemory,
    files,
  };
  await writeAtomically(files.weights, await run.model.saveWeightsBytes());
  await writeAtomically(files.history, JSON.stringify({ settings: { epochs, batchSize, seed, ...TUTORIAL }, ...result }, null, 2) + '\n');
  await writeAtomically(files.curves, historySvg(run.history));
  log(`Wrote ${files.history}, ${files.curves} and ${files.weights}`);
  gpu.device.destroy();
  return result;
}

/** Write then rename: a crash never leaves a half-written file behind. */
async function writeAtomically(path: string, contents: string | Uint8Array): Promise<void> {
  const partial = `${path}.partial-${process.pid}`;
  await writeFile(partial, contents);
  await rename(partial, path);
}
