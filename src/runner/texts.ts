/**
 * Raw texts in, a model file out, and that model used: the newer TensorFlow tutorial "basic text
 * classification" (tensorflow/docs site/en/tutorials/keras/text_classification.ipynb) end to end,
 * and what `shadergrad predict`, `evaluate --model` and `export` need. No argument parsing here
 * (cli.ts does that); Node only (it reads files).
 *
 * The tutorial: `text_dataset_from_directory('aclImdb/train', validation_split=0.2,
 * subset='training'|'validation', seed=42)` and `('aclImdb/test')`; a `TextVectorization(
 * standardize=custom_standardization, max_tokens=10000, output_mode='int',
 * output_sequence_length=250)` adapted on the training texts only; `Embedding(10000, 16) ->
 * Dropout(0.2) -> GlobalAveragePooling1D -> Dropout(0.2) -> Dense(1, sigmoid)`; Adam, binary
 * cross-entropy, batch 32 (the dataset's), 10 epochs; then `model.evaluate` on the test set.
 *
 * A table (CSV/TSV/JSON Lines) stands in for the folders: its test set is another table
 * (`test`), or the last `testSplit` of its rows after Keras' seeded shuffle; the validation
 * set is then the last `validationSplit` of the rest, shuffled the same way.
 *
 * Class names have no place in a Keras model; the model file keeps them as `class_names` in
 * the output layer's config (layerFromConfig ignores it; the TF.js export leaves it out).
 */
import { createInterface } from 'node:readline';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../data/errors.js';
import { getWordIndex, loadData, MAX_DATA_BYTES, readRegularFile } from '../data/files.js';
import type { WordIndex } from '../data/imdb.js';
import { ngramVocabularySize, reviewNgrams, type NgramSpec } from '../data/ngrams.js';
import { RandomState } from '../data/random-state.js';
import { padSequences } from '../data/sequences.js';
import { encodeReview } from '../data/text.js';
import { readTextTable, textDatasetFromDirectory, textFolderSplits } from '../data/text-datasets.js';
import { TextDataError, splitLabelledTexts, tableFormatOf, type LabelledTexts } from '../data/text-table.js';
import { lowerStripHtmlBreaksAndPunctuation, TextVectorization } from '../data/text-vectorization.js';
import { Gpu } from '../gpu/gpu.js';
import { Dense, Dropout, Embedding, GlobalAveragePooling1D } from '../nn/layers.js';
import { decodeModel, encodeModel, ModelFileError, type ModelDescription } from '../nn/model-file.js';
import { Sequential, type TokenMatrix } from '../nn/model.js';
import type { Output } from '../nn/progress.js';
import { tfjsFiles } from '../nn/tfjs-export.js';
import { writeAtomically } from './files.js';
import { historySvg } from './plot.js';
import { RECIPE_NAMES, RECIPES, prepareRecipeData, type Recipe } from './recipes.js';
import { describeExecution } from './tutorial.js';

/** The newer tutorial's settings. */
export const TEXT_TUTORIAL = {
  maxTokens: 10000,
  outputSequenceLength: 250,
  embeddingDim: 16,
  dropoutRate: 0.2,
  validationSplit: 0.2,
  seed: 42,
  epochs: 10,
  batchSize: 32,
} as const;

/** Texts given to `predict` are cut to this many characters in its JSON lines. */
export const SHOWN_TEXT_CHARS = 60;

export interface TextTrainOptions {
  /** A folder with `train/` and `test/` class sub-folders (like aclImdb), or a .csv/.tsv/.jsonl table. */
  texts: string;
  /** Where model.sgm, history.json and curves.svg go. Default 'out'. */
  out?: string;
  epochs?: number;
  batchSize?: number;
  /** Seeds the splits' shuffles, the initial weights and the per-epoch shuffle. Default 42 (the tutorial's split seed). */
  seed?: number;
  /** Keep the first `limit` training texts, and at most `limit` validation and test texts (a quick check). */
  limit?: number;
  /** Tables: the text and label columns (default 'text', 'label'). */
  textColumn?: string;
  labelColumn?: string;
  /** Tables: a test table; without it the last `testSplit` of the rows are the test set. */
  test?: string;
  /** Tables: fraction of the rows kept for the test set when there is no `test` table. Default 0.2. */
  testSplit?: number;
  /** Fraction of the training texts kept for validation. Default 0.2. */
  validationSplit?: number;
  swiftshader?: boolean;
  jitCompile?: boolean | 'auto';
  fuse?: boolean | 'auto';
  log?: (line: string) => void;
  output?: Output;
}

