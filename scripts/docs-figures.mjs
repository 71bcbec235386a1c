#!/usr/bin/env node
// The benchmark figures quoted in README.md and bench/README.md, rendered from bench/results/*.json.
//
// A figure lives between two marker comments naming its renderer:
//   <!-- figures:train -->            (a block: a table or a paragraph, on the lines between)
//   ...
//   <!-- /figures:train -->
// or inline: <!-- figures:kernels-fused-share -->60.7%<!-- /figures:kernels-fused-share -->.
// `npm run docs:figures` rewrites what is between the markers; `--check` only reports drift and
// exits 1 (test/docs-figures.test.ts runs the same check). Adding a figure = one entry in RENDERERS
// (a function of the results, returning markdown) and its markers in a README.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
export const DOCUMENTS = ['README.md', 'bench/README.md'];
const RESULTS = join(ROOT, 'bench', 'results');

// ---- formatting: one place, so every table rounds the same way ----

const MIB = 2 ** 20;
const fixed = (v, digits) => v.toFixed(digits);
const grouped = (v) => Math.round(v).toLocaleString('en-US');
const seconds = (s, digits = 2) => `${fixed(s, digits)} s`;
const ms = (v, digits = 1) => `${fixed(v, digits)} ms`;
const mib = (bytes) => `${fixed(bytes / MIB, 1)} MiB`;
const times = (ratio, digits = 1) => `${fixed(ratio, digits)}×`;
const percent = (share, digits = 0) => `${fixed(share * 100, digits)}%`;
const tableRow = (cells) => `|${cells.map((c) => (c === '' ? ' ' : ` ${c} `)).join('|')}|`;
const table = (header, rows, align) => [tableRow(header), `|${(align ?? header.map(() => '---')).join('|')}|`, ...rows.map(tableRow)].join('\n');
/** Three significant digits, whole numbers from 100 up. */
const significant = (v) => (v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3))));
const sum = (values) => values.reduce((a, b) => a + b, 0);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** "low–high", or one figure when they print alike. */
const range = (values, format) => {
  const [low, high] = [format(Math.min(...values)), format(Math.max(...values))];
  return low === high ? low : `${low}–${high}`;
};

/** bench/results/<name>.json parsed, or a raw log (<name> ending in `.log`) as text; each read once per run. */
export function loadResults(dir = RESULTS) {
  const cache = new Map();
  return (name) => {
    if (!cache.has(name)) {
      const isLog = name.endsWith('.log');
      const text = readFileSync(join(dir, isLog ? name : `${name}.json`), 'utf8');
      cache.set(name, isLog ? text : JSON.parse(text));
    }
    return cache.get(name);
  };
}

// ---- one renderer per marked figure: (results) => markdown ----

/** The profile's kernels per training step, some rows summing several kernels. */
const PROFILE_ROWS = {
  fused: [
    ['embedding-bag backward', ['embedding-bag:backward']],
    ['embedding-bag forward (+ mark)', ['embedding-bag:forward']],
    ['classifier-head trainSample', ['classifier-head:trainSample']],
    ['Adam (every weight, vec4)', ['optimizer-adam:adam']],
    ['classifier-head gradients', ['classifier-head:gradients']],
    ['validation (per epoch, as per step)', ['classifier-head:evaluateSample', 'classifier-head:metricSums']],
  ],
  captured: [
    ['embedding + mean pool (the rows read through the ids)', ['mean-pool:forwardGathered4']],
    ['embedding gradient (two passes, row-sparse) + scatter', ['embedding:backwardPieces4', 'embedding:backward4', 'rows:scatter']],
    ['dense (forward and gradients)', ['dense:forward', 'dense:inputGradient', 'dense:kernelGradient', 'dense:biasGradient']],
    ['Adam (every weight, vec4)', ['optimizer-adam:adam']],
    ['mean-pool gradient (expanded) + the batch from resident data', ['mean-pool:backward4', 'copy:takeRows4', 'copy:takeRows']],
    ['relu, sigmoid, BCE, accuracy', null], // every other kernel
  ],
};

function profileRows(path, run) {
  const named = new Set(PROFILE_ROWS[path].flatMap(([, kernels]) => kernels ?? []));
  return PROFILE_ROWS[path].map(([label, kernels]) => {
    const picked = run.kernels.filter((k) => (kernels ? kernels.includes(k.kernel) : !named.has(k.kernel)));
    if (kernels && picked.length !== kernels.length) throw new Error(`profile.json: ${path} lacks ${kernels.join(', ')}`);
    return [label, fixed(sum(picked.map((k) => k.perStepMs)), 1), percent(sum(picked.map((k) => k.share)))];
  });
}

/** The kernel page's rows at batch 512: [label, kernel, entries, entry label]; entries joined with " / ". */
const KERNEL_ROWS = [
  ['embedding', 'embedding', ['forward'], 'forward'],
  ['embedding', 'embedding', ['backward'], 'backward'],
  ['mean-pool', 'mean-pool', ['forward'], 'forward'],
  ['mean-pool', 'mean-pool', ['backward'], 'backward'],
  ['dense 16→16', 'dense 16→16', ['forward', 'inputGradient', 'kernelGradient', 'biasGradient'], 'forward / input grad / kernel grad / bias grad'],
  ['relu', 'relu', ['forward', 'backward'], 'forward / backward'],
  ['dense 16→1', 'dense 16→1', ['forward', 'inputGradient', 'kernelGradient', 'biasGradient'], 'forward / input grad / kernel grad / bias grad'],
  ['sigmoid', 'sigmoid', ['forward', 'backward'], 'forward / backward'],
  ['BCE from logits', 'bce from logits', ['forward', 'backward'], 'forward / backward'],
  ['accuracy', 'accuracy', ['countCorrect'], 'count'],
  ['add (gradient sum)', 'add', ['main'], ''],
  ['Adam (160,000 weights)', 'adam', ['update'], 'update'],
  ['**fused embedding-bag** (gather + mean-pool)', 'fused embedding-bag', ['forward'], 'forward', true],
  ['fused embedding-bag', 'fused embedding-bag', ['forward + mark'], 'forward + mark (as training runs it)'],
  ['fused embedding-bag', 'fused embedding-bag', ['backward'], 'backward'],
  ['fused head (dense, relu, dense, sigmoid, BCE, accuracy)', 'fused head', ['trainSample', 'gradients'], 'trainSample / gradients'],
  ['fused Adam (all 160,292 weights, vec4)', 'fused adam', ['updateVec4'], 'updateVec4'],
];
const KERNEL_BATCH = 512;

/** One kernel's row of a kernel-page measurement (the browser page's by default, or Node's `bench:kernels`). */
function pageKernel(r, kernel, entry, { results = 'browser-kernels', batch = KERNEL_BATCH } = {}) {
  const found = r(results).kernels.find((k) => k.batch === batch && k.kernel === kernel && k.entry === entry);
  if (!found) throw new Error(`${results}.json: no ${kernel} ${entry} at batch ${batch}`);
  return found;
}

const EXECUTOR_LABELS = { fused: 'fused kernels (default)', captured: 'captured per-op steps (`--no-fuse`)', eager: 'eager per-op steps (`--no-jit`)' };

/** A bench:versus run: each round's whole runs, then the medians and their ratio (above 1: this checkout is slower). */
function versusFigure(d, baseline) {
  const rows = d.baseline.runs.map((b, i) => [String(i + 1), seconds(b.seconds, 1), seconds(d.current.runs[i].seconds, 1), fixed(d.loadAverageAtEachRound[i], 1)]);
  return [
    table(['round', baseline, 'this engine', 'load average'], rows),
    '',
    `Median whole run: ${seconds(d.baseline.medianWholeRunSeconds, 1)} before, ${seconds(d.current.medianWholeRunSeconds, 1)} now (**${fixed(d.ratio, 3)}×**); test accuracy ${fixed(d.current.runs[0].test.accuracy, 4)} both.`,
  ].join('\n');
}

