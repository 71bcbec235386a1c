/**
 * `imdbFromNpz` and the word index at the edges StrykerJS found untested (README, "Mutation
 * testing"): the vocabulary cut applied to the start token, `num_words` inferred when a review is
 * filtered or a split is empty, the int32 bound at its exact values, the members' inflation limits,
 * and what each error names. Archives are built with test/fuzz/writers.ts, as numpy writes them.
 */
import { describe, expect, it } from 'vitest';
import { DatasetError, NpyFormatError, ZipFormatError } from '../src/data/errors.js';
import { imdbFromNpz, parseWordIndex, type LoadDataOptions } from '../src/data/imdb.js';
import { imdbMembers, int64Npy, npyBytes, pickleObjectArray, zipBytes, type Dataset } from './fuzz/writers.js';
import { expectDataError } from './helpers.js';

type Member = { name: string; data: Uint8Array; method?: 0 | 8 };
const npz = (members: Member[]): Uint8Array => zipBytes(members.map((m) => ({ method: 8, ...m })));
const dataset = (train: number[][], test: number[][] = [[4]]): Dataset => ({
  train: train.map((words) => ({ words, label: 1 })),
  test: test.map((words) => ({ words, label: 0 })),
});
const archive = (train: number[][], test?: number[][]) => npz(imdbMembers(dataset(train, test), 2));
/** The reviews of both splits as arrays, each split sorted (the shuffle's order is not the point here). */
function load(bytes: Uint8Array, options: LoadDataOptions = {}): [number[][], number[][]] {
  const [[xTrain], [xTest]] = imdbFromNpz(bytes, options);
  const rows = (x: typeof xTrain) => x.toArrays().sort((a, b) => a.join().localeCompare(b.join()));
  return [rows(xTrain), rows(xTest)];
}
/** The four members of an archive with `replace` swapped in by name. */
function withMember(replace: Member, train: number[][] = [[4]], test: number[][] = [[5]]): Uint8Array {
  return npz(imdbMembers(dataset(train, test), 2).map((m) => (m.name === replace.name ? replace : m)));
}

describe('loadData options and their messages', () => {
  it('seed may not be null; every other option may', () => {
    expect(() => imdbFromNpz(archive([[4]]), { seed: -1 })).toThrow(new RangeError('loadData: seed must be a non-negative integer, got -1'));
    expect(() => imdbFromNpz(archive([[4]]), { maxlen: 1.5 })).toThrow(new RangeError('loadData: maxlen must be a non-negative integer or null, got 1.5'));
  });

  it("the archive is called 'imdb.npz' in errors unless named", () => {
    expectDataError(() => imdbFromNpz(new Uint8Array(30)), ZipFormatError, { file: 'imdb.npz' });
  });
});

describe('the vocabulary cut of the start token, as in Keras', () => {
  it('a start token below skipTop becomes oovChar, or is dropped when oovChar is null', () => {
    // num_words is 8 (index 5 + 3), so the test split's one word is out of vocabulary too.
    expect(load(archive([[4]], [[5]]), { skipTop: 2, oovChar: 3 })).toEqual([[[3, 7]], [[3, 3]]]);
    expect(load(archive([[4]], [[5]]), { skipTop: 2, oovChar: null })).toEqual([[[7]], [[]]]);
  });

  it('a start token equal to skipTop is kept', () => {
    expect(load(archive([[4]], [[5]]), { skipTop: 1 })).toEqual([[[1, 7]], [[1, 2]]]);
  });

  it('a start token at numWords is out of vocabulary; oovChar 0 is a token like any other', () => {
    expect(load(archive([[4]]), { numWords: 1 })).toEqual([[[2, 2]], [[2, 2]]]);
    expect(load(archive([[4]]), { numWords: 1, oovChar: 0 })).toEqual([[[0, 0]], [[0, 0]]]);
    expect(load(archive([[4]]), { numWords: 2, oovChar: 0 })).toEqual([[[1, 0]], [[1, 0]]]);
  });
});

