/**
 * End to end in headless Chromium: every bench page loads, trains or times on a
 * small fixture, publishes valid JSON, and fits a phone's width; failures end
 * the run quickly with their message.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchPageError, launchBrowser, runPage, type PageName } from '../bench/headless.js';
import { FIXTURES } from './helpers.js';

const ROOT = 'dist/pages';
const dir = mkdtempSync(join(tmpdir(), 'shadergrad-pages-'));
const wordIndex = join(dir, 'words.json');
const notAnNpz = join(dir, 'broken.npz');
const FILES = {
  '/data/mini.npz': join(FIXTURES, 'npz', 'mini_compressed.npz'),
  '/data/words.json': wordIndex,
  '/data/broken.npz': notAnNpz,
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

describe('bench pages', () => {
  it('train: trains on the fixture, draws curves, answers the review box', async () => {
    const result = (await run('train', { ...FIXTURE, epochs: 2, batch: 4, wordIndex: '/data/words.json', review: 'The film was great!' }, fitsPhone)) as any;
    expect(result.page).toBe('train');
    expect(result.adapter.architecture || result.adapter.description).toBeTruthy();
    expect(result.browser).toMatch(/Chrome/);
    expect(result.history.loss).toHaveLength(2);
    expect(Number.isFinite(result.test.accuracy)).toBe(true);
    expect(result.review.probability).toBeGreaterThanOrEqual(0);
    expect(result.review.probability).toBeLessThanOrEqual(1);
  });

  it('kernels: times every kernel next to the copy kernel', async () => {
    const result = (await run('kernels', { batches: '4', repeats: 2 }, fitsPhone)) as any;
    expect(result.page).toBe('kernels');
    expect(['timestamp-query', 'wall-clock']).toContain(result.timing);
    expect(result.kernels.length).toBeGreaterThan(10);
    // The fused path's kernels, timed beside the unfused ones.
    const names = result.kernels.map((k: any) => `${k.kernel} ${k.entry}`);
    for (const fused of ['fused embedding-bag forward', 'fused embedding-bag forward + mark', 'fused embedding-bag backward', 'fused head trainSample', 'fused head gradients', 'fused adam updateVec4']) {
      expect(names).toContain(fused);
    }
    expect(JSON.stringify(result)).not.toMatch(/NaN|null,"gbps"/);
  });

  it('compare: trains with TensorFlow.js and shadergrad on the same data', async () => {
    const result = (await run('compare', { ...FIXTURE, epochs: 1, backends: 'webgpu,wasm', repeats: 2 }, fitsPhone)) as any;
    expect(result.page).toBe('compare');
    expect(result.tfjsVersion).toMatch(/^\d+\.\d+/);
    expect(result.backends.map((b: any) => b.backend)).toEqual(['webgpu', 'wasm']);
    expect(result.shadergrad).toBeTruthy();
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
