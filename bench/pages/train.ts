/**
 * The training page: load `imdb.npz` (picked, dropped or `?data=URL`), train a recipe
 * (src/runner/recipes.ts: the tutorial, Keras' fastText example with or without bigrams, ...)
 * on this browser's GPU with live curves and Keras' log, show the test figures, then classify
 * reviews typed into the box, read as the recipe reads its data (Keras' word index, then its
 * n-grams, then its padding). The trained model saves as a model file (`model.sgm`), and a
 * saved one loads to answer reviews without training.
 *
 * URL settings: data, wordIndex, recipe, epochs, batch (or batchSize), seed, validation, limit,
 * review, auto=1 (train at once when `data` is given; with `review`, predict it after training).
 */
import {
  Gpu,
  ModelFileError,
  Sequential,
  decodeModel,
  encodeReview,
  historySvg,
  imdbFromNpz,
  padSequences,
  parseWordIndex,
  textToWordSequence,
  type AdapterReport,
  type ImdbData,
  type ModelDescription,
  type WordIndex,
} from '../../src/index.js';
import { ngramVocabularySize, reviewNgrams, type NgramSpec } from '../../src/data/ngrams.js';
import { RECIPES, RECIPE_NAMES, getRecipe, prepareRecipeData, runRecipe, type Recipe, type RecipeName } from '../../src/runner/recipes.js';
import { $, describeAdapter, fail, fetchBytes, fillFromUrl, intParam, onFileChosen, params, publish, setStatus, start } from './page.js';
import { recipeName, validationMinimum, wholeNumber } from './settings.js';

interface ReviewResult {
  review: string;
  probability: number | null;
  words: number;
  knownWords: number;
  /** N-gram ids appended to the review's word ids (the recipe's n-grams). */
  ngrams: number;
  /** The padded row of token ids the model read; empty when it read nothing. */
  tokens: number[];
}

/** How the current model reads a typed review: its recipe's preparation, and the n-gram index built for it. */
interface ReviewReading {
  recipe: Recipe;
  ngrams: NgramSpec | null;
}

const state: {
  adapter: AdapterReport | null;
  /** The npz as loaded; parsed once per num_words a recipe asks for (`dataFor`). */
  dataBytes: Uint8Array | null;
  data: Map<number, ImdbData>;
  dataName: string | null;
  wordIndex: WordIndex | null;
  wordIndexName: string | null;
  gpu: Gpu | null;
  model: Sequential | null;
  reading: ReviewReading | null;
  busy: boolean;
  lastRun: { settings: Record<string, unknown>; results: Record<string, unknown> } | null;
} = { adapter: null, dataBytes: null, data: new Map(), dataName: null, wordIndex: null, wordIndexName: null, gpu: null, model: null, reading: null, busy: false, lastRun: null };

const input = (id: string) => $(`#${id}`) as HTMLInputElement;
const button = (id: string) => $(`#${id}`) as HTMLButtonElement;
const recipeSelect = () => $('#recipe') as HTMLSelectElement;

/** An earlier error no longer holds once the user has done something that worked. */
function clearError(): void {
  $('#error').hidden = true;
  delete window.__shadergradError;
}

/** Train needs data; Predict needs a model and the word index; Save needs a model; nothing while busy. */
function refreshControls(): void {
  button('train').disabled = state.busy || !state.dataBytes;
  for (const id of ['data-file', 'word-index-file', 'model-file', 'epochs', 'batch-size', 'seed', 'validation', 'limit']) input(id).disabled = state.busy;
  recipeSelect().disabled = state.busy;
  button('predict').disabled = state.busy || !state.model || !state.wordIndex;
  button('save-model').disabled = state.busy || !state.model;
  $('#predict-hint').textContent = !state.model
    ? 'Train or load a model first.'
    : !state.wordIndex
      ? 'Load imdb_word_index.json (above) to encode reviews.'
      : 'Words not in the index are dropped, as in the dataset.';
}

// ---- Data ----