describe('num_words inferred from the data', () => {
  it('is the largest index, which then falls outside [0, num_words) (Keras does the same)', () => {
    expect(load(archive([[4, 9]], [[5]]), { startChar: null })).toEqual([[[7, 2]], [[8]]]);
  });

  it('only kept reviews count: a filtered review right after a kept one does not raise it', () => {
    // [1, 5] is kept (2 < 3), [1, 9, 9, 9, 9] filtered; num_words is 9 (index 6 + 3), so 8 stays.
    expect(load(archive([[5], [9, 9, 9, 9]], [[6]]), { maxlen: 3 })).toEqual([[[1, 8]], [[1, 2]]]);
  });

  it('an empty split is fine while the other has reviews', () => {
    expect(load(archive([[4]], []))).toEqual([[[1, 2]], []]);
  });

  it('no review in either split is an error naming what would help', () => {
    expectDataError(() => imdbFromNpz(archive([], []), {}, 'e.npz'), DatasetError, {
      file: 'e.npz',
      problem: 'no reviews in either split, so num_words cannot be inferred (Keras fails here too)',
      expected: 'numWords, or at least one review',
      found: 'no reviews',
    });
  });

  it('without a start token an empty review is an error (Keras takes max() of it); a non-empty one after another is not', () => {
    expect(load(archive([[4], [6]], [[5]]), { startChar: null })).toEqual([[[2], [7]], [[8]]]);
    expectDataError(() => imdbFromNpz(archive([[4], []], [[5]]), { startChar: null }, 'e.npz'), DatasetError, {
      file: 'e.npz',
      member: 'x_train.npy',
      problem: 'review 1 of x_train is empty, so num_words cannot be inferred (Keras fails here too)',
      expected: 'numWords, or a startChar',
      found: 'an empty review',
    });
  });
});

describe('maxlen', () => {
  it('one split emptied by maxlen is an error, naming the file', () => {
    expectDataError(() => imdbFromNpz(archive([[4]], [[4, 4, 4]]), { maxlen: 3 }, 'm.npz'), DatasetError, {
      file: 'm.npz',
      problem: 'After filtering for sequences shorter than maxlen=3, no sequence was kept. Increase maxlen.',
    });
  });
});

describe('indices past int32', () => {
  const big = 2 ** 31 - 1;

  it('an index of exactly 2^31 below numWords is refused', () => {
    expectDataError(() => imdbFromNpz(archive([[big]], [[4]]), { numWords: 2 ** 32, indexFrom: 1 }, 'b.npz'), DatasetError, {
      file: 'b.npz',
      member: 'x_train.npy',
      problem: `review 0: word index ${big} plus indexFrom 1 does not fit in int32`,
      expected: `indices below ${2 ** 31} after the offset`,
      found: String(2 ** 31),
    });
  });

  it('an index past 2^31 but at or past numWords becomes oovChar, and small ones pass', () => {
    expect(load(archive([[big, 4]], [[5]]), { numWords: 2 ** 31 + 99, indexFrom: 100 })).toEqual([[[1, 2, 104]], [[1, 105]]]);
    expect(load(archive([[4]], [[5]]), { numWords: 2 ** 32 })).toEqual([[[1, 7]], [[1, 8]]]);
  });

  it('a filtered review after a kept one is not checked', () => {
    expect(load(archive([[4], [big, big, big]], [[5]]), { numWords: 2 ** 32, maxlen: 3 })).toEqual([[[1, 7]], [[1, 8]]]);
  });
});

