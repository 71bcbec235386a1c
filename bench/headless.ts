/**
 * Headless runs of the bench pages: serve dist/pages on 127.0.0.1, open a page
 * in Chromium through Puppeteer with its settings in the URL, wait (bounded) for
 * its JSON, save it under bench/results/ and print a summary.
 *
 * The command line is bench/run.ts:
 *
 *   npm run bench -- [--page kernels|train|compare|all] [--epochs N] [--batches 64,512]
 *                    [--recipe NAME] [--limit N]
 *                    [--backends webgpu,webgl,wasm] [--data PATH] [--word-index PATH]
 *                    [--validation N] [--repeats N] [--timeout SECONDS] [--out DIR] [--chrome PATH] [--help]
 *   npm run train:browser -- [--recipe NAME] [--epochs N] ...   (the training page)
 *
 * A bad flag ends the run with one message naming it before a browser starts. Any
 * browser error (no WebGPU, a shader that does not compile, a lost device, a page
 * error, a crash) ends the run with its message and a non-zero exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { IMDB_NPZ, IMDB_WORD_INDEX, locateDataFile } from '../src/data/files.js';
import { RECIPE_NAMES, type RecipeName } from '../src/runner/recipes.js';
import { backendList, recipeName, SettingError, TFJS_BACKENDS, validationMinimum, wholeNumber, wholeNumbers } from './pages/settings.js';
import { startServer } from './server.js';
import { median } from './stats.js';

export const PAGES = ['train', 'kernels', 'compare'] as const;
export type PageName = (typeof PAGES)[number];

/** The flags that give headless Chromium WebGPU here (SwiftShader without a GPU). */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  // Timestamp queries at full resolution (Chrome quantizes them to 100 µs otherwise).
  '--enable-webgpu-developer-features',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** What a bench page leaves on `window` (bench/pages/page.ts). */
type PageGlobals = Window & { __shadergradResult?: unknown; __shadergradError?: string };

/** A page that failed, hung past its time limit, or could not run at all. */
export class BenchPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchPageError';
  }
}

export interface RunPageOptions {
  page: PageName;
  /** URL settings for the page (`auto=1` is added). */
  settings?: Record<string, string | number>;
  /** Local files served to the page, by URL path (`/data/imdb.npz`). */
  files?: Record<string, string>;
  /** Folder of the built pages (default dist/pages). */
  root?: string;
  timeoutSeconds?: number;
  /** Chromium to drive (default $CHROME_PATH, then /usr/bin/chromium). */
  chrome?: string;
  /** Reuse a browser (tests); otherwise one is launched and closed. */
  browser?: Browser;
  /** Open the page from this host name instead of 127.0.0.1 (tests of insecure origins). */
  host?: string;
  /** Called with the page once it has finished, before it is closed (screenshots, layout checks). */
  inspect?: (page: Page) => Promise<void>;
}

export function launchBrowser(chrome?: string, extraArgs: string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chrome ?? (process.env.CHROME_PATH || '/usr/bin/chromium'),
    headless: true,
    protocolTimeout: 30 * 60_000,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** Run one page to its end and return the JSON it published. */
export async function runPage(options: RunPageOptions): Promise<Record<string, unknown>> {
  const root = options.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'pages');
  const server = await startServer({ root, files: options.files });
  const browser = options.browser ?? (await launchBrowser(options.chrome));
  const timeoutMs = (options.timeoutSeconds ?? 1800) * 1000;
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /webgpu|gpu|shader|device/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  try {
    const query = new URLSearchParams({ ...Object.fromEntries(Object.entries(options.settings ?? {}).map(([k, v]) => [k, String(v)])), auto: '1' });
    const origin = options.host ? server.url.replace('127.0.0.1', options.host) : server.url;
    const url = `${origin}/${options.page}.html?${query}`;
    const response = await page.goto(url, { timeout: 60_000 });
    if (!response?.ok()) throw new BenchPageError(`${url}: HTTP ${response?.status()} (was the page built? run \`npm run build\`)`);
    await page
      .waitForFunction(() => (window as PageGlobals).__shadergradResult !== undefined || (window as PageGlobals).__shadergradError !== undefined, {
        timeout: timeoutMs,
        polling: 250,
      })
      .catch(() => {
        throw new BenchPageError(`${options.page} page: no result within ${timeoutMs / 1000} s${problems.length ? `; ${problems.join('; ')}` : ''}`);
      });
    const error = await page.evaluate(() => (window as PageGlobals).__shadergradError);
    if (error) throw new BenchPageError(`${options.page} page failed: ${error}`);
    if (problems.some((p) => p.startsWith('page error'))) throw new BenchPageError(`${options.page} page: ${problems.join('; ')}`);
    const result = (await page.evaluate(() => (window as PageGlobals).__shadergradResult)) as Record<string, unknown>;
    await options.inspect?.(page);
    return result;
  } finally {
    await page.close().catch(() => {});
    if (!options.browser) await browser.close().catch(() => {});
    await server.close();
  }
}