async function loadData(bytes: Uint8Array, name: string): Promise<void> {
  setStatus(`Reading ${name}…`);
  state.dataBytes = null;
  state.data.clear();
  $('#data-drop').classList.remove('loaded');
  $('#data-info').textContent = `${name} could not be read: see the error above.`;
  refreshControls();
  // Parsed now, so a bad file is refused at once; with the selected recipe's num_words (no
  // recipe selected, after a bad ?recipe=: the tutorial's), as training will most likely want.
  const { numWords } = (selectedRecipeOrNull() ?? RECIPES.tutorial).data;
  const data = imdbFromNpz(bytes, { numWords }, name);
  state.dataBytes = bytes;
  state.data.set(numWords, data);
  state.dataName = name;
  $('#data-info').textContent = `${name}: ${data[0][0].length.toLocaleString('en-US')} training and ${data[1][0].length.toLocaleString('en-US')} test reviews.`;
  $('#data-drop').classList.add('loaded');
  clearError();
  setStatus('Data loaded. Choose the settings and train.');
  refreshControls();
}

/** keras.datasets.imdb.load_data(num_words=numWords) on the loaded file. */
function dataFor(numWords: number): ImdbData {
  let data = state.data.get(numWords);
  if (!data) state.data.set(numWords, (data = imdbFromNpz(state.dataBytes!, { numWords }, state.dataName!)));
  return data;
}

async function loadWordIndex(text: string, name: string): Promise<void> {
  state.wordIndex = null;
  $('#word-index-drop').classList.remove('loaded');
  $('#word-index-info').textContent = `${name} could not be read: see the error above.`;
  state.wordIndex = parseWordIndex(text, name);
  state.wordIndexName = name;
  $('#word-index-info').textContent = `${name}: ${state.wordIndex.size.toLocaleString('en-US')} words.`;
  $('#word-index-drop').classList.add('loaded');
  clearError();
  refreshControls();
}

/** A file input and its drop zone both hand the file to `load`; errors show and leave the page usable. */
function fileSource(zone: string, fileInput: string, load: (file: File) => Promise<void>): void {
  const take = (file: File | undefined) => {
    if (!file || state.busy) return;
    load(file)
      .catch((error) => {
        fail(error);
        setStatus(`Could not read ${file.name}: pick another file.`);
      })
      .finally(refreshControls);
  };
  onFileChosen($(`#${zone}`), input(fileInput), take);
}

// ---- Settings ----

function selectedRecipe(): Recipe {
  return getRecipe(recipeName('Recipe', recipeSelect().value));
}

/** The selected recipe, or null when none is (after a bad ?recipe=). */
function selectedRecipeOrNull(): Recipe | null {
  const name = recipeSelect().value;
  return Object.hasOwn(RECIPES, name) ? RECIPES[name as RecipeName] : null;
}

const minValidation = (recipe: Recipe) => validationMinimum(recipe.name);

/** The recipe's own epochs, batch size and validation reviews, into the inputs (the user may then change them). */
function fillRecipeDefaults(recipe: Recipe): void {
  input('epochs').value = String(recipe.fit.epochs);
  input('batch-size').value = String(recipe.fit.batchSize);
  input('validation').value = String(recipe.data.validationSize);
  showRecipe(recipe);
}

function showRecipe(recipe: Recipe): void {
  input('validation').min = String(minValidation(recipe));
  $('#recipe-summary').textContent = `${recipe.name}: ${recipe.summary}.`;
}

const label = (id: string) => input(id).labels?.[0]?.textContent?.trim() || id;
const inputNumber = (id: string, min: number) => wholeNumber(label(id), input(id).value, min);

/**
 * A recipe (the selected one) as the inputs prepare its data: validation reviews as set (another
 * recipe, a loaded model's: its own), and `limit` reviews of each split (none: all). Training and
 * a loaded model's n-gram index both read these.
 */
function readPreparation(base = selectedRecipe()): { recipe: Recipe; limit: number | undefined } {
  const validationSize = base === selectedRecipeOrNull() ? inputNumber('validation', minValidation(base)) : base.data.validationSize;
  const limit = input('limit').value.trim() === '' ? undefined : inputNumber('limit', 1);
  return { recipe: { ...base, data: { ...base.data, validationSize } }, limit };
}

function readSettings() {
  return { ...readPreparation(), epochs: inputNumber('epochs', 1), batchSize: inputNumber('batch-size', 1), seed: inputNumber('seed', 0) };
}

/**
 * The n-gram index `recipe` builds from the loaded data (with `limit`), or null when it has no
 * n-grams. The index is a function of the training reviews (ids by first appearance), so the
 * one training built is rebuilt here by the same code, for the review box and for a loaded model.
 */
