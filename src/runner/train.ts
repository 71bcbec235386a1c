/**
 * The TensorFlow tutorial "basic text classification" (IMDB), end to end on the
 * GPU: load the data as Keras does, pad to 256, hold out the first 10,000 training
 * reviews for validation, build Embedding(10000, 16) -> GlobalAveragePooling1D ->
 * Dense(16, relu) -> Dense(1, sigmoid), train 40 epochs at batch 512, evaluate on
 * the 25,000 test reviews, and write the history, the curves and the weights.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from '../data/errors.js';
import { loadData } from '../data/files.js';
import { padSequences } from '../data/sequences.js';
import { Gpu } from '../gpu/gpu.js';
import { EarlyStopping, type Callback } from '../nn/callbacks.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../nn/layers.js';
import { Sequential } from '../nn/model.js';
import { historySvg } from './plot.js';

export interface TutorialOptions {
  epochs?: number;
  batchSize?: number;
  /** Seeds the initial weights and the per-epoch shuffle. */
  seed?: number;
  /** The imdb.npz (default: Keras' lookup, see README). */
  data?: string;
  /** Folder for history.json, curves.svg and weights.sgw. */
  out?: string;
  /** Stop when val_loss has not improved for this many epochs (restoring the best weights); off when undefined. */
  earlyStoppingPatience?: number;
  /** Use SwiftShader even when a GPU is present. */
  swiftshader?: boolean;
  log?: (line: string) => void;
}

export const TUTORIAL = { numWords: 10000, maxlen: 256, validationSize: 10000, embeddingDim: 16, hiddenUnits: 16 } as const;

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
  const [[xTrainSeqs, yTrain], [xTestSeqs, yTest]] = await loadData({ path: options.data, numWords: TUTORIAL.numWords });
  if (xTrainSeqs.length <= TUTORIAL.validationSize) {
    throw new DatasetError(`the training split has ${xTrainSeqs.length} reviews; the tutorial holds out the first ${TUTORIAL.validationSize} for validation`, {
      file: options.data,
      expected: `more than ${TUTORIAL.validationSize} training reviews`,
      found: String(xTrainSeqs.length),
    });
  }
  const pad = { maxlen: TUTORIAL.maxlen, padding: 'post' } as const;
  const train = padSequences(xTrainSeqs, pad);
  const test = padSequences(xTestSeqs, pad);
  const split = TUTORIAL.validationSize * TUTORIAL.maxlen;
  const xVal = { data: train.data.subarray(0, split), shape: [TUTORIAL.validationSize, TUTORIAL.maxlen] as [number, number] };
  const xPartial = { data: train.data.subarray(split), shape: [train.shape[0] - TUTORIAL.validationSize, TUTORIAL.maxlen] as [number, number] };
  const yVal = yTrain.subarray(0, TUTORIAL.validationSize);
  const yPartial = yTrain.subarray(TUTORIAL.validationSize);
  const loaded = performance.now();
  const gpu = await Gpu.create({ forceSwiftShader: options.swiftshader });
  log(`Using ${gpu.describe()}`);

  const model = new Sequential([
    new Embedding(TUTORIAL.numWords, TUTORIAL.embeddingDim),
    new GlobalAveragePooling1D(),
    new Dense(TUTORIAL.hiddenUnits, { activation: 'relu' }),
    new Dense(1, { activation: 'sigmoid' }),
  ]);
  model.build(gpu, [TUTORIAL.maxlen], { seed });
  model.summary(log);
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });

  const epochSeconds: number[] = [];
  const bytesAfterEpoch: number[] = [];
  let epochStart = performance.now();
  const measure: Callback = {
    onEpochEnd: () => {
      epochSeconds.push((performance.now() - epochStart) / 1000);
      bytesAfterEpoch.push(gpu.stats.bytesAllocated);
      epochStart = performance.now();
    },
  };
  const callbacks: Callback[] = [measure];
  if (options.earlyStoppingPatience !== undefined) {
    callbacks.push(new EarlyStopping({ monitor: 'val_loss', patience: options.earlyStoppingPatience, restoreBestWeights: true, verbose: 1, log }));
  }
  const history = await model.fit(xPartial, yPartial, { epochs, batchSize, validationData: [xVal, yVal], verbose: 1, callbacks, seed });
  const trained = performance.now();
  const [loss, accuracy] = await model.evaluate(test, yTest, { batchSize, verbose: 1 });
  const evaluated = performance.now();
  log(`Test loss: ${loss.toFixed(4)}, test accuracy: ${accuracy.toFixed(4)}`);

  await mkdir(out, { recursive: true });
  const files = { history: join(out, 'history.json'), curves: join(out, 'curves.svg'), weights: join(out, 'weights.sgw') };
  const result: TutorialResult = {
    adapter: gpu.describe(),
    history: history.history,
    test: { loss, accuracy },
    seconds: {
      load: (loaded - started) / 1000,
      train: (trained - loaded) / 1000,
      evaluate: (evaluated - trained) / 1000,
      total: (evaluated - started) / 1000,
    },
    epochSeconds,
    gpuMemory: { peakBytesAllocated: gpu.stats.peakBytesAllocated, bytesAllocatedAfterEachEpoch: bytesAfterEpoch },
    files,
  };
  await writeAtomically(files.weights, await model.saveWeightsBytes());
  await writeAtomically(files.history, JSON.stringify({ settings: { epochs, batchSize, seed, ...TUTORIAL }, ...result }, null, 2) + '\n');
  await writeAtomically(files.curves, historySvg(history.history));
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
