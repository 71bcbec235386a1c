/**
 * Benchmark (issue #12's results table): each recipe as a user runs it, in Node (`shadergrad train
 * --recipe NAME`, a fresh process) and in the training page in headless Chromium (`--page train
 * --recipe NAME`), one after the other on the same adapter: test loss and accuracy, epochs, seconds
 * (load, n-grams, training, test) and peak GPU memory.
 *
 *   npm run bench:recipes -- [--recipes tutorial,fasttext-unigram,fasttext-bigram,best] [--where node,browser]
 *                            [--data PATH] [--out bench/results/recipes.json]
 *
 * Each recipe's result is written as soon as it is in (a long run cut short keeps what it finished),
 * merged into the JSON already at --out, so recipes can be measured in several sittings.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IMDB_NPZ, locateDataFile } from '../src/data/files.js';
import { getRecipe } from '../src/runner/recipes.js';
import { machine, timedProcess } from './tutorial-runs.js';

const { values } = parseArgs({
  options: {
    recipes: { type: 'string', default: 'tutorial,fasttext-unigram,fasttext-bigram,best' },
    where: { type: 'string', default: 'node,browser' },
    data: { type: 'string' },
    out: { type: 'string', default: join('bench', 'results', 'recipes.json') },
  },
});
const recipes = values.recipes!.split(',').map((name) => getRecipe(name).name);
const places = values.where!.split(',');
for (const p of places) if (p !== 'node' && p !== 'browser') throw new Error(`--where: unknown place '${p}' (node, browser)`);
const data = await locateDataFile(IMDB_NPZ, { path: values.data });

interface RecipeRun {
  adapter: string;
  /** From the process's start to its exit: what the user waits. */
  wallSeconds: number;
  seconds: Record<string, number>;
  epochs: number;
  test: { loss: number; accuracy: number };
  peakGpuBytes: number;
  loadAverageBefore: number[];
}

function inNode(recipe: string): RecipeRun {
  const out = mkdtempSync(join(tmpdir(), `recipe-${recipe}-`));
  try {
    const { wallSeconds, loadAverageBefore } = timedProcess(process.execPath, ['dist/cli.js', 'train', '--recipe', recipe, '--data', data, '--out', out]);
    const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    return { adapter: h.adapter, wallSeconds, seconds: h.seconds, epochs: h.epochSeconds.length, test: h.test, peakGpuBytes: h.gpuMemory.peakBytesAllocated, loadAverageBefore };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function inBrowser(recipe: string): RecipeRun {
  const out = mkdtempSync(join(tmpdir(), `recipe-page-${recipe}-`));
  try {
    const { wallSeconds, loadAverageBefore } = timedProcess(process.execPath, ['dist/bench/run.js', '--page', 'train', '--recipe', recipe, '--data', data, '--out', out, '--timeout', '3600']);
    const r = JSON.parse(readFileSync(join(out, 'browser-train.json'), 'utf8'));
    const adapter = r.adapter ? `${r.adapter.description || r.adapter.device} (${r.browser})` : String(r.browser);
    return { adapter, wallSeconds, seconds: r.seconds, epochs: r.epochSeconds.length, test: r.test, peakGpuBytes: r.gpuMemory.peakBytesAllocated, loadAverageBefore };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const saved = existsSync(values.out!) ? JSON.parse(readFileSync(values.out!, 'utf8')) : { recipes: {} };
for (const recipe of recipes) {
  for (const place of places) {
    const result = place === 'node' ? inNode(recipe) : inBrowser(recipe);
    console.log(`${recipe.padEnd(16)} ${place.padEnd(7)} test accuracy ${result.test.accuracy.toFixed(4)} (loss ${result.test.loss.toFixed(4)}), ${result.epochs} epochs, ${result.wallSeconds.toFixed(1)} s, peak GPU memory ${(result.peakGpuBytes / 2 ** 20).toFixed(1)} MiB (load average ${result.loadAverageBefore[0].toFixed(1)} before)`);
    saved.recipes[recipe] = { ...saved.recipes[recipe], [place]: { ...result, date: new Date().toISOString() } };
    const summary = { benchmark: 'each recipe as a user runs it: `shadergrad train --recipe NAME` in Node, and the training page in headless Chromium', machine: machine(), node: process.version, recipes: saved.recipes };
    mkdirSync(dirname(values.out!), { recursive: true });
    writeFileSync(values.out!, JSON.stringify(summary, null, 2) + '\n');
  }
}
console.log(`Wrote ${values.out}`);