/** A few lines that say what a page's JSON holds. */
export function summarise(name: PageName, result: Record<string, any>): string[] {
  const a = result.adapter;
  const adapter = a ? `${a.description || a.device || `${a.vendor} ${a.architecture}`}${a.isSoftware ? ' (software: ratios only, not absolute speed)' : ''}` : 'none';
  const lines = [`${name}: ${adapter}; ${result.browser ?? ''}`];
  if (name === 'train' && result.test) {
    const epochs: number[] = result.epochSeconds ?? [];
    const memory = result.gpuMemory ? `; peak GPU memory ${(result.gpuMemory.peakBytesAllocated / 2 ** 20).toFixed(1)} MiB` : '';
    lines.push(`  recipe ${result.recipe ?? 'tutorial'}: ${epochs.length} epochs, median ${median(epochs).toFixed(2)} s/epoch${memory}`);
    lines.push(`  test loss ${result.test.loss.toFixed(4)}, accuracy ${result.test.accuracy.toFixed(4)}`);
    if (result.review) lines.push(`  review: p(positive) = ${Number(result.review.probability).toFixed(3)}`);
  }
  if (name === 'kernels' && Array.isArray(result.kernels)) {
    const largest = Math.max(...result.kernels.map((k: any) => k.batch));
    const copy = result.copy?.find((c: any) => c.batch === largest);
    lines.push(`  timed by ${result.timing}; batch ${largest}${copy ? `; copy kernel ${Number(copy.gbps).toFixed(2)} GB/s` : ''}`);
    lines.push('  | kernel | entry | time (µs) | GB/s | % of copy |', '  |---|---|---|---|---|');
    for (const k of result.kernels.filter((k: any) => k.batch === largest)) {
      lines.push(`  | ${k.kernel} | ${k.entry} | ${Number(k.timeUs).toFixed(1)} | ${Number(k.gbps).toFixed(2)} | ${Number(k.percentOfCopy).toFixed(1)} |`);
    }
  }
  if (name === 'compare' && Array.isArray(result.backends)) {
    lines.push(`  shadergrad: ${Number(result.shadergrad?.medianEpochSeconds).toFixed(2)} s/epoch`);
    lines.push('  | TF.js backend | s/epoch | shadergrad faster |', '  |---|---|---|');
    for (const b of result.backends) {
      lines.push(b.error ? `  | ${b.backend} | failed: ${b.error} | |` : `  | ${b.backend} | ${Number(b.medianEpochSeconds).toFixed(2)} | ${Number(b.speedup).toFixed(1)}x |`);
    }
  }
  return lines;
}

export const USAGE = `Usage: npm run bench -- [flags]
  --page P          train, kernels, compare or all (default all)
  --recipe NAME     the training recipe: ${RECIPE_NAMES.join(', ')} (train; default tutorial)
  --epochs N        epochs to train (train, compare; train: default the recipe's)
  --limit N         keep the first N reviews of each split (train: a quick check)
  --batches N,N     kernel batch sizes (kernels)
  --backends B,B    TF.js backends to compare: ${TFJS_BACKENDS.join(', ')} (default webgpu,wasm)
  --validation N    reviews held out for validation (train, compare)
  --repeats N       timed repeats (kernels, compare)
  --data PATH       imdb.npz (default: where the command line looks for it)
  --word-index PATH imdb_word_index.json (optional: the train page then classifies a review)
  --timeout S       seconds each page may take (default 1800)
  --out DIR         where the JSON goes (default bench/results)
  --chrome PATH     Chromium to drive (default $CHROME_PATH, then /usr/bin/chromium)`;

