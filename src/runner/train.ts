/**
 * The TensorFlow tutorial "basic text classification" (IMDB), end to end on the
 * GPU: load the data as Keras does, pad to 256, hold out the first 10,000 training
 * reviews for validation, build Embedding(10000, 16) -> GlobalAveragePooling1D ->
 * Dense(16, relu) -> Dense(1, sigmoid), train 40 epochs at batch 512, evaluate on
 * the 25,000 test reviews, and write the history, the curves, the weights (`weights.sgw`) and the
 * model file (`model.sgm`: architecture and weights, no vectorizer: `predict` reads texts for it
 * with Keras' word index and the recipe's n-grams, runner/texts.ts).
 *
 * `recipe` picks another recipe (runner/recipes.ts: fasttext-unigram, fasttext-bigram, best), with
 * its own data preparation, model, epochs and batch size; the tutorial is the default.
 *
 * Every epoch ends with a checkpoint (`checkpoint.sgw` in the output folder: weights, Adam's
 * variables, the epoch and the history, checksummed, written then renamed); `resume` goes
 * on from it after a crash, a kill or a lost GPU, to the same final weights. It is removed
 * once the run's files are written.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadData } from '../data/files.js';
import { Gpu } from '../gpu/gpu.js';
import { BackupAndRestore, CheckpointError } from '../nn/backup.js';
import { TrainingError } from '../nn/model.js';
import { fileBackup, removePartials, writeAtomically } from './files.js';
import { historySvg } from './plot.js';
import { getRecipe, runRecipe, type RecipeName } from './recipes.js';
import { runTutorial, type TutorialSettings } from './tutorial.js';

export interface TutorialOptions extends Omit<TutorialSettings, 'output' | 'onEpochEnd'> {
  /** The imdb.npz (default: Keras' lookup, see README). */
  data?: string;
  /** Folder for history.json, curves.svg, weights.sgw and model.sgm. */
  out?: string;
  /** Use SwiftShader even when a GPU is present. */
  swiftshader?: boolean;
  /** Bind at most this many bytes per storage buffer, below the device's limit (larger tensors are split). */
  maxBindingBytes?: number;
  /** Go on from the output folder's checkpoint (it must exist and match the settings). */
  resume?: boolean;
  /** Which recipe to train (runner/recipes.ts); default 'tutorial'. Its epochs and batch size are the defaults. */
  recipe?: RecipeName;
  /** Keep the first `limit` training and test reviews (a quick check of a recipe end to end). */
  limit?: number;
}

export interface TutorialResult {
  adapter: string;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  /** `prepare`: the recipe's n-grams and padding (the tutorial's padding is counted in `train`). */
  seconds: { load: number; prepare?: number; train: number; evaluate: number; total: number };
  epochSeconds: number[];
  gpuMemory: { peakBytesAllocated: number; bytesAllocatedAfterEachEpoch: number[] };
  /** The checkpoint is removed when the run completes: its path is where it was kept. */
  files: { history: string; curves: string; weights: string; model: string; checkpoint: string };
}

export async function trainTutorial(options: TutorialOptions = {}): Promise<TutorialResult> {
  const recipe = getRecipe(options.recipe ?? 'tutorial');
  const { epochs = recipe.fit.epochs, batchSize = recipe.fit.batchSize, seed = 0, out = 'out', log = console.log } = options;
  const started = performance.now();
  const data = await loadData({ path: options.data, numWords: recipe.data.numWords });
  const loaded = performance.now();
  const gpu = await Gpu.create({ forceSwiftShader: options.swiftshader, maxBindingBytes: options.maxBindingBytes });
  log(`Using ${gpu.describe()}`);
  if (options.maxBindingBytes !== undefined) log(`Binding at most ${gpu.maxBindingBytes} bytes per storage buffer: larger tables and data are split`);
  await mkdir(out, { recursive: true });
  const files = { history: join(out, 'history.json'), curves: join(out, 'curves.svg'), weights: join(out, 'weights.sgw'), model: join(out, 'model.sgm'), checkpoint: join(out, 'checkpoint.sgw') };
  await removePartials(Object.values(files));
  const storage = fileBackup(files.checkpoint);
  const existing = await storage.read();
  if (options.resume && !existing) throw new CheckpointError(`${files.checkpoint}: no checkpoint to resume from (none was written in ${out})`);
  if (!options.resume && existing) {
    throw new CheckpointError(`${files.checkpoint} holds an earlier run: pass --resume to go on from it, or choose another --out (or delete it) to start over`);
  }
  const backup = new BackupAndRestore(storage, { deleteCheckpoint: false, log });
  let run: Awaited<ReturnType<typeof runTutorial>> & { prepareSeconds?: number };
  let weights: Uint8Array;
  let modelFile: Uint8Array;
  try {
    const settings = { ...options, epochs, batchSize, seed, log, callbacks: [backup, ...(options.callbacks ?? [])] };
    // The tutorial keeps its own runner (shared with the browser page); test/recipes.test.ts checks
    // that runRecipe(RECIPES.tutorial) trains the same weights.
    run = recipe.name === 'tutorial' && options.limit === undefined ? await runTutorial(gpu, data, settings) : await runRecipe(gpu, data, recipe, settings);
    weights = await run.model.saveWeightsBytes();
    modelFile = await run.model.save();
  } catch (error) {
    if (!(error instanceof TrainingError)) throw error;
    await backup.written().catch(() => {}); // a failed write leaves the checkpoint before: checkpointEpoch says which
    const where = backup.checkpointEpoch > 0
      ? `the last checkpoint (after epoch ${backup.checkpointEpoch} of ${epochs}) is ${files.checkpoint}: run again with --resume to go on from it`
      : 'no epoch was completed, so there is no checkpoint';
    throw new TrainingError(`${error.message}. Nothing is half-written: ${where}`);
  } finally {
    gpu.close();
  }

  const result: TutorialResult = {
    adapter: gpu.describe(),
    history: backup.history,
    test: run.test,
    seconds: { load: (loaded - started) / 1000, ...(run.prepareSeconds === undefined ? {} : { prepare: run.prepareSeconds }), ...run.seconds, total: (performance.now() - started) / 1000 },
    epochSeconds: run.epochSeconds,
    gpuMemory: run.gpuMemory,
    files,
  };
  await writeAtomically(files.weights, weights);
  await writeAtomically(files.model, modelFile);
  await writeAtomically(files.history, JSON.stringify({ settings: { recipe: recipe.name, epochs, batchSize, seed, limit: options.limit ?? null, ...recipe.data }, ...result }, null, 2) + '\n');
  await writeAtomically(files.curves, historySvg(backup.history));
  // The run's results are safe on disk: the checkpoint has served (Keras' delete_checkpoint),
  // and the next run in this folder starts afresh.
  await storage.remove();
  log(`Wrote ${files.history}, ${files.curves}, ${files.weights} and ${files.model}`);
  return result;
}