export interface TextSplits {
  training: LabelledTexts;
  validation: LabelledTexts;
  test: LabelledTexts;
  classNames: string[];
}

export interface TextTrainResult {
  adapter: string;
  history: Record<string, number[]>;
  test: { loss: number; accuracy: number };
  classNames: string[];
  sizes: { training: number; validation: number; test: number; vocabulary: number };
  seconds: { load: number; vectorize: number; train: number; evaluate: number; total: number };
  files: { model: string; history: string; curves: string };
}

const isTable = (path: string) => tableFormatOf(path) !== undefined;

/** The training, validation and test texts of `options.texts` (see the file comment). */
export async function loadTextSplits(options: TextTrainOptions): Promise<TextSplits> {
  const { seed = TEXT_TUTORIAL.seed, validationSplit = TEXT_TUTORIAL.validationSplit, log = console.log } = options;
  let splits: TextSplits;
  if (isTable(options.texts)) {
    const columns = { textColumn: options.textColumn, labelColumn: options.labelColumn };
    const table = await readTextTable(options.texts, columns);
    let rest = table;
    let test: LabelledTexts;
    if (options.test !== undefined) {
      test = await readTable(options.test, { ...columns, classNames: table.classNames });
    } else {
      [rest, test] = splitLabelledTexts(table, options.testSplit ?? 0.2, seed);
    }
    const [training, validation] = splitLabelledTexts(rest, validationSplit, seed);
    log(`Found ${table.texts.length} rows belonging to ${table.classNames.length} classes.`);
    splits = { training, validation, test, classNames: table.classNames };
  } else {
    if ((await stat(options.texts).catch(() => null))?.isFile()) {
      throw new TextDataError('is a file but not a table: name it .csv, .tsv or .jsonl, or give a folder with train/ and test/', { file: options.texts });
    }
    if (options.test !== undefined || options.testSplit !== undefined) {
      throw new TextDataError('a folder brings its own test/ folder: --test and --test-split are for a table', { file: options.texts });
    }
    const { training, validation, test, classNames } = await textFolderSplits(options.texts, { validationSplit, seed, log });
    splits = { training, validation, test, classNames };
  }
  if (splits.classNames.length !== 2) {
    throw new TextDataError(`has ${splits.classNames.length} classes (${splits.classNames.slice(0, 5).join(', ')}${splits.classNames.length > 5 ? ', ...' : ''}): the tutorial's model is a binary classifier (2 classes)`, {
      file: options.texts,
    });
  }
  if (options.limit !== undefined) {
    // The test texts come in class order; a seeded shuffle first keeps both classes in a limited test set.
    const test = splits.test;
    const order = Array.from({ length: test.texts.length }, (_, i) => i);
    new RandomState(seed).shuffle(order);
    splits = {
      ...splits,
      training: head(splits.training, options.limit),
      validation: head(splits.validation, options.limit),
      test: head({ ...test, texts: order.map((i) => test.texts[i]), labels: Int32Array.from(order, (i) => test.labels[i]) }, options.limit),
    };
  }
  return splits;
}

async function readTable(path: string, options: Parameters<typeof readTextTable>[1]): Promise<LabelledTexts> {
  if (!isTable(path)) throw new TextDataError('unknown table format: name it .csv, .tsv or .jsonl', { file: path });
  return readTextTable(path, options);
}

function head(data: LabelledTexts, limit: number): LabelledTexts {
  return { texts: data.texts.slice(0, limit), labels: data.labels.slice(0, limit), classNames: data.classNames };
}

/** The tutorial's vectorizer: its standardisation (lower case, '<br />' removed, punctuation stripped), 10,000 tokens, 250 ids. */
export function tutorialVectorizer(): TextVectorization {
  return new TextVectorization({ standardize: lowerStripHtmlBreaksAndPunctuation, maxTokens: TEXT_TUTORIAL.maxTokens, outputSequenceLength: TEXT_TUTORIAL.outputSequenceLength });
}

/** `Embedding(10000, 16) -> Dropout(0.2) -> GlobalAveragePooling1D -> Dropout(0.2) -> Dense(1, sigmoid)`, built for 250 ids. */
export function textTutorialModel(gpu: Gpu, seed: number): Sequential {
  const { maxTokens, embeddingDim, dropoutRate, outputSequenceLength } = TEXT_TUTORIAL;
  const model = new Sequential([
    new Embedding(maxTokens, embeddingDim),
    new Dropout(dropoutRate),
    new GlobalAveragePooling1D(),
    new Dropout(dropoutRate),
    new Dense(1, { activation: 'sigmoid' }),
  ]);
  model.build(gpu, [outputSequenceLength], { seed });
  return model;
}