/** bench:train's executors table (train.json's shape); `epochDigits` for epochs far under a second. */
function trainFigure(d, epochDigits = 2) {
  const epochs = d.fused.epochSeconds;
  const row = (label, run, bold) => {
    const b = (text) => (bold ? `**${text}**` : text);
    const range = bold ? ` (${fixed(Math.min(...epochs), epochDigits)}–${fixed(Math.max(...epochs), epochDigits)} s)` : '';
    const held = run.gpuMemory.bytesAllocatedAfterEachEpoch;
    const flat = held.every((v) => v === held[0]);
    const memory = bold ? `${b(mib(run.gpuMemory.peakBytesAllocated))}; ${mib(held[0])} held through training${flat ? ', flat from the first epoch to the last' : ''}` : mib(run.gpuMemory.peakBytesAllocated);
    return [label, `${b(seconds(run.medianEpochSeconds, epochDigits))}${range}`, seconds(run.seconds.train, 1), b(seconds(run.seconds.total, 1)), `${fixed(run.test.accuracy, 4)} (loss ${fixed(run.test.loss, 4)})`, memory];
  };
  return [
    table(['executor', 'median epoch', 'training', 'whole run (load to test accuracy)', 'test accuracy', 'peak GPU memory'],
      Object.keys(EXECUTOR_LABELS).filter((k) => d[k]).map((k) => row(EXECUTOR_LABELS[k], d[k], k === 'fused'))),
    '',
    ...Object.keys(EXECUTOR_LABELS).filter((k) => k !== 'fused' && d[k]).map((k) => `The ${EXECUTOR_LABELS[k]} take **${fixed(d.ratioToFused[k].wholeRun, 2)}×** the fused kernels' whole run (${fixed(d.ratioToFused[k].medianEpoch, 2)}× per epoch), in this one recorded run (1-minute load average after each run: ${d.loadAverageAfterRuns.map((l) => fixed(l, 1)).join(', ')}).`),
  ].join('\n');
}

/** bench:scaling's table (scaling.json's shape): seconds per epoch with `digits` decimals. */
function scalingFigure(d, digits = 2) {
  const executors = Object.keys(d.measured.vocabulary);
  const labels = { vocabulary: (v) => `${grouped(v)} rows`, data: (v) => `${v}× the reviews`, batch: (v) => `batch ${v}` };
  const rows = Object.entries(d.measured).flatMap(([axis, byExecutor]) =>
    Object.keys(byExecutor[executors[0]]).map((point) => [labels[axis](Number(point)), ...executors.map((e) => seconds(byExecutor[e][point], digits))]),
  );
  return [
    table(['point', ...executors.map((e) => `${e}: s per epoch`)], rows),
    '',
    `From 10,000 to 1,000,000 table rows an epoch grows ${executors.map((e) => `${fixed(d.millionOverTenThousand[e], 2)}× (${e})`).join(', ')}.`,
  ].join('\n');
}

/** bench:profile's per-executor line (profile.json's shape): wall, launches and GPU time per epoch. */
function profileExecutors(d, { executors = ['fused', 'captured'], epochDigits = 2 } = {}) {
  const gpuMs = (v) => `${v >= 100 ? grouped(v) : significant(v)} ms`;
  const pathRow = (label, run) => [label, seconds(run.medianEpochSeconds, epochDigits), grouped(run.perEpoch.dispatches), grouped(run.perEpoch.submits), grouped(run.perEpoch.readBacks), gpuMs(run.gpuMsPerEpoch)];
  return table(['executor', 'wall per epoch', 'dispatches', 'submits', 'read-backs', 'GPU time per epoch'], executors.map((k) => pathRow(k, d[k])));
}

/** bench:profile --recipe NAME (one executor, `captured`): its six largest kernels and the epoch's wall time. */
function recipeProfileFigure(d) {
  const rows = d.captured.kernels.slice(0, 6).map((k) => [`\`${k.kernel}\``, String(k.calls), ms(k.perStepMs, 2), percent(k.share, 1)]);
  const steps = d.captured.kernels.find((k) => k.kernel.endsWith('adamRows'))?.calls;
  return table(['kernel', 'calls', 'ms per training step', 'share of GPU time'], rows) + '\n\n' +
    `${d.benchmark}; ${d.adapter.split(':')[0]}, ${d.date.slice(0, 10)}. An epoch took ${seconds(d.captured.medianEpochSeconds)} of wall time; a call count above the ${steps ?? ''} steps is the validation's forward pass, counted in the per-step time.`;
}

// ---- the real-GPU run (bench/gpu-run.sh on a lent machine): bench/results/gpu-h200/ ----

const GPU_RESULTS = 'gpu-h200';
const gpuResult = (r, name) => r(`${GPU_RESULTS}/${name}`);
/** The latest session's output, everything below is its; earlier/ keeps the sessions before (older code). */
const GPU_LOG = 'gpu-run.log';
const EARLIER = (name) => `earlier/${name}`;
/** The same session's first run, before the fused kernels' GPU forms (`backwardWords`, `sumPieces`). */
const GPU_BEFORE_FORMS = 'before-gpu-forms/';
/** A first try at backwardWords (a workgroup of 32 lanes per row), measured and replaced. */
const GPU_FIRST_TRY = 'workgroup-per-row/';
/** The recipes the session ran as a user would (`train --recipe NAME`), with what each is measured against:
 * issue #12's targets, Keras' figure from its examples/imdb_fasttext.py (src/runner/recipes.ts cites it too). */
const GPU_RECIPES = [
  { recipe: 'fasttext-bigram', against: "Keras' 0.9056 (issue #12: within 0.005)", meets: (accuracy) => Math.abs(accuracy - 0.9056) <= 0.005 },
  { recipe: 'best', against: "issue #12's ≥ 0.91", meets: (accuracy) => accuracy >= 0.91 },
];

