/**
 * The `best` recipe's search (issue #12): fastText-shaped candidates (runner/recipes.ts
 * `FasttextCandidate`, one Recipe each through `candidateRecipe`) scored on the validation split
 * ONLY (the first 5,000 training reviews; the n-gram index is built from the other 20,000). The test
 * split is set aside when the data is loaded and read once, at the end, to evaluate the winner: the
 * candidate with the best validation accuracy, with the weights of its best epoch (EarlyStopping's
 * restore_best_weights), already trained.
 *
 *   npm run bench:best-search -- [--budget-seconds 240] [--limit N] [--epochs-max 8]
 *     [--out bench/results/best-search.json] [--data PATH] [--swiftshader] [--only 1,3] [--refit]
 *
 * Candidates run in the order of CANDIDATES (most likely to pass 0.91 first); none starts once the
 * budget is spent, and the one running stops at its next epoch end. Each data variant (num_words,
 * n-grams, maxlen, padding) is prepared once for the candidates that share it. A markdown row is
 * printed and the JSON rewritten after every candidate, so a killed run still leaves its results.
 *
 * `--refit` (decide before the run, never after seeing both): the winner's settings are trained
 * again on all 25,000 training reviews for the epoch count its validation run chose
 * (`refitRecipe`), and that model, not the validation-run weights, is the one evaluated on the test
 * split. The refit runs after the budget, in its own time (about chosen epochs x 1.25 of the
 * winner's epoch time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadData } from '../src/data/files.js';
import type { ImdbData, Labels } from '../src/data/imdb.js';
import { Sequences } from '../src/data/sequences.js';
import { Gpu } from '../src/gpu/gpu.js';
import type { Callback, CallbackModel } from '../src/nn/callbacks.js';
import type { Sequential } from '../src/nn/model.js';
import {
  candidateRecipe,
  describeCandidate,
  head,
  prepareRecipeData,
  recipeEarlyStopping,
  recipeMatrix,
  recipeModel,
  refitRecipe,
  type FasttextCandidate,
  type RecipeData,
  type RecipeMatrices,
} from '../src/runner/recipes.js';
import { machine } from './tutorial-runs.js';

/** The tutorial's and the `best` recipe's held-out reviews: the first 5,000 of the training split. */
const VALIDATION_SIZE = 5000;

const dataVariant = (ngrams: RecipeData['ngrams'], maxlen: number, numWords = 20000): RecipeData => ({
  numWords,
  ngrams,
  maxlen,
  // Keras' pad_sequences defaults, as its fastText example: a review longer than maxlen keeps its end.
  padding: 'pre',
  truncating: 'pre',
  validationSize: VALIDATION_SIZE,
});
const INDEX_2 = { kind: 'index', ngramRange: 2 } as const;
const INDEX_3 = { kind: 'index', ngramRange: 3 } as const;
const hashed = (ngramRange: number, buckets: number) => ({ kind: 'hashed', ngramRange, buckets }) as const;

/** fastText's shape (Joulin et al. 2016): a 10-wide embedding averaged over a review's own tokens. */
const candidate = (data: RecipeData, settings: Partial<Omit<FasttextCandidate, 'data'>> = {}): FasttextCandidate => ({
  data,
  embeddingDim: 10,
  maskZero: true,
  dropout: 0,
  learningRate: 3e-3,
  batchSize: 32,
  epochs: 8,
  monitor: 'val_accuracy',
  patience: 2,
  ...settings,
});

/**
 * Most likely to pass 0.91 first. Trigrams (NBSVM-trigram: 0.9187 against 0.912 with bigrams) with
 * a maxlen long enough that few reviews lose n-grams (a review of L words carries about 3L ids; the
 * median review is about 180 words); a masked mean, so a short review's signal is not diluted by
 * hundreds of padding rows; a learning rate above Adam's default, since LazyAdam moves a rare
 * n-gram's row only in the few steps that hold it. Then the variations around it, then Keras'
 * example itself (with the validation split) as the anchor.
 */