function ngramsFor(recipe: Recipe, limit: number | undefined): NgramSpec | null {
  if (!recipe.data.ngrams) return null;
  setStatus(`Building the ${recipe.name} recipe's n-grams for the review box…`);
  return prepareRecipeData(recipe, dataFor(recipe.data.numWords), { limit }).ngrams;
}

// ---- Training ----

/** Train; publish the run unless the caller publishes it later (with a review: one result, never a partial one). */
async function train(publishResult = true): Promise<void> {
  const { recipe, limit, epochs, batchSize, seed } = readSettings();
  const data = dataFor(recipe.data.numWords);
  clearError();
  state.busy = true;
  refreshControls();
  try {
    // A fresh device per run: frees the last model's buffers and makes the memory figures this run's.
    state.model = null;
    state.reading = null;
    state.gpu?.device.destroy();
    state.gpu = null;
    state.gpu = await Gpu.create();

    const [trainCount, testCount] = data.map(([x]) => Math.min(x.length, limit ?? Infinity));
    const totalSteps = epochs * Math.ceil((trainCount - recipe.data.validationSize) / batchSize) + Math.ceil(testCount / batchSize);
    let steps = 0;
    const progress = $('#progress') as HTMLProgressElement;
    progress.max = Math.max(1, totalSteps);
    progress.value = 0;
    const log = $('#log');
    log.textContent = '';
    $('#chart').innerHTML = '';
    $('#test').hidden = true;
    $('#run').hidden = false;

    const appendLog = (line: string) => {
      log.textContent += `${line}\n`;
      log.scrollTop = log.scrollHeight;
    };
    // Not a terminal: Keras' progress bar writes one whole line per epoch (and one for evaluate).
    const output = {
      isTTY: false,
      write(text: string) {
        for (const line of text.split('\n').filter(Boolean)) {
          appendLog(line);
          const epoch = /^Epoch (\d+)\/(\d+)/.exec(line);
          if (epoch) $('#progress-text').textContent = `Epoch ${epoch[1]} of ${epoch[2]}…`;
          const bar = /^\s*(\d+)\/\d+ /.exec(line);
          if (bar) progress.value = steps += Number(bar[1]);
        }
      },
    };
    const history: Record<string, number[]> = {};
    setStatus(`Training the ${recipe.name} recipe on ${state.dataName}…`);
    const run = await runRecipe(state.gpu, data, recipe, {
      epochs,
      batchSize,
      seed,
      limit,
      log: appendLog,
      output,
      onEpochEnd: (epoch, logs) => {
        for (const [key, value] of Object.entries(logs)) (history[key] ??= []).push(value);
        drawCurves(history);
        const validation = logs.val_accuracy === undefined ? '' : `; val_accuracy ${logs.val_accuracy.toFixed(4)}`;
        $('#progress-text').textContent = `Epoch ${epoch + 1} of ${epochs} done${validation}.${epoch + 1 === epochs ? ' Evaluating on the test set…' : ''}`;
      },
    });
    progress.value = progress.max;
    state.reading = { recipe, ngrams: ngramsFor(recipe, limit) };
    state.model = run.model;
    const perEpoch = run.epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, run.epochSeconds.length);
    $('#progress-text').textContent =
      `${run.epochSeconds.length} epochs in ${run.seconds.train.toFixed(1)} s (${perEpoch.toFixed(2)} s per epoch), test evaluation ${run.seconds.evaluate.toFixed(1)} s, ` +
      `data preparation ${run.prepareSeconds.toFixed(1)} s; peak GPU memory ${mebibytes(run.gpuMemory.peakBytesAllocated)}.`;
    $('#test').replaceChildren(
      ...[`Test accuracy ${run.test.accuracy.toFixed(4)}`, `Test loss ${run.test.loss.toFixed(4)}`].map((t) => Object.assign(document.createElement('span'), { textContent: t })),
    );
    $('#test').hidden = false;
    $('#model-info').textContent = `Trained: the ${recipe.name} recipe, ${run.vocabularySize.toLocaleString('en-US')} embedding rows. Save it as model.sgm to use it later.`;
    setStatus('Done. Try a review below.');

    const { model: _model, ...results } = run;
    const { numWords, maxlen, padding, truncating, ngrams } = recipe.data;
    state.lastRun = {
      settings: { recipe: recipe.name, epochs, batchSize, seed, validationSize: recipe.data.validationSize, limit: limit ?? null, data: state.dataName, wordIndex: state.wordIndexName, numWords, maxlen, padding, truncating, ngrams },
      results: { recipe: recipe.name, ...results },
    };
    if (publishResult) publishRun();
  } finally {
    state.busy = false;
    refreshControls();
  }
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * historySvg draws the two figures side by side; shown as two views of the same
 * drawing (each with half the viewBox) so they sit side by side on a laptop and
 * stack, still legible, on a phone.
 */
