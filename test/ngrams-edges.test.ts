/**
 * Edges of src/data/ngrams.ts that test/ngrams.test.ts's small fixture does not reach: tables and
 * id lists past their first growth, reviews longer than the hashed path's first buffer, tokens past
 * its hash cache, tokens never seen in training, and the bounds of every check. The oracles are
 * written out here: Keras' create_ngram_set/add_ngram (examples/imdb_fasttext.py, with ids in order
 * of first appearance as ngrams.ts documents) and fastText's addWordNgrams in BigInt arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { addNgrams, fasttextHash, fasttextTokenHash, NgramIndex, ngramVocabularySize, reviewNgrams, type NgramSpec } from '../src/data/ngrams.js';
import { Sequences } from '../src/data/sequences.js';

/** Keras' create_ngram_set over the training reviews, ids from numWords + 1 by first appearance. */
function kerasIndex(train: number[][], ngramRange: number, numWords: number): Map<string, number> {
  const index = new Map<string, number>();
  for (const review of train) {
    for (let n = 2; n <= ngramRange; n++) {
      for (let i = 0; i + n <= review.length; i++) {
        const key = review.slice(i, i + n).join(',');
        if (!index.has(key)) index.set(key, numWords + 1 + index.size);
      }
    }
  }
  return index;
}

/** Keras' add_ngram, scanning the list it grows, as the example does. */
function kerasAddNgram(review: number[], index: Map<string, number>, ngramRange: number): number[] {
  const list = review.slice();
  for (let n = 2; n <= ngramRange; n++) {
    const windows = list.length - n + 1;
    for (let i = 0; i < windows; i++) {
      const id = index.get(list.slice(i, i + n).join(','));
      if (id !== undefined) list.push(id);
    }
  }
  return list;
}

/** fastText's Dictionary::addWordNgrams, in uint64 arithmetic (BigInt). */
function fasttextNgrams(review: number[], ngramRange: number, numWords: number, buckets: number): number[] {
  const hashes = review.map((token) => fasttextHash(String(token)) | 0);
  const out = review.slice();
  for (let i = 0; i < hashes.length; i++) {
    let h = BigInt.asUintN(64, BigInt(hashes[i]));
    for (let j = i + 1; j < hashes.length && j < i + ngramRange; j++) {
      h = BigInt.asUintN(64, h * 116049371n + BigInt(hashes[j]));
      out.push(numWords + 1 + Number(h % BigInt(buckets)));
    }
  }
  return out;
}

/** A deterministic pseudo-random review (LCG) of `length` tokens in [0, below). */
function review(seed: number, length: number, below: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % below;
  });
}

