/**
 * The training page: load `imdb.npz` (picked, dropped or `?data=URL`), train the
 * tutorial model on this browser's GPU with live curves and Keras' log, show the
 * test figures, then classify reviews typed into the box.
 *
 * URL settings: data, wordIndex, epochs, batch (or batchSize), seed, validation, review, auto=1
 * (train at once when `data` is given; with `review`, predict it after training).
 */
import {
  Gpu,
  TUTORIAL,
  encodeReview,
  historySvg,
  imdbFromNpz,
  padSequences,
  parseWordIndex,
  runTutorial,
  textToWordSequence,
  type AdapterReport,
  type ImdbData,
  type Sequential,
  type TutorialRun,
  type WordIndex,
} from '../../src/index.js';
import { $, describeAdapter, fail, fetchBytes, fillFromUrl, intParam, onFileChosen, params, publish, setStatus, start } from './page.js';
import { wholeNumber } from './settings.js';

interface ReviewResult {
  review: string;
  probability: number | null;
  words: number;
  knownWords: number;
}

const state: {
  adapter: AdapterReport | null;
  data: ImdbData | null;
  dataName: string | null;
  wordIndex: WordIndex | null;
  wordIndexName: string | null;
  gpu: Gpu | null;
  model: Sequential | null;
  busy: boolean;
  lastRun: { settings: Record<string, unknown>; results: Record<string, unknown> } | null;
} = { adapter: null, data: null, dataName: null, wordIndex: null, wordIndexName: null, gpu: null, model: null, busy: false, lastRun: null };

const input = (id: string) => $(`#${id}`) as HTMLInputElement;
const button = (id: string) => $(`#${id}`) as HTMLButtonElement;

/** An earlier error no longer holds once the user has done something that worked. */
function clearError(): void {
  $('#error').hidden = true;
  delete window.__shadergradError;
}

/** Train needs data; Predict needs a model and the word index; nothing while busy. */
function refreshControls(): void {
  button('train').disabled = state.busy || !state.data;
  for (const id of ['data-file', 'word-index-file', 'epochs', 'batch-size', 'seed', 'validation']) input(id).disabled = state.busy;
  button('predict').disabled = state.busy || !state.model || !state.wordIndex;
  $('#predict-hint').textContent = !state.model
    ? 'Train a model first.'
    : !state.wordIndex
      ? 'Load imdb_word_index.json (above) to encode reviews.'
      : 'Words not in the index are dropped, as in the dataset.';
}

// ---- Data ----

