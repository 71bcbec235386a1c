/**
 * The `shadergrad` command line. Each verb is a small function; errors that a
 * user can fix (a missing file, a corrupt download, no GPU, a bad flag) print
 * one clear message and exit non-zero, without a stack trace.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DataError, excerpt } from './data/errors.js';
import { getWordIndex, loadData } from './data/files.js';
import { decodeReview, type Split } from './data/imdb.js';
import { formatAdapter, getDevice, NoWebGPUError, releaseDevice } from './gpu/device.js';
import { Embedding, LayerConfigError } from './nn/layers.js';
import { ModelFileError } from './nn/model-file.js';
import { TrainingError } from './nn/model.js';
import { TfjsExportError } from './nn/tfjs-export.js';
import { WeightsFileError } from './nn/weights-file.js';
import { RECIPE_NAMES, RECIPES, type Recipe } from './runner/recipes.js';
import { trainTutorial } from './runner/train.js';
import { evaluateTexts, exportTfjs, loadTextModel, predictStream, predictTexts, TEXT_TUTORIAL, trainTexts, type ReaderOptions } from './runner/texts.js';

const USAGE = `Usage: shadergrad <command> [options]

Commands:
  train     Train the tutorial model on the GPU: Embedding(10000, 16) -> GlobalAveragePooling1D
            -> Dense(16, relu) -> Dense(1, sigmoid), 40 epochs at batch 512, then evaluate on the test set.
            --recipe NAME      tutorial (default), fasttext-unigram, fasttext-bigram (Keras' imdb_fasttext
                               example: 20,000 words (+ training bigrams), maxlen 400, Embedding(.., 50)
                               -> GlobalAveragePooling1D -> Dense(1, sigmoid), 5 epochs at batch 32),
                               or best (word trigrams, settings chosen on a validation split, then refit)
            --epochs N         epochs (default: the recipe's, 40 for the tutorial)
            --batch-size N     batch size (default: the recipe's, 512 for the tutorial)
            --limit N          keep the first N training and N test reviews (a quick end-to-end check)
            --seed N           seed of the initial weights and the shuffles (default 0)
            --data PATH        the imdb.npz to read (default: $IMDB_NPZ, then ~/.keras/datasets/imdb.npz)
            --out DIR          where history.json, curves.svg and weights.sgw go (default out)
            --early-stopping N stop when val_loss has not improved for N epochs, keeping the best weights
            --swiftshader      use SwiftShader even when a GPU is present
            --no-jit           train eagerly (Keras' jit_compile=False): op by op, a read-back per step
            --no-fuse          train on captured per-op steps, not the hand-fused kernels
            --max-binding-bytes N
                               bind at most N bytes per storage buffer (default: the device's limit);
                               tables and data past it are split, as on a device with that limit
            --resume           go on from the checkpoint in --out (written after every epoch) after a
                               crash, a kill or a lost GPU; the settings must match
            Every train writes model.sgm into --out (architecture and weights; predict reads it).
            --texts DIR|FILE   train TensorFlow's newer tutorial on raw texts instead: DIR holds train/ and
                               test/, each with one folder of .txt files per class (as aclImdb); FILE is a
                               .csv, .tsv or .jsonl table. The tutorial's standardisation, 10,000 tokens,
                               250 ids, Embedding(10000, 16) -> Dropout(0.2) -> GlobalAveragePooling1D
                               -> Dropout(0.2) -> Dense(1, sigmoid), Adam, 10 epochs at batch 32, seed 42;
                               the vocabulary goes into model.sgm. Two classes. --limit N keeps N training
                               texts and at most N validation and N test texts (a seeded sample of test/).
            --validation-split F
                               fraction of the training texts held out for validation (default 0.2)
            --text-column C, --label-column C
                               a table's text and label columns (default text, label)
            --test FILE        a table's test set; without it --test-split F (default 0.2) of its rows
  predict   Print one JSON line per text: {"text" (first 60 characters), "p_positive", "label"}.
            predict --model FILE [TEXT...]; with no TEXT, one text per line from standard input,
            predicted 256 lines at a time as they arrive.
            --model FILE       a model.sgm written by train
            For a model trained on imdb.npz (--recipe), texts are read with Keras' word index:
            --word-index PATH  imdb_word_index.json (default: as inspect --decode finds it)
            --data PATH        an n-gram recipe's imdb.npz, to rebuild its n-gram index (not in the file)
            --recipe NAME, --limit N
                               the recipe and --limit it was trained with (default: the recipe its
                               shape fits; no limit)
  evaluate  Print the loss and accuracy of --model FILE on --texts DIR|FILE (a folder's test/ when it
            has one, else its class folders; or a table, with --text-column and --label-column).
            --batch-size N (default 32); --word-index, --data, --recipe and --limit as for predict
  export    Write --model FILE as another format: --format tfjs --out DIR writes a TensorFlow.js
            Layers model (model.json, group1-shard1of1.bin, and vectorizer.json for a text model).
  inspect   Load imdb.npz as keras.datasets.imdb.load_data does and print a JSON summary.
            --data PATH        the imdb.npz to read (default: $IMDB_NPZ, then ~/.keras/datasets/imdb.npz)
            --num-words N      keep the N most frequent words (default: all)
            --head K           how many leading reviews to list lengths for (default 10)
            --decode N         print review N as text instead (needs imdb_word_index.json)
            --split NAME       train or test, for --decode (default train)
            --word-index PATH  the imdb_word_index.json to use (default: $IMDB_WORD_INDEX, beside $IMDB_NPZ, ~/.keras/datasets)
  device    Print the WebGPU adapter shadergrad would use, as JSON.
            --swiftshader      use SwiftShader even when a GPU is present

Options:
  -h, --help  Show this help.`;

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

/** How predict and evaluate read texts for a model trained on imdb.npz. */
const READER_OPTIONS = {
  'word-index': { type: 'string' },
  data: { type: 'string' },
  recipe: { type: 'string' },
  limit: { type: 'string' },
  swiftshader: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

const COMMANDS: Record<string, { options: ParseArgsConfig['options']; positionals?: boolean; run: (values: Values, positionals: string[]) => Promise<void> }> = {
  train: {
    options: {
      recipe: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      texts: { type: 'string' },
      'text-column': { type: 'string' },
      'label-column': { type: 'string' },
      test: { type: 'string' },
      'validation-split': { type: 'string' },
      'test-split': { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: 'out' },
      'early-stopping': { type: 'string' },
      swiftshader: { type: 'boolean', default: false },
      'no-jit': { type: 'boolean', default: false },
      'no-fuse': { type: 'boolean', default: false },
      'max-binding-bytes': { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
    run: async (values) => {
      if (values.texts !== undefined) return trainOnTexts(values);
      for (const flag of ['text-column', 'label-column', 'test', 'validation-split', 'test-split']) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --texts`);
      }
      const recipe = RECIPE_NAMES.find((name) => name === (values.recipe ?? 'tutorial'));
      if (!recipe) throw new UsageError(`--recipe must be one of ${RECIPE_NAMES.join(', ')}, got '${excerpt(String(values.recipe), 100)}'`);
      const { fit } = RECIPES[recipe];
      const batchSize = values['batch-size'] === undefined ? fit.batchSize : positiveInt('--batch-size', values['batch-size']);
      await trainTutorial({
        recipe,
        epochs: values.epochs === undefined ? fit.epochs : positiveInt('--epochs', values.epochs),
        batchSize,
        limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
        seed: values.seed === undefined ? 0 : nonNegativeInt('--seed', values.seed),
        data: pathFlag('--data', values.data),
        out: outDir(values.out),
        earlyStoppingPatience: values['early-stopping'] === undefined ? undefined : nonNegativeInt('--early-stopping', values['early-stopping']),
        swiftshader: values.swiftshader === true,
        jitCompile: values['no-jit'] === true ? false : 'auto',
        fuse: values['no-fuse'] === true ? false : 'auto',
        maxBindingBytes: values['max-binding-bytes'] === undefined ? undefined : bindingBytes(values['max-binding-bytes'], batchSize, RECIPES[recipe]),
        resume: values.resume === true,
      });
    },
  },
  predict: {
    options: { model: { type: 'string' }, ...READER_OPTIONS },
    positionals: true,
    run: predict,
  },
  evaluate: {
    options: { model: { type: 'string' }, texts: { type: 'string' }, 'text-column': { type: 'string' }, 'label-column': { type: 'string' }, 'batch-size': { type: 'string' }, ...READER_OPTIONS },
    run: async (values) => {
      const model = requiredPath('--model', values.model);
      const texts = requiredPath('--texts', values.texts);
      const batchSize = values['batch-size'] === undefined ? TEXT_TUTORIAL.batchSize : positiveInt('--batch-size', values['batch-size']);
      const reader = await loadTextModel(model, readerOptions(values));
      try {
        await evaluateTexts(reader, texts, { textColumn: stringFlag('--text-column', values['text-column']), labelColumn: stringFlag('--label-column', values['label-column']), batchSize });
      } finally {
        reader.dispose();
      }
    },
  },
  export: {
    options: { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
    run: async (values) => {
      const model = requiredPath('--model', values.model);
      if (values.format !== 'tfjs') throw new UsageError(`--format must be tfjs, got '${excerpt(String(values.format ?? ''), 100)}'`);
      if (values.out === undefined) throw new UsageError('--out DIR is required: the folder for model.json and its weights');
      const written = await exportTfjs(model, outDir(values.out));
      console.log(`Wrote ${written.join(', ')}`);
    },
  },
  inspect: {
    options: {
      data: { type: 'string' },
      'num-words': { type: 'string' },
      head: { type: 'string', default: '10' },
      decode: { type: 'string' },
      split: { type: 'string', default: 'train' },
      'word-index': { type: 'string' },
    },
    run: inspect,
  },
  device: {
    options: { swiftshader: { type: 'boolean', default: false } },
    run: async (values) => {
      const options = { forceSwiftShader: values.swiftshader === true };
      const context = await getDevice(options);
      console.error(`Using ${formatAdapter(context.report)}`);
      console.log(toJson(context.report));
      releaseDevice(context, options);
    },
  },
};

/** `train --texts`: the newer tutorial on a folder or a table (runner/texts.ts). */
async function trainOnTexts(values: Values): Promise<void> {
  for (const flag of ['recipe', 'data', 'early-stopping', 'resume', 'max-binding-bytes']) {
    if (values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} is for imdb.npz recipes, not --texts`);
  }
  const texts = requiredPath('--texts', values.texts);
  const table = /\.(csv|tsv|tab|jsonl|ndjson)$/i.test(texts);
  if (!table) {
    for (const flag of ['text-column', 'label-column', 'test', 'test-split']) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for a table (.csv, .tsv, .jsonl); ${excerpt(texts, 200)} is read as a folder`);
    }
  }
  if (values.test !== undefined && values['test-split'] !== undefined) throw new UsageError('give --test FILE or --test-split F, not both');
  await trainTexts({
    texts,
    out: outDir(values.out),
    epochs: values.epochs === undefined ? undefined : positiveInt('--epochs', values.epochs),
    batchSize: values['batch-size'] === undefined ? undefined : positiveInt('--batch-size', values['batch-size']),
    seed: values.seed === undefined ? undefined : nonNegativeInt('--seed', values.seed),
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    textColumn: stringFlag('--text-column', values['text-column']),
    labelColumn: stringFlag('--label-column', values['label-column']),
    test: pathFlag('--test', values.test),
    testSplit: values['test-split'] === undefined ? undefined : fraction('--test-split', values['test-split']),
    validationSplit: values['validation-split'] === undefined ? undefined : fraction('--validation-split', values['validation-split']),
    swiftshader: values.swiftshader === true,
    jitCompile: values['no-jit'] === true ? false : 'auto',
    fuse: values['no-fuse'] === true ? false : 'auto',
  });
}

function readerOptions(values: Values): ReaderOptions {
  if (values.recipe !== undefined && !RECIPE_NAMES.some((name) => name === values.recipe)) {
    throw new UsageError(`--recipe must be one of ${RECIPE_NAMES.join(', ')}, got '${excerpt(String(values.recipe), 100)}'`);
  }
  return {
    wordIndex: pathFlag('--word-index', values['word-index']),
    data: pathFlag('--data', values.data),
    recipe: values.recipe as string | undefined,
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    swiftshader: values.swiftshader === true,
  };
}

/** `predict --model FILE [TEXT...]`: JSON lines; standard input, streamed, when no TEXT is given. */
async function predict(values: Values, positionals: string[]): Promise<void> {
  const reader = await loadTextModel(requiredPath('--model', values.model), readerOptions(values));
  try {
    if (positionals.length) {
      for (const p of await predictTexts(reader, positionals)) console.log(JSON.stringify(p));
      return;
    }
    await predictStream(reader, process.stdin, writeStdout);
  } catch (error) {
    // The reader of our output went away (`predict | head`): stop quietly, as Unix tools do.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  } finally {
    reader.dispose();
  }
}

/** Writes to standard output and waits until it is handed to the system: a slow reader holds the stream back, one batch at a time. */
function writeStdout(chunk: string): Promise<void> {
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => {}); // reported through the callback below
  return new Promise((done, fail) => process.stdout.write(chunk, (error) => (error ? fail(error) : done())));
}

function requiredPath(flag: string, value: string | boolean | undefined): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return pathFlag(flag, value)!;
}

/** A non-empty string flag, or absent. */
function stringFlag(flag: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must not be empty`);
  return value;
}

/** A plain decimal fraction strictly between 0 and 1 ('0.2', '.25'). */
function fraction(flag: string, text: string | boolean | undefined): number {
  const n = typeof text === 'string' && /^(0?\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n < 1)) throw new UsageError(`${flag} must be a fraction between 0 and 1 (e.g. 0.2), got '${excerpt(String(text), 100)}'`);
  return n;
}

async function inspect(values: Values): Promise<void> {
  const numWords = values['num-words'] === undefined ? undefined : positiveInt('--num-words', values['num-words']);
  const head = positiveInt('--head', values.head);
  const split = values.split === 'train' ? 0 : values.split === 'test' ? 1 : null;
  if (split === null) throw new UsageError(`--split must be train or test, got '${values.split}'`);

  const decode = values.decode === undefined ? undefined : nonNegativeInt('--decode', values.decode);
  const wordIndexPath = pathFlag('--word-index', values['word-index']);
  const started = performance.now();
  const data = await loadData({ path: pathFlag('--data', values.data), numWords });
  const seconds = (performance.now() - started) / 1000;

  if (decode !== undefined) {
    const [x] = data[split];
    if (decode >= x.length) throw new UsageError(`--decode must be a review number in [0, ${x.length}), got '${values.decode}'`);
    const wordIndex = await getWordIndex({ path: wordIndexPath });
    console.log(decodeReview(x.get(decode), wordIndex));
    return;
  }
  const summary = { numWords: numWords ?? null, loadSeconds: Number(seconds.toFixed(3)), train: summarise(data[0], head), test: summarise(data[1], head) };
  console.log(toJson(summary));
}

/** Indented JSON with arrays of numbers kept on one line. */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[[\d,.\s-]*\]/g, (list) => list.replace(/\s+/g, '').replace(/,/g, ', '));
}