describe('the n-gram index past its first tables', () => {
  const numWords = 500;
  const train = [review(1, 900, 400), review(2, 700, 400), [], [7], review(3, 300, 60)];
  const test = [review(4, 600, 500), review(5, 3, 400), [], [499, 499, 499]];

  for (const ngramRange of [2, 3, 4]) {
    it(`n = 2..${ngramRange}: thousands of n-grams, as Keras numbers and appends them`, () => {
      const expected = kerasIndex(train, ngramRange, numWords);
      expect(expected.size).toBeGreaterThan(1100); // past the 1,024 first slots of the id list and the tables
      const index = NgramIndex.fromTraining(train, { ngramRange, numWords });
      expect(index.size).toBe(expected.size);
      expect(index.vocabularySize).toBe(numWords + 1 + expected.size);
      for (const [key, id] of expected) {
        const ngram = key.split(',').map(Number);
        expect(index.ngram(id)).toEqual(ngram);
        expect(index.lookup(ngram, 0, ngram.length)).toBe(id);
      }
      const spec: NgramSpec = { kind: 'index', index };
      expect(addNgrams(train, spec).toArrays()).toEqual(train.map((r) => kerasAddNgram(r, expected, ngramRange)));
      expect(addNgrams(Sequences.fromArrays(test), spec).toArrays()).toEqual(test.map((r) => kerasAddNgram(r, expected, ngramRange)));
    });
  }

  it('a test token the training reviews never had matches no n-gram, even where its key would', () => {
    // base 2: the key of [0, 3] is 0 * 2 + 3 = 3, the key of [1, 1]; 3 is no training token.
    const index = NgramIndex.fromTraining([[1, 1]], { ngramRange: 2, numWords: 10 });
    expect(index.covers([0, 1])).toBe(true);
    expect(index.covers([0, 3])).toBe(false);
    expect(index.covers([2])).toBe(false);
    expect(index.lookup([0, 3], 0, 2)).toBe(-1);
    expect(Array.from(reviewNgrams([0, 3], { kind: 'index', index }))).toEqual([0, 3]);
    expect(Array.from(reviewNgrams([1, 1, 3, 1, 1], { kind: 'index', index }))).toEqual([1, 1, 3, 1, 1, 11, 11]);
  });

  it('lookup and covers refuse negative tokens and the token equal to base wherever they stand', () => {
    // base 4: [1, -1] has the key 4 - 1 = 3 of [0, 3]; [0, 4] has the key 4 of [1, 0].
    const index = NgramIndex.fromTraining([[1, 0], [0, 3]], { ngramRange: 2, numWords: 10 });
    expect(index.lookup([0, 3], 0, 2)).toBe(12);
    expect(index.lookup([1, -1], 0, 2)).toBe(-1);
    expect(index.lookup([0, 4], 0, 2)).toBe(-1);
    expect(index.covers([3, -1])).toBe(false);
    expect(index.covers([3, 4])).toBe(false);
  });

  it('lookup reads exactly tokens[start .. start + n)', () => {
    const index = NgramIndex.fromTraining([[1, 1, 2]], { ngramRange: 3, numWords: 10 });
    expect(index.lookup([1, 1, 99], 0, 2)).toBe(11);
    expect(index.lookup([99, 1, 1], 1, 2)).toBe(11);
    expect(index.lookup([99, 1, 2], 1, 2)).toBe(12);
    expect(index.lookup([99, 1, 1, 2], 1, 3)).toBe(13);
    expect(index.lookup([1, 1], 0, 1)).toBe(-1);
    expect(index.lookup([1, 1, 2, 2], 0, 4)).toBe(-1);
  });

  it('ngram(id) takes the ids of the index alone', () => {
    const index = NgramIndex.fromTraining([[1, 2, 3]], { ngramRange: 2, numWords: 10 });
    expect(index.ngram(11)).toEqual([1, 2]);
    expect(index.ngram(12)).toEqual([2, 3]);
    expect(() => index.ngram(13)).toThrow(/not an n-gram id in \[11, 13\)/);
    expect(() => index.ngram(11.5)).toThrow(/not an n-gram id/);
  });

  it('ids stop at 2^31 - 1 for the row count, as the hashed kind does', () => {
    const numWords = 2 ** 31 - 4;
    const fits = NgramIndex.fromTraining([[1, 2, 3]], { ngramRange: 2, numWords });
    expect(fits.vocabularySize).toBe(2 ** 31 - 1);
    expect(() => NgramIndex.fromTraining([[1, 2, 3, 4]], { ngramRange: 2, numWords })).toThrow(`n-grams: 3 n-grams after ${numWords} words overflow int32 ids`);
  });

  it('keys stay exact: base^n at most 2^53 - 1', () => {
    // 94906265^2 < 2^53 - 1 < 94906266^2
    const numWords = 10 ** 8;
    const index = NgramIndex.fromTraining([[94906264, 1]], { ngramRange: 2, numWords });
    expect(index.base).toBe(94906265);
    expect(index.ngram(numWords + 1)).toEqual([94906264, 1]);
    expect(() => NgramIndex.fromTraining([[94906265, 1]], { ngramRange: 2, numWords })).toThrow(/tokens up to 94906265 do not fit an exact key/);
  });

  it('checks ngramRange, numWords and token ids at their bounds', () => {
    expect(() => NgramIndex.fromTraining([[1, 2]], { ngramRange: 2.5, numWords: 10 })).toThrow(/ngramRange must be an integer of at least 2 .*got 2.5/);
    expect(() => NgramIndex.fromTraining([[1, 2]], { ngramRange: 2, numWords: 1.5 })).toThrow(/numWords must be a positive integer, got 1.5/);
    expect(() => NgramIndex.fromTraining([[1, 2]], { ngramRange: 2, numWords: 2 ** 53 })).toThrow(/numWords must be a positive integer/);
    expect(NgramIndex.fromTraining([[1, 1]], { ngramRange: 2, numWords: 1 }).size).toBe(1);
    expect(NgramIndex.fromTraining([[0, 10]], { ngramRange: 2, numWords: 10 }).ngram(11)).toEqual([0, 10]);
  });

  it('empty and one-token reviews keep their place', () => {
    const index = NgramIndex.fromTraining([[1, 2]], { ngramRange: 2, numWords: 10 });
    const out = addNgrams([[], [1], [1, 2], []], { kind: 'index', index });
    expect(Array.from(out.offsets)).toEqual([0, 0, 1, 4, 4]);
    expect(out.toArrays()).toEqual([[], [1], [1, 2, 11], []]);
  });
});