describe('the members', () => {
  it("a missing array is named without '.npy', with the members there are", () => {
    const members = imdbMembers(dataset([[4]]), 2).filter((m) => m.name !== 'x_test.npy');
    expectDataError(() => imdbFromNpz(npz(members), {}, 'a.npz'), DatasetError, {
      problem: "missing array 'x_test'",
      member: 'x_test.npy',
      expected: 'members x_train.npy, y_train.npy, x_test.npy, y_test.npy',
      found: 'x_train.npy, y_train.npy, y_test.npy',
    });
    expectDataError(() => imdbFromNpz(npz([])), DatasetError, { problem: "missing array 'x_train'", found: 'no members' });
  });

  it('reviews that are not a 1-D object array name their dtype and shape', () => {
    expectDataError(() => imdbFromNpz(withMember({ name: 'x_train.npy', data: int64Npy([1, 2]) })), DatasetError, {
      problem: 'reviews must be a 1-D object array of lists',
      expected: "dtype object ('|O'), 1-D",
      found: 'dtype int64, shape (2)',
    });
  });

  it('a 2-D object array of reviews is refused', () => {
    // numpy's pickle of a (1, 1) object array: the state's shape (1,) made (1, 1).
    const pickle = pickleObjectArray([[4]], 2);
    const at = pickle.findIndex((_, i) => [0x28, 0x4b, 1, 0x4b, 1, 0x85].every((b, j) => pickle[i + j] === b));
    const twoD = Uint8Array.from([...pickle.subarray(0, at + 5), 0x4b, 1, 0x86, ...pickle.subarray(at + 6)]);
    expectDataError(() => imdbFromNpz(withMember({ name: 'x_train.npy', data: npyBytes('|O', [1, 1], twoD) })), DatasetError, {
      problem: 'reviews must be a 1-D object array of lists',
      member: 'x_train.npy',
      found: 'dtype object, shape (1, 1)',
    });
  });

  it('labels that are floats, or not 1-D, are refused, naming dtype and shape', () => {
    const f8 = npyBytes('<f8', [1], new Uint8Array(new Float64Array([1]).buffer));
    expectDataError(() => imdbFromNpz(withMember({ name: 'y_train.npy', data: f8 })), DatasetError, {
      problem: 'labels must be a 1-D integer array',
      member: 'y_train.npy',
      expected: 'integer dtype (int64 in Keras), 1-D',
      found: 'dtype float64, shape (1)',
    });
    const twoD = npyBytes('<i8', [1, 1], Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
    expectDataError(() => imdbFromNpz(withMember({ name: 'y_train.npy', data: twoD })), DatasetError, {
      problem: 'labels must be a 1-D integer array',
      found: 'dtype int64, shape (1, 1)',
    });
  });

  it('a labels member that is not .npy names itself', () => {
    expectDataError(() => imdbFromNpz(withMember({ name: 'y_train.npy', data: new Uint8Array(20) }), {}, 'l.npz'), NpyFormatError, { file: 'l.npz', member: 'y_train.npy' });
  });

  it('a stored reviews member past 1 MiB loads: its limit grows with its stored size', () => {
    const long = Array.from({ length: 600_000 }, (_, i) => 4 + (i % 200));
    const bytes = zipBytes(imdbMembers(dataset([long]), 2).map((m) => ({ ...m, method: 0 as const })));
    const [[x]] = imdbFromNpz(bytes);
    expect(x.lengthOf(0)).toBe(600_001);
  });

  it('labels of 10,000 reviews load: their member may hold 8 bytes a label past the header', () => {
    const reviews = Array.from({ length: 10_000 }, () => [4]);
    const [[x, y]] = imdbFromNpz(archive(reviews));
    expect(x.length).toBe(10_000);
    expect(y.every((v) => v === 1)).toBe(true);
  });
});

describe('the word index', () => {
  it("is called 'imdb_word_index.json' in errors unless named", () => {
    expectDataError(() => parseWordIndex('[1]'), DatasetError, {
      file: 'imdb_word_index.json',
      problem: 'word index must be a JSON object',
      expected: '{"word": rank, ...}',
      found: 'array',
    });
  });

  it('a rank that is not a positive integer is described, never serialised whole', () => {
    const found = (rank: string) =>
      expectDataError(() => parseWordIndex(`{"w": ${rank}}`), DatasetError, { problem: "word index entry 'w' is not a positive integer rank", expected: 'integer >= 1' }).found;
    expect(found('[1, 2, 3]')).toBe('a list of 3 items');
    expect(found('{"a": 1}')).toBe('an object');
    expect(found('null')).toBe('null');
    expect(found('true')).toBe('true');
    expect(found('1e400')).toBe('a number past the float64 range');
    expect(found('1.5')).toBe('1.5');
    expect(found('"7"')).toBe('"7"');
  });
});
