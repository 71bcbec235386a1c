/**
 * shadergrad next to TensorFlow.js in the same browser: the tutorial model trained on the
 * same data with the same batch and epochs, by shadergrad and by each TF.js backend, then the
 * forward kernels both have, timed side by side.
 *
 *   compare.html?data=/data/imdb.npz&epochs=2&seed=0&backends=webgpu,webgl,wasm&repeats=10&validation=10000&auto=1
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Gpu, imdbFromNpz, tutorialData, tutorialModel, TUTORIAL, type AdapterReport, type Logs } from '../../src/index.js';
import { KERNELS, kernelInputs, shadergradKernelMs, tfjsKernelMs, type KernelInputs } from './compare-kernels.js';
import { addRow, barChart, formatMs, formatRatio, formatSeconds, twoLines, type Bar } from './compare-view.js';
import { $, describeAdapter, fail, fetchBytes, intParam, onFileChosen, params, publish, setStatus, start } from './page.js';
import { backendList } from './settings.js';
import { median } from '../stats.js';

// The WASM backend loads its .wasm files from beside the page (scripts/build.mjs copies them there).
setWasmPaths(new URL('./', location.href).href);

const BATCH_SIZE = 512;

type Settings = ReturnType<typeof readSettings>;
type Data = ReturnType<typeof tutorialData>;

interface Final {
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

interface Training {
  epochSeconds: number[];
  medianEpochSeconds: number;
  totalSeconds: number;
  final: Final;
}

interface BackendResult extends Partial<Training> {
  backend: string;
  /** This backend's median epoch / shadergrad's: how many times faster shadergrad is. */
  speedup?: number;
  error?: string;
  kernelMs?: number[];
  kernelError?: string;
}

function readSettings() {
  return {
    epochs: intParam('epochs', 2, 1),
    batchSize: BATCH_SIZE,
    seed: intParam('seed', 0, 0),
    validation: intParam('validation', TUTORIAL.validationSize, 1),
    repeats: intParam('repeats', 10, 1),
    backends: backendList('URL setting backends', params.get('backends') ?? 'webgpu,webgl,wasm'),
    data: params.get('data'),
  };
}

start(async () => {
  const settings = readSettings();
  $('#settings').textContent =
    `epochs ${settings.epochs} · batch ${BATCH_SIZE} · seed ${settings.seed} · validation ${settings.validation} · kernel repeats ${settings.repeats} · ` +
    `TF.js ${tf.version.tfjs} backends ${settings.backends.join(', ')}${settings.data ? ` · data ${settings.data}` : ''} (set them in the URL: ?epochs=…&backends=…)`;
  const adapter = await describeAdapter();

  const button = $('#run') as HTMLButtonElement;
  const fileInput = $('#file') as HTMLInputElement;
  let file: File | null = null;
  const go = async () => {
    button.disabled = fileInput.disabled = true;
    try {
      const bytes = file ? new Uint8Array(await file.arrayBuffer()) : await fetchBytes(settings.data!);
      await compare(bytes, { ...settings, data: file ? file.name : settings.data }, adapter);
    } catch (error) {
      // A file that could not be read (or data that could not train): another may be chosen.
      button.disabled = fileInput.disabled = false;
      throw error;
    }
  };
  if (params.get('auto') === '1' && settings.data) return go();

  const choose = (f: File | undefined) => {
    file = f ?? null;
    button.disabled = !file && !settings.data;
    if (file) setStatus(`Ready: ${file.name} (${(file.size / 2 ** 20).toFixed(1)} MiB). Press Run.`);
  };
  onFileChosen($('#drop'), fileInput, choose);
  button.addEventListener('click', () => void go().catch(fail));
  button.disabled = !settings.data;
  setStatus(settings.data ? `Ready to load ${settings.data}. Press Run.` : 'Choose imdb.npz (or give ?data=URL), then Run.');
});

