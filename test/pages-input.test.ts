/**
 * Bad input through the bench pages and `npm run bench`: unknown or malformed flags, bad URL
 * settings, files that are not what the pickers want, strange reviews. Each gives one clear
 * message naming what was wrong, nothing crashes or hangs, and the page stays usable.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, runPage } from '../bench/headless.js';
import { startServer, type StaticServer } from '../bench/server.js';
import { Dense, Embedding, GlobalAveragePooling1D, encodeModel, encodeWeights, type Layer, type LayerSpec, type NamedWeights } from '../src/index.js';
import { FIXTURES } from './helpers.js';

const ROOT = 'dist/pages';
const NPZ = join(FIXTURES, 'npz', 'mini_compressed.npz');
const dir = mkdtempSync(join(tmpdir(), 'shadergrad-input-'));
const file = (name: string, bytes: string | Uint8Array) => {
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
};
let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root: ROOT })]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('npm run bench: bad flags', () => {
  // A Chromium that does not exist: a flag that got past the checks would fail on it instead.
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, ['dist/bench/run.js', '--data', NPZ, '--out', join(dir, 'out'), '--chrome', join(dir, 'no-chromium'), ...args], { encoding: 'utf8', timeout: 30_000 });

  it.each([
    [['--bogus'], /Unknown option '--bogus' \(see --help/],
    [['--epochs', 'x'], /--epochs must be a whole number of at least 1, got 'x'/],
    [['--epochs', '0'], /--epochs must be a whole number of at least 1, got '0'/],
    [['--epochs', '2.5'], /--epochs must be a whole number/],
    [['--epochs'], /'--epochs <value>' argument missing/],
    [['--validation', '1e3'], /--validation must be a whole number of at least 1, got '1e3'/],
    [['--batches', '1,a'], /--batches must be whole numbers of at least 1 separated by commas .*got '1,a'/],
    [['--repeats', '-1'], /'--repeats' argument is ambiguous/],
    [['--repeats=-1'], /--repeats must be a whole number of at least 1, got '-1'/],
    [['--timeout', 'abc'], /--timeout must be a whole number of at least 1, got 'abc'/],
    [['--page', 'nope'], /--page: unknown page 'nope' \(one of train, kernels, compare, all\)/],
    [['--recipe', 'nope'], /--recipe must be a recipe \(tutorial, fasttext-unigram, fasttext-bigram, best\), got 'nope'/],
    [['--limit', '0'], /--limit must be a whole number of at least 1, got '0'/],
    [['--validation', '0'], /--validation must be a whole number of at least 1, got '0'/],
    // best holds out no reviews (it refits on all of them), so 0 is its floor.
    [['--recipe', 'best', '--validation', 'x'], /--validation must be a whole number of at least 0, got 'x'/],
    [['--backends', 'webgpu,foo'], /--backends must be TF.js backends .*\(webgpu, webgl, wasm, cpu\), got 'webgpu,foo'/],
    [['--backends', 'wasm,wasm'], /--backends .*each once/],
    [['stray'], /Unexpected argument 'stray'/],
  ])('%j', (args, message) => {
    const run = bench(...args);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^shadergrad bench: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/no-chromium/);
  });

  it('a --word-index that is not there is an error, not a run without it', () => {
    const run = bench('--word-index', join(dir, 'nope.json'));
    expect(run.status).toBe(1);
    // DataError messages are one line.
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^shadergrad bench: DataNotFoundError: imdb_word_index.json: not found; looked at the given path: .*nope\.json \(no such file\)/);
  });

  it('good flags get past the checks (to the missing Chromium); --help exits 0', () => {
    const run = bench('--epochs', '2', '--batches', '4,8', '--backends', 'webgpu,cpu', '--repeats', '2', '--timeout', '5', '--validation', '3');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no-chromium/);
    // A recipe that holds out no validation reviews may be given none.
    const recipe = bench('--page', 'train', '--recipe', 'fasttext-unigram', '--validation', '0', '--limit', '100');
    expect(recipe.status).toBe(1);
    expect(recipe.stderr).toMatch(/no-chromium/);
    const help = spawnSync(process.execPath, ['dist/bench/run.js', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--backends B,B .*webgpu, webgl, wasm, cpu/);
  });
});

/** Open a page; collect page errors (uncaught exceptions) and dialogs (alert() from injected HTML). */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(`${server.url}/${path}`, { timeout: 30_000 });
  return { page, problems };
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el as HTMLElement).innerText);
/** The message a page hands a headless runner, once the page has settled on one (or on none). */
const settled = async (page: Page): Promise<string> => {
  const done = () => window.__shadergradError !== undefined || /^(Pick or drop|Ready)/.test(document.querySelector('#status')!.textContent!);
  await page.waitForFunction(done, { timeout: 30_000 });
  return page.evaluate(() => window.__shadergradError ?? '');
};