/** Train the newer tutorial on `options.texts`, evaluate on its test set, write model.sgm, history.json and curves.svg. */
export async function trainTexts(options: TextTrainOptions): Promise<TextTrainResult> {
  const { epochs = TEXT_TUTORIAL.epochs, batchSize = TEXT_TUTORIAL.batchSize, seed = TEXT_TUTORIAL.seed, out = 'out', log = console.log, output } = options;
  const started = performance.now();
  const { training, validation, test, classNames } = await loadTextSplits({ ...options, seed, log });
  const loaded = performance.now();

  const vectorizer = tutorialVectorizer();
  vectorizer.adapt(training.texts);
  const [xTrain, xVal, xTest] = [training, validation, test].map((d) => vectorizer.call(d.texts));
  const vectorized = performance.now();
  log(`Vectorized ${training.texts.length} training, ${validation.texts.length} validation and ${test.texts.length} test texts to ${TEXT_TUTORIAL.outputSequenceLength} ids; vocabulary ${vectorizer.vocabularySize()} tokens, in ${((vectorized - loaded) / 1000).toFixed(2)} s`);

  const gpu = await Gpu.create({ forceSwiftShader: options.swiftshader });
  try {
    log(`Using ${gpu.describe()}`);
    const model = textTutorialModel(gpu, seed);
    model.summary(log);
    model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'], jitCompile: options.jitCompile ?? 'auto', fuse: options.fuse ?? 'auto' });
    const history = await model.fit(xTrain, training.labels, { epochs, batchSize, validationData: [xVal, validation.labels], verbose: 1, seed, output });
    const trained = performance.now();
    log(describeExecution(model));
    const [loss, accuracy] = await model.evaluate(xTest, test.labels, { batchSize, verbose: 1, output });
    const evaluated = performance.now();
    log(`Test loss: ${loss.toFixed(4)}, test accuracy: ${accuracy.toFixed(4)}`);

    await mkdir(out, { recursive: true });
    const files = { model: join(out, 'model.sgm'), history: join(out, 'history.json'), curves: join(out, 'curves.svg') };
    const description = await model.describe(vectorizer);
    const result: TextTrainResult = {
      adapter: gpu.describe(),
      history: history.history,
      test: { loss, accuracy },
      classNames,
      sizes: { training: training.texts.length, validation: validation.texts.length, test: test.texts.length, vocabulary: vectorizer.vocabularySize() },
      seconds: { load: (loaded - started) / 1000, vectorize: (vectorized - loaded) / 1000, train: (trained - vectorized) / 1000, evaluate: (evaluated - trained) / 1000, total: (performance.now() - started) / 1000 },
      files,
    };
    await writeAtomically(files.model, encodeModel(withClassNames(description, classNames)));
    const { validationSplit = TEXT_TUTORIAL.validationSplit, textColumn = null, labelColumn = null, test: testTable = null } = options;
    const testSplit = isTable(options.texts) && testTable === null ? (options.testSplit ?? 0.2) : null;
    const settings = { ...TEXT_TUTORIAL, texts: options.texts, epochs, batchSize, seed, validationSplit, limit: options.limit ?? null, textColumn, labelColumn, test: testTable, testSplit };
    await writeAtomically(files.history, JSON.stringify({ settings, ...result }, null, 2) + '\n');
    await writeAtomically(files.curves, historySvg(history.history));
    log(`Wrote ${files.model}, ${files.history} and ${files.curves}`);
    return result;
  } finally {
    gpu.close();
  }
}

/** The description with `class_names` in the output layer's config. */
function withClassNames(description: ModelDescription, classNames: string[]): ModelDescription {
  const architecture = description.architecture.map((layer, i) => (i === description.architecture.length - 1 ? { ...layer, config: { ...layer.config, class_names: classNames } } : layer));
  return { ...description, architecture };
}

// ---- Using a model file ----

export interface ReaderOptions {
  /** Recipe models: the imdb.npz their n-gram index is rebuilt from, and its word index. */
  data?: string;
  wordIndex?: string;
  /** Recipe models: the recipe it was trained with (default: the first whose input length and embedding rows fit). */
  recipe?: string;
  /** Recipe models: the `--limit` it was trained with (the n-gram index depends on it). */
  limit?: number;
  swiftshader?: boolean;
}

/** A loaded model and how it turns texts into ids. */
export interface TextModel {
  gpu: Gpu;
  model: Sequential;
  /** Class names for labels 0 and 1 (['0', '1'] when the file names none). */
  classNames: string[];
  /** How texts are read: 'vectorizer' or the recipe's name. */
  reading: string;
  /** Texts to ids, one row per text. */
  encode(texts: readonly string[]): TokenMatrix;
  dispose(): void;
}

