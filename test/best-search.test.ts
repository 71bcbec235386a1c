/**
 * bench/best-search.ts and runner/recipes.ts `candidateRecipe`: a candidate's settings become the
 * Recipe it names (so `best` can be defined as the winning candidate), and the search reads the test
 * split only after its last candidate, once, for the winner (a spy on the test split records when).
 */
import { describe, expect, it } from 'vitest';
import type { ImdbData } from '../src/data/imdb.js';
import { Sequences } from '../src/data/sequences.js';
import { Dense, Dropout, Embedding, GlobalAveragePooling1D } from '../src/nn/layers.js';
import { LazyAdam } from '../src/nn/optimizers/index.js';
import { candidateRecipe, prepareRecipeData, refitRecipe, type FasttextCandidate } from '../src/runner/recipes.js';
import { bestSearch, CANDIDATES, effectiveSettings, type SearchReport } from '../bench/best-search.js';
import { useGpu } from './gpu-helpers.js';

const CANDIDATE: FasttextCandidate = {
  data: { numWords: 30, ngrams: { kind: 'hashed', ngramRange: 3, buckets: 97 }, maxlen: 40, padding: 'post', truncating: 'post', validationSize: 20 },
  embeddingDim: 6,
  maskZero: true,
  dropout: 0.25,
  learningRate: 0.02,
  batchSize: 16,
  epochs: 3,
  monitor: 'val_accuracy',
  patience: 2,
};

/** A small LCG (tests only). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

/** Reviews whose label is whether word 3 outnumbers word 4: learnable from a bag of words in a few epochs. */
function countingImdb(trainCount: number, testCount: number, seed: number): ImdbData {
  const next = lcg(seed);
  const split = (count: number): [Sequences, Uint8Array] => {
    const y = Uint8Array.from({ length: count }, (_, i) => i % 2);
    const reviews = Array.from(y, (label) => Array.from({ length: 10 + Math.floor(next() * 20) }, () => (next() < 0.4 ? (label ? 3 : 4) : 5 + Math.floor(next() * 20))));
    return [Sequences.fromArrays(reviews), y];
  };
  return [split(trainCount), split(testCount)];
}

