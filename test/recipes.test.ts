/**
 * runner/recipes.ts: each recipe's data preparation (the tutorial's is tutorialData's exactly;
 * Keras' fastText example pads and truncates 'pre' and indexes bigrams of the fitting reviews
 * only), the tutorial recipe trains the same weights as runTutorial, and the bigram recipe trains
 * end to end and learns what only bigrams can tell.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { ImdbData } from '../src/data/imdb.js';
import { reviewNgrams } from '../src/data/ngrams.js';
import { padSequences, Sequences } from '../src/data/sequences.js';
import { BEST_CANDIDATE, candidateRecipe, getRecipe, prepareRecipeData, RECIPE_NAMES, RECIPES, runRecipe, type Recipe } from '../src/runner/recipes.js';
import { runTutorial, tutorialData } from '../src/runner/tutorial.js';
import { useGpu } from './gpu-helpers.js';
import { FIXTURES } from './helpers.js';

const silent = { log: () => {}, output: { write: () => true } };

/** A small LCG (tests only). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

/** Reviews of random ids in [1, vocab) and random labels, as load_data returns them. */
function randomImdb(trainCount: number, testCount: number, vocab: number, seed: number): ImdbData {
  const next = lcg(seed);
  const split = (count: number): [Sequences, Uint8Array] => [
    Sequences.fromArrays(Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 300) }, () => 1 + Math.floor(next() * (vocab - 1))))),
    Uint8Array.from({ length: count }, () => (next() < 0.5 ? 1 : 0)),
  ];
  return [split(trainCount), split(testCount)];
}

/**
 * Reviews where only word order tells the label: positives hold the pair (7, 8) 25 times,
 * negatives (8, 7); each pair is followed by a filler word, so neither pair forms across a
 * boundary. Word counts have the same distribution in both classes: a bag of words is at chance.
 */
function orderOnlyImdb(trainCount: number, testCount: number, seed: number): ImdbData {
  const next = lcg(seed);
  const filler = () => [1, 2, 3, 4, 5, 6, 9, 10, 11, 12][Math.floor(next() * 10)];
  const review = (positive: boolean) => {
    const tokens: number[] = [];
    for (let pairs = 0; pairs < 25; ) {
      if (next() < 0.2) {
        tokens.push(...(positive ? [7, 8] : [8, 7]), filler());
        pairs++;
      } else tokens.push(filler());
    }
    return tokens;
  };
  const split = (count: number): [Sequences, Uint8Array] => {
    const y = Uint8Array.from({ length: count }, (_, i) => i % 2);
    return [Sequences.fromArrays(Array.from(y, (label) => review(label === 1))), y];
  };
  return [split(trainCount), split(testCount)];
}