function drawCurves(history: Record<string, number[]>): void {
  const chart = $('#chart');
  chart.innerHTML = historySvg(history);
  const svg = chart.querySelector('svg')!;
  const half = Number(svg.getAttribute('width')) / 2;
  const height = Number(svg.getAttribute('height'));
  const right = svg.cloneNode(true) as SVGSVGElement;
  svg.setAttribute('viewBox', `0 0 ${half} ${height}`);
  right.setAttribute('viewBox', `${half} 0 ${half} ${height}`);
  for (const s of [svg, right]) s.setAttribute('width', String(half));
  svg.setAttribute('aria-label', 'Training and validation loss');
  right.setAttribute('aria-label', 'Training and validation accuracy');
  chart.append(right);
}

function publishRun(review?: ReviewResult): void {
  if (!state.lastRun) return;
  publish('train', state.adapter, state.lastRun.settings, { ...state.lastRun.results, ...(review ? { review } : {}) });
}

// ---- Model files ----

/** Keras' model.save: the model file, downloaded as model.sgm (the link stays for another try). */
async function saveModel(): Promise<void> {
  state.busy = true;
  refreshControls();
  try {
    const bytes = await state.model!.save();
    const link = $('#model-link') as HTMLAnchorElement;
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    link.download = 'model.sgm';
    link.textContent = `model.sgm (${mebibytes(bytes.length)})`;
    link.hidden = false;
    link.click();
    const ngrams = state.reading?.ngrams
      ? ` It holds no n-gram index (a model file has no place for one): loading it rebuilds the ${state.reading.recipe.name} recipe's index from the same imdb.npz and settings.`
      : '';
    $('#model-info').textContent = `Saved model.sgm, ${bytes.length.toLocaleString('en-US')} bytes.${ngrams}`;
    clearError();
  } finally {
    state.busy = false;
    refreshControls();
  }
}

/**
 * The recipe whose data preparation a loaded model reads: the selected one when it fits the
 * model's input length and embedding rows, else the first that does. A model file records its
 * layers, not the recipe, so this is all there is to go on.
 */
function recipeForModel(name: string, description: ModelDescription): Recipe {
  const first = description.architecture[0];
  const shape = first.config.batch_input_shape;
  const maxlen = Array.isArray(shape) ? shape[1] : undefined;
  const rows = first.className === 'Embedding' ? first.config.input_dim : undefined;
  const fits = (r: Recipe) => r.data.maxlen === maxlen && typeof rows === 'number' && (r.data.ngrams ? rows > r.data.numWords : rows === r.data.numWords);
  const selected = selectedRecipeOrNull();
  const recipe = selected && fits(selected) ? selected : RECIPE_NAMES.map((n) => RECIPES[n]).find(fits);
  if (!recipe) {
    const known = RECIPE_NAMES.map((n) => `${n}: ${RECIPES[n].data.maxlen} tokens, ${RECIPES[n].data.numWords} words${RECIPES[n].data.ngrams ? ' and n-grams' : ''}`).join('; ');
    throw new ModelFileError(`${name}: a model reading ${JSON.stringify(maxlen)} tokens through ${first.className}${typeof rows === 'number' ? ` of ${rows} rows` : ''} fits no recipe, so the page cannot read a review for it (${known})`);
  }
  return recipe;
}