function summarise([x, y]: Split, head: number) {
  const positives = y.reduce((a, b) => a + b, 0);
  return {
    count: x.length,
    labels: { negative: y.length - positives, positive: positives },
    firstLengths: Array.from({ length: Math.min(head, x.length) }, (_, i) => x.lengthOf(i)),
    meanLength: x.length ? Number((x.values.length / x.length).toFixed(2)) : 0,
    maxLength: x.maxLength(),
    first: x.length ? Array.from(x.get(0)) : [],
  };
}

function positiveInt(flag: string, text: string | boolean | undefined): number {
  return atLeast(flag, text, 1);
}

function atLeast(flag: string, text: string | boolean | undefined, min: number, why = ''): number {
  const n = nonNegativeInt(flag, text);
  if (n < min) throw new UsageError(min === 1 ? `${flag} must be a positive integer, got '${text}'` : `${flag} must be an integer of at least ${min}${why}, got '${text}'`);
  return n;
}

/** Plain decimal digits only: '', '1e0', '0x1', ' 1' and '+1' are refused. */
function nonNegativeInt(flag: string, text: string | boolean | undefined): number {
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} must be a non-negative integer, got '${excerpt(String(text), 100)}'`);
  }
  return Number(text);
}

/**
 * --max-binding-bytes, refused below the smallest useful value, before any GPU work: what one
 * binding must hold whole. That is the larger of a batch's token ids (the embedding kernel
 * takes them whole) and one review's embeddings (the largest row of a tensor split by rows);
 * the fused path falls back to the general one when its own buffers do not fit. Below it a
 * run could only end as a GPU failure.
 */
function bindingBytes(text: string | boolean, batchSize: number, recipe: Recipe): number {
  const { maxlen } = recipe.data;
  // The recipe's embedding width, read off its layers (building them allocates nothing on a GPU).
  const embedding = recipe.layers(1).find((layer): layer is Embedding => layer instanceof Embedding);
  const embeddingDim = embedding?.outputDim ?? 1;
  const ids = batchSize * maxlen * 4;
  const row = maxlen * embeddingDim * 4;
  const why = ids >= row ? `a batch's token ids, ${batchSize} x ${maxlen} int32s` : `one review's embeddings, ${maxlen} x ${embeddingDim} floats`;
  return atLeast('--max-binding-bytes', text, Math.max(ids, row), ` (${why}, must fit one binding)`);
}

/** A path flag: absent, or a non-empty path (an empty one would silently mean "not given"). */
function pathFlag(flag: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} must name a file, got ''`);
  return value;
}