async function compare(bytes: Uint8Array, settings: Settings, adapter: AdapterReport): Promise<void> {
  setStatus('Reading the data…');
  const data = tutorialData(imdbFromNpz(bytes, { numWords: TUTORIAL.numWords }, settings.data ?? undefined), settings.validation);
  const inputs = kernelInputs(data.xTrain.data.subarray(0, BATCH_SIZE * TUTORIAL.maxlen), TUTORIAL.maxlen, TUTORIAL.numWords);
  const lines = new Map(['shadergrad', ...settings.backends].map((name) => [name, runLine(name)]));

  setStatus(`Training shadergrad on ${data.xTrain.shape[0]} reviews (${data.xVal.shape[0]} for validation)…`);
  const gpu = await Gpu.create();
  const ours = await trainShadergrad(gpu, data, settings, lines.get('shadergrad')!);
  lines.get('shadergrad')!.set('timing kernels');
  const oursKernelMs = await shadergradKernelMs(gpu, inputs, settings.repeats);
  gpu.device.destroy(); // TF.js's WebGPU backend opens its own device
  lines.get('shadergrad')!.done(`${formatSeconds(ours.medianEpochSeconds)} per epoch, val_accuracy ${ours.final.val_accuracy.toFixed(4)}`);

  const backends: BackendResult[] = [];
  const show = () => render(ours, oursKernelMs, backends);
  show();
  for (const name of settings.backends) {
    setStatus(`Training with TensorFlow.js on ${name}…`);
    const result = await runBackend(name, data, inputs, settings, lines.get(name)!);
    if (result.medianEpochSeconds !== undefined) result.speedup = result.medianEpochSeconds / ours.medianEpochSeconds;
    backends.push(result);
    const line = lines.get(name)!;
    if (result.error) line.fail(result.error);
    else line.done(`${formatSeconds(result.medianEpochSeconds!)} per epoch; shadergrad ${formatRatio(result.speedup)} faster`);
    // Zero after a successful run; a failed fit leaves the tensors TF.js kept for its backward pass.
    console.log(`tfjs ${name}: ${tf.memory().numTensors} tensors left after disposal`);
    show();
  }

  const trained = backends.filter((b) => b.medianEpochSeconds !== undefined);
  const fastest = trained.sort((a, b) => a.medianEpochSeconds! - b.medianEpochSeconds!)[0] ?? null;
  const kernels = backends.flatMap((b) =>
    (b.kernelMs ?? []).map((ms, i) => ({ kernel: KERNELS[i].name, shape: KERNELS[i].shape, backend: b.backend, tfjsMs: ms, shadergradMs: oursKernelMs[i], speedup: ms / oursKernelMs[i] })),
  );
  setStatus(`Done: shadergrad and ${trained.length} of ${settings.backends.length} TF.js backends trained.`);
  publish(
    'compare',
    adapter,
    { ...settings, trainSamples: data.xTrain.shape[0], validationSamples: data.xVal.shape[0] },
    {
      tfjsVersion: tf.version.tfjs,
      shadergrad: { ...ours, kernelMs: oursKernelMs },
      backends,
      kernels,
      fastestTfjs: fastest?.backend ?? null,
      speedupVsFastest: fastest ? fastest.medianEpochSeconds! / ours.medianEpochSeconds : null,
    },
  );
}

async function trainShadergrad(gpu: Gpu, data: Data, settings: Settings, line: RunLine): Promise<Training> {
  const model = tutorialModel(gpu, settings.seed);
  model.compile();
  const clock = epochClock(settings.epochs, line);
  await model.fit(data.xTrain, data.yTrain, {
    epochs: settings.epochs,
    batchSize: BATCH_SIZE,
    validationData: [data.xVal, data.yVal],
    verbose: 0,
    seed: settings.seed,
    callbacks: [{ onEpochEnd: (_epoch, logs) => clock.epochEnd(logs) }],
  });
  return clock.result();
}

/** Train and time kernels on one TF.js backend; failures are recorded, not thrown. */
async function runBackend(name: string, data: Data, inputs: KernelInputs, settings: Settings, line: RunLine): Promise<BackendResult> {
  const result: BackendResult = { backend: name };
  try {
    line.set('initialising');
    await useBackend(name);
  } catch (e) {
    return { ...result, error: `could not initialise: ${message(e)}` };
  }
  try {
    Object.assign(result, await trainTfjs(data, settings, line));
  } catch (e) {
    result.error = message(e);
  }
  // Forward kernels can run where training cannot (the WASM backend lacks the embedding gradient).
  try {
    line.set('timing kernels');
    result.kernelMs = await tfjsKernelMs(inputs, settings.repeats);
  } catch (e) {
    result.kernelError = message(e);
  }
  return result;
}

/** Switch backends; TF.js reports a failed initialisation only as a console warning and `false`. */
async function useBackend(name: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
    warn.apply(console, args);
  };
  try {
    if (!(await tf.setBackend(name))) {
      const reason = warnings.filter((w) => !w.startsWith('Initialization of backend')).pop()?.split('\n')[0];
      throw new Error(reason ?? `TF.js could not start the ${name} backend`);
    }
  } finally {
    console.warn = warn;
  }
  await tf.ready();
}

