/**
 * End to end in headless Chromium: every bench page loads, trains or times on a
 * small fixture, publishes valid JSON, and fits a phone's width; failures end
 * the run quickly with their message.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchPageError, launchBrowser, runPage, type PageName } from '../bench/headless.js';
import { median } from '../bench/stats.js';
import { ngramVocabularySize, reviewNgrams } from '../src/data/ngrams.js';
import { encodeReview, imdbFromNpz, padSequences, parseWordIndex } from '../src/index.js';
import { getRecipe, prepareRecipeData } from '../src/runner/recipes.js';
import { FIXTURES } from './helpers.js';

const ROOT = 'dist/pages';
const dir = mkdtempSync(join(tmpdir(), 'shadergrad-pages-'));
const wordIndex = join(dir, 'words.json');
const notAnNpz = join(dir, 'broken.npz');
/** The recipe test's data: the full imdb.npz when $IMDB_NPZ is set, else the fixture. */
const recipeNpz = process.env.IMDB_NPZ || join(FIXTURES, 'npz', 'mini_compressed.npz');
const recipeWords = join(dir, 'recipe-words.json');
const FILES = {
  '/data/mini.npz': join(FIXTURES, 'npz', 'mini_compressed.npz'),
  '/data/words.json': wordIndex,
  '/data/broken.npz': notAnNpz,
  '/data/recipe.npz': recipeNpz,
  '/data/recipe-words.json': recipeWords,
};
const FIXTURE = { data: '/data/mini.npz', validation: 3 };
let browser: Browser;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  writeFileSync(wordIndex, JSON.stringify(Object.fromEntries(['the', 'film', 'was', 'great', 'bad'].map((w, i) => [w, i + 1]))));
  writeFileSync(notAnNpz, 'this is not a zip file');
  browser = await launchBrowser();
});
afterAll(() => browser?.close());

/** At a phone's width, nothing is wider than the screen. */
async function fitsPhone(page: Page): Promise<void> {
  await page.setViewport({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'horizontal overflow at 390 px').toBeLessThanOrEqual(0);
}

const run = (page: PageName, settings: Record<string, string | number>, inspect?: (p: Page) => Promise<void>) =>
  runPage({ page, settings, files: FILES, root: ROOT, browser, timeoutSeconds: 240, inspect });

/** A training record: one time per epoch, their median, and finite final metrics. */
function expectTrained(who: string, t: any, epochs: number): void {
  expect(t.epochSeconds, `${who}: epochSeconds`).toHaveLength(epochs);
  for (const s of t.epochSeconds) expect(s, `${who}: an epoch's seconds`).toBeGreaterThan(0);
  expect(t.medianEpochSeconds, `${who}: median of the recorded epochs`).toBeCloseTo(median(t.epochSeconds), 9);
  expect(t.totalSeconds, `${who}: total`).toBeGreaterThanOrEqual(t.epochSeconds.reduce((a: number, b: number) => a + b, 0) - 1e-6);
  for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) expect(Number.isFinite(t.final[key]), `${who}: final ${key} = ${t.final[key]}`).toBe(true);
  for (const key of ['accuracy', 'val_accuracy']) expect(t.final[key], `${who}: ${key}`).toBeLessThanOrEqual(1);
}

/**
 * What the compare page claims: shadergrad trained; each TF.js backend trained or failed with its
 * reason (and then has no times); every ratio is the quotient of the recorded times it names.
 */
