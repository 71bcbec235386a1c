/**
 * The tutorial's steps after loading, the same in Node and in a browser: pad to
 * 256, hold out the first 10,000 training reviews for validation, build
 * Embedding(10000, 16) -> GlobalAveragePooling1D -> Dense(16, relu) ->
 * Dense(1, sigmoid), train, evaluate on the test set.
 */
import { DatasetError } from '../data/errors.js';
import type { ImdbData, Labels } from '../data/imdb.js';
import { padSequences } from '../data/sequences.js';
import type { Gpu } from '../gpu/gpu.js';
import { EarlyStopping, type Callback, type Logs } from '../nn/callbacks.js';
import { Dense, Embedding, GlobalAveragePooling1D } from '../nn/layers.js';
import { Sequential, type TokenMatrix } from '../nn/model.js';
import type { Output } from '../nn/progress.js';

export const TUTORIAL = { numWords: 10000, maxlen: 256, validationSize: 10000, embeddingDim: 16, hiddenUnits: 16 } as const;

export interface TutorialSettings {
  epochs?: number;
  batchSize?: number;
  /** Seeds the initial weights and the per-epoch shuffle. */
  seed?: number;
  /** Training reviews held out for validation (the tutorial: 10,000). */
  validationSize?: number;
  /** Stop when val_loss has not improved for this many epochs (restoring the best weights); off when undefined. */
  earlyStoppingPatience?: number;
  log?: (line: string) => void;
  /** Where the progress bar goes. */
  output?: Output;
  /** compile's jitCompile: 'auto' (default) compiles the step (recorded once, replayed); false runs it eagerly, op by op. */
  jitCompile?: boolean | 'auto';
  /** compile's fuse: 'auto' (default) runs the tutorial's shape on the hand-fused kernels; false on captured per-op steps. */
  fuse?: boolean | 'auto';
  /** More callbacks for fit, called before the runner's own (e.g. BackupAndRestore). */
  callbacks?: Callback[];
  /** Called after every epoch, with its metrics (e.g. to draw live curves). */
  onEpochEnd?: (epoch: number, logs: Logs) => void;
}

export interface TutorialRun {
  model: Sequential;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  epochSeconds: number[];
  seconds: { train: number; evaluate: number };
  gpuMemory: { peakBytesAllocated: number; bytesAllocatedAfterEachEpoch: number[] };
}

/** The tutorial model, built on `gpu`, its weights drawn from `seed`. */
export function tutorialModel(gpu: Gpu, seed = 0, numWords: number = TUTORIAL.numWords): Sequential {
  const model = new Sequential([
    new Embedding(numWords, TUTORIAL.embeddingDim),
    new GlobalAveragePooling1D(),
    new Dense(TUTORIAL.hiddenUnits, { activation: 'relu' }),
    new Dense(1, { activation: 'sigmoid' }),
  ]);
  model.build(gpu, [TUTORIAL.maxlen], { seed });
  return model;
}

/** Pad both splits to 256 ('post', as the tutorial) and split off the validation set. */
export function tutorialData([[xTrainSeqs, yTrain], [xTestSeqs, yTest]]: ImdbData, validationSize: number = TUTORIAL.validationSize) {
  if (xTrainSeqs.length <= validationSize) {
    throw new DatasetError(`the training split has ${xTrainSeqs.length} reviews; the tutorial holds out the first ${validationSize} for validation`, {
      expected: `more than ${validationSize} training reviews`,
      found: String(xTrainSeqs.length),
    });
  }
  const pad = { maxlen: TUTORIAL.maxlen, padding: 'post' } as const;
  const train = padSequences(xTrainSeqs, pad);
  const test = padSequences(xTestSeqs, pad);
  const split = validationSize * TUTORIAL.maxlen;
  const matrix = (data: Int32Array): TokenMatrix => ({ data, shape: [data.length / TUTORIAL.maxlen, TUTORIAL.maxlen] });
  return {
    xTrain: matrix(train.data.subarray(split)),
    yTrain: yTrain.subarray(validationSize),
    xVal: matrix(train.data.subarray(0, split)),
    yVal: yTrain.subarray(0, validationSize),
    xTest: matrix(test.data),
    yTest,
  };
}