describe('URL settings', () => {
  it.each([
    ['train.html?epochs=abc', /URL setting epochs must be a whole number of at least 1, got 'abc'/, '#epochs'],
    ['train.html?batch=0', /URL setting batch must be a whole number of at least 1, got '0'/, '#batch-size'],
    ['train.html?batchSize=2.5', /URL setting batchSize must be a whole number of at least 1, got '2.5'/, '#batch-size'],
    ['train.html?validation=-3', /URL setting validation must be a whole number of at least 1, got '-3'/, '#validation'],
    ['train.html?seed=', /URL setting seed must be a whole number of at least 0, got ''/, '#seed'],
    ['train.html?recipe=fasttext', /URL setting recipe must be a recipe \(tutorial, fasttext-unigram, fasttext-bigram, best\), got 'fasttext'/, '#recipe'],
    ['train.html?limit=0', /URL setting limit must be a whole number of at least 1, got '0'/, '#limit'],
    ['train.html?validation=0', /URL setting validation must be a whole number of at least 1, got '0'/, '#validation'],
    ['kernels.html?batches=1,x', /URL setting batches must be whole numbers of at least 1 separated by commas .*got '1,x'/, '#batches'],
    ['kernels.html?repeats=0', /URL setting repeats must be a whole number of at least 1, got '0'/, '#repeats'],
    ['kernels.html?timing=fast', /URL setting timing must be wall-clock, got 'fast'/, null],
    ['compare.html?backends=foo', /URL setting backends must be TF.js backends .*got 'foo'/, null],
    ['compare.html?epochs=1e3', /URL setting epochs must be a whole number of at least 1, got '1e3'/, null],
  ])('%s', async (path, message, field) => {
    const { page, problems } = await open(path);
    try {
      expect(await settled(page)).toMatch(new RegExp(`^SettingError: ${message.source}`));
      expect(await text(page, '#error')).toMatch(message);
      if (field) {
        // The bad setting stays out of its input (nothing runs on a default not asked for); the page stays usable.
        expect(await page.$eval(field, (el) => (el as HTMLInputElement).value)).toBe('');
        expect(await page.$eval('input:not([type=file]):not(' + field + ')', (el) => (el as HTMLInputElement).value)).not.toBe('');
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('good settings give no error; a headless run with a bad one ends at once with its message', async () => {
    for (const [path, field, value] of [['train.html?epochs=2&batch=4&validation=3&seed=0', '#batch-size', '4'], ['kernels.html?batches=4,8&repeats=2', '#batches', '4,8']]) {
      const { page, problems } = await open(path);
      expect(await settled(page), path).toBe('');
      expect(await page.$eval(field, (el) => (el as HTMLInputElement).value)).toBe(value);
      expect(problems).toEqual([]);
      await page.close();
    }
    // A recipe's own epochs, batch size and validation reviews are the defaults; the URL's win.
    for (const [path, expected] of [
      ['train.html?recipe=fasttext-unigram', { recipe: 'fasttext-unigram', epochs: '5', 'batch-size': '32', validation: '0', limit: '' }],
      ['train.html?recipe=best&epochs=2&limit=100', { recipe: 'best', epochs: '2', 'batch-size': '32', validation: '0', limit: '100' }],
      ['train.html', { recipe: 'tutorial', epochs: '40', 'batch-size': '512', validation: '10000', limit: '' }],
    ] as const) {
      const { page, problems } = await open(path);
      expect(await settled(page), path).toBe('');
      const values = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, (document.getElementById(id) as HTMLInputElement).value])), Object.keys(expected));
      expect(values, path).toEqual(expected);
      // Choosing another recipe fills its defaults.
      await page.select('#recipe', 'fasttext-bigram');
      expect(await page.$eval('#epochs', (el) => (el as HTMLInputElement).value)).toBe('5');
      expect(await text(page, '#recipe-summary')).toMatch(/^fasttext-bigram: Keras' imdb_fasttext example with every training bigram/);
      expect(problems).toEqual([]);
      await page.close();
    }
    const started = Date.now();
    await expect(runPage({ page: 'kernels', settings: { repeats: 'x' }, root: ROOT, browser, timeoutSeconds: 30 })).rejects.toThrow(
      /kernels page failed: SettingError: URL setting repeats must be a whole number of at least 1, got 'x'/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('the train page with bad files and strange reviews', () => {
  const good = readFileSync(NPZ);
  const badData: [path: string, message: RegExp][] = [
    [file('notes.txt', 'hello, this is a text file\n'), /ZipFormatError: notes\.txt at byte \d+: not a zip archive/],
    [file('picture.png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(200).fill(7)])), /ZipFormatError: picture\.png at byte \d+: not a zip archive/],
    [file('empty.npz', ''), /ZipFormatError: empty\.npz at byte 0: .*found a 0-byte file/],
    [file('truncated.npz', good.subarray(0, good.length >> 1)), /ZipFormatError: truncated\.npz at byte \d+: not a zip archive, or truncated/],
    [file('other.zip', zipSync({ 'hello.txt': strToU8('hi') })), /DatasetError: other\.zip: x_train\.npy: missing array 'x_train' .*found hello\.txt/],
    // A name that is HTML: shown as text, never parsed.
    [file('<img src=x onerror=alert(1)>.npz', 'x'), /ZipFormatError: <img src=x onerror=alert\(1\)>\.npz at byte 0/],
  ];

  it('each bad file says what is wrong with it; a good one then loads, trains and answers reviews', async () => {
    // It starts from a bad URL setting: the page says so and still takes files and trains.
    const { page, problems } = await open('train.html?epochs=abc&batch=4&validation=3');
    try {
      expect(await settled(page)).toMatch(/^SettingError: URL setting epochs/);
      const upload = async (input: string, path: string) => ((await page.$(input)) as ElementHandle<HTMLInputElement>).uploadFile(path);
      const pick = async (input: string, path: string) => {
        await page.$eval('#status', (el) => (el.textContent = ''));
        await upload(input, path);
        await page.waitForFunction(() => /^(Could not read|Data loaded)/.test(document.querySelector('#status')!.textContent!), { timeout: 10_000 });
      };
      const disabled = (id: string) => page.$eval(id, (el) => (el as HTMLButtonElement).disabled);

      for (const [path, message] of badData) {
        await pick('#data-file', path);
        const name = path.slice(dir.length + 1);
        expect(await text(page, '#error')).toMatch(message);
        expect(await page.evaluate(() => window.__shadergradError)).toMatch(message);
        expect(await text(page, '#status')).toBe(`Could not read ${name}: pick another file.`);
        expect(await text(page, '#data-info')).toBe(`${name} could not be read: see the error above.`);
        expect(await disabled('#train')).toBe(true);
      }
      expect(await page.$$('img')).toHaveLength(0);

      // Dropped rather than picked: the same message.
      await page.$eval('#status', (el) => (el.textContent = ''));
      await page.$eval('#data-drop', (zone) => {
        const drop = new DataTransfer();
        drop.items.add(new File(['{"not": "a zip"}'], 'dropped.json'));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(() => /^Could not read/.test(document.querySelector('#status')!.textContent!), { timeout: 10_000 });
      expect(await text(page, '#error')).toMatch(/ZipFormatError: dropped\.json at byte \d+: not a zip archive/);

      // A good file after the bad ones loads and clears the error.
      await pick('#data-file', NPZ);
      expect(await text(page, '#data-info')).toBe('mini_compressed.npz: 9 training and 6 test reviews.');
      expect(await page.$eval('#error', (el) => (el as HTMLElement).hidden)).toBe(true);
      expect(await page.evaluate(() => window.__shadergradError)).toBeUndefined();

      // The word index: broken JSON, JSON of the wrong shape, then a good one.
      const wordIndexCases: [string, string | Uint8Array, RegExp][] = [
        ['broken.json', '{"the": 1, "film":', /DatasetError: broken\.json: word index is not valid JSON/],
        ['list.json', '[1, 2]', /DatasetError: list\.json: word index must be a JSON object .*found array/],
        ['ranks.json', '{"the": "first"}', /DatasetError: ranks\.json: word index entry 'the' is not a positive integer rank/],
        ['imdb.npz', good, /DatasetError: imdb\.npz: word index is not valid JSON/],
      ];
      for (const [name, content, message] of wordIndexCases) {
        await page.$eval('#status', (el) => (el.textContent = ''));
        await upload('#word-index-file', file(name, content));
        await page.waitForFunction(() => /^Could not read/.test(document.querySelector('#status')!.textContent!), { timeout: 10_000 });
        expect(await text(page, '#error')).toMatch(message);
        expect(await text(page, '#word-index-info')).toBe(`${name} could not be read: see the error above.`);
      }
      const words = ['the', 'film', 'was', 'great', 'bad'];
      await upload('#word-index-file', file('words.json', JSON.stringify(Object.fromEntries(words.map((w, i) => [w, i + 1])))));
      await page.waitForFunction(() => document.querySelector('#word-index-info')!.textContent === 'words.json: 5 words.', { timeout: 10_000 });

      // Settings typed into the page that cannot train: a message, and the page stays usable.
      const trainWith = async (id: string, value: string, message: RegExp) => {
        await page.$eval(id, (el, v) => ((el as HTMLInputElement).value = v), value);
        await page.evaluate(() => delete window.__shadergradError);
        await page.click('#train');
        await page.waitForFunction(() => window.__shadergradError !== undefined && !document.querySelector<HTMLButtonElement>('#train')!.disabled, { timeout: 30_000 });
        expect(await text(page, '#error')).toMatch(message);
      };
      await trainWith('#epochs', '0', /^SettingError: Epochs must be a whole number of at least 1, got '0'$/);
      await page.$eval('#epochs', (el) => ((el as HTMLInputElement).value = '1'));
      await trainWith('#validation', '100', /^DatasetError: the training split has 9 reviews; the tutorial recipe holds out the first 100 for validation/);
      await page.$eval('#validation', (el) => ((el as HTMLInputElement).value = '3'));

      await page.click('#train');
      await page.waitForFunction(() => !document.querySelector<HTMLElement>('#test')!.hidden, { timeout: 120_000 });
      expect(await disabled('#predict')).toBe(false);

      // Reviews: each answered within a bounded time, as text, with the page still answering.
      // A review is `unit` repeated `times`, made in the page: megabytes need not cross the protocol.
      const predict = async (unit: string, times: number) => {
        await page.$eval('#prediction', (el) => (el.textContent = ''));
        await page.$eval('#review', (el, t, n) => ((el as HTMLTextAreaElement).value = t.repeat(n)), unit, times);
        const started = Date.now();
        await page.click('#predict');
        await page.waitForFunction(() => document.querySelector('#prediction')!.textContent !== '' && !document.querySelector<HTMLButtonElement>('#predict')!.disabled, {
          timeout: 10_000,
        });
        expect((Date.now() - started) / 1000, 'seconds to answer').toBeLessThan(10);
        // And nothing left running: a script runs at once.
        const ping = Date.now();
        await page.evaluate(() => 1);
        expect(Date.now() - ping, 'ms to answer a script').toBeLessThan(1000);
        return page.$eval('#prediction', (el) => (el as HTMLElement).innerText);
      };
      const probability = /(positive|negative) with probability \d\.\d{3}\s+p\(positive\) = \d\.\d{4}; /;
      const answer = (note: string) => new RegExp(`^${probability.source}${note}\\.$`);
      const reviews: [string, string, number, RegExp][] = [
        ['empty', '  \n ', 1, /^Type a review first\.$/],
        ['punctuation only', '!!! ... ??? -- (:', 1, /^That review has no words, only punctuation\.$/],
        ['unknown words only', 'zyzzyva quux frobnicate', 1, answer('0 of 3 words in the word index, so the model sees only the start token')],
        ['emoji, RTL, zero-width', '😀🎬 שלום مرحبا\u200f great\u200b \u202eevil\u202c film', 1, answer('1 of 6 words in the word index')],
        ['2 MB of words', 'the film was great ', 110_000, answer('440000 of 440000 words in the word index, only its last 256 tokens are read')],
        ['one 1 MB word', 'a', 2 ** 20, answer('0 of 1 words in the word index, so the model sees only the start token')],
        ['over 4 million characters', 'the film was great ', 250_000, /^That review has 4,750,000 characters; the box reads at most 4,000,000 \(the model reads only the last 256 tokens\)\.$/],
        ['HTML', '<img src=x onerror=alert(1)><script>alert(2)</script> great film', 1, answer('2 of 12 words in the word index')],
      ];
      for (const [what, unit, times, expected] of reviews) expect(await predict(unit, times), what).toMatch(expected);
      expect(await page.$$('img, #prediction script')).toHaveLength(0);
      // The published JSON holds the last review as it was typed.
      expect(await page.evaluate(() => (window.__shadergradResult as any).review.review)).toBe(reviews.at(-1)![1]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

/**
 * Model files (.sgm) written in Node, as `model.save()` writes them (encodeModel over a model's
 * description): the tutorial's layers with chosen weights, so the page's answer can be checked
 * against a plain TypeScript forward pass.
 */
describe('the train page with model files', () => {
  const VOCABULARY = 10000;
  const WIDTH = 16;
  const MAXLEN = 256;
  const f32 = (n: number, value: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => value(i));
  const table = f32(VOCABULARY * WIDTH, (i) => Math.sin(i) * 0.5);
  const hidden = f32(WIDTH * WIDTH, (i) => Math.cos(i) * 0.3);
  const hiddenBias = f32(WIDTH, (i) => 0.01 * i);
  const out = f32(WIDTH, (i) => Math.sin(3 * i) * 0.8);
  const outBias = f32(1, () => 0.1);
  const layerSpecs = (layers: Layer[], maxlen: number): LayerSpec[] =>
    layers.map((layer, i) => ({ className: layer.className, config: i === 0 ? { ...layer.getConfig(), batch_input_shape: [null, maxlen] } : layer.getConfig() }));
  const weights = (values: Float32Array[], shapes: number[][]): NamedWeights[] => values.map((v, i) => ({ name: `w${i}`, shape: shapes[i], values: v }));
  const tutorialWeights = weights([table, hidden, hiddenBias, out, outBias], [[VOCABULARY, WIDTH], [WIDTH, WIDTH], [WIDTH], [WIDTH, 1], [1]]);
  const tutorialLayers = layerSpecs([new Embedding(VOCABULARY, WIDTH), new GlobalAveragePooling1D(), new Dense(WIDTH, { activation: 'relu' }), new Dense(1, { activation: 'sigmoid' })], MAXLEN);
  const tutorialModel = encodeModel({ architecture: tutorialLayers, weights: tutorialWeights });

  /** The tutorial model's forward pass in float64: mean of the rows (padding included), relu layer, sigmoid. */
  function reference(tokens: number[]): number {
    const mean = Array.from({ length: WIDTH }, (_, j) => tokens.reduce((sum, t) => sum + table[t * WIDTH + j], 0) / tokens.length);
    const relu = Array.from({ length: WIDTH }, (_, k) => Math.max(0, mean.reduce((sum, m, j) => sum + m * hidden[j * WIDTH + k], hiddenBias[k])));
    return 1 / (1 + Math.exp(-relu.reduce((sum, a, k) => sum + a * out[k], outBias[0])));
  }

  const fasttextLayers = (rows: number) => layerSpecs([new Embedding(rows, 50), new GlobalAveragePooling1D(), new Dense(1, { activation: 'sigmoid' })], 400);
  const fasttextModel = (rows: number) =>
    encodeModel({ architecture: fasttextLayers(rows), weights: weights([new Float32Array(rows * 50), new Float32Array(50), new Float32Array(1)], [[rows, 50], [50, 1], [1]]) });
  const damaged = Uint8Array.from(tutorialModel);
  damaged[damaged.length >> 1] ^= 0x40;

  it('a model saved in Node answers reviews without training; bad files each give one line and leave the loaded model usable', async () => {
    const { page, problems } = await open('train.html');
    try {
      expect(await settled(page)).toBe('');
      const upload = async (selector: string, path: string) => ((await page.$(selector)) as ElementHandle<HTMLInputElement>).uploadFile(path);
      const loadModel = async (path: string) => {
        await page.$eval('#status', (el) => (el.textContent = ''));
        await upload('#model-file', path);
        await page.waitForFunction(() => /^(Model loaded|Could not load)/.test(document.querySelector('#status')!.textContent!), { timeout: 30_000 });
        return text(page, '#status');
      };
      await upload('#word-index-file', file('model-words.json', JSON.stringify({ the: 1, film: 2, was: 3, great: 4 })));
      await page.waitForFunction(() => /: 4 words\.$/.test(document.querySelector('#word-index-info')!.textContent!), { timeout: 10_000 });
      const predict = async () => {
        await page.evaluate(() => delete window.__shadergradResult);
        await page.$eval('#review', (el) => ((el as HTMLTextAreaElement).value = 'The film was great!'));
        await page.click('#predict');
        await page.waitForFunction(() => (window.__shadergradResult as any)?.review, { timeout: 30_000 });
        return page.evaluate(() => window.__shadergradResult as any);
      };

      expect(await page.$eval('#save-model', (el) => (el as HTMLButtonElement).disabled), 'nothing to save yet').toBe(true);
      expect(await loadModel(file('tutorial.sgm', tutorialModel))).toBe('Model loaded. Try a review below.');
      expect(await text(page, '#model-info')).toBe('tutorial.sgm: Embedding → GlobalAveragePooling1D → Dense → Dense, read as the tutorial recipe reads reviews.');
      const first = await predict();
      // Keras' word index (rank + 3 after the start token 1), padded 'post' to 256 as the tutorial pads.
      const tokens = [1, 4, 5, 6, 7, ...new Array(MAXLEN - 5).fill(0)];
      expect(first.review.tokens).toEqual(tokens);
      expect(first.review.probability).toBeCloseTo(reference(tokens), 6);
      expect(first.settings).toMatchObject({ recipe: 'tutorial', model: 'tutorial.sgm', maxlen: MAXLEN, padding: 'post' });

      const badModels: [name: string, bytes: Uint8Array, message: RegExp][] = [
        ['damaged.sgm', damaged, /^ModelFileError: damaged\.sgm: CRC-32 of the data does not match the one stored .*corrupt or truncated$/],
        ['newer.sgm', encodeWeights(tutorialWeights, { model: { format: 'shadergrad-model', version: 2, architecture: tutorialLayers } }), /^ModelFileError: newer\.sgm: a version 2 model file; this shadergrad reads version 1 \(written by a newer shadergrad\)$/],
        ['weights.sgw', encodeWeights(tutorialWeights), /^ModelFileError: weights\.sgw: a weights file without a model description/],
        ['notes.sgm', new TextEncoder().encode('not a model\n'), /^ModelFileError: notes\.sgm: not a shadergrad weights file/],
        ['odd.sgm', encodeModel({ architecture: layerSpecs([new Embedding(7, 2), new GlobalAveragePooling1D(), new Dense(1)], 5), weights: weights([new Float32Array(14), new Float32Array(2), new Float32Array(1)], [[7, 2], [2, 1], [1]]) }), /^ModelFileError: odd\.sgm: a model reading 5 tokens through Embedding of 7 rows fits no recipe/],
        ['bigrams.sgm', fasttextModel(20049), /^ModelFileError: bigrams\.sgm: its fasttext-bigram recipe adds n-grams whose index a model file does not hold; load the imdb\.npz it was trained on first/],
      ];
      for (const [name, bytes, message] of badModels) {
        expect(await loadModel(file(name, bytes)), name).toBe(`Could not load ${name}: pick another model file.`);
        const error = await text(page, '#error');
        expect(error, name).toMatch(message);
        expect(error.split('\n'), `${name}: one line`).toHaveLength(1);
      }
      // The failed loads changed nothing: the tutorial model still answers, as the tutorial recipe.
      expect(await page.$eval('#recipe', (el) => (el as HTMLSelectElement).value)).toBe('tutorial');
      const again = await predict();
      expect(again.review.probability).toBe(first.review.probability);
      expect(again.settings.model).toBe('tutorial.sgm');

      // With the data loaded the index is rebuilt: it must give the embedding's row count.
      await upload('#data-file', NPZ);
      await page.waitForFunction(() => /^Data loaded/.test(document.querySelector('#status')!.textContent!), { timeout: 10_000 });
      expect(await loadModel(file('other-bigrams.sgm', fasttextModel(20005)))).toMatch(/^Could not load/);
      expect(await text(page, '#error')).toMatch(
        /^ModelFileError: other-bigrams\.sgm: its embedding has 20005 rows, but the fasttext-bigram recipe's n-grams rebuilt from mini_compressed\.npz \(validation 0, no limit\) give 20049: set the recipe/,
      );
      expect(await loadModel(file('bigrams.sgm', fasttextModel(20049)))).toBe('Model loaded. Try a review below.');
      const bigrams = await predict();
      expect(bigrams.settings).toMatchObject({ recipe: 'fasttext-bigram', model: 'bigrams.sgm', maxlen: 400, padding: 'pre' });
      expect(bigrams.review.tokens).toHaveLength(400);
      expect(bigrams.review.probability).toBe(0.5); // zero weights
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