function expectCompareClaims(result: any, epochs: number): void {
  expectTrained('shadergrad', result.shadergrad, epochs);
  const ours = result.shadergrad.medianEpochSeconds;
  for (const b of result.backends) {
    if (b.error !== undefined) {
      expect(b.error, `${b.backend}: the reason it failed`).toMatch(/\S{3}/);
      expect(b.epochSeconds, `${b.backend}: failed, yet has times`).toBeUndefined();
      expect(b.speedup, `${b.backend}: failed, yet has a ratio`).toBeUndefined();
    } else {
      expectTrained(`TF.js ${b.backend}`, b, epochs);
      expect(b.speedup, `${b.backend}: speedup = its median epoch / shadergrad's`).toBeCloseTo(b.medianEpochSeconds / ours, 9);
    }
    if (b.kernelError !== undefined) expect(b.kernelError).toMatch(/\S{3}/);
    else expect(b.kernelMs, `${b.backend}: kernel times`).toHaveLength(result.shadergrad.kernelMs.length);
  }
  const kernelRows = result.backends.flatMap((b: any) => (b.kernelMs ?? []).map((ms: number, i: number) => ({ backend: b.backend, ms, i })));
  expect(result.kernels).toHaveLength(kernelRows.length);
  result.kernels.forEach((k: any, j: number) => {
    const { backend, ms, i } = kernelRows[j];
    expect([k.backend, k.tfjsMs, k.shadergradMs]).toEqual([backend, ms, result.shadergrad.kernelMs[i]]);
    expect(k.speedup, `${k.kernel} on ${backend}`).toBeCloseTo(ms / result.shadergrad.kernelMs[i], 9);
  });
  const trained = result.backends.filter((b: any) => b.error === undefined);
  const fastest = trained.reduce((best: any, b: any) => (!best || b.medianEpochSeconds < best.medianEpochSeconds ? b : best), null);
  expect(result.fastestTfjs).toBe(fastest?.backend ?? null);
  if (fastest) expect(result.speedupVsFastest).toBeCloseTo(fastest.medianEpochSeconds / ours, 9);
  else expect(result.speedupVsFastest).toBeNull();
}

