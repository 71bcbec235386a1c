/**
 * Named training recipes for `shadergrad train --recipe NAME`: each is data preparation (Keras'
 * load_data num_words, n-grams, pad_sequences), the model's layers, compile's optimizer and
 * fit's epochs and batch size. The same in Node and in a browser (no file system here).
 *
 * - tutorial: TensorFlow's basic text classification tutorial (runner/tutorial.ts), the default.
 * - fasttext-unigram, fasttext-bigram: Keras' examples/imdb_fasttext.py (Keras 2.3): num_words
 *   20000, (bigrams from the training set, data/ngrams.ts), pad_sequences(maxlen=400) with Keras'
 *   defaults (pre padding, pre truncating: a long review keeps its end, where the n-gram ids
 *   are), Embedding(max_features, 50) -> GlobalAveragePooling1D -> Dense(1, sigmoid), Adam, batch
 *   32, 5 epochs. Keras reports 0.8813 (uni-gram) and 0.9056 (bi-gram) test accuracy. The example
 *   also evaluates the test set after every epoch (validation_data=(X_test, y_test)), which only
 *   reports and changes no weight; here the test set is evaluated once, at the end.
 * - best: the settings a validation-only search chose (bench/best-search.ts: the first 5,000
 *   training reviews held out, the n-gram index built from the other 20,000, the test set never
 *   read), refit on every training review for the epoch count the validation run chose. The
 *   test set is used for the final evaluation only.
 */
import { DatasetError } from '../data/errors.js';
import type { ImdbData, Labels } from '../data/imdb.js';
import { addNgrams, NgramIndex, ngramVocabularySize, type NgramSpec } from '../data/ngrams.js';
import { padSequences, Sequences, type PadOptions } from '../data/sequences.js';
import type { Gpu } from '../gpu/gpu.js';
import { EarlyStopping } from '../nn/callbacks.js';
import { Dense, Dropout, Embedding, GlobalAveragePooling1D, type Layer } from '../nn/layers.js';
import { Sequential, type TokenMatrix } from '../nn/model.js';
import { LazyAdam, type Optimizer, type OptimizerName } from '../nn/optimizers/index.js';
import { fitAndEvaluate, TUTORIAL, type TutorialRun, type TutorialSettings } from './tutorial.js';