/** Build, summarise, compile, fit and evaluate the tutorial model on `data`. */
export async function runTutorial(gpu: Gpu, data: ImdbData, settings: TutorialSettings = {}): Promise<TutorialRun> {
  const { epochs = 40, batchSize = 512, seed = 0, log = console.log, output } = settings;
  const { xTrain, yTrain, xVal, yVal, xTest, yTest } = tutorialData(data, settings.validationSize);
  const model = tutorialModel(gpu, seed);
  model.summary(log);
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'], jitCompile: settings.jitCompile ?? 'auto', fuse: settings.fuse ?? 'auto' });
  const stopping = settings.earlyStoppingPatience === undefined ? [] : [new EarlyStopping({ monitor: 'val_loss', patience: settings.earlyStoppingPatience, restoreBestWeights: true, verbose: 1, log })];
  return fitAndEvaluate(gpu, model, { xTrain, yTrain, validation: [xVal, yVal], xTest, yTest }, { ...settings, epochs, batchSize, seed, log, output }, stopping);
}

/** The matrices a run trains, validates and tests on. */
export interface RunData {
  xTrain: TokenMatrix;
  yTrain: Labels;
  validation?: [TokenMatrix, Labels];
  xTest: TokenMatrix;
  yTest: Labels;
}

/**
 * Fit a compiled `model` (Keras' progress, the settings' callbacks, then `extra`: early stopping)
 * timing every epoch and holding its GPU memory, say how its steps ran, and evaluate on the test
 * set: what the tutorial and every recipe share.
 */
export async function fitAndEvaluate(
  gpu: Gpu,
  model: Sequential,
  { xTrain, yTrain, validation, xTest, yTest }: RunData,
  settings: TutorialSettings & Required<Pick<TutorialSettings, 'epochs' | 'batchSize' | 'seed' | 'log'>>,
  extra: Callback[] = [],
): Promise<TutorialRun> {
  const { epochs, batchSize, seed, log, output } = settings;
  const epochSeconds: number[] = [];
  const bytesAfterEpoch: number[] = [];
  let epochStart = performance.now();
  const measure: Callback = {
    onEpochEnd: (epoch, logs) => {
      epochSeconds.push((performance.now() - epochStart) / 1000);
      bytesAfterEpoch.push(gpu.stats.bytesAllocated);
      settings.onEpochEnd?.(epoch, logs);
      epochStart = performance.now();
    },
  };
  const callbacks: Callback[] = [...(settings.callbacks ?? []), measure, ...extra];
  const started = performance.now();
  const history = await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: validation, verbose: 1, callbacks, seed, output });
  const trained = performance.now();
  log(describeExecution(model));
  const [loss, accuracy] = await model.evaluate(xTest, yTest, { batchSize, verbose: 1, output });
  const evaluated = performance.now();
  log(`Test loss: ${loss.toFixed(4)}, test accuracy: ${accuracy.toFixed(4)}`);
  return {
    model,
    history: history.history,
    test: { loss, accuracy },
    epochSeconds,
    seconds: { train: (trained - started) / 1000, evaluate: (evaluated - trained) / 1000 },
    gpuMemory: { peakBytesAllocated: gpu.stats.peakBytesAllocated, bytesAllocatedAfterEachEpoch: bytesAfterEpoch },
  };
}

/** One line on how the steps ran (Sequential.execution and fusedReason). */
export function describeExecution(model: Sequential): string {
  if (model.execution === 'fused') return 'Trained on the fused kernels (embedding-bag + classifier head), compiled steps.';
  if (model.execution === 'captured') return `Trained on captured per-op steps (recorded once, replayed): ${model.fusedReason}.`;
  return `Trained eagerly, op by op with a read-back per step: ${model.fusedReason}.`;
}