/** A model file's description: a regular file only, read whole; one line for a damaged file or another version. */
async function readModelFile(path: string): Promise<ModelDescription> {
  return decodeModel(new Uint8Array(await readRegularFile(path, MAX_DATA_BYTES)), path);
}

/** Reads a model file and loads it on the GPU. */
export async function loadTextModel(path: string, options: ReaderOptions = {}): Promise<TextModel> {
  const description = await readModelFile(path);
  const output = description.architecture[description.architecture.length - 1];
  if (output.className !== 'Dense' || output.config.units !== 1 || output.config.activation !== 'sigmoid') {
    throw new ModelFileError(`${path}: the model's output is ${output.className}(${JSON.stringify(output.config.units)}, ${JSON.stringify(output.config.activation)}), not Dense(1, sigmoid): predict and evaluate read binary classifiers`);
  }
  const classNames = Array.isArray(output.config.class_names) && output.config.class_names.length === 2 && output.config.class_names.every((c) => typeof c === 'string') ? (output.config.class_names as string[]) : ['0', '1'];
  // A recipe model reads texts as the training page's review box does; resolve that before taking a GPU.
  const recipeReader = description.vectorizer ? null : await recipeEncoder(path, description, options);
  const gpu = await Gpu.create({ forceSwiftShader: options.swiftshader });
  try {
    const { model, vectorizer } = Sequential.load(gpu, description, path);
    const encode = vectorizer ? (texts: readonly string[]) => vectorizer.call(texts) : recipeReader!.encode;
    return { gpu, model, classNames, reading: vectorizer ? 'vectorizer' : recipeReader!.recipe.name, encode, dispose: () => gpu.close() };
  } catch (error) {
    gpu.close();
    throw error;
  }
}

/**
 * How a model trained on imdb.npz (`train --recipe`) reads a text: Keras' word index with the
 * recipe's num_words (`encodeReview`, as the training page's review box), the recipe's n-grams,
 * its padding. The file records layers, not the recipe: the recipe is the one named, else the
 * first whose input length and embedding rows fit. An n-gram index is not in the file: it is
 * rebuilt from imdb.npz by the code that built it in training (ids by first appearance in the
 * training reviews), and must give the embedding's row count.
 */
async function recipeEncoder(path: string, description: ModelDescription, options: ReaderOptions): Promise<{ recipe: Recipe; encode: (texts: readonly string[]) => TokenMatrix }> {
  const first = description.architecture[0];
  const shape = first.config.batch_input_shape;
  const maxlen = Array.isArray(shape) ? shape[1] : undefined;
  const rows = first.className === 'Embedding' ? first.config.input_dim : undefined;
  const fits = (r: Recipe) => r.data.maxlen === maxlen && typeof rows === 'number' && (r.data.ngrams ? rows > r.data.numWords : rows === r.data.numWords);
  let recipe: Recipe | undefined;
  if (options.recipe !== undefined) {
    recipe = RECIPES[options.recipe as keyof typeof RECIPES];
    if (!recipe || !fits(recipe)) throw new ModelFileError(`${path}: a model of ${JSON.stringify(maxlen)} ids and ${JSON.stringify(rows)} embedding rows does not fit the ${options.recipe} recipe`);
  } else {
    recipe = RECIPE_NAMES.map((n) => RECIPES[n]).find(fits);
  }
  if (!recipe) {
    throw new ModelFileError(`${path}: no text vectorizer in the file, and a model of ${JSON.stringify(maxlen)} ids through ${first.className}${typeof rows === 'number' ? ` of ${rows} rows` : ''} fits no recipe: it cannot read a text`);
  }
  const { numWords, maxlen: length, padding, truncating } = recipe.data;
  let ngrams: NgramSpec | null = null;
  if (recipe.data.ngrams) {
    let data: Awaited<ReturnType<typeof loadData>>;
    try {
      data = await loadData({ path: options.data, numWords });
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      const why = error.message.replace(/\s*\n\s*(- )?/g, '; ');
      throw new ModelFileError(`${path}: the ${recipe.name} recipe's n-gram index is not in the model file; it is rebuilt from the imdb.npz the model was trained on (--data PATH): ${why}`);
    }
    ngrams = prepareRecipeData(recipe, data, { limit: options.limit }).ngrams;
    if (ngramVocabularySize(ngrams!) !== rows) {
      throw new ModelFileError(
        `${path}: its embedding has ${rows} rows, but the ${recipe.name} recipe's n-gram index rebuilt from imdb.npz (${options.limit === undefined ? 'no --limit' : `--limit ${options.limit}`}) gives ${ngramVocabularySize(ngrams!)}: the index is not in the model file; pass the --recipe, --limit and --data it was trained with`,
      );
    }
  }
  const wordIndex: WordIndex = await getWordIndex({ path: options.wordIndex });
  const encode = (texts: readonly string[]): TokenMatrix => {
    const ids = texts.map((text) => {
      const words = encodeReview(text, wordIndex, { numWords });
      return ngrams ? reviewNgrams(words, ngrams) : words;
    });
    return padSequences(ids, { maxlen: length, padding, truncating });
  };
  return { recipe, encode };
}