async function trainTfjs(data: Data, settings: Settings, line: RunLine): Promise<Training> {
  // Keras' initialisers (TF.js's defaults too), seeded so that a seed repeats the run's start.
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({
        inputDim: TUTORIAL.numWords,
        outputDim: TUTORIAL.embeddingDim,
        embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: settings.seed }),
      }),
      tf.layers.globalAveragePooling1d(),
      tf.layers.dense({ units: TUTORIAL.hiddenUnits, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: settings.seed + 1 }) }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: settings.seed + 2 }) }),
    ],
  });
  const optimizer = tf.train.adam(0.001);
  model.compile({ optimizer, loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const tokens = (m: Data['xTrain']) => tf.tensor2d(m.data, m.shape, 'int32');
  const labels = (y: Uint8Array) => tf.tensor2d(Float32Array.from(y), [y.length, 1]);
  const [x, y, xVal, yVal] = [tokens(data.xTrain), labels(data.yTrain), tokens(data.xVal), labels(data.yVal)];
  try {
    const clock = epochClock(settings.epochs, line);
    await model.fit(x, y, {
      epochs: settings.epochs,
      batchSize: BATCH_SIZE,
      validationData: [xVal, yVal],
      shuffle: true,
      verbose: 0,
      // TF.js resolves the epoch's logs (a sync point) before calling this.
      callbacks: { onEpochEnd: async (_epoch, logs) => clock.epochEnd((logs ?? {}) as Logs) },
    });
    return clock.result();
  } finally {
    tf.dispose([x, y, xVal, yVal]);
    model.dispose();
    optimizer.dispose(); // a model does not own an optimizer it was handed
  }
}

/** Times epochs the same way for both: from the previous epoch's end (the first from now) to this one's. */
function epochClock(epochs: number, line: RunLine) {
  const started = performance.now();
  let last = started;
  const epochSeconds: number[] = [];
  let logs: Logs = {};
  line.set(`epoch 1/${epochs}`);
  return {
    epochEnd(epochLogs: Logs) {
      const now = performance.now();
      epochSeconds.push((now - last) / 1000);
      last = now;
      logs = epochLogs;
      if (epochSeconds.length < epochs) line.set(`epoch ${epochSeconds.length + 1}/${epochs}, last ${formatSeconds(epochSeconds.at(-1)!)}`);
    },
    result(): Training {
      // TF.js names the metric 'acc'; Keras and shadergrad 'accuracy'.
      const final = { loss: logs.loss, accuracy: logs.accuracy ?? logs.acc, val_loss: logs.val_loss, val_accuracy: logs.val_accuracy ?? logs.val_acc };
      return { epochSeconds, medianEpochSeconds: median(epochSeconds), totalSeconds: (performance.now() - started) / 1000, final };
    },
  };
}

function render(ours: Training, oursKernelMs: number[], backends: BackendResult[]): void {
  const results = $('#results') as HTMLTableSectionElement;
  results.replaceChildren();
  const cells = (name: string, t: Training, ratio: string) => [
    name,
    formatSeconds(t.medianEpochSeconds),
    formatSeconds(t.totalSeconds),
    t.final.loss.toFixed(4),
    t.final.accuracy.toFixed(4),
    t.final.val_accuracy.toFixed(4),
    ratio,
  ];
  addRow(results, cells('shadergrad', ours, '–'));
  for (const b of backends) {
    if (b.error) addRow(results, [`TF.js ${b.backend}`], { error: b.error, span: 6 });
    else addRow(results, cells(`TF.js ${b.backend}`, b as BackendResult & Training, formatRatio(b.speedup)));
  }

  const bars: Bar[] = [{ label: 'shadergrad', seconds: ours.medianEpochSeconds, ours: true }];
  for (const b of backends) bars.push({ label: `TF.js ${b.backend}`, seconds: b.medianEpochSeconds ?? null, note: 'failed (see the table)' });
  $('#chart').innerHTML = barChart(bars);

  const kernels = $('#kernels') as HTMLTableSectionElement;
  kernels.replaceChildren();
  for (const b of backends) {
    if (b.kernelError) addRow(kernels, ['all', b.backend], { error: b.kernelError, span: 3 });
    b.kernelMs?.forEach((ms, i) =>
      addRow(kernels, [twoLines(KERNELS[i].name, KERNELS[i].shape), b.backend, formatMs(ms), formatMs(oursKernelMs[i]), formatRatio(ms / oursKernelMs[i])]),
    );
  }

  const trained = backends.filter((b) => b.speedup !== undefined).sort((a, b) => a.speedup! - b.speedup!);
  $('#summary').textContent = trained.length
    ? `shadergrad: ${formatSeconds(ours.medianEpochSeconds)} per epoch, ${formatRatio(trained[0].speedup)} faster than the fastest TF.js backend here (${trained[0].backend}).`
    : '';
}

interface RunLine {
  set(text: string): void;
  done(text: string): void;
  fail(text: string): void;
}

/** One status line per runner, with a clock that ticks while it works. */
function runLine(name: string): RunLine {
  const li = document.createElement('li');
  $('#runs').append(li);
  let text = 'waiting';
  let started = 0;
  let timer = 0;
  const show = () => (li.textContent = `${name}: ${text}${started ? ` (${Math.round((performance.now() - started) / 1000)} s)` : ''}`);
  const stop = (final: string) => {
    clearInterval(timer);
    started = 0;
    text = final;
    show();
  };
  show();
  return {
    set(t) {
      text = t;
      if (!started) {
        started = performance.now();
        timer = window.setInterval(show, 1000);
      }
      show();
    },
    done: (t) => stop(`done, ${t}`),
    fail(t) {
      li.className = 'failed';
      stop(`failed: ${t}`);
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