/** The flags, checked by the pages' own rules (bench/pages/settings.ts) before a browser starts. */
function readFlags(args: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        page: { type: 'string', default: 'all' },
        recipe: { type: 'string' },
        epochs: { type: 'string' },
        limit: { type: 'string' },
        batches: { type: 'string' },
        backends: { type: 'string' },
        data: { type: 'string' },
        'word-index': { type: 'string' },
        validation: { type: 'string' },
        repeats: { type: 'string' },
        timeout: { type: 'string', default: '1800' },
        out: { type: 'string', default: join('bench', 'results') },
        chrome: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs' messages run over several lines ('--repeats -1' is "ambiguous"): one line, and the flags.
    throw new SettingError(`${(error as Error).message.replace(/\s*\n\s*/g, ' ')} (see --help for the flags)`);
  }
  if (values.page !== 'all' && !PAGES.includes(values.page as PageName)) {
    throw new SettingError(`--page: unknown page '${values.page}' (one of ${PAGES.join(', ')}, all)`);
  }
  const settings: Record<string, string> = {};
  for (const key of ['epochs', 'repeats', 'limit'] as const) if (values[key] !== undefined) settings[key] = String(wholeNumber(`--${key}`, values[key], 1));
  if (values.recipe !== undefined) settings.recipe = recipeName('--recipe', values.recipe);
  const validationMin = validationMinimum((settings.recipe as RecipeName | undefined) ?? 'tutorial');
  if (values.validation !== undefined) settings.validation = String(wholeNumber('--validation', values.validation, validationMin));
  if (values.batches !== undefined) settings.batches = wholeNumbers('--batches', values.batches, 1).join(',');
  // TensorFlow.js' WebGL backend on SwiftShader blocked the page's main thread for over
  // 6 minutes per epoch on the full data: it is compared only when asked for.
  settings.backends = backendList('--backends', values.backends ?? 'webgpu,wasm').join(',');
  return {
    help: values.help === true,
    pages: values.page === 'all' ? [...PAGES] : [values.page as PageName],
    settings,
    timeoutSeconds: wholeNumber('--timeout', values.timeout!, 1),
    data: values.data,
    wordIndex: values['word-index'],
    out: values.out!,
    chrome: values.chrome,
  };
}

/** The command line (bench/run.ts): run the pages named by `args`, save and summarise their JSON. */
export async function runBench(args: string[]): Promise<void> {
  const { help, pages, settings, timeoutSeconds, out, chrome, ...paths } = readFlags(args);
  if (help) return console.log(USAGE);

  const files: Record<string, string> = {};
  if (pages.some((p) => p !== 'kernels')) {
    files['/data/imdb.npz'] = await locateDataFile(IMDB_NPZ, { path: paths.data });
    settings.data = '/data/imdb.npz';
    // Optional, unless asked for: a --word-index that is not there is an error, not a run without it.
    const wordIndex = await locateDataFile(IMDB_WORD_INDEX, { path: paths.wordIndex, alsoIn: [dirname(files['/data/imdb.npz'])] }).catch((error) => {
      if (paths.wordIndex !== undefined) throw error;
      return null;
    });
    if (wordIndex) {
      files['/data/imdb_word_index.json'] = wordIndex;
      settings.wordIndex = '/data/imdb_word_index.json';
      settings.review = 'This film was brilliant: the acting, the story and the music were wonderful.';
    }
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (error) {
    throw new SettingError(`--out ${out}: cannot make that folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const browser = await launchBrowser(chrome);
  try {
    for (const page of pages) {
      console.log(`Running the ${page} page…`);
      const result = await runPage({ page, settings, files, browser, timeoutSeconds });
      const path = resolve(out, `browser-${page}.json`);
      writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
      for (const line of summarise(page, result)) console.log(line);
      console.log(`  wrote ${path}`);
    }
  } finally {
    await browser.close();
  }
}