export interface Prediction {
  text: string;
  p_positive: number;
  label: string | number;
}

/** Probabilities of label 1 for `texts`, with the label each gets (class name, or 0/1). */
export async function predictTexts(reader: TextModel, texts: readonly string[]): Promise<Prediction[]> {
  if (texts.length === 0) return [];
  const x = reader.encode(texts);
  const p = await reader.model.predict(x, { batchSize: texts.length });
  const named = !(reader.classNames[0] === '0' && reader.classNames[1] === '1');
  return texts.map((text, i) => {
    const label = p[i] >= 0.5 ? 1 : 0;
    return { text: Array.from(text).slice(0, SHOWN_TEXT_CHARS).join(''), p_positive: p[i], label: named ? reader.classNames[label] : label };
  });
}

/** Texts per prediction batch when reading standard input. */
export const STREAM_BATCH = 256;

/**
 * One text per line from `input`, predicted `batchSize` lines at a time, each batch written
 * before the next is read: memory stays one batch however long the stream. Empty lines are
 * texts too (p of an all-padding row), so output lines match input lines one for one.
 */
export async function predictStream(reader: TextModel, input: NodeJS.ReadableStream, write: (line: string) => Promise<void>, batchSize = STREAM_BATCH): Promise<number> {
  let batch: string[] = [];
  let count = 0;
  const flush = async () => {
    const predictions = await predictTexts(reader, batch);
    await write(predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
    count += batch.length;
    batch = [];
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    batch.push(line);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length) await flush();
  return count;
}

/**
 * Loss and accuracy of a model on labelled texts: a folder (its `test/` folder when it has
 * train/ and test/, else its class folders) or a table, labels matched to the model's classes.
 */
export async function evaluateTexts(reader: TextModel, texts: string, options: { textColumn?: string; labelColumn?: string; batchSize?: number; log?: (line: string) => void; output?: Output } = {}): Promise<{ loss: number; accuracy: number; count: number }> {
  const { batchSize = TEXT_TUTORIAL.batchSize, log = console.log, output } = options;
  const named = !(reader.classNames[0] === '0' && reader.classNames[1] === '1');
  let data: LabelledTexts;
  if (isTable(texts)) {
    data = await readTable(texts, { textColumn: options.textColumn, labelColumn: options.labelColumn, classNames: named ? reader.classNames : undefined });
  } else {
    const hasTest = await stat(join(texts, 'test')).then((s) => s.isDirectory(), () => false);
    const folder = hasTest ? join(texts, 'test') : texts;
    data = await textDatasetFromDirectory(folder, { shuffle: false, classNames: named ? reader.classNames : undefined, log });
  }
  if (data.classNames.length !== 2) throw new TextDataError(`has ${data.classNames.length} classes: the model is a binary classifier`, { file: texts });
  const x = reader.encode(data.texts);
  reader.model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const [loss, accuracy] = await reader.model.evaluate(x, data.labels, { batchSize, verbose: 1, output });
  log(`Loss: ${loss.toFixed(4)}, accuracy: ${accuracy.toFixed(4)} (${data.texts.length} texts, read by ${reader.reading === 'vectorizer' ? "the model's vectorizer" : `the ${reader.reading} recipe`})`);
  return { loss, accuracy, count: data.texts.length };
}

/** `export --format tfjs`: the model file as a TF.js Layers model in `out` (model.json, weight shard, vectorizer.json). Returns the paths written. */
export async function exportTfjs(modelPath: string, out: string): Promise<string[]> {
  const description = await readModelFile(modelPath);
  const shape = description.architecture[0].config.batch_input_shape;
  const sequenceLength = Array.isArray(shape) && typeof shape[1] === 'number' ? shape[1] : null;
  const files = tfjsFiles(description, { sequenceLength });
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const [name, contents] of Object.entries(files)) {
    const path = join(out, name);
    await writeAtomically(path, contents);
    written.push(path);
  }
  return written;
}