export const CANDIDATES: FasttextCandidate[] = [
  candidate(dataVariant(INDEX_3, 1000)),
  candidate(dataVariant(INDEX_2, 800)),
  candidate(dataVariant(INDEX_3, 1000), { embeddingDim: 20, learningRate: 1e-3 }),
  candidate(dataVariant(INDEX_3, 1000), { maskZero: false }),
  candidate(dataVariant(hashed(3, 2 ** 22), 1000)),
  candidate(dataVariant(INDEX_3, 1000), { learningRate: 1e-2, batchSize: 128, dropout: 0.2 }),
  candidate(dataVariant(INDEX_2, 400), { embeddingDim: 50, maskZero: false, learningRate: 1e-3, monitor: 'val_loss' }),
  candidate(dataVariant(INDEX_3, 1500), { batchSize: 64 }),
  candidate(dataVariant(INDEX_3, 1000, 40000)),
  candidate(dataVariant(hashed(2, 2 ** 21), 800)),
  candidate(dataVariant(INDEX_3, 1000), { embeddingDim: 50, learningRate: 1e-3, dropout: 0.5 }),
];

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

export interface CandidateResult {
  /** Position in the candidate list, from 1. */
  index: number;
  /** The settings as trained (epochs capped by --epochs-max): `candidateRecipe(settings)` is this run's recipe. */
  settings: FasttextCandidate;
  summary: string;
  vocabularySize: number;
  epochs: EpochRecord[];
  /** The epoch whose weights were kept (EarlyStopping's best), from 1, and its validation figures. */
  chosenEpoch: number;
  valLoss: number;
  valAccuracy: number;
  /** `prepare` is 0 when an earlier candidate prepared the same data. */
  seconds: { prepare: number; train: number };
  /** Training stopped at an epoch end because the budget was spent. */
  cutByBudget: boolean;
  /** The device's peak allocation so far in the search (the kept winner's model counts too). */
  peakGpuBytes: number;
}

export interface SearchReport {
  candidates: CandidateResult[];
  /** Candidates never started: the budget was spent. */
  notStarted: number[];
  /** The best validation accuracy's `index`, or null before any candidate finished. */
  winner: number | null;
  /** The winner's refit on every training review (`--refit`), null without it or before it. */
  refit: { epochs: number; vocabularySize: number; seconds: { prepare: number; train: number } } | null;
  /** The winner (its validation-run weights, or its refit) on the test split, evaluated once after the search; null until then. */
  test: { weights: 'validation-run' | 'refit'; loss: number; accuracy: number; reviews: number; seconds: number } | null;
}

export interface SearchOptions {
  budgetSeconds: number;
  epochsMax: number;
  /** Keep the first `limit` reviews of each split (a quick check). */
  limit?: number;
  seed?: number;
  /** Each candidate's number in the report (default: its position from 1), e.g. its place in CANDIDATES. */
  numbers?: number[];
  log?: (line: string) => void;
  /** Called after every candidate and after the test evaluation, with the report so far. */
  onProgress?: (report: SearchReport) => void;
  /** Train the winner's settings again on every training review for its chosen epochs, and test that model. */
  refit?: boolean;
}

/** Validation matrices and what the test split needs later: the test split is not among them. */
type Prepared = Omit<RecipeMatrices, 'xTest' | 'yTest'> & { seconds: number };

const NO_REVIEWS = new Sequences(new Int32Array(0), new Int32Array(1));

/**
 * Train every candidate that the budget allows on its training reviews, score it on its validation
 * reviews, and evaluate the best one once on the test split. `load(numWords)` is load_data; its test
 * split is held aside untouched until the search is over.
 */