export const RECIPE_NAMES = ['tutorial', 'fasttext-unigram', 'fasttext-bigram', 'best'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/** N-grams appended to every review: Keras' index over the training reviews, or fastText's hashing. */
export type RecipeNgrams = { kind: 'index'; ngramRange: number } | { kind: 'hashed'; ngramRange: number; buckets: number };

export interface RecipeData {
  /** keras.datasets.imdb.load_data's num_words. */
  numWords: number;
  ngrams: RecipeNgrams | null;
  /** pad_sequences: every review padded or truncated to maxlen tokens. */
  maxlen: number;
  padding: NonNullable<PadOptions['padding']>;
  truncating: NonNullable<PadOptions['truncating']>;
  /** The first this many training reviews are held out for validation (0: none). */
  validationSize: number;
}

export interface Recipe {
  name: RecipeName;
  /** One line for the help and the log. */
  summary: string;
  data: RecipeData;
  /** The model's layers for an embedding table of `vocabularySize` rows. */
  layers: (vocabularySize: number) => Layer[];
  /** compile's optimizer: a name, or a fresh instance per call. */
  optimizer: () => OptimizerName | Optimizer;
  /** EarlyStopping (restore_best_weights) watches `earlyStoppingMonitor`, default val_loss. */
  fit: { epochs: number; batchSize: number; earlyStoppingPatience?: number; earlyStoppingMonitor?: EarlyStoppingMonitor };
}

export type EarlyStoppingMonitor = 'val_loss' | 'val_accuracy';

/**
 * The free settings of a fastText-shaped recipe (Embedding -> GlobalAveragePooling1D -> [Dropout] ->
 * Dense(1, sigmoid), LazyAdam): what bench/best-search.ts searches over on the validation split;
 * `candidateRecipe` makes each one a Recipe, so `best` can be defined as the winning candidate.
 */
export interface FasttextCandidate {
  data: RecipeData;
  /** The embedding's width (fastText's default: 10; Keras' example: 50). */
  embeddingDim: number;
  /** Embedding(mask_zero): the mean pools only a review's tokens, not its padding (fastText's mean). */
  maskZero: boolean;
  /** Dropout on the pooled vector, before the classifier (0: no Dropout layer). */
  dropout: number;
  learningRate: number;
  batchSize: number;
  /** The most epochs; EarlyStopping on `monitor` (restore_best_weights) picks the epoch. */
  epochs: number;
  monitor: EarlyStoppingMonitor;
  patience: number;
}

/** The Recipe that trains `candidate`: the search's candidates and `best` are built by this one function. */
export function candidateRecipe(candidate: FasttextCandidate, name: RecipeName = 'best'): Recipe {
  const { data, embeddingDim, maskZero, dropout, learningRate, batchSize, epochs, monitor, patience } = candidate;
  if (!(data.validationSize > 0)) throw new RangeError(`candidateRecipe: a candidate chooses its epoch on validation reviews: validationSize must be positive, got ${data.validationSize}`);
  return {
    name,
    summary: describeCandidate(candidate),
    data,
    layers: (vocabularySize) => [
      new Embedding(vocabularySize, embeddingDim, { maskZero }),
      new GlobalAveragePooling1D(),
      ...(dropout > 0 ? [new Dropout(dropout)] : []),
      new Dense(1, { activation: 'sigmoid' }),
    ],
    optimizer: () => new LazyAdam({ learningRate }),
    fit: { epochs, batchSize, earlyStoppingPatience: patience, earlyStoppingMonitor: monitor },
  };
}

/**
 * `candidate` trained again on every training review (the n-gram index built from all of them) for
 * `epochs`, the epoch count its validation run chose: no review held out, no early stopping. The
 * settings were chosen on the validation split; only the final fit sees the held-out reviews too.
 */
export function refitRecipe(candidate: FasttextCandidate, epochs: number, name: RecipeName = 'best'): Recipe {
  const chosen = candidateRecipe(candidate, name);
  return {
    ...chosen,
    summary: `${chosen.summary}; then refit for ${epochs} epochs on every training review`,
    data: { ...candidate.data, validationSize: 0 },
    fit: { epochs, batchSize: candidate.batchSize },
  };
}

/** One line naming every setting of `candidate`. */
export function describeCandidate({ data, embeddingDim, maskZero, dropout, learningRate, batchSize, epochs, monitor, patience }: FasttextCandidate): string {
  const ngrams = data.ngrams === null ? 'words only' : data.ngrams.kind === 'index' ? `${data.ngrams.ngramRange}-gram index` : `${data.ngrams.ngramRange}-grams hashed into ${data.ngrams.buckets} buckets`;
  return (
    `${data.numWords} words, ${ngrams}, maxlen ${data.maxlen} (${data.padding}/${data.truncating}); Embedding(${embeddingDim}${maskZero ? ', mask_zero' : ''})` +
    ` -> GlobalAveragePooling1D${dropout > 0 ? ` -> Dropout(${dropout})` : ''} -> Dense(1, sigmoid); LazyAdam(${learningRate}), batch ${batchSize}, ` +
    `at most ${epochs} epochs, EarlyStopping(${monitor}, patience ${patience}, restore_best_weights) on the first ${data.validationSize} training reviews`
  );
}

/** Keras' examples/imdb_fasttext.py: Embedding(max_features, 50) -> GlobalAveragePooling1D -> Dense(1, sigmoid). */
const FASTTEXT_EMBEDDING_DIM = 50;
const fasttextLayers = (vocabularySize: number): Layer[] => [
  new Embedding(vocabularySize, FASTTEXT_EMBEDDING_DIM),
  new GlobalAveragePooling1D(),
  new Dense(1, { activation: 'sigmoid' }),
];
const FASTTEXT_DATA: RecipeData = { numWords: 20000, ngrams: null, maxlen: 400, padding: 'pre', truncating: 'pre', validationSize: 0 };
const FASTTEXT_FIT = { epochs: 5, batchSize: 32 };

/**
 * `best`'s settings, chosen on the validation split only (the first 5,000 training reviews): the
 * search's first candidate (bench/best-search.ts): word trigrams from Keras' index, every review's
 * tokens kept (maxlen 1000), a 10-wide embedding averaged over the review's own tokens (mask_zero),
 * LazyAdam at 0.003, batch 32; EarlyStopping on val_accuracy chose epoch 6.
 */
export const BEST_CANDIDATE: FasttextCandidate = {
  data: { ...FASTTEXT_DATA, ngrams: { kind: 'index', ngramRange: 3 }, maxlen: 1000, validationSize: 5000 },
  embeddingDim: 10,
  maskZero: true,
  dropout: 0,
  learningRate: 0.003,
  batchSize: 32,
  epochs: 8,
  monitor: 'val_accuracy',
  patience: 2,
};

export const RECIPES: Record<RecipeName, Recipe> = {
  tutorial: {
    name: 'tutorial',
    summary: "TensorFlow's tutorial: Embedding(10000, 16) -> GlobalAveragePooling1D -> Dense(16, relu) -> Dense(1, sigmoid), 40 epochs at batch 512",
    data: { numWords: TUTORIAL.numWords, ngrams: null, maxlen: TUTORIAL.maxlen, padding: 'post', truncating: 'pre', validationSize: TUTORIAL.validationSize },
    layers: (vocabularySize) => [
      new Embedding(vocabularySize, TUTORIAL.embeddingDim),
      new GlobalAveragePooling1D(),
      new Dense(TUTORIAL.hiddenUnits, { activation: 'relu' }),
      new Dense(1, { activation: 'sigmoid' }),
    ],
    optimizer: () => 'adam',
    fit: { epochs: 40, batchSize: 512 },
  },
  'fasttext-unigram': {
    name: 'fasttext-unigram',
    summary: "Keras' imdb_fasttext example, words only: Embedding(20000, 50) -> GlobalAveragePooling1D -> Dense(1, sigmoid), 5 epochs at batch 32 (Keras: 0.8813)",
    data: FASTTEXT_DATA,
    layers: fasttextLayers,
    optimizer: () => 'adam',
    fit: FASTTEXT_FIT,
  },
  'fasttext-bigram': {
    name: 'fasttext-bigram',
    summary: "Keras' imdb_fasttext example with every training bigram as a token (about 1.2M embedding rows), 5 epochs at batch 32 (Keras: 0.9056)",
    data: { ...FASTTEXT_DATA, ngrams: { kind: 'index', ngramRange: 2 } },
    layers: fasttextLayers,
    // LazyAdam, not Keras' dense Adam: with ~1.2M rows, dense Adam moves every row every step (60M
    // weights, 782 steps an epoch); the lazy update moves only the batch's rows and their moments
    // (src/nn/optimizers/lazy-adam.ts says what that changes). Everything else is Keras' example.
    optimizer: () => new LazyAdam(),
    fit: FASTTEXT_FIT,
  },
  // The validation search's winner (bench/best-search.ts on an H200, bench/results/gpu-h200/earlier/best-search.json:
  // 0.9138 validation accuracy at epoch 6 of 8), refit on every training review for those 6 epochs.
  best: refitRecipe(BEST_CANDIDATE, 6),
};

export function getRecipe(name: string): Recipe {
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw new RangeError(`unknown recipe '${name}': choose one of ${RECIPE_NAMES.join(', ')}`);
  return RECIPES[name as RecipeName];
}

export interface RecipeMatrices {
  xTrain: TokenMatrix;
  yTrain: Labels;
  /** Absent when the recipe holds out no validation reviews. */
  validation?: [TokenMatrix, Labels];
  xTest: TokenMatrix;
  yTest: Labels;
  /** The embedding's row count: numWords, or the largest n-gram id + 1. */
  vocabularySize: number;
  /** How a typed review gets its n-grams (data/ngrams.ts `reviewNgrams`); null without n-grams. */
  ngrams: NgramSpec | null;
}

/**
 * The recipe's data preparation on what load_data returned (with the recipe's numWords): hold out
 * the validation reviews, build the n-gram index from the remaining training reviews only, add
 * n-grams to every split (Keras' example adds them before padding), pad. `limit` keeps the first
 * `limit` reviews of each split (a quick check).
 */
export function prepareRecipeData(recipe: Recipe, [[xTrainAll, yTrainAll], [xTestAll, yTestAll]]: ImdbData, options: { limit?: number } = {}): RecipeMatrices {
  const { numWords, ngrams: ngramRecipe, validationSize } = recipe.data;
  const [xTrainSeqs, yTrain] = head(xTrainAll, yTrainAll, options.limit);
  const [xTest, yTest] = head(xTestAll, yTestAll, options.limit);
  if (validationSize > 0 && xTrainSeqs.length <= validationSize) {
    throw new DatasetError(`the training split has ${xTrainSeqs.length} reviews; the ${recipe.name} recipe holds out the first ${validationSize} for validation`, {
      expected: `more than ${validationSize} training reviews`,
      found: String(xTrainSeqs.length),
    });
  }
  const validation = slice(xTrainSeqs, 0, validationSize);
  const fitting = slice(xTrainSeqs, validationSize, xTrainSeqs.length);
  const spec: NgramSpec | null = ngramRecipe === null
    ? null
    : ngramRecipe.kind === 'index'
      ? { kind: 'index', index: NgramIndex.fromTraining(fitting, { ngramRange: ngramRecipe.ngramRange, numWords }) }
      : { kind: 'hashed', ngramRange: ngramRecipe.ngramRange, numWords, buckets: ngramRecipe.buckets };
  const matrix = (seqs: Sequences): TokenMatrix => recipeMatrix(recipe.data, spec, seqs);
  return {
    xTrain: matrix(fitting),
    yTrain: yTrain.subarray(validationSize),
    validation: validationSize > 0 ? [matrix(validation), yTrain.subarray(0, validationSize)] : undefined,
    xTest: matrix(xTest),
    yTest,
    vocabularySize: spec ? ngramVocabularySize(spec) : numWords,
    ngrams: spec,
  };
}

/** Reviews as the recipe feeds them to the model: n-grams appended (when `spec`), then padded. */
export function recipeMatrix({ maxlen, padding, truncating }: RecipeData, spec: NgramSpec | null, seqs: Sequences): TokenMatrix {
  return padSequences(spec ? addNgrams(seqs, spec) : seqs, { maxlen, padding, truncating });
}

/** EarlyStopping as the recipe asks for it (restore_best_weights), or null without patience or validation. */
export function recipeEarlyStopping(recipe: Recipe, patience: number | undefined, log: (line: string) => void, verbose: 0 | 1 = 1): EarlyStopping | null {
  if (patience === undefined || recipe.data.validationSize === 0) return null;
  return new EarlyStopping({ monitor: recipe.fit.earlyStoppingMonitor ?? 'val_loss', patience, restoreBestWeights: true, verbose, log });
}

export function head(x: Sequences, y: Labels, limit: number | undefined): [Sequences, Labels] {
  if (limit === undefined || limit >= x.length) return [x, y];
  return [slice(x, 0, limit), y.subarray(0, limit)];
}

/** Sequences from..to of `x`, as views of its values. */
function slice(x: Sequences, from: number, to: number): Sequences {
  const offsets = x.offsets.slice(from, to + 1);
  const first = offsets[0];
  return new Sequences(x.values.subarray(first, offsets[offsets.length - 1]), offsets.map((o) => o - first));
}

export interface RecipeSettings extends TutorialSettings {
  /** Keep the first `limit` reviews of each split (a quick check). */
  limit?: number;
}

/** The recipe's model, built on `gpu`, its weights drawn from `seed`. */
export function recipeModel(gpu: Gpu, recipe: Recipe, vocabularySize: number, seed = 0): Sequential {
  const model = new Sequential(recipe.layers(vocabularySize));
  model.build(gpu, [recipe.data.maxlen], { seed });
  return model;
}

/**
 * Prepare, build, summarise, compile, fit and evaluate `recipe` on `data` (load_data's output
 * with the recipe's numWords). `settings` override the recipe's epochs, batch size and early
 * stopping; without validation reviews there is no early stopping.
 */
export async function runRecipe(gpu: Gpu, data: ImdbData, recipe: Recipe, settings: RecipeSettings = {}): Promise<TutorialRun & { prepareSeconds: number; vocabularySize: number }> {
  const { seed = 0, log = console.log, output } = settings;
  const epochs = settings.epochs ?? recipe.fit.epochs;
  const batchSize = settings.batchSize ?? recipe.fit.batchSize;
  const patience = settings.earlyStoppingPatience ?? recipe.fit.earlyStoppingPatience;
  log(`Recipe ${recipe.name}: ${recipe.summary}`);
  const preparing = performance.now();
  const { xTrain, yTrain, validation, xTest, yTest, vocabularySize } = prepareRecipeData(recipe, data, { limit: settings.limit });
  const prepareSeconds = (performance.now() - preparing) / 1000;
  log(`Prepared ${xTrain.shape[0]} training${validation ? `, ${validation[0].shape[0]} validation` : ''} and ${xTest.shape[0]} test reviews of ${recipe.data.maxlen} tokens, ${vocabularySize} embedding rows, in ${prepareSeconds.toFixed(2)} s`);
  const model = recipeModel(gpu, recipe, vocabularySize, seed);
  model.summary(log);
  model.compile({ optimizer: recipe.optimizer(), loss: 'binary_crossentropy', metrics: ['accuracy'], jitCompile: settings.jitCompile ?? 'auto', fuse: settings.fuse ?? 'auto' });
  const early = recipeEarlyStopping(recipe, patience, log);
  const stopping = early ? [early] : [];
  if (patience !== undefined && !validation) log(`Early stopping is off: the ${recipe.name} recipe holds out no validation reviews to monitor`);
  const run = await fitAndEvaluate(gpu, model, { xTrain, yTrain, validation, xTest, yTest }, { ...settings, epochs, batchSize, seed, log, output }, stopping);
  return { ...run, prepareSeconds, vocabularySize };
}
