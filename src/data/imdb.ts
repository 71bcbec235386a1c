/**
 * `keras.datasets.imdb`: `load_data` on the bytes of an `imdb.npz`, the word
 * index, and `decodeReview`. Pure: no file system, so it runs in a browser too
 * (`src/data/files.ts` finds the files in Node).
 *
 * Mirrors keras/src/datasets/imdb.py step for step: shuffle train then test with
 * one `np.random.RandomState(seed)`; prepend `start_char` and add `index_from`;
 * drop sequences with `len >= maxlen`; `num_words` defaults to the largest
 * index; indices outside `[skip_top, num_words)` become `oov_char` (or are
 * dropped when it is null).
 */
import { DatasetError, excerpt, type SourceContext } from './errors.js';
import { MAX_HEADER_SIZE, readNpy, type NpyArray } from './npy.js';
import { RandomState, shuffledIndices } from './random-state.js';
import { Sequences, sequencesFromPyLists } from './sequences.js';
import { ZipArchive } from './zip.js';

export interface LoadDataOptions {
  /** Keep the `numWords` most frequent words; others become `oovChar`. Default: all. */
  numWords?: number | null;
  /** Treat the `skipTop` most frequent words as out of vocabulary. Default 0. */
  skipTop?: number;
  /** Drop sequences of `maxlen` or more tokens (the start token counts). Default: keep all. */
  maxlen?: number | null;
  /** Seed of the shuffle. Default 113. */
  seed?: number;
  /** Token prepended to every review; null for none. Default 1. */
  startChar?: number | null;
  /** Token for words cut by `numWords`/`skipTop`; null drops them. Default 2. */
  oovChar?: number | null;
  /** Offset added to every word rank. Default 3. */
  indexFrom?: number;
}

/** 1 = positive, 0 = negative. */
export type Labels = Uint8Array;
export type Split = [x: Sequences, y: Labels];
/** `((x_train, y_train), (x_test, y_test))`, as Keras returns it. */
export type ImdbData = [train: Split, test: Split];

const SPLITS = ['train', 'test'] as const;

/** `keras.datasets.imdb.load_data` applied to the bytes of an `imdb.npz`. */
export function imdbFromNpz(bytes: Uint8Array, options: LoadDataOptions = {}, file = 'imdb.npz'): ImdbData {
  const opts = checkOptions(options);
  const archive = ZipArchive.open(bytes, file);
  const raw = SPLITS.map((split) => readSplit(archive, split, file));

  // One generator for both splits, train first (keras/src/datasets/imdb.py).
  const rng = new RandomState(opts.seed);
  const orders = raw.map(([x]) => shuffledIndices(rng, x.length));

  const start = opts.startChar === null ? [] : [opts.startChar];
  const kept = raw.map(([x], s) => keptIndices(x, orders[s], start.length, opts.maxlen));
  if (opts.maxlen && kept.some((k) => k.length === 0)) {
    throw new DatasetError(`After filtering for sequences shorter than maxlen=${opts.maxlen}, no sequence was kept. Increase maxlen.`, {
      file,
    });
  }
  const numWords = opts.numWords || largestIndex(raw, kept, start, opts.indexFrom, file);
  return raw.map(([x, y], s): Split => [
    remap(x, kept[s], start, opts, numWords, { file, member: `x_${SPLITS[s]}.npy` }),
    Uint8Array.from(kept[s], (i) => y[i]),
  ]) as ImdbData;
}

type CheckedOptions = Required<LoadDataOptions>;

function checkOptions(o: LoadDataOptions): CheckedOptions {
  const opts: CheckedOptions = {
    numWords: o.numWords ?? null,
    skipTop: o.skipTop ?? 0,
    maxlen: o.maxlen ?? null,
    seed: o.seed ?? 113,
    startChar: o.startChar === undefined ? 1 : o.startChar,
    oovChar: o.oovChar === undefined ? 2 : o.oovChar,
    indexFrom: o.indexFrom ?? 3,
  };
  for (const [name, value] of Object.entries(opts)) {
    if (value !== null && (!Number.isSafeInteger(value) || (value as number) < 0)) {
      throw new RangeError(`loadData: ${name} must be a non-negative integer${name === 'seed' ? '' : ' or null'}, got ${value}`);
    }
  }
  return opts;
}