/** `target` with every property read recorded as `event` in `events` (methods bound to the target, as typed arrays need). */
function spied<T extends object>(target: T, events: string[], event: string): T {
  return new Proxy(target, {
    get(t, property) {
      events.push(event);
      const value = Reflect.get(t, property, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

describe('candidateRecipe', () => {
  it('builds the layers, optimizer, fit and data a candidate names', () => {
    const recipe = candidateRecipe(CANDIDATE);
    expect(recipe.name).toBe('best');
    expect(recipe.data).toEqual(CANDIDATE.data);
    expect(recipe.fit).toEqual({ epochs: 3, batchSize: 16, earlyStoppingPatience: 2, earlyStoppingMonitor: 'val_accuracy' });
    const [embedding, pool, dropout, dense, ...rest] = recipe.layers(1234);
    expect(rest).toEqual([]);
    expect(embedding).toBeInstanceOf(Embedding);
    expect([(embedding as Embedding).inputDim, (embedding as Embedding).outputDim, (embedding as Embedding).maskZero]).toEqual([1234, 6, true]);
    expect(pool).toBeInstanceOf(GlobalAveragePooling1D);
    expect(dropout).toBeInstanceOf(Dropout);
    expect((dropout as Dropout).rate).toBe(0.25);
    expect(dense).toBeInstanceOf(Dense);
    expect((dense as Dense).activation).toBe('sigmoid');
    const optimizer = recipe.optimizer();
    expect(optimizer).toBeInstanceOf(LazyAdam);
    expect((optimizer as LazyAdam).learningRate).toBe(0.02);
    expect(recipe.summary).toContain('3-grams hashed into 97 buckets, maxlen 40 (post/post); Embedding(6, mask_zero) -> GlobalAveragePooling1D -> Dropout(0.25)');
  });

  it('leaves Dropout out at rate 0 and keeps Keras-style unmasked means when asked', () => {
    const layers = candidateRecipe({ ...CANDIDATE, dropout: 0, maskZero: false }).layers(50);
    expect(layers.map((l) => l.constructor.name)).toEqual(['Embedding', 'GlobalAveragePooling1D', 'Dense']);
    expect((layers[0] as Embedding).maskZero).toBe(false);
  });

  it('refitRecipe keeps the candidate and trains its chosen epochs on every training review, without early stopping', () => {
    const recipe = refitRecipe(CANDIDATE, 2);
    expect(recipe.data).toEqual({ ...CANDIDATE.data, validationSize: 0 });
    expect(recipe.fit).toEqual({ epochs: 2, batchSize: 16 });
    expect(recipe.layers(99).map((l) => l.constructor.name)).toEqual(candidateRecipe(CANDIDATE).layers(99).map((l) => l.constructor.name));
    expect((recipe.optimizer() as LazyAdam).learningRate).toBe(0.02);
  });

  it('refuses a candidate without validation reviews to choose its epoch on', () => {
    expect(() => candidateRecipe({ ...CANDIDATE, data: { ...CANDIDATE.data, validationSize: 0 } })).toThrow('validationSize must be positive, got 0');
  });

  it('every listed candidate holds out the first 5,000 training reviews and is a valid recipe', () => {
    for (const c of CANDIDATES) {
      expect(c.data.validationSize).toBe(5000);
      expect(candidateRecipe(c).layers(100)).toHaveLength(c.dropout > 0 ? 4 : 3);
    }
  });

  it('effectiveSettings caps the epochs and, under a limit, holds out the same fifth of the training reviews', () => {
    const c = { ...CANDIDATE, epochs: 8, data: { ...CANDIDATE.data, validationSize: 5000 } };
    expect(effectiveSettings(c, 5)).toEqual({ ...c, epochs: 5 });
    expect(effectiveSettings(c, 10, 2000)).toEqual({ ...c, data: { ...c.data, validationSize: 400 } });
  });
});

describe('bestSearch', () => {
  const gpu = useGpu();
  const silent = () => {};

  it('reads the test split only after the last candidate, and evaluates the best validation accuracy there', async () => {
    const events: string[] = [];
    const [[xTrain, yTrain], [xTest, yTest]] = countingImdb(120, 40, 1);
    const load = async (numWords: number): Promise<ImdbData> => {
      events.push(`load ${numWords}`);
      return [[xTrain, yTrain], [spied(xTest, events, 'test read'), spied(yTest, events, 'test read')]];
    };
    const candidates = [CANDIDATE, { ...CANDIDATE, learningRate: 0.05, dropout: 0 }, { ...CANDIDATE, learningRate: 1e-5 }];
    const onProgress = (report: SearchReport) => events.push(report.test ? 'tested' : `scored ${report.candidates.length}`);
    const report = await bestSearch(gpu(), load, candidates, { budgetSeconds: 600, epochsMax: 2, log: silent, onProgress });

    const lastScored = events.lastIndexOf('scored 3');
    const firstTestRead = events.indexOf('test read');
    expect(lastScored).toBeGreaterThan(0);
    expect(firstTestRead, events.filter((e, i) => e !== events[i - 1]).join(', ')).toBeGreaterThan(lastScored);
    expect(events.filter((e) => e.startsWith('load'))).toEqual(['load 30']);
    expect(events[events.length - 1]).toBe('tested');

    expect(report.candidates.map((c) => c.index)).toEqual([1, 2, 3]);
    for (const c of report.candidates) {
      expect(c.settings.epochs).toBe(2);
      expect(c.epochs.length).toBeLessThanOrEqual(2);
      expect(c.valAccuracy).toBe(c.epochs[c.chosenEpoch - 1].valAccuracy);
      expect(c.valAccuracy).toBe(Math.max(...c.epochs.map((e) => e.valAccuracy)));
    }
    const bestAccuracy = Math.max(...report.candidates.map((c) => c.valAccuracy));
    expect(report.winner).toBe(report.candidates.find((c) => c.valAccuracy === bestAccuracy)!.index);
    expect(report.test!.reviews).toBe(40);
    expect(report.test!.weights).toBe('validation-run');
    expect(report.refit).toBeNull();
    // The counting task is learnable: the winner is well above chance on the test reviews.
    expect(report.test!.accuracy).toBeGreaterThan(0.75);
  }, 60_000);

  it('with refit, trains the winner again on every training review after the search, then reads the test split', async () => {
    const events: string[] = [];
    const [train, [xTest, yTest]] = countingImdb(100, 30, 4);
    const load = async (): Promise<ImdbData> => [train, [spied(xTest, events, 'test read'), yTest]];
    const onProgress = (report: SearchReport) => events.push(report.test ? 'tested' : report.refit ? 'refitted' : `scored ${report.candidates.length}`);
    const report = await bestSearch(gpu(), load, [CANDIDATE, { ...CANDIDATE, learningRate: 0.05 }], { budgetSeconds: 600, epochsMax: 2, refit: true, log: silent, onProgress });
    const winner = report.candidates.find((c) => c.index === report.winner)!;
    expect(report.refit!.epochs).toBe(winner.chosenEpoch);
    // Hashed n-grams: the refit's table has the candidates' size whatever reviews it sees.
    expect(report.refit!.vocabularySize).toBe(winner.vocabularySize);
    expect(report.test!.weights).toBe('refit');
    expect(events.filter((e, i) => e !== events[i - 1])).toEqual(['scored 1', 'scored 2', 'refitted', 'test read', 'tested']);
  }, 60_000);

  it('validates on the first training reviews with the n-grams of the others, as prepareRecipeData does', async () => {
    const imdb = countingImdb(60, 10, 2);
    const report = await bestSearch(gpu(), async () => imdb, [CANDIDATE], { budgetSeconds: 600, epochsMax: 1, log: silent });
    const { xTrain, validation, vocabularySize } = prepareRecipeData(candidateRecipe(CANDIDATE), imdb);
    expect(report.candidates[0].vocabularySize).toBe(vocabularySize);
    expect(xTrain.shape[0] + validation![0].shape[0]).toBe(60);
    expect(validation![0].shape[0]).toBe(CANDIDATE.data.validationSize);
  }, 30_000);

  it('starts no candidate once the budget is spent, and then reads no test review', async () => {
    const events: string[] = [];
    const [train, [xTest, yTest]] = countingImdb(60, 10, 3);
    const load = async (): Promise<ImdbData> => [train, [spied(xTest, events, 'test read'), yTest]];
    const report = await bestSearch(gpu(), load, [CANDIDATE, CANDIDATE], { budgetSeconds: 0, epochsMax: 1, numbers: [4, 7], log: silent });
    expect(report).toEqual({ candidates: [], notStarted: [4, 7], winner: null, refit: null, test: null });
    expect(events).toEqual([]);
  });
});