/** Keras' load_model: a model file, on a fresh device, read as its recipe reads reviews. */
async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  setStatus(`Reading ${name}…`);
  const description = decodeModel(bytes, name); // a damaged file or another version: one line
  const { recipe, limit } = readPreparation(recipeForModel(name, description));
  let ngrams: NgramSpec | null = null;
  if (recipe.data.ngrams) {
    if (!state.dataBytes) {
      throw new ModelFileError(`${name}: its ${recipe.name} recipe adds n-grams whose index a model file does not hold; load the imdb.npz it was trained on first, and the page rebuilds the index`);
    }
    ngrams = ngramsFor(recipe, limit);
    const rows = description.architecture[0].config.input_dim;
    if (ngramVocabularySize(ngrams!) !== rows) {
      throw new ModelFileError(
        `${name}: its embedding has ${rows} rows, but the ${recipe.name} recipe's n-grams rebuilt from ${state.dataName} (validation ${recipe.data.validationSize}, ${limit ? `limit ${limit}` : 'no limit'}) give ${ngramVocabularySize(ngrams!)}: set the recipe, validation reviews and reviews per split it was trained with`,
      );
    }
  }
  const gpu = await Gpu.create();
  let model: Sequential;
  try {
    ({ model } = Sequential.load(gpu, description, name));
  } catch (error) {
    gpu.device.destroy();
    throw error;
  }
  // Only now is the last model let go, and the recipe selected: a file that fails to load changes nothing.
  if (recipe.name !== recipeSelect().value) {
    recipeSelect().value = recipe.name;
    fillRecipeDefaults(recipe);
  }
  state.gpu?.device.destroy();
  state.gpu = gpu;
  state.model = model;
  state.reading = { recipe, ngrams };
  const { numWords, maxlen, padding, truncating } = recipe.data;
  state.lastRun = {
    settings: { recipe: recipe.name, model: name, validationSize: recipe.data.validationSize, limit: limit ?? null, data: state.dataName, wordIndex: state.wordIndexName, numWords, maxlen, padding, truncating, ngrams: recipe.data.ngrams },
    results: { recipe: recipe.name, model: name },
  };
  $('#model-info').textContent = `${name}: ${description.architecture.map((l) => l.className).join(' → ')}, read as the ${recipe.name} recipe reads reviews.`;
  clearError();
  setStatus('Model loaded. Try a review below.');
}

// ---- Reviews ----

/**
 * Longer reviews are refused: tokenising is linear, but 100 MB took 19 s and nearly 2 GB (in
 * Node), and the model reads only the last few hundred tokens anyway. 4 million characters take
 * well under a second.
 */
const MAX_REVIEW_CHARS = 4_000_000;

async function predict(review: string): Promise<ReviewResult> {
  const { recipe, ngrams } = state.reading!;
  const { numWords, maxlen, padding, truncating } = recipe.data;
  const out = $('#prediction');
  out.classList.remove('big');
  const unread = { review, probability: null, words: 0, knownWords: 0, ngrams: 0, tokens: [] };
  if (review.length > MAX_REVIEW_CHARS) {
    out.textContent = `That review has ${review.length.toLocaleString('en-US')} characters; the box reads at most ${MAX_REVIEW_CHARS.toLocaleString('en-US')} (the model reads only the ${truncating === 'pre' ? 'last' : 'first'} ${maxlen} tokens).`;
    return unread;
  }
  const words = textToWordSequence(review).length;
  if (words === 0) {
    out.textContent = review.trim() ? 'That review has no words, only punctuation.' : 'Type a review first.';
    return unread;
  }
  // As the recipe read its data: Keras' word index with its num_words, its n-grams, its padding.
  const ids = encodeReview(review, state.wordIndex!, { numWords });
  const knownWords = ids.length - 1;
  const withNgrams = ngrams ? reviewNgrams(ids, ngrams) : ids;
  const x = padSequences([withNgrams], { maxlen, padding, truncating });
  state.busy = true;
  refreshControls();
  try {
    const [probability] = await state.model!.predict(x);
    const label = probability >= 0.5 ? 'positive' : 'negative';
    const p = probability >= 0.5 ? probability : 1 - probability;
    out.classList.add('big');
    out.textContent = `${label} with probability ${p.toFixed(3)}`;
    const notes = [`${knownWords} of ${words} words in the word index`];
    if (ngrams) notes.push(`${withNgrams.length - ids.length} n-grams from the ${recipe.name} recipe's training reviews`);
    if (withNgrams.length > maxlen) notes.push(`only its ${truncating === 'pre' ? 'last' : 'first'} ${maxlen} tokens are read`);
    if (knownWords === 0) notes.push('so the model sees only the start token');
    out.append(Object.assign(document.createElement('span'), { className: 'meta', textContent: `p(positive) = ${probability.toFixed(4)}; ${notes.join(', ')}.` }));
    return { review, probability, words, knownWords, ngrams: withNgrams.length - ids.length, tokens: Array.from(x.data) };
  } finally {
    state.busy = false;
    refreshControls();
  }
}

