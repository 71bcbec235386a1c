/**
 * The `shadergrad` command line. Each verb is a small function; errors that a
 * user can fix (a missing file, a corrupt download, no GPU, a bad flag) print
 * one clear message and exit non-zero, without a stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DataError } from './data/errors.js';
import { getWordIndex, loadData } from './data/files.js';
import { decodeReview, type Split } from './data/imdb.js';
import { formatAdapter, getDevice, NoWebGPUError } from './gpu/device.js';
import { TrainingError } from './nn/model.js';
import { WeightsFileError } from './nn/weights-file.js';
import { trainTutorial } from './runner/train.js';

const USAGE = `Usage: shadergrad <command> [options]

Commands:
  train     Train the tutorial model on the GPU: Embedding(10000, 16) -> GlobalAveragePooling1D
            -> Dense(16, relu) -> Dense(1, sigmoid), 40 epochs at batch 512, then evaluate on the test set.
            --epochs N         epochs (default 40)
            --batch-size N     batch size (default 512)
            --seed N           seed of the initial weights and the shuffles (default 0)
            --data PATH        the imdb.npz to read (default: $IMDB_NPZ, then ~/.keras/datasets/imdb.npz)
            --out DIR          where history.json, curves.svg and weights.sgw go (default out)
            --early-stopping N stop when val_loss has not improved for N epochs, keeping the best weights
            --swiftshader      use SwiftShader even when a GPU is present
            --no-jit           train on the general autograd path (one kernel per op), not the fused one
            --max-binding-bytes N
                               bind at most N bytes per storage buffer (default: the device's limit);
                               tables and data past it are split, as on a device with that limit
            --resume           go on from the checkpoint in --out (written after every epoch) after a
                               crash, a kill or a lost GPU; the settings must match
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

const COMMANDS: Record<string, { options: ParseArgsConfig['options']; run: (values: Values) => Promise<void> }> = {
  train: {
    options: {
      epochs: { type: 'string', default: '40' },
      'batch-size': { type: 'string', default: '512' },
      seed: { type: 'string', default: '0' },
      data: { type: 'string' },
      out: { type: 'string', default: 'out' },
      'early-stopping': { type: 'string' },
      swiftshader: { type: 'boolean', default: false },
      'no-jit': { type: 'boolean', default: false },
      'max-binding-bytes': { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
    run: async (values) => {
      await trainTutorial({
        epochs: positiveInt('--epochs', values.epochs),
        batchSize: positiveInt('--batch-size', values['batch-size']),
        seed: nonNegativeInt('--seed', values.seed),
        data: values.data as string | undefined,
        out: values.out as string,
        earlyStoppingPatience: values['early-stopping'] === undefined ? undefined : nonNegativeInt('--early-stopping', values['early-stopping']),
        swiftshader: values.swiftshader === true,
        jitCompile: values['no-jit'] === true ? false : 'auto',
        maxBindingBytes: values['max-binding-bytes'] === undefined ? undefined : atLeast('--max-binding-bytes', values['max-binding-bytes'], 256),
        resume: values.resume === true,
      });
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
      const { device, report } = await getDevice({ forceSwiftShader: values.swiftshader === true });
      console.error(`Using ${formatAdapter(report)}`);
      console.log(toJson(report));
      device.destroy();
    },
  },
};

async function inspect(values: Values): Promise<void> {
  const numWords = values['num-words'] === undefined ? undefined : positiveInt('--num-words', values['num-words']);
  const head = positiveInt('--head', values.head);
  const split = values.split === 'train' ? 0 : values.split === 'test' ? 1 : null;
  if (split === null) throw new UsageError(`--split must be train or test, got '${values.split}'`);

  const started = performance.now();
  const data = await loadData({ path: values.data as string | undefined, numWords });
  const seconds = (performance.now() - started) / 1000;

  if (values.decode !== undefined) {
    const [x] = data[split];
    const n = Number(values.decode);
    if (!Number.isInteger(n) || n < 0 || n >= x.length) {
      throw new UsageError(`--decode must be a review number in [0, ${x.length}), got '${values.decode}'`);
    }
    const wordIndex = await getWordIndex({ path: values['word-index'] as string | undefined });
    console.log(decodeReview(x.get(n), wordIndex));
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

function atLeast(flag: string, text: string | boolean | undefined, min: number): number {
  const n = nonNegativeInt(flag, text);
  if (n < min) throw new UsageError(min === 1 ? `${flag} must be a positive integer, got '${text}'` : `${flag} must be an integer of at least ${min}, got '${text}'`);
  return n;
}

function nonNegativeInt(flag: string, text: string | boolean | undefined): number {
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} must be a non-negative integer, got '${text}'`);
  }
  return Number(text);
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
    try {
      ({ values } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    await command.run(values);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`shadergrad: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DataError || error instanceof NoWebGPUError || error instanceof TrainingError || error instanceof WeightsFileError) {
      console.error(`shadergrad: ${error.name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