/** One step of the log, from its `== step NAME (` header to the next `== ` line. */
function gpuLogStep(r, step) {
  const text = gpuResult(r, GPU_LOG);
  const start = text.indexOf(`== step ${step} (`);
  if (start < 0) throw new Error(`${GPU_RESULTS}/${GPU_LOG}: no step ${step}`);
  const end = text.indexOf('\n== ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** A line of the log matching `pattern`, or an error naming what is missing. */
function gpuLogMatch(r, pattern, what) {
  const found = gpuResult(r, GPU_LOG).match(pattern);
  if (!found) throw new Error(`${GPU_RESULTS}/${GPU_LOG}: no ${what}`);
  return found;
}

/** The GPU as the log prints it: nvidia-smi's CSV line and UUID, and PyTorch's CUDA copy (the cuda-copy step). */
function gpuDevice(r) {
  const [, name, driver, memoryMiB, smMHz, memoryMHz] = gpuLogMatch(r, /^name, driver_version, .*\n(.+), (\S+), (\d+) MiB, (\d+) MHz, (\d+) MHz$/m, "nvidia-smi CSV line");
  const [, uuid] = gpuLogMatch(r, /^GPU 0: .* \(UUID: (GPU-[\w-]+)\)$/m, 'nvidia-smi -L line');
  const [, tool, copyMs, gbps] = gpuLogMatch(r, /^(torch \S+) on .*: device-to-device copy of 1 GiB in ([\d.]+) ms, (\d+) GB\/s/m, 'CUDA copy line');
  return { name, driver, memoryMiB: Number(memoryMiB), smMHz: Number(smMHz), memoryMHz: Number(memoryMHz), uuid, cudaCopy: { tool, ms: Number(copyMs), gbps: Number(gbps) } };
}

/** The embedding rows a recipe's step prepared (the CLI prints "Prepared ..., N embedding rows, in S s"). */
function recipeRows(r, recipe) {
  const found = gpuLogStep(r, recipe).match(/^Prepared .*, (\d+) embedding rows, in /m);
  if (!found) throw new Error(`${GPU_RESULTS}/${GPU_LOG}: step ${recipe} prints no embedding rows`);
  return Number(found[1]);
}

/** Issue #15, item 5: the tutorial's 40 epochs in under 0.3 s once the data is loaded. */
const TUTORIAL_GOAL_SECONDS = 0.3;
/** Issue #5's earlier target for the same 40 epochs, set for an H100. */
const EARLIER_GOAL_SECONDS = 0.5;
const TUTORIAL_RUNS = ['tutorial-1-history', 'tutorial-2-history'];
/** Every result file of the session that names its adapter. */
const GPU_RUN_RESULTS = ['train', 'profile', 'profile-fasttext-bigram', 'peer-cuda', 'scaling', ...TUTORIAL_RUNS, ...GPU_RECIPES.map(({ recipe }) => `${recipe}-history`)];
/** The kernels of the GPU's throughput table, as node-kernels.json names them. */
const GPU_KERNEL_ROWS = [
  ['embedding', 'forward'], ['embedding', 'backward'], ['mean-pool', 'forward'], ['mean-pool', 'backward'],
  ['dense 16→16', 'forward'], ['dense 16→16', 'kernelGradient'], ['relu', 'forward'], ['bce from logits', 'forward'], ['adam', 'update'],
  ['fused embedding-bag', 'forward'], ['fused embedding-bag', 'forward + mark'], ['fused embedding-bag', 'backward'],
  ['fused head', 'trainSample'], ['fused head', 'gradients'], ['fused adam', 'update'],
];
const GPU_KERNEL_BATCHES = [64, 512, 1024];
/** Copies this small measure the cost of a dispatch, not of the bytes. */
const DISPATCH_FLOOR_BYTES = 4096;
const PROFILE_TOP = 5;
const readable = (v) => (v >= 100 ? grouped(v) : v.toPrecision(3));

const compareBackend = (r, name) => r('browser-compare').backends.find((b) => b.backend === name);
const compareKernel = (r, backend, i) => r('browser-compare').kernels.filter((k) => k.backend === backend)[i];

/** bench:peer's JSON: each run, alternately, then the medians and the ratio. */
function peerFigure(d) {
  const torch = `PyTorch ${d.pytorchSetup.version} (${d.pytorchSetup.device && d.pytorchSetup.device !== 'cpu' ? d.pytorchSetup.device : `CPU, ${d.pytorchSetup.threads} threads`})`;
  const rows = d.runs.map((run) => [String(run.round), run.tool === 'shadergrad' ? 'shadergrad (Node, SwiftShader)' : torch, seconds(run.wallSeconds, 1), seconds(run.seconds.train, 1), fixed(run.test.accuracy, 4), fixed(run.loadAverageBefore[0], 1)]);
  return [
    table(['round', 'run', 'whole run', 'training', 'test accuracy', 'load average before'], rows),
    '',
    `Each run a fresh process, from its start to its exit (${d.date.slice(0, 10)}). Median whole run: shadergrad ${seconds(d.shadergrad.medianWallSeconds, 1)}, PyTorch ${seconds(d.pytorch.medianWallSeconds, 1)}: shadergrad runs at **${times(d.ratio, 2)}** PyTorch's speed (above 1: faster); ${d.loadAverage.note}.`,
  ].join('\n');
}

export const RENDERERS = {
  // bench/README.md
  load: (r) => {
    const d = r('load-data');
    const between = (runs) => `${fixed(Math.min(...runs.map((x) => x.seconds)), 2)} s and ${fixed(Math.max(...runs.map((x) => x.seconds)), 2)} s`;
    return [
      table(['path', 'median time', 'peak RSS'], [
        [`shadergrad, Node ${d.node.replace(/^v/, '')}`, seconds(d.shadergrad.medianSeconds, 3), `${Math.round(d.shadergrad.peakRssMB)} MB`],
        [`Python ${d.python} + numpy ${d.numpy} (np.load + Keras steps)`, seconds(d.pythonKeras.medianSeconds, 3), `${Math.round(d.pythonKeras.peakRssMB)} MB`],
      ]),
      '',
      `shadergrad is **${times(d.speedup)} faster** in this run (target: ≥ 5×) with peak RSS under 300 MB (target).`,
      `Across the run's ${d.pythonKeras.runs.length} loads with Python, each took between ${between(d.pythonKeras.runs)}; across its ${d.shadergrad.runs.length} with shadergrad, between ${between(d.shadergrad.runs)}.`,
    ].join('\n');
  },
  train: (r) => trainFigure(r('train')),
  versus: (r) => versusFigure(r('versus-previous'), 'before the redesign'),
  'versus-stop-18': (r) => versusFigure(r('versus-stop-18'), 'commit 781a719'),
  scaling: (r) => scalingFigure(r('scaling')),
  profile: (r) => {
    const d = r('profile');
    const fused = profileRows('fused', d.fused);
    const captured = profileRows('captured', d.captured);
    return [
      profileExecutors(d),
      '',
      `Per training step (${d.fused.kernels[0].calls} per epoch), GPU time per kernel (one pass per dispatch while timed):`,
      '',
      table(['fused kernel', 'ms per step', 'share', 'captured per-op kernel', 'ms per step', 'share'], fused.map((row, i) => [...row, ...captured[i]])),
    ].join('\n');
  },
  split: (r) => {
    const d = r('split');
    // Dispatches per step and the binding sizes are the code's structure (bench/split.ts), not measurements.
    const row = (bindings, dispatches, run) => [bindings, dispatches, seconds(run.medianEpochSeconds), seconds(run.seconds.total, 1), fixed(run.test.accuracy, 4), fixed(run.test.loss, 4), mib(run.gpuMemory.peakBytesAllocated)];
    return table(['bindings', 'dispatches per step', 'median epoch', 'whole run', 'test accuracy', 'test loss', 'peak GPU memory'], [
      row("the device's (1 GiB)", '5', d.whole),
      row('512 KiB', '110 (52 forward, 52 backward, 4 Adam, 2 head)', d.split),
    ]);
  },
  'split-slowdown': (r) => fixed(r('split').slowdown.medianEpoch, 1),
  'browser-train': (r) => {
    const d = r('browser-train');
    const medianEpoch = median(d.epochSeconds);
    return [
      `**Training page** (\`--page train --epochs ${d.settings.epochs}\`, \`browser-train.json\`): ${d.settings.epochs} epochs on the fused`,
      `path, median **${seconds(medianEpoch)} per epoch**. Test loss ${fixed(d.test.loss, 4)} and accuracy **${fixed(d.test.accuracy, 4)}**, the same`,
      `figures as the Node runs with the same seed. Peak GPU memory ${mib(d.gpuMemory.peakBytesAllocated)}. The review box gave`,
      `"${d.review.review}" a probability of ${fixed(d.review.probability, 3)} of being positive.`,
    ].join('\n');
  },
  'compare-train': (r) => {
    const d = r('browser-compare');
    const ours = d.shadergrad;
    const rows = [['shadergrad (fused path)', `**${seconds(ours.medianEpochSeconds)}** (${ours.epochSeconds.map((s) => seconds(s)).join(', then ')})`, '']];
    for (const b of d.backends) {
      const name = `TensorFlow.js ${d.tfjsVersion.split('.').slice(0, 2).join('.')} ${{ webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL' }[b.backend] ?? b.backend}`;
      if (b.error) rows.push([name, `failed: \`${b.error}\`${b.backend === 'wasm' ? ' (no embedding gradient)' : ''}`, '']);
      else rows.push([name, seconds(b.medianEpochSeconds, 1), `**${times(b.speedup, 0)}**${b.backend === 'webgpu' ? ' (target: ≥ 10×)' : ''}`]);
    }
    return table(['trainer', 'median epoch', 'shadergrad is faster by'], rows);
  },
  'compare-kernels': (r) => {
    const labels = [
      'embedding gather + mean over 256 steps, batch 512 (shadergrad: the fused embedding-bag)',
      'dense 16→16 + bias + relu, batch 512',
      'sigmoid, 512 values',
    ];
    const perCall = (v) => `${significant(v)} ms`;
    const ours = r('browser-compare').shadergrad.kernelMs;
    return table(['kernel', 'TF.js WebGPU', 'TF.js WASM', 'shadergrad'], labels.map((label, i) => [label, perCall(compareKernel(r, 'webgpu', i).tfjsMs), perCall(compareKernel(r, 'wasm', i).tfjsMs), perCall(ours[i])]));
  },
  'kernels-copy': (r) => `${fixed(pageKernel(r, 'fused embedding-bag', 'forward').copyGbps, 2)} GB/s`,
  kernels: (r) => {
    const rows = KERNEL_ROWS.map(([label, kernel, entries, entryLabel, bold]) => {
      const ks = entries.map((e) => pageKernel(r, kernel, e));
      const b = (text) => (bold ? `**${text}**` : text);
      return [label, entryLabel, b(ks.map((k) => grouped(k.timeUs)).join(' / ')), ks.map((k) => fixed(k.gbps, 2)).join(' / '), b(ks.map((k) => fixed(k.percentOfCopy, 1)).join(' / '))];
    });
    return table(['kernel', 'entry', 'time (µs)', 'GB/s', '% of copy'], rows);
  },
  'kernels-fused-share': (r) => `${fixed(pageKernel(r, 'fused embedding-bag', 'forward').percentOfCopy, 1)}%`,
  'kernels-fused-mark-share': (r) => `${fixed(pageKernel(r, 'fused embedding-bag', 'forward + mark').percentOfCopy, 1)}%`,
  'kernels-unfused-pair': (r) => ms((pageKernel(r, 'embedding', 'forward').timeUs + pageKernel(r, 'mean-pool', 'forward').timeUs) / 1000, 0),

  // bench/README.md, "On a real GPU"
  'gpu-device': (r) => {
    const d = gpuDevice(r);
    const adapters = new Set([...GPU_RUN_RESULTS.map((name) => gpuResult(r, name).adapter), gpuResult(r, 'node-kernels').adapterName]);
    if (adapters.size !== 1) throw new Error(`${GPU_RESULTS}: the results name ${adapters.size} adapters: ${[...adapters].join('; ')}`);
    const earlier = gpuResult(r, EARLIER('device'));
    const sameKind = earlier.name === d.name && earlier.driver === d.driver && earlier.memoryMiB === d.memoryMiB;
    const t = gpuResult(r, 'train');
    return [
      `**${d.name}** (nvidia-smi: driver ${d.driver}, ${grouped(d.memoryMiB)} MiB, clocks up to ${grouped(d.smMHz)} MHz for the SMs`,
      `and ${grouped(d.memoryMHz)} MHz for memory; UUID \`${d.uuid}\`) through NVIDIA's Vulkan driver; every result names Dawn's adapter as`,
      `\`${[...adapters][0]}\`. Host: ${t.machine.cpu}, ${t.machine.cores} cores, ${t.machine.memoryGB} GB; Node ${t.node}; ${t.date.slice(0, 10)}.`,
      `${sameKind ? 'The same kind of GPU, driver and memory as the earlier sessions' : 'Not the GPU of the earlier sessions'} (\`earlier/device.json\`${sameKind ? ', other machines' : ''}).`,
    ].join('\n');
  },
  'gpu-tutorial': (r) => {
    const runs = TUTORIAL_RUNS.map((name) => gpuResult(r, name));
    const epochs = runs[0].epochSeconds.length;
    const row = (run, i) => {
      const [first, ...rest] = run.epochSeconds;
      return [String(i + 1), seconds(run.seconds.load), `**${seconds(run.seconds.train)}**`, seconds(first), seconds(median(rest), 3), seconds(run.seconds.evaluate), seconds(run.seconds.total), fixed(run.test.accuracy, 4), fixed(run.test.loss, 4)];
    };
    const best = Math.min(...runs.map((run) => run.seconds.train));
    const earlierBest = Math.min(...TUTORIAL_RUNS.map((name) => gpuResult(r, EARLIER(name)).seconds.train));
    const swiftshader = r('train').fused.test;
    const { accuracy, loss } = runs[0].test;
    const identical = runs.every((run) => JSON.stringify([run.history, run.test]) === JSON.stringify([runs[0].history, runs[0].test]));
    return [
      table(['run', 'load', `training, ${epochs} epochs`, 'first epoch', `median of the other ${epochs - 1}`, 'evaluate', 'whole run', 'test accuracy', 'test loss'], runs.map(row)),
      '',
      `Issue #15's goal, ${epochs} epochs in under ${TUTORIAL_GOAL_SECONDS} s after the data is loaded, is **${best < TUTORIAL_GOAL_SECONDS ? 'met' : 'not met'}**: ${seconds(best)} at best, ${times(best / TUTORIAL_GOAL_SECONDS)} the goal`,
      `(issue #5's earlier ${EARLIER_GOAL_SECONDS} s, set for an H100, is ${best < EARLIER_GOAL_SECONDS ? '' : 'not '}met either; the earlier sessions' best was ${seconds(earlierBest)}).`,
      `${identical ? 'The two runs give identical per-epoch metrics and test figures. ' : ''}Test accuracy ${fixed(accuracy, 5)}${accuracy === swiftshader.accuracy ? ', the same as' : ' against'} SwiftShader's fused run (\`bench/results/train.json\`${accuracy === swiftshader.accuracy ? '' : `: ${fixed(swiftshader.accuracy, 5)}`});`,
      loss === swiftshader.loss ? 'test loss the same, bit for bit.' : `test loss ${fixed(loss, 7)} against SwiftShader's ${fixed(swiftshader.loss, 7)}: ${Math.abs(loss - swiftshader.loss).toExponential(1)} apart, not bit for bit.`,
    ].join('\n');
  },
  'gpu-time': (r) => {
    const p = gpuResult(r, 'profile').fused;
    const runs = TUTORIAL_RUNS.map((name) => gpuResult(r, name));
    const bagBackward = p.kernels.find((k) => k.kernel.startsWith('embedding-bag:backward'));
    const wallMs = p.medianEpochSeconds * 1000;
    const cliEpochMs = median(runs.flatMap((run) => run.epochSeconds.slice(1))) * 1000;
    const gpuSeconds = (p.gpuMsPerEpoch * runs[0].epochSeconds.length) / 1000;
    return [
      `Where an epoch's time goes (\`profile.json\`, fused path, validation included): timestamp queries give ${ms(p.gpuMsPerEpoch)} of GPU`,
      `work per epoch (${fixed(p.gpuMsPerStep, 2)} ms per step; ${p.perEpoch.dispatches} dispatches, ${p.perEpoch.submits} submit, ${p.perEpoch.readBacks} read-back), ${percent(bagBackward.share)} of it in the embedding-bag backward`,
      `(${fixed(bagBackward.perStepMs, 2)} ms per step). The profile's untimed epoch takes ${ms(wallMs)} of wall time, so ${ms(wallMs - p.gpuMsPerEpoch)} is host work`,
      `and waiting; the CLI's epochs after the first take ${ms(cliEpochMs)} (median of both runs), the rest not broken down here (it`,
      `includes the checkpoint written after every epoch). The first epoch (${runs.map((run) => seconds(run.epochSeconds[0])).join(', ')}) holds the set-up. The`,
      `GPU time alone of ${runs[0].epochSeconds.length} epochs is ${seconds(gpuSeconds)}, ${times(gpuSeconds / TUTORIAL_GOAL_SECONDS)} the goal before any host work.`,
    ].join('\n');
  },
  'gpu-forms': (r) => {
    const [before, after] = [GPU_BEFORE_FORMS, ''].map((dir) => ({
      profile: gpuResult(r, `${dir}profile`).fused,
      tutorials: TUTORIAL_RUNS.map((name) => gpuResult(r, `${dir}${name}`)),
    }));
    /** The named fused kernels a run dispatched (a GPU form has a second pass), and their ms per step together. */
    const found = (run, kernels) => run.profile.kernels.filter((k) => kernels.includes(k.kernel));
    const cell = (run, kernels) => `${found(run, kernels).map((k) => `\`${k.kernel.split(':')[1]}\``).join(' + ')}: ${fixed(sum(found(run, kernels).map((k) => k.perStepMs)), 3)} ms`;
    const perStep = (run, kernels) => sum(found(run, kernels).map((k) => k.perStepMs));
    const kernelRow = (label, kernels) => [label, cell(before, kernels), cell(after, kernels), times(perStep(before, kernels) / perStep(after, kernels), 1)];
    const trainRange = (run) => range(run.tutorials.map((h) => h.seconds.train), (v) => fixed(v, 2));
    const epochMedian = (run) => median(run.tutorials.flatMap((h) => h.epochSeconds.slice(1)));
    return table(['fused path', 'before', 'after', 'less by'], [
      kernelRow('embedding-bag backward, per step', ['embedding-bag:backward', 'embedding-bag:backwardWords']),
      kernelRow("the head's gradients, per step", ['classifier-head:gradients', 'classifier-head:sumPieces']),
      ['GPU time per epoch (timestamp queries)', ms(before.profile.gpuMsPerEpoch), ms(after.profile.gpuMsPerEpoch), times(before.profile.gpuMsPerEpoch / after.profile.gpuMsPerEpoch, 1)],
      ["the CLI's median epoch after the first", ms(epochMedian(before) * 1000), ms(epochMedian(after) * 1000), times(epochMedian(before) / epochMedian(after), 1)],
      ['training, 40 epochs (two runs)', `${trainRange(before)} s`, `${trainRange(after)} s`, ''],
    ]);
  },
  'gpu-forms-first-try': (r) => {
    const tried = `${GPU_FIRST_TRY}`;
    const bag = (d) => d.fused.kernels.find((k) => k.kernel === 'embedding-bag:backwardWords').perStepMs;
    const millionRows = (d) => d.measured.vocabulary['fused, Adam']['1000000'];
    const [first, now] = [tried, ''].map((dir) => ({ bag: bag(gpuResult(r, `${dir}profile`)), rows: millionRows(gpuResult(r, `${dir}scaling`)) }));
    const oneThread = millionRows(gpuResult(r, `${GPU_BEFORE_FORMS}scaling`));
    return [
      `A first try gave each row a whole workgroup of 32 lanes: ${fixed(first.bag, 3)} ms per step at 10,000 rows (${fixed(now.bag, 3)} ms now), but a`,
      `million-row table's fused epoch went from ${seconds(oneThread, 3)} to ${seconds(first.rows, 3)} (a million workgroups, nearly all idle); eight lanes per row,`,
      `eight rows per workgroup, give ${seconds(now.rows, 3)} (\`scaling.json\` below; the first try's \`profile.json\` and \`scaling.json\` are in \`${GPU_FIRST_TRY}\`).`,
    ].join('\n');
  },
  'gpu-train': (r) => {
    const d = gpuResult(r, 'train');
    const ratio = d.ratioToFused.captured.wholeRun;
    const swiftshader = r('train').ratioToFused.captured.wholeRun;
    const tests = Object.keys(EXECUTOR_LABELS).map((k) => d[k].test);
    const lossSpread = Math.max(...tests.map((t) => t.loss)) - Math.min(...tests.map((t) => t.loss));
    return [
      trainFigure(d, 3),
      '',
      `Test accuracy ${new Set(tests.map((t) => t.accuracy)).size === 1 ? `${fixed(tests[0].accuracy, 4)} in every run` : 'differs between runs'} (test losses at most ${lossSpread.toExponential(1)} apart).`,
      `Issue #11's target, captured per-op steps within 1.5× of the fused kernels' whole run, is **${ratio <= 1.5 ? 'met' : 'not met'}** on the H200 in this`,
      `run (${times(ratio, 2)}; ${times(gpuResult(r, EARLIER('train')).ratioToFused.captured.wholeRun, 2)} in the earlier session's, \`earlier/train.json\`); on SwiftShader, ${times(swiftshader, 2)} (\`bench/results/train.json\`).`,
    ].join('\n');
  },
  'gpu-profile': (r) => {
    const d = gpuResult(r, 'profile');
    const top = (run) => [...run.kernels].sort((a, b) => b.share - a.share).slice(0, PROFILE_TOP);
    const [fused, captured] = [top(d.fused), top(d.captured)];
    const cells = (k) => (k ? [`\`${k.kernel}\``, fixed(k.perStepMs, 3), percent(k.share, 1)] : ['', '', '']);
    return [
      profileExecutors(d, { executors: Object.keys(EXECUTOR_LABELS), epochDigits: 3 }),
      '',
      `The captured step's GPU time per epoch is ${times(d.captured.gpuMsPerEpoch / d.fused.gpuMsPerEpoch, 2)} the fused kernels'; its wall time per epoch in this profile, ${times(d.captured.medianEpochSeconds / d.fused.medianEpochSeconds, 1)}.`,
      `Per training step (${d.fused.kernels[0].calls} per epoch), the ${PROFILE_TOP} kernels with the most GPU time (one pass per dispatch while timed):`,
      '',
      table(['fused kernel', 'ms per step', 'share', 'captured per-op kernel', 'ms per step', 'share'], fused.map((k, i) => [...cells(k), ...cells(captured[i])])),
    ].join('\n');
  },
  'gpu-kernels': (r) => {
    const results = `${GPU_RESULTS}/node-kernels`;
    const rows = GPU_KERNEL_ROWS.map(([kernel, entry]) => {
      const at = GPU_KERNEL_BATCHES.map((batch) => pageKernel(r, kernel, entry, { results, batch }));
      const mid = pageKernel(r, kernel, entry, { results });
      return [kernel, entry, ...at.map((k) => readable(k.timeUs)), readable(mid.gbps), fixed(mid.percentOfCopy, 1)];
    });
    const was = pageKernel(r, 'embedding', 'backward', { results: `${GPU_RESULTS}/${EARLIER('node-kernels')}` });
    const now = pageKernel(r, 'embedding', 'backward', { results });
    return [
      table(['kernel', 'entry', ...GPU_KERNEL_BATCHES.map((b) => `µs, batch ${b}`), `GB/s, batch ${KERNEL_BATCH}`, `% of copy, batch ${KERNEL_BATCH}`], rows),
      '',
      `The per-op embedding backward (two passes, timed as their sum) takes ${readable(now.timeUs)} µs at batch ${KERNEL_BATCH}; the one-pass kernel it replaced took ${readable(was.timeUs)} µs in an earlier session (\`earlier/node-kernels.json\`).`,
    ].join('\n');
  },
  'gpu-kernels-copy': (r) => {
    const { copy } = gpuResult(r, 'node-kernels');
    const cuda = gpuDevice(r).cudaCopy;
    const best = copy.reduce((a, b) => (b.gbps > a.gbps ? b : a));
    const floor = copy.filter((c) => c.bytes <= DISPATCH_FLOOR_BYTES);
    return [
      `Our copy kernel's best is ${grouped(best.gbps)} GB/s (${mib(best.bytes)} read + written, the largest size measured, beside ${best.beside} at batch ${best.batch}):`,
      `${percent(best.gbps / cuda.gbps)} of the ${grouped(cuda.gbps)} GB/s that ${cuda.tool} measured for a 1 GiB device-to-device copy on the same GPU. A copy`,
      `of at most ${grouped(DISPATCH_FLOOR_BYTES)} bytes takes ${range(floor.map((c) => c.timeUs), (v) => fixed(v, 2))} µs (${floor.length} sizes): the per-dispatch floor.`,
    ].join('\n');
  },
  'gpu-peer': (r) => {
    const d = gpuResult(r, 'peer-cuda');
    const labels = { shadergrad: 'shadergrad, fused path (Dawn on Vulkan)', pytorch: `PyTorch ${d.pytorchSetup.version} (CUDA, ${d.pytorchSetup.device})` };
    const rows = d.runs.map((run) => [labels[run.tool], String(run.round), seconds(run.seconds.load), run.seconds.prepare === undefined ? '—' : seconds(run.seconds.prepare), seconds(run.seconds.train), seconds(run.seconds.evaluate), seconds(run.wallSeconds), fixed(run.test.accuracy, 4)]);
    const toolRuns = (tool) => d.runs.filter((run) => run.tool === tool);
    const trainRange = (tool) => range(toolRuns(tool).map((run) => run.seconds.train), (v) => fixed(v, 2));
    const medianTrain = (tool) => median(toolRuns(tool).map((run) => run.seconds.train));
    const outsideTraining = (tool) => range(toolRuns(tool).map((run) => run.wallSeconds - run.seconds.train), (v) => fixed(v, 1));
    return [
      table(['', 'round', 'load', 'prepare', 'training', 'evaluate', 'whole process (wall)', 'test accuracy'], rows),
      '',
      `Median whole run: shadergrad ${seconds(d.shadergrad.medianWallSeconds, 1)}, PyTorch ${seconds(d.pytorch.medianWallSeconds, 1)}: shadergrad is **${times(d.ratio, 2)}** as fast. Training`,
      `alone: ${trainRange('shadergrad')} s against ${trainRange('pytorch')} s (${times(medianTrain('pytorch') / medianTrain('shadergrad'), 2)} by the medians); the rest of each`,
      `process (start, load, preparing the data, evaluating): ${outsideTraining('shadergrad')} s against ${outsideTraining('pytorch')} s.`,
    ].join('\n');
  },
  'gpu-scaling': (r) => scalingFigure(gpuResult(r, 'scaling'), 3),
  'gpu-recipes': (r) => {
    const runs = GPU_RECIPES.map((recipe) => ({ ...recipe, run: gpuResult(r, `${recipe.recipe}-history`), rows: recipeRows(r, recipe.recipe) }));
    const rows = runs.map(({ recipe, against, meets, run, rows }) => {
      if (run.settings.recipe !== recipe) throw new Error(`${GPU_RESULTS}/${recipe}-history.json: recipe ${run.settings.recipe}`);
      // Word ids below numWords + 1, every n-gram id after (src/data/ngrams.ts, vocabularySize).
      const ngrams = rows - run.settings.numWords - 1;
      const longest = run.settings.ngrams.ngramRange;
      const earlier = gpuResult(r, EARLIER(`${recipe}-history`));
      return [
        `\`${recipe}\``, `${grouped(rows)} (${grouped(ngrams)} n-grams of 2${longest > 2 ? `–${longest}` : ''} words)`, String(run.epochSeconds.length), seconds(run.seconds.train, 1),
        `${range(run.epochSeconds, (v) => fixed(v, 1))} s`, `${seconds(run.seconds.total, 1)} (${seconds(earlier.seconds.total, 1)})`, `**${fixed(run.test.accuracy, 4)}** (loss ${fixed(run.test.loss, 4)})`,
        `${against}: **${meets(run.test.accuracy) ? 'met' : 'not met'}**`, mib(run.gpuMemory.peakBytesAllocated),
      ];
    });
    const executors = new Set(runs.map(({ recipe }) => gpuLogStep(r, recipe).match(/^Trained on ([^:(]+)/m)?.[1].trim()));
    const bigram = runs.find(({ recipe }) => recipe === 'fasttext-bigram').run;
    const profiled = gpuResult(r, 'profile-fasttext-bigram').captured;
    return [
      table(['recipe', 'embedding rows', 'epochs', 'training', 'per epoch', 'whole run (earlier session)', 'test accuracy', 'against', 'peak GPU memory'], rows),
      '',
      `Both train on ${[...executors].join(' and ')}. A \`fasttext-bigram\` epoch of the CLI takes a median of ${seconds(median(bigram.epochSeconds))}; the same epoch in`,
      `\`bench:profile\` (below), which writes no checkpoint, ${seconds(profiled.medianEpochSeconds)}, of which ${seconds(profiled.gpuMsPerEpoch / 1000)} GPU work. The CLI's epoch also writes the checkpoint`,
      `(\`BackupAndRestore\`: the table and LazyAdam's two moments), which the next epoch's checkpoint waits for; the difference is not broken down further.`,
    ].join('\n');
  },
  'gpu-profile-bigram': (r) => recipeProfileFigure(gpuResult(r, 'profile-fasttext-bigram')),
  'gpu-best-search': (r) => {
    const d = gpuResult(r, EARLIER('best-search'));
    const refit = gpuResult(r, 'best-history');
    const winner = d.candidates.find((c) => c.index === d.winner);
    const candidate = (c) =>
      `candidate ${c.index} (${grouped(c.vocabularySize)} rows, maxlen ${c.settings.data.maxlen}) ran ${c.epochs.length} epoch${c.epochs.length > 1 ? 's' : ''} of ${range(c.epochs.map((e) => e.seconds), (v) => fixed(v, 1))} s` +
      `${c.cutByBudget ? ' before the budget stopped it' : ''}, best val_accuracy ${fixed(c.valAccuracy, 4)} at epoch ${c.chosenEpoch}`;
    return [
      `In the ${d.options.budgetSeconds} s budget (at most ${d.options.epochsMax} epochs): ${d.candidates.map(candidate).join('; ')}; ${d.notStarted.length} not started.`,
      `The winner, candidate ${d.winner}, trained without the ${grouped(winner.settings.data.validationSize)} reviews held out for validation, scored ${fixed(d.test.accuracy, 4)} test accuracy (loss ${fixed(d.test.loss, 4)}) on ${grouped(d.test.reviews)} test reviews.`,
      `The search ran in an earlier session, on older code (\`earlier/best-search.json\`). \`train --recipe best\` refits the winner's settings on every training review for the ${winner.chosenEpoch} epochs the search chose${refit.epochSeconds.length === winner.chosenEpoch ? '' : ` (the recorded run trained ${refit.epochSeconds.length})`}: ${fixed(refit.test.accuracy, 4)} in the table above.`,
    ].join('\n');
  },
  // README.md
  'readme-tutorial-run': (r) => {
    const f = r('train').fused;
    return [
      `took ${seconds(f.seconds.train, 1)} in the latest recorded run (\`bench/results/train.json\`), a median of ${seconds(f.medianEpochSeconds)} per epoch`,
      `with validation included, and ${seconds(f.seconds.total, 1)} in all from data load to test accuracy; captured per-op steps (\`--no-fuse\`)`,
      `took ${fixed(r('train').ratioToFused.captured.wholeRun, 1)} times as long in the same process and reached test accuracy ${fixed(r('train').captured.test.accuracy, 4)}.`,
      `GPU memory stays at ${mib(f.gpuMemory.bytesAllocatedAfterEachEpoch.at(-1))} from the first epoch to the last, with a peak of ${mib(f.gpuMemory.peakBytesAllocated)}`,
    ].join('\n');
  },
  peer: (r) => peerFigure(r('peer')),
  'peer-fasttext-bigram': (r) => peerFigure(r('peer-fasttext-bigram')),
  'node-browser-gap': (r) => {
    const node = r('train').fused.medianEpochSeconds;
    const page = median(r('browser-train').epochSeconds);
    const day = (iso) => iso.slice(0, 10);
    if (day(r('train').date) !== day(r('browser-train').date)) throw new Error('train.json and browser-train.json come from different days: run both again');
    return `Node's median fused epoch, ${seconds(node)} (\`train.json\`), against the training page's ${seconds(page)} (\`browser-train.json\`), the two run one after the other on ${day(r('train').date)}: **${times(node / page, 2)}** (issue #15's target: within 1.1×)`;
  },
  'load-consecutive': (r) => {
    const [first, second] = [r('load-data-previous'), r('load-data')];
    if (!(first.date < second.date)) throw new Error('load-data-previous.json must be the earlier run');
    return `Two consecutive runs of the command (${first.date.slice(0, 16).replace('T', ' ')} and ${second.date.slice(11, 16)} UTC, the machine otherwise quiet): **${times(first.speedup)}** and **${times(second.speedup)}** (\`load-data-previous.json\`, \`load-data.json\`)`;
  },
  roofline: (r) => {
    const d = r('node-kernels');
    const fused = r('profile').fused;
    const batch = 512;
    const validationReviews = 10_000; // the tutorial's validation split, one forward pass per epoch
    const kernel = (name, entry) => {
      const k = d.kernels.find((x) => x.batch === batch && x.kernel === name && x.entry === entry);
      if (!k) throw new Error(`node-kernels.json: no ${name} ${entry} at batch ${batch}`);
      return k;
    };
    const step = [['fused embedding-bag', 'forward + mark'], ['fused embedding-bag', 'backward'], ['fused head', 'trainSample'], ['fused head', 'gradients'], ['fused adam', 'update']].map(([n, e]) => kernel(n, e));
    const validation = kernel('fused embedding-bag', 'forward');
    const steps = fused.kernels.find((k) => k.kernel === 'embedding-bag:backward').calls;
    const scale = validationReviews / batch;
    const bytes = steps * sum(step.map((k) => k.bytes)) + scale * validation.bytes;
    const copy = Math.max(...d.copy.map((c) => c.gbps)); // bytes per ns
    const floor = bytes / copy / 1e9;
    const kernels = (steps * sum(step.map((k) => k.timeUs)) + scale * validation.timeUs) / 1e6;
    const share = (k) => `${k.kernel} ${k.entry} ${fixed(k.percentOfCopy, 1)}%`;
    return [
      `An epoch of the fused path (${steps} training steps counted at batch ${batch}, and the ${grouped(validationReviews)} validation reviews' forward pass) must move at least`,
      `${mib(bytes)}: the kernel page's byte counts (\`node-kernels.json\`, Node, ${d.date.slice(0, 10)}). At the copy kernel's best rate on this adapter,`,
      `${fixed(copy, 2)} GB/s, that is **${seconds(floor)}**. The same kernels timed one by one add up to ${seconds(kernels)}, and the epoch takes ${seconds(fused.medianEpochSeconds)}`,
      `of wall time (\`profile.json\`). The distance to the floor is in the kernels that move their bytes slowly (share of the copy's rate at batch ${batch}: ${step.map(share).join(', ')});`,
      `the rest of the wall time, ${seconds(fused.medianEpochSeconds - kernels)}, is dispatch, synchronisation and host work between the kernels.`,
    ].join('\n');
  },
  // Issue #12: fasttext-bigram's n-grams and 5 epochs in Node, at most 60 s.
  'readme-bigram-time': (r) => {
    const { seconds: s, wallSeconds } = r('recipes').recipes['fasttext-bigram'].node;
    const fit = s.prepare + s.train;
    return `**${seconds(fit, 1)}** (the n-grams ${seconds(s.prepare, 1)}, the 5 epochs with their checkpoints ${seconds(s.train, 1)}): the 60 s target is ${fit <= 60 ? '**met**' : '**not met**'}; ` +
      `the whole process, loading, building the 60-million-weight model, the test set and writing the files included, took ${seconds(wallSeconds, 1)}`;
  },
  // Where a bigram step's GPU time goes (bench:profile --recipe fasttext-bigram): the largest kernels.
  'profile-fasttext-bigram': (r) => recipeProfileFigure(r('profile-fasttext-bigram')),
  'readme-recipes': (r) => {
    const d = r('recipes').recipes;
    // Issue #12's published anchors for each recipe, and where the H200 run kept its history.
    const recipes = [
      ['tutorial', "TensorFlow's tutorial: about 0.87", 'tutorial-1-history'],
      ['fasttext-unigram', "Keras' example: 0.8813", null],
      ['fasttext-bigram', "Keras' example: 0.9056", 'fasttext-bigram-history'],
      ['best', 'NBSVM with bigrams: 0.912; the target: ≥ 0.91', 'best-history'],
    ];
    const notMeasured = 'not measured';
    const rows = recipes.map(([name, published, gpuHistory]) => {
      const { node, browser } = d[name] ?? {};
      const gpu = gpuHistory ? r(`gpu-h200/${gpuHistory}`) : null;
      const accuracy = [node && `**${fixed(node.test.accuracy, 4)}** (loss ${fixed(node.test.loss, 4)})`, browser && `page ${fixed(browser.test.accuracy, 4)}`, gpu && `H200 ${fixed(gpu.test.accuracy, 4)}`].filter(Boolean).join('; ');
      const epochs = node?.epochs ?? browser?.epochs ?? gpu?.epochSeconds.length;
      const peak = node?.peakGpuBytes ?? browser?.peakGpuBytes ?? gpu?.gpuMemory.peakBytesAllocated;
      const time = (run, s, digits = 0) => (run ? seconds(s(run), digits) : notMeasured);
      return [`\`${name}\``, accuracy || notMeasured, epochs === undefined ? '' : String(epochs), time(node, (x) => x.wallSeconds), time(browser, (x) => x.wallSeconds),
        time(gpu, (x) => x.seconds.total, 1), peak === undefined ? '' : mib(peak), published];
    });
    return table(['recipe', 'test accuracy', 'epochs', 'Node, SwiftShader', 'training page, SwiftShader', 'Node, H200', 'peak GPU memory', 'published'], rows);
  },
  'readme-gpu': (r) => {
    const runs = TUTORIAL_RUNS.map((name) => gpuResult(r, name));
    const trainSeconds = runs.map((run) => run.seconds.train);
    const met = Math.min(...trainSeconds) < TUTORIAL_GOAL_SECONDS;
    const peer = gpuResult(r, 'peer-cuda');
    const captured = gpuResult(r, 'train').ratioToFused.captured.wholeRun;
    const [bigram, best] = ['fasttext-bigram-history', 'best-history'].map((name) => gpuResult(r, name));
    return `on an ${gpuDevice(r).name} (Dawn on NVIDIA's Vulkan driver, Node) the tutorial's ${runs[0].epochSeconds.length} epochs trained in ${range(trainSeconds, (v) => fixed(v, 2))} s after the data was loaded ` +
      `(issue #15's goal of under ${TUTORIAL_GOAL_SECONDS} s is ${met ? '' : 'not '}met), and the whole run took ${seconds(peer.shadergrad.medianWallSeconds, 1)} against ${seconds(peer.pytorch.medianWallSeconds, 1)} for PyTorch ${peer.pytorchSetup.version.split('+')[0]} on CUDA on the same GPU (**${times(peer.ratio, 2)}**); ` +
      `captured per-op steps (\`--no-fuse\`) took **${times(captured, 2)}** the fused whole run, \`train --recipe fasttext-bigram\` reached test accuracy **${fixed(bigram.test.accuracy, 4)}** in ${seconds(bigram.seconds.total, 1)} in all, and \`train --recipe best\` **${fixed(best.test.accuracy, 4)}** in ${seconds(best.seconds.total, 1)} (${seconds(best.seconds.train, 1)} of training)`;
  },
  'readme-speedups': (r) =>
    `the whole 40-epoch run is **${times(r('train').ratioToFused.captured.wholeRun)} faster** than on captured per-op steps in Node; in Chromium an epoch is ` +
    `**${times(compareBackend(r, 'webgpu').speedup, 0)} faster** than TensorFlow.js ${r('browser-compare').tfjsVersion.split('.').slice(0, 2).join('.')} on its WebGPU backend`,
  'stryker-seconds': (r) => seconds(r('stryker-mutation').seconds, 0),
  mutation: (r) => {
    const stryker = r('stryker-mutation');
    const wgsl = r('wgsl-mutation');
    const score = (x) => `${fixed(x * 100, 1)}%`;
    const strykerRow = (label, f, shown = score(f.score)) => [label, grouped(f.mutants), grouped(f.killed + f.timedOut), grouped(f.survived + f.noCoverage), 'see below', grouped(f.compileErrors), shown];
    const wgslRow = (label, s, shown = score(s.score)) => [label, grouped(s.mutants), grouped(s.killed + s.timedOut), grouped(s.survived), grouped(s.equivalent ?? 0), grouped(s.compileErrors), shown];
    const shaders = Object.values(wgsl.shaders);
    const shaderTotal = Object.fromEntries(['mutants', 'killed', 'timedOut', 'survived', 'equivalent', 'compileErrors'].map((k) => [k, shaders.reduce((n, s) => n + (s[k] ?? 0), 0)]));
    const rows = [
      strykerRow(`**StrykerJS, all ${stryker.files.length} files**`, stryker.total, `**${score(stryker.total.score)}**`),
      wgslRow(`**WGSL script, all ${shaders.length} shaders**`, shaderTotal, `**${score(wgsl.total.score)}**`),
      ...stryker.files.map((f) => strykerRow(`\`${f.path}\` (StrykerJS)`, f)),
      ...Object.entries(wgsl.shaders).map(([name, s]) => wgslRow(`\`shaders/${name}\` (scripts/mutate-wgsl.mjs)`, s)),
    ];
    return table(['scope', 'mutants', 'killed', 'survived', 'equivalent (not scored)', 'did not compile', 'score'], rows);
  },
  soak: (r) => {
    const d = r('soak');
    return table(['run', 'time', 'test accuracy', 'GPU pool', 'GPU in use after', 'host RSS', 'JS heap', 'array buffers'], d.runs.map((run) => [
      String(run.run), seconds(run.seconds, 1), fixed(run.testAccuracy, 4), mib(run.gpu.bytesAllocated), run.gpu.bytesInUse === 0 ? '0' : mib(run.gpu.bytesInUse), `${Math.round(run.host.rss / MIB)} MiB`, mib(run.host.heapUsed), mib(run.host.arrayBuffers),
    ]));
  },
  fuzz: (r) => {
    const d = r('fuzz').readers;
    const errors = ['ZipFormatError', 'NpyFormatError', 'PickleError', 'DatasetError', 'WeightsFileError', 'CheckpointError'];
    const row = (label, x) => [label, grouped(x.inputs), `${grouped(x.outcomes.loaded)} (${grouped(x.verified)})`, ...errors.map((e) => (x.outcomes[e] ? grouped(x.outcomes[e]) : '')), ms(x.slowestMs)];
    const readers = [['zip (both inflaters)', 'zip'], ['`.npy`', 'npy'], ['pickle (both list forms)', 'pickle'], ['`imdbFromNpz`', 'imdb'], ['word index', 'wordIndex'], ['weights file, checkpoint', 'weights']];
    return table(['reader', 'inputs', 'loaded (checked value for value)', ...errors.map((e) => `\`${e}\``), 'slowest input (CPU)'], readers.filter(([, key]) => d[key]?.inputs).map(([label, key]) => row(label, d[key])), ['---', ...Array(9).fill('---:')]);
  },
};

