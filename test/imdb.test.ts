import { describe, expect, it } from 'vitest';
import { DatasetError } from '../src/data/errors.js';
import { decodeReview, imdbFromNpz, parseWordIndex, type LoadDataOptions } from '../src/data/imdb.js';
import { expectDataError, fixtureBytes, fixtureJson } from './helpers.js';

interface KerasCase {
  kwargs: Record<string, number | null>;
  error?: string;
  x_train: number[][];
  y_train: number[];
  x_test: number[][];
  y_test: number[];
}
const keras = fixtureJson('npz', 'expected.json').keras as Record<string, KerasCase>;

const camel: Record<string, keyof LoadDataOptions> = {
  num_words: 'numWords',
  skip_top: 'skipTop',
  maxlen: 'maxlen',
  seed: 'seed',
  start_char: 'startChar',
  oov_char: 'oovChar',
  index_from: 'indexFrom',
};
const toOptions = (kwargs: KerasCase['kwargs']): LoadDataOptions =>
  Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [camel[k], v]));

describe('imdbFromNpz reproduces keras.datasets.imdb.load_data', () => {
  for (const file of ['mini.npz', 'mini_compressed.npz', 'mini_protocol2.npz']) {
    for (const [name, want] of Object.entries(keras)) {
      it(`${file}: ${name}`, () => {
        const load = () => imdbFromNpz(fixtureBytes('npz', file), toOptions(want.kwargs), file);
        if (want.error) {
          expectDataError(load, DatasetError, { message: /empty/ });
          return;
        }
        const [[xTrain, yTrain], [xTest, yTest]] = load();
        expect(xTrain.toArrays()).toEqual(want.x_train);
        expect(Array.from(yTrain)).toEqual(want.y_train);
        expect(xTest.toArrays()).toEqual(want.x_test);
        expect(Array.from(yTest)).toEqual(want.y_test);
      });
    }
  }

  it('refuses options that are not non-negative integers', () => {
    const bytes = fixtureBytes('npz', 'mini.npz');
    expect(() => imdbFromNpz(bytes, { numWords: -1 })).toThrow(/numWords must be a non-negative integer/);
    expect(() => imdbFromNpz(bytes, { seed: 1.5 })).toThrow(/seed must be a non-negative integer/);
    expect(() => imdbFromNpz(bytes, { maxlen: Number.NaN })).toThrow(/maxlen/);
  });

  it('refuses a maxlen that keeps nothing, as Keras does', () => {
    expectDataError(() => imdbFromNpz(fixtureBytes('npz', 'mini.npz'), { maxlen: 1 }), DatasetError, { message: /no sequence was kept/ });
  });

  it('refuses a label other than 0/1, naming member, element and byte offset', () => {
    const error = expectDataError(() => imdbFromNpz(fixtureBytes('npz', 'bad_labels.npz'), {}, 'bad_labels.npz'), DatasetError, {
      file: 'bad_labels.npz',
      member: 'y_test.npy',
      message: /label 2 is not 0 or 1/,
      found: '2',
      expected: '0 or 1',
    });
    expect(error.offset).toBe(128 + 2 * 8); // 128-byte .npy header, int64 labels
  });

  it('refuses a word index too large for int32, naming the review', () => {
    expectDataError(() => imdbFromNpz(fixtureBytes('npz', 'large_ints.npz'), {}, 'large_ints.npz'), DatasetError, {
      member: 'x_train.npy',
      message: /element 0, position 2/,
      found: /1099511627776/,
    });
  });

  it('refuses an archive without the IMDB arrays', () => {
    const zipOfNpy = fixtureBytes('npz', 'mini.npz');
    expectDataError(() => imdbFromNpz(renameMember(zipOfNpy, 'y_test.npy', 'y_tost.npy'), {}, 'renamed.npz'), DatasetError, {
      file: 'renamed.npz',
      member: 'y_test.npy',
      found: /y_tost\.npy/,
    });
  });

  it('refuses reviews that are not an object array, and labels of the wrong length', () => {
    const bytes = fixtureBytes('npz', 'mini.npz');
    expectDataError(() => imdbFromNpz(swapMembers(bytes, 'x_train.npy', 'y_train.npy'), {}, 'swapped.npz'), DatasetError, {
      member: 'x_train.npy',
      message: /1-D object array/,
      found: 'dtype int64, shape (9)',
    });
    expectDataError(() => imdbFromNpz(fixtureBytes('npz', 'float_labels.npz'), {}, 'float_labels.npz'), DatasetError, {
      member: 'y_train.npy',
      message: /1-D integer array/,
      found: 'dtype float64, shape (9)',
    });
    expectDataError(() => imdbFromNpz(fixtureBytes('npz', 'short_labels.npz'), {}, 'short_labels.npz'), DatasetError, {
      member: 'y_train.npy',
      message: /label count differs/,
      expected: '9 labels',
      found: '8',
    });
  });
});

describe('word index and decodeReview', () => {
  const index = parseWordIndex(JSON.stringify({ the: 1, and: 2, a: 3, movie: 17, constructor: 5 }));

  it('decodes with the tutorial reserved tokens and "?" for unknown indices', () => {
    expect(decodeReview([1, 4, 20, 2, 0, 3, 99, 8], index)).toBe('<START> the movie <UNK> <PAD> <UNUSED> ? constructor');
    expect(decodeReview(new Int32Array([1, 2, 3]), index, { indexFrom: 0 })).toBe('the and a');
  });

  it('refuses a malformed word index', () => {
    expectDataError(() => parseWordIndex('{"the": 1,', 'w.json'), DatasetError, { file: 'w.json', message: /not valid JSON/ });
    expectDataError(() => parseWordIndex('[1, 2]'), DatasetError, { found: 'array' });
    expectDataError(() => parseWordIndex('{"the": 0}'), DatasetError, { message: /'the'/, found: '0' });
    expectDataError(() => parseWordIndex('{"the": "1"}'), DatasetError, { found: '"1"' });
  });
});

/** The same archive with one member renamed (to a name of equal length, so offsets hold). */
function renameMember(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = new TextDecoder('latin1').decode(bytes);
  const out = bytes.slice();
  for (let i = text.indexOf(from); i >= 0; i = text.indexOf(from, i + 1)) out.set(new TextEncoder().encode(to), i);
  return out;
}

function swapMembers(bytes: Uint8Array, a: string, b: string): Uint8Array {
  return renameMember(renameMember(renameMember(bytes, a, 'tmp_swap.np'), b, a), 'tmp_swap.np', b);
}
