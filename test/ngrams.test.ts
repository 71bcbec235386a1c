/**
 * src/data/ngrams.ts against test/fixtures/ngrams/keras_fasttext.py (Keras' imdb_fasttext.py and
 * fastText's addWordNgrams, in Python), whose outputs make_ngrams.py wrote to ngrams.json; on the
 * full imdb.npz (when $IMDB_NPZ is set) against imdb-bigrams.json, written the same way.
 */
import { describe, expect, it } from 'vitest';
import { loadData } from '../src/data/files.js';
import { addNgrams, fasttextHash, fasttextTokenHash, NgramIndex, ngramVocabularySize, reviewNgrams, type NgramSpec } from '../src/data/ngrams.js';
import { padSequences, Sequences } from '../src/data/sequences.js';
import { fixtureJson, fullDataset } from './helpers.js';

interface Fixture {
  numWords: number;
  xTrain: number[][];
  xTest: number[][];
  index: { ngramRange: number; ngrams: number[][]; train: number[][]; test: number[][] }[];
  hashed: { ngramRange: number; buckets: number; test: number[][] }[];
  fasttextHash: { word: string; hash: number }[];
}

const fixture = fixtureJson<Fixture>('ngrams', 'ngrams.json');
const { numWords, xTrain, xTest } = fixture;

describe("Keras' n-gram index (examples/imdb_fasttext.py)", () => {
  for (const expected of fixture.index) {
    const { ngramRange } = expected;
    const index = NgramIndex.fromTraining(xTrain, { ngramRange, numWords });
    const spec: NgramSpec = { kind: 'index', index };

    it(`n = 2..${ngramRange}: the training set's n-grams, ids from numWords + 1 in order of first appearance`, () => {
      expect(index.size).toBe(expected.ngrams.length);
      expect(Array.from({ length: index.size }, (_, k) => index.ngram(numWords + 1 + k))).toEqual(expected.ngrams);
      expect(index.vocabularySize).toBe(numWords + 1 + expected.ngrams.length);
      expect(ngramVocabularySize(spec)).toBe(index.vocabularySize);
      expected.ngrams.forEach((ngram, k) => expect(index.lookup(ngram, 0, ngram.length)).toBe(numWords + 1 + k));
    });

    it(`n = 2..${ngramRange}: add_ngram on the training and the test reviews`, () => {
      expect(addNgrams(xTrain, spec).toArrays()).toEqual(expected.train);
      expect(addNgrams(Sequences.fromArrays(xTest), spec).toArrays()).toEqual(expected.test);
    });

    it(`n = 2..${ngramRange}: one typed review gets what the dataset's review gets`, () => {
      xTest.forEach((review, i) => expect(Array.from(reviewNgrams(review, spec))).toEqual(expected.test[i]));
    });
  }

  it('n-grams unseen in training, tokens outside the training range and short windows have no id', () => {
    const index = NgramIndex.fromTraining([[1, 2, 3]], { ngramRange: 3, numWords: 10 });
    expect(index.lookup([1, 2], 0, 2)).toBe(11);
    expect(index.lookup([1, 2, 3], 0, 3)).toBe(13);
    expect(index.lookup([2, 1], 0, 2)).toBe(-1);
    expect(index.lookup([1, 2, 3, 4], 0, 4)).toBe(-1);
    expect(index.lookup([9, 2], 0, 2)).toBe(-1);
    expect(index.lookup([-1, 2], 0, 2)).toBe(-1);
    expect(Array.from(reviewNgrams([3, 2, 1, 2, 3], { kind: 'index', index }))).toEqual([3, 2, 1, 2, 3, 11, 12, 13]);
  });

  it('refuses what Keras would not index', () => {
    expect(() => NgramIndex.fromTraining(xTrain, { ngramRange: 1, numWords })).toThrow(/ngramRange must be an integer of at least 2/);
    expect(() => NgramIndex.fromTraining(xTrain, { ngramRange: 2, numWords: 0 })).toThrow(/numWords must be a positive integer/);
    expect(() => NgramIndex.fromTraining([[1, -3]], { ngramRange: 2, numWords })).toThrow('n-grams: token ids must lie in [0, 20000] (numWords), got -3');
    expect(() => NgramIndex.fromTraining([[1, 20001]], { ngramRange: 2, numWords })).toThrow(/got 20001: n-gram ids start at 20001/);
    expect(() => NgramIndex.fromTraining([[1, 2 ** 30]], { ngramRange: 3, numWords: 2 ** 30 })).toThrow(/do not fit an exact key/);
    const index = NgramIndex.fromTraining([[1, 2]], { ngramRange: 2, numWords: 10 });
    expect(() => index.ngram(10)).toThrow(/not an n-gram id in \[11, 12\)/);
    expect(() => reviewNgrams([3, 11], { kind: 'index', index })).toThrow(/must lie in \[0, 10\]/);
    expect(() => reviewNgrams([3, 11], { kind: 'hashed', ngramRange: 2, numWords: 10, buckets: 5 })).toThrow(/must lie in \[0, 10\]/);
  });
});