describe('recipes', () => {
  it('are the four the CLI names, and an unknown name is refused with the list', () => {
    expect(RECIPE_NAMES).toEqual(['tutorial', 'fasttext-unigram', 'fasttext-bigram', 'best']);
    for (const name of RECIPE_NAMES) expect(getRecipe(name).name).toBe(name);
    expect(() => getRecipe('fasttext')).toThrow("unknown recipe 'fasttext': choose one of tutorial, fasttext-unigram, fasttext-bigram, best");
  });

  it("Keras' fastText example: num_words 20000, maxlen 400, pre padding and truncating, 5 epochs at batch 32; bigrams for fasttext-bigram", () => {
    for (const name of ['fasttext-unigram', 'fasttext-bigram'] as const) {
      const { data, fit } = RECIPES[name];
      expect({ ...data, ngrams: undefined }).toEqual({ numWords: 20000, ngrams: undefined, maxlen: 400, padding: 'pre', truncating: 'pre', validationSize: 0 });
      expect(fit).toEqual({ epochs: 5, batchSize: 32 });
    }
    expect(RECIPES['fasttext-unigram'].data.ngrams).toBeNull();
    expect(RECIPES['fasttext-bigram'].data.ngrams).toEqual({ kind: 'index', ngramRange: 2 });
  });

  it("the tutorial recipe's data is tutorialData's, matrix for matrix", () => {
    const imdb = randomImdb(10300, 200, 10000, 3);
    const expected = tutorialData(imdb);
    const got = prepareRecipeData(RECIPES.tutorial, imdb);
    // Byte comparisons: toEqual over millions of elements takes seconds.
    const same = (a: { data: Int32Array; shape: number[] }, b: { data: Int32Array; shape: number[] }) => {
      expect(a.shape).toEqual(b.shape);
      expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
    };
    same(got.xTrain, expected.xTrain);
    same(got.validation![0], expected.xVal);
    same(got.xTest, expected.xTest);
    expect([got.yTrain, got.validation![1], got.yTest]).toEqual([expected.yTrain, expected.yVal, expected.yTest]);
    expect(got.vocabularySize).toBe(10000);
    expect(got.ngrams).toBeNull();
  });

  it('fasttext-bigram: n-grams from the training reviews only, appended before pre padding/truncating to 400', () => {
    const train = [[1, 2, 3], Array.from({ length: 450 }, (_, i) => 10 + (i % 7))];
    const test = [[3, 2, 1, 2, 3], [5, 6]];
    const imdb: ImdbData = [[Sequences.fromArrays(train), Uint8Array.of(0, 1)], [Sequences.fromArrays(test), Uint8Array.of(1, 0)]];
    const prepared = prepareRecipeData(RECIPES['fasttext-bigram'], imdb);
    // Bigrams by first appearance: (1,2) 20001, (2,3) 20002, then the long review's 7 distinct ones.
    expect(prepared.vocabularySize).toBe(20001 + 2 + 7);
    const row = (m: { data: Int32Array }, i: number) => Array.from(m.data.subarray(i * 400, (i + 1) * 400));
    expect(row(prepared.xTest, 0)).toEqual([...new Array(393).fill(0), 3, 2, 1, 2, 3, 20001, 20002]);
    expect(row(prepared.xTest, 1)).toEqual([...new Array(398).fill(0), 5, 6]);
    // 450 words + 449 bigram ids, truncated 'pre': the review's end (its last 400 bigram ids) stays.
    const long = reviewNgrams(train[1], prepared.ngrams!);
    expect(long.length).toBe(899);
    expect(row(prepared.xTrain, 1)).toEqual(Array.from(long.subarray(499)));
    expect(prepared.xTrain).toEqual(padSequences(train.map((r) => reviewNgrams(r, prepared.ngrams!)), { maxlen: 400 }));
  });

  it("best is the validation search's recorded winner, refit on every training review for the epochs it chose", () => {
    const search = JSON.parse(readFileSync(join('bench', 'results', 'gpu-h200', 'earlier', 'best-search.json'), 'utf8'));
    const winner = search.candidates.find((c: { index: number }) => c.index === search.winner);
    expect(winner.settings).toEqual(BEST_CANDIDATE);
    expect(RECIPES.best.fit).toEqual({ epochs: winner.chosenEpoch, batchSize: BEST_CANDIDATE.batchSize });
    expect(RECIPES.best.data).toEqual({ ...BEST_CANDIDATE.data, validationSize: 0 });
  });

  it("best's search holds out the first 5,000 training reviews, and its n-gram index never sees them; the refit's sees every one", () => {
    const imdb = randomImdb(5200, 50, 400, 5);
    const ngramsOf = (reviews: Int32Array[]) =>
      new Set(reviews.flatMap((r) => [...Array.from(r.subarray(1), (b, j) => `${r[j]},${b}`), ...Array.from(r.subarray(2), (c, j) => `${r[j]},${r[j + 1]},${c}`)]));
    const [[x]] = imdb;
    const searched = prepareRecipeData(candidateRecipe(BEST_CANDIDATE), imdb);
    expect(searched.validation![0].shape).toEqual([5000, 1000]);
    expect(searched.xTrain.shape).toEqual([200, 1000]);
    expect(searched.vocabularySize).toBe(20001 + ngramsOf(Array.from({ length: 200 }, (_, i) => x.get(5000 + i))).size);
    const refit = prepareRecipeData(RECIPES.best, imdb);
    expect(refit.validation).toBeUndefined();
    expect(refit.xTrain.shape).toEqual([5200, 1000]);
    expect(refit.vocabularySize).toBe(20001 + ngramsOf(Array.from({ length: 5200 }, (_, i) => x.get(i))).size);
  });

  it('limit keeps the first N reviews of each split; too few for the validation split is a clear error', () => {
    const imdb = randomImdb(300, 300, 100, 9);
    const prepared = prepareRecipeData(RECIPES['fasttext-unigram'], imdb, { limit: 120 });
    expect(prepared.xTrain.shape).toEqual([120, 400]);
    expect(prepared.xTest.shape).toEqual([120, 400]);
    expect(() => prepareRecipeData(candidateRecipe(BEST_CANDIDATE), imdb)).toThrow(/the training split has 300 reviews; the best recipe holds out the first 5000 for validation/);
  });
});