describe('bench pages', () => {
  it('train: trains on the fixture, draws curves, answers the review box', async () => {
    // The curves: two views of one drawing (loss, accuracy), a validation polyline per panel with a point per epoch.
    const curves = async (page: Page) => {
      await fitsPhone(page);
      const drawn = await page.evaluate(() => Array.from(document.querySelectorAll('#chart svg'), (svg) => ({
        label: svg.getAttribute('aria-label'),
        lines: Array.from(svg.querySelectorAll('polyline'), (l) => (l.getAttribute('points') ?? '').trim().split(/\s+/).length),
      })));
      expect(drawn.map((d) => d.label)).toEqual(['Training and validation loss', 'Training and validation accuracy']);
      for (const d of drawn) expect(d.lines).toEqual([2, 2]);
    };
    const result = (await run('train', { ...FIXTURE, epochs: 2, batch: 4, wordIndex: '/data/words.json', review: 'The film was great!' }, curves)) as any;
    expect(result.page).toBe('train');
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) {
      expect(result.history[key], key).toHaveLength(2);
      expect(result.history[key].every(Number.isFinite), key).toBe(true);
    }
    expect(result.adapter.architecture || result.adapter.description).toBeTruthy();
    expect(result.browser).toMatch(/Chrome/);
    expect(result.history.loss).toHaveLength(2);
    expect(Number.isFinite(result.test.accuracy)).toBe(true);
    expect(result.review.probability).toBeGreaterThanOrEqual(0);
    expect(result.review.probability).toBeLessThanOrEqual(1);
  });

  it('train: a recipe with bigrams trains, reads a typed review through its n-grams, and its saved model.sgm loads back and predicts alike', async () => {
    const recipe = getRecipe('fasttext-bigram');
    const limit = 2000;
    const data = imdbFromNpz(readFileSync(recipeNpz), { numWords: recipe.data.numWords });
    // A review typed as words whose ids are the first training review's: every bigram of it is in the index.
    const ids = Array.from(data[0][0].get(0)).filter((id) => id >= 4);
    const words = Object.fromEntries(ids.map((id) => [`w${id - 3}`, id - 3]));
    writeFileSync(recipeWords, JSON.stringify(words));
    const review = ids.map((id) => `w${id - 3}`).join(' ');

    // What the page must have done to the review: Keras' word index, the recipe's n-grams, its padding.
    const prepared = prepareRecipeData(recipe, data, { limit });
    const encoded = encodeReview(review, parseWordIndex(JSON.stringify(words)), { numWords: recipe.data.numWords });
    const withNgrams = reviewNgrams(encoded, prepared.ngrams!);
    const { maxlen, padding, truncating } = recipe.data;
    const expectedTokens = Array.from(padSequences([withNgrams], { maxlen, padding, truncating }).data);
    expect(withNgrams.length, 'the review has bigrams in the index').toBeGreaterThan(encoded.length);

    const downloads = mkdtempSync(join(dir, 'downloads-'));
    let loaded: any = null;
    // After training: Save model downloads model.sgm; loading that file back answers the same review alike.
    const saveAndLoad = async (page: Page) => {
      await fitsPhone(page);
      const cdp = await page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
      await page.click('#save-model');
      const saved = join(downloads, 'model.sgm');
      for (let waited = 0; !(existsSync(saved) && readdirSync(downloads).length === 1) && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(saved), 'model.sgm downloaded').toBe(true);
      await page.$eval('#status', (el) => (el.textContent = ''));
      await ((await page.$('#model-file')) as ElementHandle<HTMLInputElement>).uploadFile(saved);
      await page.waitForFunction(() => /^(Model loaded|Could not load)/.test(document.querySelector('#status')!.textContent!), { timeout: 30_000 });
      expect(await page.evaluate(() => window.__shadergradError)).toBeUndefined();
      expect(await page.$eval('#model-info', (el) => el.textContent)).toMatch(/model\.sgm: Embedding → GlobalAveragePooling1D → Dense, read as the fasttext-bigram recipe reads reviews/);
      await page.click('#predict');
      await page.waitForFunction(() => (window.__shadergradResult as any)?.model === 'model.sgm' && (window.__shadergradResult as any)?.review, { timeout: 30_000 });
      loaded = await page.evaluate(() => window.__shadergradResult);
    };
    const result = (await run('train', { data: '/data/recipe.npz', recipe: 'fasttext-bigram', epochs: 1, limit, wordIndex: '/data/recipe-words.json', review }, saveAndLoad)) as any;

    // (a) the recipe's run, its figures published.
    expect(result.recipe).toBe('fasttext-bigram');
    expect(result.settings).toMatchObject({ recipe: 'fasttext-bigram', epochs: 1, batchSize: 32, limit, numWords: 20000, maxlen: 400, padding: 'pre', ngrams: { kind: 'index', ngramRange: 2 } });
    expect(result.vocabularySize).toBe(ngramVocabularySize(prepared.ngrams!));
    expect(result.epochSeconds).toHaveLength(1);
    expect(result.seconds.train).toBeGreaterThan(0);
    expect(result.gpuMemory.peakBytesAllocated).toBeGreaterThanOrEqual(result.vocabularySize * 50 * 4);
    expect(Number.isFinite(result.test.loss)).toBe(true);
    expect(result.test.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.test.accuracy).toBeLessThanOrEqual(1);
    // (b) the row the model read is the review with the recipe's n-grams, padded as the recipe pads.
    expect(result.review.ngrams).toBe(withNgrams.length - encoded.length);
    expect(result.review.tokens).toEqual(expectedTokens);
    // (c) the saved file, loaded, reads the review the same way and gives the same probability.
    expect(loaded.settings).toMatchObject({ recipe: 'fasttext-bigram', model: 'model.sgm', limit });
    expect(loaded.review.tokens).toEqual(expectedTokens);
    expect(loaded.review.probability).toBe(result.review.probability);
  });

  it('kernels: times every kernel next to the copy kernel', async () => {
    const result = (await run('kernels', { batches: '4', repeats: 2 }, fitsPhone)) as any;
    expect(result.page).toBe('kernels');
    expect(['timestamp-query', 'wall-clock']).toContain(result.timing);
    expect(result.kernels.length).toBeGreaterThan(10);
    // The fused path's kernels, timed beside the unfused ones.
    const names = result.kernels.map((k: any) => `${k.kernel} ${k.entry}`);
    for (const fused of ['fused embedding-bag forward', 'fused embedding-bag forward + mark', 'fused embedding-bag backward', 'fused head trainSample', 'fused head gradients', 'fused adam update']) {
      expect(names).toContain(fused);
    }
    expect(JSON.stringify(result)).not.toMatch(/NaN|null,"gbps"/);
    // Each figure is computed from the recorded ones: GB/s from bytes and time, % of copy from the copy beside it.
    for (const k of result.kernels) {
      const what = `${k.kernel} ${k.entry} at batch ${k.batch}`;
      expect(k.timeUs, what).toBeGreaterThan(0);
      expect(k.gbps, `${what}: GB/s`).toBeCloseTo(k.bytes / k.timeUs / 1000, 9);
      const copy = result.copy.find((c: any) => c.batch === k.batch && c.beside === `${k.kernel} ${k.entry}`);
      expect(copy, `${what}: its copy kernel`).toBeTruthy();
      expect(k.copyGbps, `${what}: copy GB/s`).toBeCloseTo(copy.gbps, 9);
      expect(k.percentOfCopy, `${what}: % of copy`).toBeCloseTo((100 * k.gbps) / k.copyGbps, 6);
    }
  });

  it('compare: trains with TensorFlow.js and shadergrad on the same data', async () => {
    const result = (await run('compare', { ...FIXTURE, epochs: 1, backends: 'webgpu,wasm', repeats: 2 }, fitsPhone)) as any;
    expect(result.page).toBe('compare');
    expect(result.tfjsVersion).toMatch(/^\d+\.\d+/);
    expect(result.backends.map((b: any) => b.backend)).toEqual(['webgpu', 'wasm']);
    expectCompareClaims(result, 1);
    // The comparison claims nothing unless TF.js trained somewhere: its WebGPU backend must.
    expect(result.backends[0].error, 'TF.js webgpu').toBeUndefined();
  });

  it('a missing or broken data file ends the run with its message, not a hang', async () => {
    const started = Date.now();
    await expect(run('train', { data: '/data/nope.npz', validation: 3, epochs: 1 })).rejects.toThrow(/train page failed: .*404/);
    await expect(run('train', { data: '/data/broken.npz', validation: 3, epochs: 1 })).rejects.toThrow(/ZipFormatError/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('without WebGPU (not a secure context) the page says so and the run fails', async () => {
    const own = await launchBrowser(undefined, ['--host-resolver-rules=MAP insecure.test 127.0.0.1']);
    try {
      const error = await runPage({ page: 'kernels', settings: { batches: '4' }, root: ROOT, browser: own, host: 'insecure.test', timeoutSeconds: 60 }).catch((e) => e);
      expect(error).toBeInstanceOf(BenchPageError);
      expect(error.message).toMatch(/NoWebGPUError: No WebGPU adapter found/);
    } finally {
      await own.close();
    }
  });

  it('npm run bench (the built runner) saves the JSON and prints a summary; a bad flag exits non-zero', () => {
    const out = join(dir, 'results');
    const ok = spawnSync(process.execPath, ['dist/bench/run.js', '--page', 'kernels', '--batches', '4', '--repeats', '2', '--out', out], { encoding: 'utf8', timeout: 240_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/kernels: .*software: ratios only/);
    expect(existsSync(join(out, 'browser-kernels.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'browser-kernels.json'), 'utf8')).page).toBe('kernels');
    const bad = spawnSync(process.execPath, ['dist/bench/run.js', '--page', 'nope'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown page 'nope'/);
  });
});