describe("fastText's hashed n-grams (Dictionary::addWordNgrams)", () => {
  it("Dictionary::hash: FNV-1a over signed chars, as the Python reference", () => {
    for (const { word, hash } of fixture.fasttextHash) expect(fasttextHash(word), word).toBe(hash);
  });

  it("a token's hash is its decimal digits' hash, as fastText keeps it (int32)", () => {
    for (const token of [0, 1, 9, 10, 99, 100, 12345, 19999, 2 ** 31 - 1, -5, -(2 ** 31)]) {
      expect(fasttextTokenHash(token), String(token)).toBe(fasttextHash(String(token)) | 0);
    }
  });

  for (const expected of fixture.hashed) {
    const spec: NgramSpec = { kind: 'hashed', ngramRange: expected.ngramRange, numWords, buckets: expected.buckets };
    it(`n = 2..${expected.ngramRange}, ${expected.buckets} buckets: the reference's ids, the dataset's and a typed review's alike`, () => {
      expect(addNgrams(xTest, spec).toArrays()).toEqual(expected.test);
      xTest.forEach((review, i) => expect(Array.from(reviewNgrams(review, spec))).toEqual(expected.test[i]));
      expect(ngramVocabularySize(spec)).toBe(numWords + 1 + expected.buckets);
    });
  }

  it('refuses bucket counts whose ids overflow int32', () => {
    const spec = (buckets: number): NgramSpec => ({ kind: 'hashed', ngramRange: 2, numWords, buckets });
    expect(() => addNgrams(xTest, spec(0))).toThrow(/buckets must be a positive integer/);
    expect(() => addNgrams(xTest, spec(2 ** 31 - numWords - 1))).toThrow(/at most 2\^31 - 1/);
    expect(() => ngramVocabularySize({ kind: 'hashed', ngramRange: 1, numWords, buckets: 10 })).toThrow(/ngramRange/);
  });
});

const imdb = fullDataset('test/ngrams.test.ts (the fasttext-bigram recipe\'s n-grams on the full imdb.npz)');
const MOD = 2 ** 32;

function checksum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total = (total + ((i + 1) * values[i]) % MOD) % MOD;
  return total;
}

describe.skipIf(!imdb)('the full imdb.npz, as Keras\' example prepares it (num_words=20000, bigrams)', () => {
  it('the same index, reviews and padded test matrix as the Python reference', async () => {
    const summary = fixtureJson('ngrams', 'imdb-bigrams.json');
    const [[train], [test]] = await loadData({ path: imdb, numWords: summary.numWords });
    const started = performance.now();
    const index = NgramIndex.fromTraining(train, { ngramRange: 2, numWords: summary.numWords });
    const trainNgrams = addNgrams(train, { kind: 'index', index });
    const seconds = (performance.now() - started) / 1000;
    console.log(`bigram index + add_ngram over the 25,000 training reviews: ${seconds.toFixed(2)} s`);
    expect(index.size).toBe(summary.size);
    expect(index.vocabularySize).toBe(summary.maxFeatures);
    expect(summary.firstNgrams.map((_: number[], k: number) => index.ngram(summary.numWords + 1 + k))).toEqual(summary.firstNgrams);
    expect([trainNgrams.values.length, checksum(trainNgrams.values)]).toEqual([summary.trainTokens, summary.trainChecksum]);
    const testNgrams = addNgrams(test, { kind: 'index', index });
    expect([testNgrams.values.length, checksum(testNgrams.values)]).toEqual([summary.testTokens, summary.testChecksum]);
    expect(checksum(padSequences(testNgrams, { maxlen: 400 }).data)).toBe(summary.testPaddedChecksum);
    const hashed = addNgrams(test, { kind: 'hashed', ngramRange: 2, numWords: summary.numWords, buckets: summary.hashedBuckets });
    expect(checksum(hashed.values)).toBe(summary.hashedTestChecksum);
  }, 120_000);
});