// ---- Page ----

async function main(): Promise<void> {
  ($('#review') as HTMLTextAreaElement).value = params.get('review') ?? '';
  recipeSelect().append(...RECIPE_NAMES.map((name) => Object.assign(document.createElement('option'), { value: name, textContent: name, title: RECIPES[name].summary })));

  fileSource('data-drop', 'data-file', async (file) => loadData(new Uint8Array(await file.arrayBuffer()), file.name));
  fileSource('word-index-drop', 'word-index-file', async (file) => loadWordIndex(await file.text(), file.name));
  onFileChosen($('#model-file').parentElement!, input('model-file'), (file) => {
    if (!file || state.busy) return;
    state.busy = true;
    refreshControls();
    file
      .arrayBuffer()
      .then((buffer) => loadModel(new Uint8Array(buffer), file.name))
      .catch((error) => {
        fail(error);
        setStatus(`Could not load ${file.name}: pick another model file.`);
      })
      .finally(() => {
        state.busy = false;
        refreshControls();
      });
  });
  // A file dropped beside the zones would otherwise replace the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
  recipeSelect().addEventListener('change', () => fillRecipeDefaults(selectedRecipe()));
  button('train').addEventListener('click', () => void train().catch(fail));
  button('save-model').addEventListener('click', () => void saveModel().catch(fail));
  button('predict').addEventListener('click', () => {
    void predict(($('#review') as HTMLTextAreaElement).value)
      .then((r) => r.probability !== null && publishRun(r))
      .catch(fail);
  });
  refreshControls();

  // A bad setting is thrown once the adapter is known: the page shows both, and stays usable.
  // The recipe comes first: its epochs, batch size and validation reviews are the defaults.
  let badSetting: unknown = null;
  let recipe = RECIPES.tutorial;
  const batch = params.has('batch') ? 'batch' : 'batchSize';
  try {
    fillFromUrl([
      [recipeSelect(), () => (recipe = getRecipe(recipeName('URL setting recipe', params.get('recipe') ?? recipe.name))).name],
      [input('epochs'), () => String(intParam('epochs', recipe.fit.epochs, 1))],
      [input('batch-size'), () => String(intParam(batch, recipe.fit.batchSize, 1))],
      [input('seed'), () => String(intParam('seed', 0, 0))],
      [input('validation'), () => String(intParam('validation', recipe.data.validationSize, minValidation(recipe)))],
      [input('limit'), () => (params.has('limit') ? String(intParam('limit', 0, 1)) : '')],
    ]);
  } catch (error) {
    badSetting = error;
  }
  showRecipe(recipe);

  setStatus('Looking for a WebGPU adapter…');
  state.adapter = await describeAdapter();
  if (badSetting !== null) throw badSetting;

  const auto = params.get('auto') === '1';
  const dataUrl = params.get('data');
  const wordIndexUrl = params.get('wordIndex');
  const review = params.get('review');
  if (auto && review !== null && !wordIndexUrl) throw new Error('?review= needs ?wordIndex= (imdb_word_index.json) to encode the review');
  if (wordIndexUrl) {
    setStatus(`Fetching ${wordIndexUrl}…`);
    await loadWordIndex(new TextDecoder().decode(await fetchBytes(wordIndexUrl)), wordIndexUrl);
  }
  // A headless run must end: without data it fails at once rather than wait.
  if (auto && !dataUrl) throw new Error('auto=1 needs ?data=URL (imdb.npz); or pick the file on the page');
  if (!dataUrl) return setStatus('Pick or drop imdb.npz to start.');
  setStatus(`Fetching ${dataUrl}…`);
  await loadData(await fetchBytes(dataUrl), dataUrl);
  if (!auto) return;

  // With a review the result is published once, review included: a headless runner reads the first.
  await train(review === null);
  if (review !== null) publishRun(await predict(review));
}

start(main);