async function loadData(bytes: Uint8Array, name: string): Promise<void> {
  setStatus(`Reading ${name}…`);
  state.data = null;
  $('#data-drop').classList.remove('loaded');
  $('#data-info').textContent = `${name} could not be read: see the error above.`;
  refreshControls();
  const data = imdbFromNpz(bytes, { numWords: TUTORIAL.numWords }, name);
  state.data = data;
  state.dataName = name;
  $('#data-info').textContent = `${name}: ${data[0][0].length.toLocaleString('en-US')} training and ${data[1][0].length.toLocaleString('en-US')} test reviews.`;
  $('#data-drop').classList.add('loaded');
  clearError();
  setStatus('Data loaded. Choose the settings and train.');
  refreshControls();
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

// ---- Training ----

function readSettings() {
  const value = (id: string, min: number) => wholeNumber(input(id).labels?.[0]?.textContent?.trim() || id, input(id).value, min);
  return { epochs: value('epochs', 1), batchSize: value('batch-size', 1), seed: value('seed', 0), validationSize: value('validation', 1) };
}

/** Train; publish the run unless the caller publishes it later (with a review: one result, never a partial one). */
async function train(publishResult = true): Promise<TutorialRun> {
  const data = state.data!;
  const settings = readSettings();
  clearError();
  state.busy = true;
  refreshControls();
  try {
    // A fresh device per run: frees the last model's buffers and makes the memory figures this run's.
    state.model = null;
    state.gpu?.device.destroy();
    state.gpu = null;
    state.gpu = await Gpu.create();

    const trainCount = data[0][0].length - settings.validationSize;
    const totalSteps = settings.epochs * Math.ceil(trainCount / settings.batchSize) + Math.ceil(data[1][0].length / settings.batchSize);
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
    setStatus(`Training on ${state.dataName}…`);
    const run = await runTutorial(state.gpu, data, {
      ...settings,
      log: appendLog,
      output,
      onEpochEnd: (epoch, logs) => {
        for (const [key, value] of Object.entries(logs)) (history[key] ??= []).push(value);
        drawCurves(history);
        $('#progress-text').textContent = `Epoch ${epoch + 1} of ${settings.epochs} done; val_accuracy ${logs.val_accuracy?.toFixed(4)}.${epoch + 1 === settings.epochs ? ' Evaluating on the test set…' : ''}`;
      },
    });
    progress.value = progress.max;
    state.model = run.model;
    const perEpoch = run.epochSeconds.reduce((a, b) => a + b, 0) / Math.max(1, run.epochSeconds.length);
    $('#progress-text').textContent = `${run.epochSeconds.length} epochs in ${run.seconds.train.toFixed(1)} s (${perEpoch.toFixed(2)} s per epoch), test evaluation ${run.seconds.evaluate.toFixed(1)} s.`;
    $('#test').replaceChildren(
      ...[`Test accuracy ${run.test.accuracy.toFixed(4)}`, `Test loss ${run.test.loss.toFixed(4)}`].map((t) => Object.assign(document.createElement('span'), { textContent: t })),
    );
    $('#test').hidden = false;
    setStatus('Done. Try a review below.');

    const { model: _model, ...results } = run;
    state.lastRun = { settings: { ...settings, data: state.dataName, wordIndex: state.wordIndexName, numWords: TUTORIAL.numWords, maxlen: TUTORIAL.maxlen }, results };
    if (publishResult) publishRun();
    return run;
  } finally {
    state.busy = false;
    refreshControls();
  }
}

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

// ---- Reviews ----

/**
 * Longer reviews are refused: tokenising is linear, but 100 MB took 19 s and nearly 2 GB (in
 * Node), and the model reads only the last 256 tokens anyway. 4 million characters take well
 * under a second.
 */
const MAX_REVIEW_CHARS = 4_000_000;

async function predict(review: string): Promise<ReviewResult> {
  const out = $('#prediction');
  out.classList.remove('big');
  if (review.length > MAX_REVIEW_CHARS) {
    out.textContent = `That review has ${review.length.toLocaleString('en-US')} characters; the box reads at most ${MAX_REVIEW_CHARS.toLocaleString('en-US')} (the model reads only the last ${TUTORIAL.maxlen} tokens).`;
    return { review, probability: null, words: 0, knownWords: 0 };
  }
  const words = textToWordSequence(review).length;
  if (words === 0) {
    out.textContent = review.trim() ? 'That review has no words, only punctuation.' : 'Type a review first.';
    return { review, probability: null, words: 0, knownWords: 0 };
  }
  const ids = encodeReview(review, state.wordIndex!, { numWords: TUTORIAL.numWords });
  const knownWords = ids.length - 1;
  // Keras' pad_sequences defaults: truncating 'pre'; the tutorial pads 'post'.
  const x = padSequences([ids], { maxlen: TUTORIAL.maxlen, padding: 'post' });
  state.busy = true;
  refreshControls();
  try {
    const [probability] = await state.model!.predict(x);
    const label = probability >= 0.5 ? 'positive' : 'negative';
    const p = probability >= 0.5 ? probability : 1 - probability;
    out.classList.add('big');
    out.textContent = `${label} with probability ${p.toFixed(3)}`;
    const notes = [`${knownWords} of ${words} words in the word index`];
    if (ids.length > TUTORIAL.maxlen) notes.push(`only its last ${TUTORIAL.maxlen} tokens are read`);
    if (knownWords === 0) notes.push('so the model sees only the start token');
    out.append(Object.assign(document.createElement('span'), { className: 'meta', textContent: `p(positive) = ${probability.toFixed(4)}; ${notes.join(', ')}.` }));
    return { review, probability, words, knownWords };
  } finally {
    state.busy = false;
    refreshControls();
  }
}

// ---- Page ----

async function main(): Promise<void> {
  ($('#review') as HTMLTextAreaElement).value = params.get('review') ?? '';

  fileSource('data-drop', 'data-file', async (file) => loadData(new Uint8Array(await file.arrayBuffer()), file.name));
  fileSource('word-index-drop', 'word-index-file', async (file) => loadWordIndex(await file.text(), file.name));
  // A file dropped beside the zones would otherwise replace the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
  button('train').addEventListener('click', () => void train().catch(fail));
  button('predict').addEventListener('click', () => {
    void predict(($('#review') as HTMLTextAreaElement).value)
      .then((r) => r.probability !== null && publishRun(r))
      .catch(fail);
  });
  refreshControls();

  // A bad setting is thrown once the adapter is known: the page shows both, and stays usable.
  let badSetting: unknown = null;
  const batch = params.has('batch') ? 'batch' : 'batchSize';
  try {
    fillFromUrl([
      [input('epochs'), () => String(intParam('epochs', 40, 1))],
      [input('batch-size'), () => String(intParam(batch, 512, 1))],
      [input('seed'), () => String(intParam('seed', 0, 0))],
      [input('validation'), () => String(intParam('validation', TUTORIAL.validationSize, 1))],
    ]);
  } catch (error) {
    badSetting = error;
  }

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