describe("fastText's hashed n-grams past the first buffer and the hash cache", () => {
  for (const [ngramRange, buckets] of [[2, 2_000_003], [3, 97], [4, 1], [3, 2 ** 31 - 1 - 100_001 - 1]] as const) {
    it(`n = 2..${ngramRange}, ${buckets} buckets: long reviews, tokens past 65,536, as addWordNgrams in uint64`, () => {
      const numWords = 100_000;
      const reviews = [review(6, 300, numWords + 1), review(7, 5, 70_000), [], [65535, 65536, 65537, 100_000, 0], review(8, 1200, numWords + 1), [42]];
      const spec: NgramSpec = { kind: 'hashed', ngramRange, numWords, buckets };
      expect(addNgrams(reviews, spec).toArrays()).toEqual(reviews.map((r) => fasttextNgrams(r, ngramRange, numWords, buckets)));
      expect(ngramVocabularySize(spec)).toBe(numWords + 1 + buckets);
    });
  }

  it('a token whose hash is 0, and a bigram whose 64-bit sum carries from exactly 2^32, as addWordNgrams in uint64', () => {
    // Found by exhaustive search: the only int32s whose decimal digits hash to 0 (the last FNV step
    // reaches 0 only from a prefix hashing to that digit's code); token ids are non-negative, so
    // 1968702970 is the only such token. A 0 hash is not negative: its 64-bit extension is 0, not
    // 0xffffffff << 32, at the start of an n-gram and added inside one.
    expect([1968702970, -366809750].map((token) => fasttextHash(String(token)))).toEqual([0, 0]);
    // hash(45967) * 116049371 + hash(16509) has a low half of exactly 2^32: the carry into the high half.
    expect(Number((BigInt(fasttextHash('45967')) * 116049371n) % 2n ** 32n) + fasttextHash('16509')).toBe(2 ** 32);
    const numWords = 1968702970;
    const reviews = [[7, 1968702970, 9, 1968702970, 1968702970], [1968702970, 5], [45967, 16509, 45967, 16509]];
    for (const [ngramRange, buckets] of [[2, 2_000_003], [3, 97]] as const) {
      const spec: NgramSpec = { kind: 'hashed', ngramRange, numWords, buckets };
      expect(addNgrams(reviews, spec).toArrays()).toEqual(reviews.map((r) => fasttextNgrams(r, ngramRange, numWords, buckets)));
    }
  });

  it('bucket counts: positive integers up to the largest int32 row count', () => {
    const numWords = 10;
    expect(ngramVocabularySize({ kind: 'hashed', ngramRange: 2, numWords, buckets: 2 ** 31 - 1 - numWords - 1 })).toBe(2 ** 31 - 1);
    expect(() => ngramVocabularySize({ kind: 'hashed', ngramRange: 2, numWords, buckets: 2 ** 31 - numWords - 1 })).toThrow(/at most 2\^31 - 1/);
    expect(() => ngramVocabularySize({ kind: 'hashed', ngramRange: 2, numWords, buckets: 1.5 })).toThrow(/buckets must be a positive integer .*got 1.5/);
    expect(() => ngramVocabularySize({ kind: 'hashed', ngramRange: 2, numWords: 0, buckets: 5 })).toThrow(/numWords must be a positive integer/);
    expect(Array.from(reviewNgrams([1, 2, 3], { kind: 'hashed', ngramRange: 2, numWords, buckets: 1 }))).toEqual([1, 2, 3, 11, 11]);
  });

  it('Dictionary::hash takes the byte 0x80 as a negative char (values from keras_fasttext.py)', () => {
    expect(fasttextHash('\u00c0')).toBe(1408929014); // C3 80
    expect(fasttextHash('\u0080')).toBe(1408678751); // C2 80
    expect(fasttextHash('\u00ff')).toBe(788157111); // C3 BF
    expect(fasttextHash('\u00ff\u20ac')).toBe(787778305); // C3 BF E2 82 AC
  });

  it("a token's hash is its decimal digits' hash at every length", () => {
    const tokens = [...Array.from({ length: 1200 }, (_, t) => t), ...Array.from({ length: 10 }, (_, k) => 10 ** k - 1), ...Array.from({ length: 10 }, (_, k) => 10 ** k), -1, -9, -10, -100, -123456];
    for (const token of tokens) expect(fasttextTokenHash(token), String(token)).toBe(fasttextHash(String(token)) | 0);
  });
});