/** Pseudo-file systems where a folder can be neither made nor written. */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * --out must be a folder that exists or can be made: not under /proc, /sys or /dev (where a
 * recursive mkdir spun forever), not an existing file, and under a writable folder.
 */
function outDir(value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--out must name a folder, got ''`);
  const path = resolve(value);
  const root = VIRTUAL_ROOTS.find((r) => path === r || path.startsWith(r + sep));
  if (root) throw new UsageError(`--out ${excerpt(value, 200)} is under ${root}, a virtual file system: choose a folder on disk`);
  let existing = path;
  while (!existsSync(existing)) existing = dirname(existing);
  const info = statSync(existing);
  if (!info.isDirectory()) {
    throw new UsageError(existing === path ? `--out ${excerpt(value, 200)} is a file, not a folder` : `--out ${excerpt(value, 200)}: ${existing} is a file, not a folder`);
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new UsageError(`--out ${excerpt(value, 200)}: ${existing} is not writable`);
  }
  return value;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command '${name}'`);
    let values: Values;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: command.positionals === true }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    await command.run(values, positionals);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`shadergrad: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const userErrors = [DataError, NoWebGPUError, TrainingError, WeightsFileError, ModelFileError, TfjsExportError, LayerConfigError];
    if (userErrors.some((type) => error instanceof type)) {
      const { name, message } = error as Error;
      console.error(`shadergrad: ${name}: ${message}`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // One line even for what no check foresaw; the stack only when asked for.
    console.error(`shadergrad: unexpected ${error?.name ?? 'error'}: ${excerpt(String(error?.message ?? error), 1000)}`);
    if (process.env.SHADERGRAD_DEBUG) console.error(error);
    process.exit(1);
  },
);