const MARKER = /<!-- figures:([\w-]+) -->([\s\S]*?)<!-- \/figures:([\w-]+) -->/g;

/** `text` with every marked figure re-rendered; `used` collects the renderers' names. */
export function renderText(text, results, used = new Set()) {
  return text.replace(MARKER, (_, name, body, closing) => {
    if (name !== closing) throw new Error(`figures:${name} is closed by /figures:${closing}`);
    const render = RENDERERS[name];
    if (!render) throw new Error(`figures:${name}: no renderer of that name in scripts/docs-figures.mjs`);
    used.add(name);
    const figure = render(results);
    // A block keeps its own lines between the markers; an inline figure stays on its line.
    const rendered = body.startsWith('\n') ? `\n${figure}\n` : figure;
    return `<!-- figures:${name} -->${rendered}<!-- /figures:${name} -->`;
  });
}

/** Each document as it is and as its JSON renders it. */
export function renderDocuments(results = loadResults(), root = ROOT) {
  const used = new Set();
  const docs = DOCUMENTS.map((path) => {
    const text = readFileSync(join(root, path), 'utf8');
    return { path, text, rendered: renderText(text, results, used) };
  });
  return { docs, used };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const check = process.argv.includes('--check');
  const { docs, used } = renderDocuments();
  const unused = Object.keys(RENDERERS).filter((n) => !used.has(n));
  if (unused.length) console.warn(`renderers without markers in ${DOCUMENTS.join(' or ')}: ${unused.join(', ')}`);
  let drifted = 0;
  for (const { path, text, rendered } of docs) {
    if (text === rendered) continue;
    drifted++;
    if (check) console.error(`${path}: figures differ from bench/results (run npm run docs:figures)`);
    else writeFileSync(join(ROOT, path), rendered), console.log(`${path}: figures re-rendered`);
  }
  if (!drifted) console.log(`${DOCUMENTS.join(' and ')}: every marked figure matches bench/results`);
  process.exitCode = check && drifted ? 1 : 0;
}