/** Read `x_<split>.npy` and `y_<split>.npy` and check they belong together. */
function readSplit(archive: ZipArchive, split: (typeof SPLITS)[number], file: string): [Sequences, Labels] {
  const xName = `x_${split}.npy`;
  const yName = `y_${split}.npy`;
  for (const member of [xName, yName]) {
    if (!archive.has(member)) {
      throw new DatasetError(`missing array '${member.replace('.npy', '')}'`, {
        file,
        member,
        expected: 'members x_train.npy, y_train.npy, x_test.npy, y_test.npy',
        found: archive.names.join(', ') || 'no members',
      });
    }
  }
  const xArray = readNpy(archive.read(xName, pickleLimit(archive.entries.get(xName)!.compressedSize)), { file, member: xName });
  if (xArray.dtype !== 'object' || xArray.shape.length !== 1) {
    throw new DatasetError('reviews must be a 1-D object array of lists', {
      file,
      member: xName,
      offset: 0,
      expected: "dtype object ('|O'), 1-D",
      found: `dtype ${xArray.dtype}, shape (${xArray.shape.join(', ')})`,
    });
  }
  const x = sequencesFromPyLists(xArray.data, { file, member: xName });
  // One label per review, 8 bytes at most each: a larger member cannot be valid, so it is never inflated.
  const yLimit = NPY_PREAMBLE_V2 + MAX_HEADER_SIZE + 8 * x.length;
  const y = readLabels(readNpy(archive.read(yName, yLimit), { file, member: yName }), { file, member: yName }, x.length);
  return [x, y];
}

/**
 * How far a pickled reviews member may inflate: 1 MiB plus 8 times its compressed size.
 * Keras' imdb.npz inflates 1.6 times; without a bound a 2 MB archive could inflate to 2 GB
 * (deflate's 1,032:1) of lists, past any time or memory bound, before a byte is judged.
 */
export const PICKLE_INFLATION = { base: 1 << 20, ratio: 8 } as const;
const NPY_PREAMBLE_V2 = 12;

function pickleLimit(compressedSize: number): number {
  return PICKLE_INFLATION.base + PICKLE_INFLATION.ratio * compressedSize;
}

function readLabels(array: NpyArray, ctx: SourceContext, expectedCount: number): Labels {
  if (array.dtype === 'object' || array.dtype.startsWith('float') || array.shape.length !== 1) {
    throw new DatasetError('labels must be a 1-D integer array', {
      ...ctx,
      offset: 0,
      expected: 'integer dtype (int64 in Keras), 1-D',
      found: `dtype ${array.dtype}, shape (${array.shape.join(', ')})`,
    });
  }
  if (array.data.length !== expectedCount) {
    throw new DatasetError('label count differs from review count', {
      ...ctx,
      offset: 0,
      expected: `${expectedCount} labels`,
      found: `${array.data.length}`,
    });
  }
  const itemSize = array.data.BYTES_PER_ELEMENT;
  const labels = new Uint8Array(array.data.length);
  for (let i = 0; i < labels.length; i++) {
    const v = Number(array.data[i]);
    if (v !== 0 && v !== 1) {
      throw new DatasetError(`label ${i} is not 0 or 1`, {
        ...ctx,
        offset: array.dataOffset + i * itemSize,
        expected: '0 or 1',
        found: String(array.data[i]),
      });
    }
    labels[i] = v;
  }
  return labels;
}

/** Source indices, in shuffled order, of the sequences that pass the `maxlen` filter. */
function keptIndices(x: Sequences, order: Int32Array, extra: number, maxlen: number | null): Int32Array {
  // Keras' remove_long_seq keeps `len(x) < maxlen`; `if maxlen:` makes 0 mean no filter.
  if (!maxlen) return order;
  return order.filter((i) => x.lengthOf(i) + extra < maxlen);
}

/** Keras' default `num_words`: the largest index over both splits, after the offset. */
function largestIndex(raw: [Sequences, Labels][], kept: Int32Array[], start: number[], indexFrom: number, file: string): number {
  if (kept.every((k) => k.length === 0)) {
    throw new DatasetError('no reviews in either split, so num_words cannot be inferred (Keras fails here too)', {
      file,
      expected: 'numWords, or at least one review',
      found: 'no reviews',
    });
  }
  let max = start.length ? start[0] : -Infinity;
  raw.forEach(([{ values, offsets }], s) => {
    for (const i of kept[s]) {
      // Keras takes max(x) of every review, which fails on an empty one.
      if (offsets[i + 1] === offsets[i] && start.length === 0) {
        throw new DatasetError(`review ${i} of x_${SPLITS[s]} is empty, so num_words cannot be inferred (Keras fails here too)`, {
          file,
          member: `x_${SPLITS[s]}.npy`,
          expected: 'numWords, or a startChar',
          found: 'an empty review',
        });
      }
      for (let p = offsets[i]; p < offsets[i + 1]; p++) if (values[p] + indexFrom > max) max = values[p] + indexFrom;
    }
  });
  return max;
}