describe('recipes on the GPU', () => {
  const gpu = useGpu();

  it('runRecipe(tutorial) trains the weights runTutorial does', async () => {
    const imdb = randomImdb(400, 100, 10000, 11);
    const recipe: Recipe = { ...RECIPES.tutorial, data: { ...RECIPES.tutorial.data, validationSize: 100 } };
    const settings = { ...silent, epochs: 2, batchSize: 64, seed: 4 };
    const expected = await runTutorial(gpu(), imdb, { ...settings, validationSize: 100 });
    const got = await runRecipe(gpu(), imdb, recipe, settings);
    expect(got.model.execution).toBe(expected.model.execution);
    expect(await got.model.getWeights()).toEqual(await expected.model.getWeights());
    expect(got.history).toEqual(expected.history);
    expect(got.test).toEqual(expected.test);
  }, 120_000);

  it('fasttext-bigram learns from word order what fasttext-unigram cannot', async () => {
    const imdb = orderOnlyImdb(320, 160, 21);
    const settings = { ...silent, epochs: 3, seed: 1 };
    const bigram = await runRecipe(gpu(), imdb, RECIPES['fasttext-bigram'], settings);
    const unigram = await runRecipe(gpu(), imdb, RECIPES['fasttext-unigram'], settings);
    const [[x]] = imdb;
    const bigrams = new Set(x.toArrays().flatMap((r) => r.slice(1).map((b, j) => `${r[j]},${b}`)));
    expect(bigram.vocabularySize).toBe(20001 + bigrams.size);
    expect(bigram.test.accuracy).toBeGreaterThan(0.95);
    expect(unigram.test.accuracy).toBeLessThan(0.7);
  }, 300_000);
});

describe('shadergrad train --recipe', () => {
  it('runs a recipe end to end, refuses an unknown one, and --limit must be positive', async () => {
    // Built inside the project (as test/cli.test.ts does), so that `webgpu` resolves from node_modules.
    mkdirSync('node_modules/.cache', { recursive: true });
    const cli = join(mkdtempSync('node_modules/.cache/shadergrad-recipes-'), 'cli.mjs');
    await build({ entryPoints: ['src/cli.ts'], outfile: cli, bundle: true, platform: 'node', format: 'esm', external: ['webgpu'], loader: { '.wgsl': 'text' }, logLevel: 'error' });
    const out = mkdtempSync(join(tmpdir(), 'shadergrad-recipes-'));
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'train', ...args], { encoding: 'utf8', timeout: 120_000 });

    const unknown = run('--recipe', 'fasttext');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^shadergrad: --recipe must be one of tutorial, fasttext-unigram, fasttext-bigram, best, got 'fasttext'/);
    expect(run('--recipe', 'fasttext-bigram', '--limit', '0').stderr).toMatch(/^shadergrad: --limit must be a positive integer, got '0'/);

    const trained = run('--recipe', 'fasttext-bigram', '--data', join(FIXTURES, 'npz', 'mini.npz'), '--limit', '6', '--epochs', '1', '--out', out);
    expect(trained.stderr).toBe('');
    expect(trained.status).toBe(0);
    expect(trained.stdout).toMatch(/Recipe fasttext-bigram: /);
    expect(trained.stdout).toMatch(/Prepared 6 training and 6 test reviews of 400 tokens/);
    expect(trained.stdout).toMatch(/Test loss: \d\.\d{4}, test accuracy: \d\.\d{4}/);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.settings).toMatchObject({ recipe: 'fasttext-bigram', epochs: 1, batchSize: 32, limit: 6, numWords: 20000, maxlen: 400, ngrams: { kind: 'index', ngramRange: 2 } });
    expect(history.seconds.prepare).toBeGreaterThan(0);
  }, 180_000);
});