export async function bestSearch(gpu: Gpu, load: (numWords: number) => Promise<ImdbData>, candidates: FasttextCandidate[], options: SearchOptions): Promise<SearchReport> {
  const { budgetSeconds, epochsMax, limit, seed = 0, log = console.log, onProgress } = options;
  const numbers = options.numbers ?? candidates.map((_, i) => i + 1);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const trainSplits = new Map<number, ImdbData[0]>();
  const heldOutTests = new Map<number, ImdbData[1]>();
  const prepared = new Map<string, Prepared>();
  const report: SearchReport = { candidates: [], notStarted: [], winner: null, refit: null, test: null };
  let best: { result: CandidateResult; model: Sequential; prepared: Prepared } | null = null;

  for (let i = 0; i < candidates.length; i++) {
    if (elapsed() >= budgetSeconds) {
      report.notStarted = numbers.slice(i);
      log(`Budget of ${budgetSeconds} s spent after ${report.candidates.length} candidates: ${report.notStarted.length} not started`);
      break;
    }
    const settings = effectiveSettings(candidates[i], epochsMax, limit);
    const recipe = candidateRecipe(settings);
    const { numWords } = settings.data;
    if (!trainSplits.has(numWords)) {
      const [train, test] = await load(numWords);
      trainSplits.set(numWords, train);
      heldOutTests.set(numWords, test);
    }
    const dataKey = JSON.stringify(settings.data);
    const reused = prepared.has(dataKey);
    let data = prepared.get(dataKey);
    if (!data) {
      const preparing = performance.now();
      // The test split given here is empty: candidates never see a test review.
      const { xTrain, yTrain, validation, vocabularySize, ngrams } = prepareRecipeData(recipe, [trainSplits.get(numWords)!, [NO_REVIEWS, new Uint8Array(0)]], { limit });
      data = { xTrain, yTrain, validation, vocabularySize, ngrams, seconds: (performance.now() - preparing) / 1000 };
      prepared.set(dataKey, data);
    }

    const model = recipeModel(gpu, recipe, data.vocabularySize, seed);
    model.compile({ optimizer: recipe.optimizer(), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const epochs: EpochRecord[] = [];
    let cutByBudget = false;
    let epochStart = performance.now();
    let fitting: CallbackModel | null = null;
    const record: Callback = {
      onTrainBegin: (m) => {
        fitting = m;
      },
      onEpochEnd: (epoch, logs) => {
        epochs.push({ epoch: epoch + 1, loss: logs.loss, accuracy: logs.accuracy, valLoss: logs.val_loss, valAccuracy: logs.val_accuracy, seconds: (performance.now() - epochStart) / 1000 });
        log(`  candidate ${numbers[i]} epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.accuracy.toFixed(4)}, val_loss ${logs.val_loss.toFixed(4)}, val_accuracy ${logs.val_accuracy.toFixed(4)} (${epochs[epochs.length - 1].seconds.toFixed(1)} s)`);
        if (elapsed() >= budgetSeconds && epoch + 1 < settings.epochs && fitting) {
          cutByBudget = true;
          fitting.stopTraining = true;
        }
        epochStart = performance.now();
      },
    };
    const early = recipeEarlyStopping(recipe, recipe.fit.earlyStoppingPatience, log, 0)!;
    const training = performance.now();
    await model.fit(data.xTrain, data.yTrain, { epochs: settings.epochs, batchSize: settings.batchSize, validationData: data.validation, verbose: 0, seed, callbacks: [record, early] });
    const chosen = epochs[early.bestEpoch];
    const result: CandidateResult = {
      index: numbers[i],
      settings,
      summary: describeCandidate(settings),
      vocabularySize: data.vocabularySize,
      epochs,
      chosenEpoch: chosen.epoch,
      valLoss: chosen.valLoss,
      valAccuracy: chosen.valAccuracy,
      seconds: { prepare: reused ? 0 : data.seconds, train: (performance.now() - training) / 1000 },
      cutByBudget,
      peakGpuBytes: gpu.stats.peakBytesAllocated,
    };
    report.candidates.push(result);
    if (!best || result.valAccuracy > best.result.valAccuracy) {
      best?.model.dispose();
      best = { result, model, prepared: data };
      report.winner = result.index;
    } else {
      model.dispose();
    }
    // Drop prepared data no later candidate shares (the winner keeps its n-gram spec for the test).
    if (!candidates.slice(i + 1).some((c) => JSON.stringify(effectiveSettings(c, epochsMax, limit).data) === dataKey)) prepared.delete(dataKey);
    onProgress?.(report);
  }

  if (!best) return report;
  const { result } = best;
  log(`Winner: candidate ${result.index} (val_accuracy ${result.valAccuracy.toFixed(4)} at epoch ${result.chosenEpoch})`);
  let { model } = best;
  let { ngrams } = best.prepared;
  if (options.refit) {
    model.dispose();
    const refitted = await refit(gpu, result, trainSplits.get(result.settings.data.numWords)!, { limit, seed, log });
    ({ model, ngrams } = refitted);
    report.refit = { epochs: result.chosenEpoch, vocabularySize: refitted.vocabularySize, seconds: refitted.seconds };
    onProgress?.(report);
  }
  const evaluating = performance.now();
  const [xTestAll, yTestAll] = heldOutTests.get(result.settings.data.numWords)!;
  const [xTestSeqs, yTest] = head(xTestAll, yTestAll as Labels, limit);
  const xTest = recipeMatrix(result.settings.data, ngrams, xTestSeqs);
  const [loss, accuracy] = await model.evaluate(xTest, yTest, { batchSize: result.settings.batchSize, verbose: 0 });
  model.dispose();
  report.test = { weights: options.refit ? 'refit' : 'validation-run', loss, accuracy, reviews: yTest.length, seconds: (performance.now() - evaluating) / 1000 };
  log(`Test (${report.test.weights} weights): loss ${loss.toFixed(4)}, accuracy ${accuracy.toFixed(4)} on ${yTest.length} reviews`);
  onProgress?.(report);
  return report;
}

/** The winner's settings trained on every training review for its chosen epoch count (`refitRecipe`). */
async function refit(gpu: Gpu, winner: CandidateResult, train: ImdbData[0], { limit, seed, log }: { limit?: number; seed: number; log: (line: string) => void }) {
  const recipe = refitRecipe(winner.settings, winner.chosenEpoch);
  const preparing = performance.now();
  const { xTrain, yTrain, vocabularySize, ngrams } = prepareRecipeData(recipe, [train, [NO_REVIEWS, new Uint8Array(0)]], { limit });
  const prepareSeconds = (performance.now() - preparing) / 1000;
  log(`Refit: candidate ${winner.index} on ${xTrain.shape[0]} training reviews (${vocabularySize} embedding rows) for ${recipe.fit.epochs} epochs`);
  const model = recipeModel(gpu, recipe, vocabularySize, seed);
  model.compile({ optimizer: recipe.optimizer(), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const training = performance.now();
  await model.fit(xTrain, yTrain, { epochs: recipe.fit.epochs, batchSize: recipe.fit.batchSize, verbose: 0, seed });
  return { model, ngrams, vocabularySize, seconds: { prepare: prepareSeconds, train: (performance.now() - training) / 1000 } };
}

/**
 * The candidate as it is trained: at most `epochsMax` epochs; under `limit`, a validation split of
 * the same fifth of the training reviews (5,000 of 25,000), so a quick check keeps reviews to fit on.
 */
export function effectiveSettings(candidate: FasttextCandidate, epochsMax: number, limit?: number): FasttextCandidate {
  const validationSize = limit === undefined ? candidate.data.validationSize : Math.min(candidate.data.validationSize, Math.max(1, Math.floor(limit / 5)));
  return { ...candidate, data: { ...candidate.data, validationSize }, epochs: Math.min(candidate.epochs, epochsMax) };
}

/** A short name for a candidate's settings in the table. */
function shortName({ data, embeddingDim, maskZero, dropout, learningRate, batchSize }: FasttextCandidate): string {
  const ngrams = data.ngrams === null ? '1' : data.ngrams.kind === 'index' ? `idx${data.ngrams.ngramRange}` : `hash${data.ngrams.ngramRange}/2^${Math.log2(data.ngrams.buckets).toFixed(0)}`;
  return `${ngrams} nw${data.numWords / 1000}k L${data.maxlen} d${embeddingDim}${maskZero ? ' mask' : ''}${dropout > 0 ? ` drop${dropout}` : ''} lr${learningRate} b${batchSize}`;
}

export const TABLE_HEADER = '| # | candidate | rows | epochs run | chosen | val_loss | val_accuracy | prepare | train |\n|---|---|---|---|---|---|---|---|---|';

export function tableRow(r: CandidateResult): string {
  return `| ${r.index} | ${shortName(r.settings)} | ${r.vocabularySize} | ${r.epochs.length}${r.cutByBudget ? ' (budget)' : ''} | ${r.chosenEpoch} | ${r.valLoss.toFixed(4)} | ${r.valAccuracy.toFixed(4)} | ${r.seconds.prepare.toFixed(1)} s | ${r.seconds.train.toFixed(1)} s |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'budget-seconds': { type: 'string', default: '240' },
      limit: { type: 'string' },
      'epochs-max': { type: 'string', default: '8' },
      out: { type: 'string', default: 'bench/results/best-search.json' },
      data: { type: 'string' },
      swiftshader: { type: 'boolean' },
      only: { type: 'string' },
      seed: { type: 'string', default: '0' },
      refit: { type: 'boolean' },
    },
  });
  const number = (flag: string, text: string | undefined, integer: boolean): number => {
    const n = Number(text);
    if (!(n > 0 && (!integer || Number.isInteger(n)))) throw new RangeError(`--${flag}: expected a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
    return n;
  };
  const budgetSeconds = number('budget-seconds', values['budget-seconds'], false);
  const epochsMax = number('epochs-max', values['epochs-max'], true);
  const limit = values.limit === undefined ? undefined : number('limit', values.limit, true);
  const seed = Number(values.seed);
  const only = values.only?.split(',').map((s) => number('only', s, true));
  for (const k of only ?? []) if (k > CANDIDATES.length) throw new RangeError(`--only: there are ${CANDIDATES.length} candidates, got ${k}`);
  const chosen = only ? only.map((k) => CANDIDATES[k - 1]) : CANDIDATES;
  const out = values.out!;
  mkdirSync(dirname(out), { recursive: true });

  const gpu = await Gpu.create({ forceSwiftShader: values.swiftshader });
  console.log(`Using ${gpu.describe()}; budget ${budgetSeconds} s, at most ${epochsMax} epochs, ${chosen.length} candidates${limit ? `, first ${limit} reviews of each split` : ''}`);
  const startedAt = new Date().toISOString();
  const loadSeconds: Record<number, number> = {};
  const load = async (numWords: number) => {
    const t = performance.now();
    const data = await loadData({ path: values.data, numWords });
    loadSeconds[numWords] = (performance.now() - t) / 1000;
    return data;
  };
  let printed = 0;
  console.log(TABLE_HEADER);
  const write = (report: SearchReport) => {
    for (; printed < report.candidates.length; printed++) console.log(tableRow(report.candidates[printed]));
    const summary = {
      benchmark: 'the best recipe search: fastText-shaped candidates scored on the first 5,000 training reviews only; the winner (best val_accuracy, its best epoch) evaluated once on the test split',
      date: startedAt,
      adapter: gpu.describe(),
      machine: machine(),
      node: process.version,
      options: { budgetSeconds, epochsMax, limit: limit ?? null, seed, only: only ?? null, refit: values.refit ?? false },
      loadSeconds,
      ...report,
      winnerSettings: report.winner === null ? null : report.candidates.find((c) => c.index === report.winner)!.settings,
    };
    writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
  };
  try {
    await bestSearch(gpu, load, chosen, { budgetSeconds, epochsMax, limit, seed, numbers: only, refit: values.refit, log: (line) => console.log(line), onProgress: write });
  } finally {
    gpu.close();
  }
  console.log(`Wrote ${out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