/** Gather the kept sequences in order, with the start token, offset and vocabulary cut applied. */
function remap({ values, offsets }: Sequences, kept: Int32Array, start: number[], opts: CheckedOptions, numWords: number, ctx: SourceContext): Sequences {
  const { skipTop, indexFrom } = opts;
  // Indices outside [skipTop, numWords) become oovChar, or are dropped (-1) when it is null.
  const oov = opts.oovChar ?? -1;
  // The start token goes through the vocabulary cut too, as in Keras.
  const head = start.map((w) => (skipTop <= w && w < numWords ? w : oov)).filter((w) => w >= 0);
  // Kept indices are below numWords, so they fit the int32 output unless numWords is past 2^31.
  if (numWords > INT32_LIMIT) refuseIndicesPastInt32(values, offsets, kept, indexFrom, numWords, ctx);
  const outOffsets = new Int32Array(kept.length + 1);
  let total = 0;
  for (let row = 0; row < kept.length; row++) total += offsets[kept[row] + 1] - offsets[kept[row]] + head.length;
  const out = new Int32Array(total);
  let n = 0;
  for (let row = 0; row < kept.length; row++) {
    const i = kept[row];
    for (let h = 0; h < head.length; h++) out[n++] = head[h];
    n = cutInto(out, n, values, offsets[i], offsets[i + 1], indexFrom, skipTop, numWords, oov);
    outOffsets[row + 1] = n;
  }
  return new Sequences(n === total ? out : out.slice(0, n), outOffsets);
}

const INT32_LIMIT = 2 ** 31;

function refuseIndicesPastInt32(values: Int32Array, offsets: Int32Array, kept: Int32Array, indexFrom: number, numWords: number, ctx: SourceContext): void {
  for (const i of kept) {
    for (let p = offsets[i]; p < offsets[i + 1]; p++) {
      const w = values[p] + indexFrom;
      if (w >= INT32_LIMIT && w < numWords) {
        throw new DatasetError(`review ${i}: word index ${values[p]} plus indexFrom ${indexFrom} does not fit in int32`, {
          ...ctx,
          expected: `indices below ${INT32_LIMIT} after the offset`,
          found: String(w),
        });
      }
    }
  }
}

/**
 * One review's indices, offset and cut to the vocabulary, appended to `out` at `n`;
 * returns the new end. Its own small function so that V8 optimizes it at once.
 */
function cutInto(out: Int32Array, n: number, values: Int32Array, from: number, to: number, indexFrom: number, skipTop: number, numWords: number, oov: number): number {
  for (let p = from; p < to; p++) {
    const w = values[p] + indexFrom;
    const v = skipTop <= w && w < numWords ? w : oov;
    if (v >= 0) out[n++] = v;
  }
  return n;
}

/** Keras' word index: word -> rank (1 = most frequent). */
export type WordIndex = Map<string, number>;

/** Parse `imdb_word_index.json`, checking every rank is a positive integer. */
export function parseWordIndex(text: string, file = 'imdb_word_index.json'): WordIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new DatasetError(`word index is not valid JSON: ${(cause as Error).message}`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DatasetError('word index must be a JSON object', { file, expected: '{"word": rank, ...}', found: Array.isArray(parsed) ? 'array' : typeof parsed });
  }
  const index: WordIndex = new Map();
  for (const [word, rank] of Object.entries(parsed)) {
    if (!Number.isSafeInteger(rank) || (rank as number) < 1) {
      throw new DatasetError(`word index entry '${excerpt(word, 100)}' is not a positive integer rank`, { file, expected: 'integer >= 1', found: describeJson(rank) });
    }
    index.set(word, rank as number);
  }
  return index;
}

/** A JSON value named for a message, never serialised whole (it may be megabytes, or nested past the stack). */
function describeJson(value: unknown): string {
  if (typeof value === 'string') return `"${excerpt(value, 100)}"`;
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (value !== null && typeof value === 'object') return 'an object';
  // JSON.parse turns 1e400 into Infinity: say what the file holds.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number past the float64 range';
  return String(value);
}

export interface DecodeOptions {
  indexFrom?: number;
}

/**
 * The tutorial's `decode_review`: ranks shifted by `indexFrom`, with Keras'
 * reserved entries `<PAD>` 0, `<START>` 1, `<UNK>` 2, `<UNUSED>` 3, and '?'
 * for an index with no word.
 */
export function decodeReview(sequence: ArrayLike<number>, wordIndex: WordIndex, options: DecodeOptions = {}): string {
  const reverse = reverseIndex(wordIndex, options.indexFrom ?? 3);
  return Array.from(sequence, (i) => reverse.get(i) ?? '?').join(' ');
}

const reverseCache = new WeakMap<WordIndex, Map<number, Map<number, string>>>();

function reverseIndex(wordIndex: WordIndex, indexFrom: number): Map<number, string> {
  let byOffset = reverseCache.get(wordIndex);
  if (!byOffset) reverseCache.set(wordIndex, (byOffset = new Map()));
  let reverse = byOffset.get(indexFrom);
  if (!reverse) {
    reverse = new Map();
    for (const [word, rank] of wordIndex) reverse.set(rank + indexFrom, word);
    // The tutorial's reserved entries, where no word has the index (none does when indexFrom is 3).
    ['<PAD>', '<START>', '<UNK>', '<UNUSED>'].forEach((token, i) => reverse!.has(i) || reverse!.set(i, token));
    byOffset.set(indexFrom, reverse);
  }
  return reverse;
}
