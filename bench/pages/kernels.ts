/**
 * The kernel page: every kernel of the tutorial model, forward and backward, timed at the
 * training shapes for a few batch sizes, with its bandwidth next to a copy kernel that moves
 * the same number of bytes in the same run (the practical ceiling).
 *
 * URL settings: batches (default 64,256,512), repeats (default 20), timing=wall-clock (skip
 * timestamp queries even where the adapter has them), auto=1 (run at once).
 * Publishes { timing, quantized, timestampQuantumNs, copy: [...], kernels: [...], hostIndex: [...] }.
 */
import { Gpu, GpuTimer, copyKernel, type AdapterReport, type PreparedDispatch, type Tensor } from '../../src/index.js';
import { binaryAccuracyCount } from '../../src/kernels/accuracy.js';
import { optimizerUpdate, prepareOptimizerUpdate } from '../../src/kernels/optimizer-update.js';
import { Adam } from '../../src/nn/optimizers/index.js';
import { classifierHeadParams, headRecordSize, prepareHeadTraining } from '../../src/kernels/classifier-head.js';
import { batchWords, prepareEmbeddingBag, presenceShape, presenceWords, tokenBags, uploadTokenBags, wholeTable } from '../../src/kernels/embedding-bag.js';
import { add } from '../../src/kernels/add.js';
import { bceFromLogitsBackward, bceFromLogitsLosses } from '../../src/kernels/binary-crossentropy.js';
import { denseBiasGradient, denseForward, denseInputGradient, denseKernelGradient } from '../../src/kernels/dense.js';
import { embeddingBackwardRows, embeddingForward, embeddingGradientIndex, uploadEmbeddingGradientIndex, type EmbeddingGradientIndex } from '../../src/kernels/embedding.js';
import { meanPoolBackward, meanPoolForward } from '../../src/kernels/mean-pool.js';
import { reluBackward, reluForward } from '../../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../../src/kernels/sigmoid.js';
import { $, describeAdapter, fail, fillFromUrl, intParam, params, publish, setStatus, start } from './page.js';
import { SettingError, wholeNumber, wholeNumbers } from './settings.js';
import { median } from '../stats.js';

// The tutorial's shapes.
const STEPS = 256;
const DIM = 16;
const VOCAB = 10_000;
const HIDDEN = 16;
const DEFAULT_BATCHES = [64, 256, 512];
const DEFAULT_REPEATS = 20;
/** Untimed runs of each kernel first: pipelines compiled, buffers pooled, caches warm. */
const WARMUP = 2;
/** Every tensor holds 4-byte elements (f32 or i32). */
const BYTES_PER_ELEMENT = 4;
/** The copy kernel's vector width: reference copies are rounded up to it so they take the vec4 path. */
const VEC4 = 4;
/** Passes timed to see whether the browser quantizes timestamps (16 timestamps). */
const PROBE_PASSES = 8;
const PROBE_ELEMENTS = 1 << 16;
/** Shortest review, in tokens; lengths are uniform from here to STEPS (IMDB's median review is ~174 words). */
const MIN_REVIEW_TOKENS = 64;
/** Keras' start_char: every review begins with it. */
const START_TOKEN = 1;
const SEED = 1;
/** Below this width the chart puts each label above its bar. */
const NARROW_CHART = 520;
/** Chart axis steps (percent), finest first, and the least room between two tick labels (px). */
const TICKS = [25, 50, 100];
const MIN_TICK = TICKS[0];
const MIN_TICK_SPACING = 72;

/** The counts a kernel's bytes and FLOP depend on, for one batch size. */
interface Shapes {
  batch: number;
  /** N = batch · STEPS tokens. */
  tokens: number;
  /** U: distinct ids in the batch (the embedding gradient's rows). */
  uniqueIds: number;
  /** Adam steps the embedding table, the largest weight. */
  adamParams: number;
  /** E: the batch's (review, distinct token) pairs: the fused path's entries and bitmap bits. */
  entries: number;
}

/** The tutorial model's weights, flat (the fused path's layout), padded to whole vec4s. */
const KERNEL1 = VOCAB * DIM;
const FLAT_PARAMS = Math.ceil((KERNEL1 + DIM * HIDDEN + 2 * HIDDEN + 1) / 4) * 4;
const HEAD_WEIGHTS = DIM * HIDDEN + 2 * HIDDEN + 1;
const HEAD_RECORD = headRecordSize(HIDDEN);
const HEAD_LAYOUT = { dim: DIM, hidden: HIDDEN, relu: true, kernel1: KERNEL1, bias1: KERNEL1 + DIM * HIDDEN, kernel2: KERNEL1 + DIM * HIDDEN + HIDDEN, bias2: KERNEL1 + DIM * HIDDEN + 2 * HIDDEN };

/** Device tensors every kernel reads from, made once per batch size. */
interface Inputs {
  ids: Tensor; // [B, T] i32
  index: EmbeddingGradientIndex; // CSR of ids
  table: Tensor; // [V, D]
  sequence: Tensor; // [B, T, D]: the embedding output, or its gradient
  sequence2: Tensor; // [B, T, D]: add's second operand
  pooled: Tensor; // [B, D]: mean-pool output, Dense 16→16 input
  hidden: Tensor; // [B, H]: Dense 16→16 output / relu, Dense 16→1 input, and their gradients
  logits: Tensor; // [B, 1]: Dense 16→1 output, and its gradient
  probs: Tensor; // [B, 1] in (0, 1)
  labels: Tensor; // [B, 1] of 0/1
  kernel1: Tensor; // [D, H]
  bias1: Tensor; // [H]
  kernel2: Tensor; // [H, 1]
  bias2: Tensor; // [1]
  adam: { param: Tensor; grad: Tensor; m: Tensor; v: Tensor }; // [V·D] each
  /** The fused path's dispatches, prepared as its trainer prepares them, and what they bind. */
  fused: Record<'bagForward' | 'bagForwardMark' | 'bagBackward' | 'headSample' | 'headGradients' | 'adam', PreparedDispatch[]>;
  fusedTensors: Tensor[];
  fusedUniforms: GPUBuffer[];
  fusedDispose: () => void;
}

interface KernelSpec {
  kernel: string;
  entry: string;
  shape(s: Shapes): string;
  /** Elements read and written, each distinct element once (uniform parameters not counted). */
  reads(s: Shapes): number;
  writes(s: Shapes): number;
  /** Floating-point operations, where the kernel is plain arithmetic; null for data movement, selects, exp/log. */
  flop: ((s: Shapes) => number) | null;
  /** Record one dispatch; returns what it allocated (freed at once: the pool hands it to the next repeat). */
  run(gpu: Gpu, x: Inputs): Tensor[];
}

const shape = (...dims: number[]) => `[${dims.join(', ')}]`;

const words = (s: Shapes) => presenceWords(s.batch) + 1;
const record = (gpu: Gpu, d: readonly PreparedDispatch[]): Tensor[] => (gpu.record(d), []);

/**
 * The fused path's kernels (src/nn/fused-training.ts). Bytes count what each must move: the
 * embedding-bag reads E entries and E table rows (not B·T ids and rows: the counts are the point);
 * the backward's binary-search reads (about log2 of a review's entries per bit) are not counted.
 */
const FUSED_KERNELS: KernelSpec[] = [
  // reads order, offsets [B, 2], entries [E], one table row per entry [E, D]; writes pooled [B, D]
  { kernel: 'fused embedding-bag', entry: 'forward', shape: (s) => `${shape(s.batch, STEPS)}→${shape(s.batch, DIM)}, E=${s.entries}`,
    reads: (s) => 3 * s.batch + s.entries * (1 + DIM), writes: (s) => s.batch * DIM, flop: (s) => 2 * s.entries * DIM,
    run: (gpu, x) => record(gpu, x.fused.bagForward) },
  // the same, marking the presence bitmap for the gradient (two atomic words per entry) as training does
  { kernel: 'fused embedding-bag', entry: 'forward + mark', shape: (s) => `${shape(s.batch, STEPS)}→${shape(s.batch, DIM)}, E=${s.entries}`,
    reads: (s) => 3 * s.batch + s.entries * (1 + DIM), writes: (s) => s.batch * DIM + 2 * s.entries, flop: (s) => 2 * s.entries * DIM,
    run: (gpu, x) => record(gpu, x.fused.bagForwardMark) },
  // reads the bitmap [W + 1, V], per set bit the order, an entry and a dPooled row; writes dTable [V, D]
  { kernel: 'fused embedding-bag', entry: 'backward', shape: (s) => `${shape(s.batch, DIM)}→${shape(VOCAB, DIM)}, E=${s.entries}`,
    reads: (s) => words(s) * VOCAB + s.entries * (2 + DIM), writes: () => VOCAB * DIM, flop: (s) => 2 * s.entries * DIM,
    run: (gpu, x) => record(gpu, x.fused.bagBackward) },
  // reads pooled [B, D], labels [B], the head's weights; writes records [B, 2H + 3], dPooled [B, D]
  { kernel: 'fused head', entry: 'trainSample', shape: (s) => shape(s.batch, DIM),
    reads: (s) => s.batch * (DIM + 1) + HEAD_WEIGHTS, writes: (s) => s.batch * (HEAD_RECORD + DIM), flop: (s) => s.batch * (4 * DIM * HIDDEN + 6 * HIDDEN),
    run: (gpu, x) => record(gpu, x.fused.headSample) },
  // reads pooled [B, D] and the records [B, 2H + 3]; writes the head's gradients and the step's two metrics
  { kernel: 'fused head', entry: 'gradients', shape: (s) => shape(s.batch, DIM),
    reads: (s) => s.batch * (DIM + HEAD_RECORD), writes: () => HEAD_WEIGHTS + 2, flop: (s) => s.batch * (2 * DIM * HIDDEN + 4 * HIDDEN + 3),
    run: (gpu, x) => record(gpu, x.fused.headGradients) },
  // every weight of the model at once: reads weights, grads, m, v [P]; writes weights, m, v [P]
  { kernel: 'fused adam', entry: 'update', shape: () => shape(FLAT_PARAMS), reads: () => 4 * FLAT_PARAMS, writes: () => 3 * FLAT_PARAMS, flop: null,
    run: (gpu, x) => record(gpu, x.fused.adam) },
];

/** Dense forward and its three gradients for x [B, I] · W [I, O]. */
function denseSpecs(inputs: number, units: number, pick: (x: Inputs) => { x: Tensor; w: Tensor; b: Tensor; dy: Tensor }): KernelSpec[] {
  const kernel = `dense ${inputs}→${units}`;
  const matmul = (s: Shapes) => 2 * s.batch * inputs * units;
  const dims = (s: Shapes) => `${shape(s.batch, inputs)}·${shape(inputs, units)}`;
  return [
    // reads x [B, I], W [I, O], bias [O]; writes y [B, O]
    { kernel, entry: 'forward', shape: dims, reads: (s) => s.batch * inputs + inputs * units + units, writes: (s) => s.batch * units, flop: matmul,
      run: (gpu, x) => { const p = pick(x); return [denseForward(gpu, p.x, p.w, p.b)]; } },
    // reads dy [B, O], W [I, O]; writes dx [B, I]
    { kernel, entry: 'inputGradient', shape: dims, reads: (s) => s.batch * units + inputs * units, writes: (s) => s.batch * inputs, flop: matmul,
      run: (gpu, x) => { const p = pick(x); return [denseInputGradient(gpu, p.dy, p.w)]; } },
    // reads x [B, I], dy [B, O]; writes dW [I, O]
    { kernel, entry: 'kernelGradient', shape: dims, reads: (s) => s.batch * (inputs + units), writes: () => inputs * units, flop: matmul,
      run: (gpu, x) => { const p = pick(x); return [denseKernelGradient(gpu, p.x, p.dy)]; } },
    // reads dy [B, O]; writes db [O]
    { kernel, entry: 'biasGradient', shape: (s) => shape(s.batch, units), reads: (s) => s.batch * units, writes: () => units, flop: (s) => s.batch * units,
      run: (gpu, x) => { const p = pick(x); return [denseBiasGradient(gpu, p.dy)]; } },
  ];
}

/**
 * The kernels timed, and the bytes each moves: this table is the bench's definition of
 * "bytes" (4 per element) and "FLOP". N = B·T tokens, U = distinct ids, P = Adam parameters.
 */
/** Keras' Adam, as the engine's optimizer update runs it (src/kernels/optimizer-update.ts). */
const ADAM = new Adam();

const KERNELS: KernelSpec[] = [
  // reads ids [N] and one table row per token [N, D]; writes out [N, D]
  { kernel: 'embedding', entry: 'forward', shape: (s) => shape(s.batch, STEPS, DIM), reads: (s) => s.tokens * (1 + DIM), writes: (s) => s.tokens * DIM, flop: null,
    run: (gpu, x) => [embeddingForward(gpu, x.table, x.ids)] },
  // reads dOut [N, D], positions [N], rowStarts [U + 1]; writes the row-sparse gradient [U, D]; N·D adds.
  // (A dense gradient scatters it into [V, D], src/kernels/rows.ts: the engine's Keras optimizers do, LazyAdam does not.)
  { kernel: 'embedding', entry: 'backward', shape: (s) => `${shape(s.batch, STEPS, DIM)}→${shape(s.uniqueIds, DIM)}`,
    reads: (s) => s.tokens * (DIM + 1) + s.uniqueIds + 2, writes: (s) => s.uniqueIds * DIM, flop: (s) => s.tokens * DIM,
    run: (gpu, x) => [embeddingBackwardRows(gpu, x.sequence, x.index, VOCAB, DIM)] },
  // reads x [B, T, D]; writes out [B, D]; B·T·D adds
  { kernel: 'mean-pool', entry: 'forward', shape: (s) => shape(s.batch, STEPS, DIM), reads: (s) => s.tokens * DIM, writes: (s) => s.batch * DIM, flop: (s) => s.tokens * DIM,
    run: (gpu, x) => [meanPoolForward(gpu, x.sequence)] },
  // reads dOut [B, D]; writes dx [B, T, D]
  { kernel: 'mean-pool', entry: 'backward', shape: (s) => shape(s.batch, STEPS, DIM), reads: (s) => s.batch * DIM, writes: (s) => s.tokens * DIM, flop: null,
    run: (gpu, x) => [meanPoolBackward(gpu, x.pooled, STEPS)] },
  ...denseSpecs(DIM, HIDDEN, (x) => ({ x: x.pooled, w: x.kernel1, b: x.bias1, dy: x.hidden })),
  // reads x [B, H]; writes y [B, H]
  { kernel: 'relu', entry: 'forward', shape: (s) => shape(s.batch, HIDDEN), reads: (s) => s.batch * HIDDEN, writes: (s) => s.batch * HIDDEN, flop: null,
    run: (gpu, x) => [reluForward(gpu, x.hidden)] },
  // reads x, dy [B, H]; writes dx [B, H]
  { kernel: 'relu', entry: 'backward', shape: (s) => shape(s.batch, HIDDEN), reads: (s) => 2 * s.batch * HIDDEN, writes: (s) => s.batch * HIDDEN, flop: null,
    run: (gpu, x) => [reluBackward(gpu, x.hidden, x.hidden)] },
  ...denseSpecs(HIDDEN, 1, (x) => ({ x: x.hidden, w: x.kernel2, b: x.bias2, dy: x.logits })),
  // reads x [B, 1]; writes y [B, 1]
  { kernel: 'sigmoid', entry: 'forward', shape: (s) => shape(s.batch, 1), reads: (s) => s.batch, writes: (s) => s.batch, flop: null,
    run: (gpu, x) => [sigmoidForward(gpu, x.logits)] },
  // reads y, dy [B, 1]; writes dx [B, 1]
  { kernel: 'sigmoid', entry: 'backward', shape: (s) => shape(s.batch, 1), reads: (s) => 2 * s.batch, writes: (s) => s.batch, flop: null,
    run: (gpu, x) => [sigmoidBackward(gpu, x.probs, x.logits)] },
  // reads logits, labels [B]; writes per-sample losses [B] and the mean [1] (one invocation)
  { kernel: 'bce from logits', entry: 'forward', shape: (s) => shape(s.batch, 1), reads: (s) => 2 * s.batch, writes: (s) => s.batch + 1, flop: null,
    run: (gpu, x) => Object.values(bceFromLogitsLosses(gpu, x.logits, x.labels)) },
  // reads logits, labels [B]; writes dz [B]
  { kernel: 'bce from logits', entry: 'backward', shape: (s) => shape(s.batch, 1), reads: (s) => 2 * s.batch, writes: (s) => s.batch, flop: null,
    run: (gpu, x) => [bceFromLogitsBackward(gpu, x.logits, x.labels)] },
  // reads probs, labels [B]; writes the count [1] (one invocation)
  { kernel: 'accuracy', entry: 'countCorrect', shape: (s) => shape(s.batch, 1), reads: (s) => 2 * s.batch, writes: () => 1, flop: null,
    run: (gpu, x) => [binaryAccuracyCount(gpu, x.probs, x.labels)] },
  // reads a, b [N, D]; writes out [N, D]; N·D adds. The tape sums meeting gradients with it; here at the largest activation.
  { kernel: 'add', entry: 'main', shape: (s) => shape(s.batch, STEPS, DIM), reads: (s) => 2 * s.tokens * DIM, writes: (s) => s.tokens * DIM, flop: (s) => s.tokens * DIM,
    run: (gpu, x) => [add(gpu, x.sequence, x.sequence2)] },
  // reads weights, grad, m, v [P]; writes weights, m, v [P] (in place). The embedding table, the largest weight, at every batch size.
  { kernel: 'adam', entry: 'update', shape: (s) => shape(s.adamParams), reads: (s) => 4 * s.adamParams, writes: (s) => 3 * s.adamParams, flop: null,
    run: (gpu, x) => { optimizerUpdate(gpu, ADAM, x.adam.param, x.adam.grad, [x.adam.m, x.adam.v], 0); return []; } },
];

const ALL_KERNELS = [...KERNELS, ...FUSED_KERNELS];

type Timing = 'timestamp-query' | 'wall-clock';
/** `?timing=wall-clock`: skip timestamp queries (set at start). */
let forceWallClock = false;

interface KernelResult {
  kernel: string;
  entry: string;
  batch: number;
  shape: string;
  bytes: number;
  timeUs: number;
  gbps: number;
  flop: number | null;
  gflops: number | null;
  /** The copy kernel's GB/s moving the same bytes in this run, and this kernel's share of it. */
  copyGbps: number;
  percentOfCopy: number;
}

/** The copy kernel timed beside one kernel, moving as many bytes. */
interface CopyResult {
  batch: number;
  /** The kernel it was timed beside: `kernel entry`. */
  beside: string;
  elements: number;
  bytes: number;
  timeUs: number;
  gbps: number;
}

interface HostIndexResult {
  batch: number;
  tokens: number;
  uniqueIds: number;
  timeUs: number;
}

// ---- data ----

/** Uniform in [0, 1) from a seeded LCG: the same inputs on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function floats(n: number, random: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + random() * (hi - lo));
}

/**
 * Token ids like the tutorial's padded reviews: the start token, then word ranks with
 * Zipf-like frequencies (log-uniform: P(rank r) ∝ 1/r), then 0s after the review's end.
 */
function reviewIds(batch: number, random: () => number): Int32Array {
  const ids = new Int32Array(batch * STEPS);
  for (let b = 0; b < batch; b++) {
    const length = MIN_REVIEW_TOKENS + Math.floor(random() * (STEPS - MIN_REVIEW_TOKENS + 1));
    ids[b * STEPS] = START_TOKEN;
    for (let t = 1; t < length; t++) ids[b * STEPS + t] = Math.floor(VOCAB ** random());
  }
  return ids;
}

/** The fused path's buffers and prepared dispatches for one batch of `hostIds`, as its trainer makes them. */
async function makeFused(gpu: Gpu, batch: number, hostIds: Int32Array, random: () => number) {
  const tensors: Tensor[] = [];
  const keep = (t: Tensor) => (tensors.push(t), t);
  const f = (n: number, lo?: number, hi?: number) => keep(gpu.upload(floats(n, random, lo, hi)));
  const counted = tokenBags(hostIds, batch, STEPS, VOCAB);
  const bags = uploadTokenBags(gpu, counted);
  const order = keep(gpu.upload(Int32Array.from({ length: batch }, (_, i) => i)));
  const weights = f(FLAT_PARAMS);
  const grads = f(FLAT_PARAMS);
  const pooled = f(batch * DIM);
  const dPooled = f(batch * DIM);
  const presence = keep(gpu.zeros(presenceShape(VOCAB, batch), 'i32'));
  const bag = { bags, dim: DIM, capacity: batch, markRows: batch, order, shards: wholeTable(VOCAB, weights, grads, presence), pooled, dPooled };
  const uniforms = [classifierHeadParams(HEAD_LAYOUT), ADAM.params(0)].map((p) => gpu.createUniform(p));
  const [headParams, adamUniform] = uniforms;
  const plain = await prepareEmbeddingBag(gpu, { ...bag, batch: keep(gpu.upload(batchWords(0, batch, 0, false))) });
  const marking = await prepareEmbeddingBag(gpu, { ...bag, batch: keep(gpu.upload(batchWords(0, batch, 0, true))) });
  const headBatch = keep(gpu.upload(batchWords(0, batch, 0, false)));
  const labels = keep(gpu.upload(Float32Array.from({ length: batch }, () => (random() < 0.5 ? 0 : 1))));
  const samples = keep(gpu.zeros([batch, HEAD_RECORD]));
  const metrics = keep(gpu.zeros([1, 2]));
  const head = await prepareHeadTraining(gpu, { layout: HEAD_LAYOUT, capacity: batch, batch: headBatch, labels, pooled, weights, samples, metrics, dPooled, grads }, headParams);
  const adam = await prepareOptimizerUpdate(gpu, ADAM, { weights, grads, slots: [f(FLAT_PARAMS, -0.01, 0.01), f(FLAT_PARAMS, 0, 0.01)] }, adamUniform);
  // Mark once so the backward walks a real bitmap.
  gpu.record(marking.forward);
  return {
    entries: counted.entries.length,
    fused: { bagForward: plain.forward, bagForwardMark: marking.forward, bagBackward: marking.backward, headSample: [head.sample], headGradients: [head.gradients], adam: [adam] },
    fusedTensors: tensors,
    fusedUniforms: uniforms,
    fusedDispose: () => {
      bags.dispose();
      plain.dispose();
      marking.dispose();
    },
  };
}

function makeInputs(gpu: Gpu, batch: number, hostIds: Int32Array, random: () => number): Omit<Inputs, 'fused' | 'fusedTensors' | 'fusedUniforms' | 'fusedDispose'> {
  const f = (dims: number[], lo?: number, hi?: number) => gpu.upload(floats(dims.reduce((a, b) => a * b), random, lo, hi), dims);
  const params = VOCAB * DIM;
  return {
    ids: gpu.upload(hostIds, [batch, STEPS]),
    index: uploadEmbeddingGradientIndex(gpu, embeddingGradientIndex(hostIds, VOCAB)),
    table: f([VOCAB, DIM]),
    sequence: f([batch, STEPS, DIM]),
    sequence2: f([batch, STEPS, DIM]),
    pooled: f([batch, DIM]),
    hidden: f([batch, HIDDEN]),
    logits: f([batch, 1]),
    probs: f([batch, 1], 0.01, 0.99),
    labels: gpu.upload(Float32Array.from({ length: batch }, () => (random() < 0.5 ? 0 : 1)), [batch, 1]),
    kernel1: f([DIM, HIDDEN]),
    bias1: f([HIDDEN]),
    kernel2: f([HIDDEN, 1]),
    bias2: f([1]),
    adam: { param: f([params]), grad: f([params]), m: f([params]), v: f([params], 0, 1) },
  };
}

function disposeInputs(x: Inputs): void {
  x.index.dispose();
  x.fusedDispose();
  const { index: _index, adam, fused: _fused, fusedTensors, fusedUniforms, fusedDispose: _dispose, ...tensors } = x;
  for (const t of [...Object.values(tensors), ...Object.values(adam), ...fusedTensors]) t.dispose();
  for (const u of fusedUniforms) u.destroy();
}

// ---- timing ----

/**
 * Microseconds for one call of each recorder (one dispatch each). With timestamp queries the
 * recorders take turns, repeat after repeat, so a kernel and its reference copy run under the
 * same conditions, and each gets the median of its pass times. With the wall clock each gets
 * `repeats` calls in a row, submitted and waited for, divided by `repeats`.
 */
async function timeDispatches(gpu: Gpu, timer: GpuTimer, timing: Timing, repeats: number, recorders: (() => Tensor[])[]): Promise<number[]> {
  const once = (record: () => Tensor[]) => record().forEach((t) => t.dispose());
  for (let i = 0; i < WARMUP; i++) recorders.forEach(once);
  await gpu.sync();
  if (timing === 'timestamp-query') {
    gpu.timer = timer;
    for (let i = 0; i < repeats; i++) recorders.forEach(once);
    gpu.timer = null;
    const passes = await timer.read();
    if (passes.length !== repeats * recorders.length) {
      throw new Error(`expected ${repeats * recorders.length} timed passes, found ${passes.length} (${passes.map((p) => p.label).join(', ')})`);
    }
    return recorders.map((_, r) => median(passes.filter((_, i) => i % recorders.length === r).map((p) => p.ns)) / 1000);
  }
  const times: number[] = [];
  for (const record of recorders) {
    const started = performance.now();
    for (let i = 0; i < repeats; i++) once(record);
    await gpu.sync();
    times.push(((performance.now() - started) * 1000) / repeats);
  }
  return times;
}

/** Timestamps when the device has them at full resolution; wall clock otherwise (and whether they were quantized). */
async function chooseTiming(gpu: Gpu, timer: GpuTimer): Promise<{ timing: Timing; quantized: boolean }> {
  if (timer.method !== 'timestamp-query' || forceWallClock) return { timing: 'wall-clock', quantized: false };
  const x = gpu.empty([PROBE_ELEMENTS]);
  await timeDispatches(gpu, timer, 'timestamp-query', PROBE_PASSES, [() => [copyKernel(gpu, x)]]);
  x.dispose();
  return { timing: timer.quantized ? 'wall-clock' : 'timestamp-query', quantized: timer.quantized };
}

/** bytes / ns = GB/s. */
const gbps = (bytes: number, us: number) => bytes / (us * 1000);

// ---- the run ----

interface RunSettings {
  batches: number[];
  repeats: number;
}

function readSettings(): RunSettings {
  return {
    batches: wholeNumbers('Batch sizes', ($('#batches') as HTMLInputElement).value, 1),
    repeats: wholeNumber('Repeats', ($('#repeats') as HTMLInputElement).value, 1),
  };
}

async function run(adapter: AdapterReport): Promise<void> {
  const { batches, repeats } = readSettings();
  const button = $('#run') as HTMLButtonElement;
  button.disabled = true;
  $('#error').hidden = true;
  delete window.__shadergradError;
  const gpu = await Gpu.create();
  const timer = new GpuTimer(gpu);
  try {
    const started = performance.now();
    const { timing, quantized } = await chooseTiming(gpu, timer);
    const copies: CopyResult[] = [];
    const kernels: KernelResult[] = [];
    const hostIndex: HostIndexResult[] = [];
    const random = lcg(SEED);
    const total = batches.length * (ALL_KERNELS.length + 1);

    for (const batch of batches) {
      const hostIds = reviewIds(batch, random);
      // The gradient's CSR index is built on the host every step: timed here on the CPU.
      setStatus(`Batch ${batch}: building the embedding gradient's index on the host…`);
      const indexStart = performance.now();
      let csr = embeddingGradientIndex(hostIds, VOCAB);
      for (let i = 1; i < repeats; i++) csr = embeddingGradientIndex(hostIds, VOCAB);
      const { entries, ...fused } = await makeFused(gpu, batch, hostIds, random);
      const shapes: Shapes = { batch, tokens: batch * STEPS, uniqueIds: csr.rowIds.length, adamParams: VOCAB * DIM, entries };
      hostIndex.push({ batch, tokens: shapes.tokens, uniqueIds: shapes.uniqueIds, timeUs: ((performance.now() - indexStart) * 1000) / repeats });

      const inputs: Inputs = { ...makeInputs(gpu, batch, hostIds, random), ...fused };
      for (const spec of ALL_KERNELS) {
        setStatus(`Timing ${kernels.length + hostIndex.length + 1}/${total}: ${spec.kernel} ${spec.entry}, batch ${batch}…`);
        const bytes = (spec.reads(shapes) + spec.writes(shapes)) * BYTES_PER_ELEMENT;
        const flop = spec.flop ? spec.flop(shapes) : null;
        // The reference: the copy kernel moving the same bytes (half read, half written), on the vec4 path.
        const elements = Math.ceil(bytes / 2 / BYTES_PER_ELEMENT / VEC4) * VEC4;
        const source = gpu.empty([elements]);
        const [timeUs, copyUs] = await timeDispatches(gpu, timer, timing, repeats, [() => spec.run(gpu, inputs), () => [copyKernel(gpu, source)]]);
        source.dispose();
        const moved = 2 * elements * BYTES_PER_ELEMENT;
        const copy: CopyResult = { batch, beside: `${spec.kernel} ${spec.entry}`, elements, bytes: moved, timeUs: copyUs, gbps: gbps(moved, copyUs) };
        copies.push(copy);
        const speed = gbps(bytes, timeUs);
        kernels.push({
          kernel: spec.kernel,
          entry: spec.entry,
          batch,
          shape: spec.shape(shapes),
          bytes,
          timeUs,
          gbps: speed,
          flop,
          gflops: flop === null ? null : flop / (timeUs * 1000),
          copyGbps: copy.gbps,
          percentOfCopy: (100 * speed) / copy.gbps,
        });
      }
      disposeInputs(inputs);
    }

    const results = { timing, quantized, timestampQuantumNs: timer.quantumNs, copy: copies, kernels, hostIndex };
    render(results, repeats);
    const settings = { batches, repeats, warmup: WARMUP, timing: forceWallClock ? 'wall-clock' : 'auto', steps: STEPS, dim: DIM, vocab: VOCAB, hidden: HIDDEN, adamParams: VOCAB * DIM, ids: 'zipf-like ranks, post-padded with 0' };
    publish('kernels', adapter, settings, results);
    setStatus(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${kernels.length} kernel timings, ${timingText(timing, quantized, repeats)}.`);
  } finally {
    timer.destroy();
    gpu.device.destroy();
    button.disabled = false;
  }
}

// ---- display ----

interface Results {
  timing: Timing;
  quantized: boolean;
  copy: CopyResult[];
  kernels: KernelResult[];
  hostIndex: HostIndexResult[];
}

let shown: Results | null = null;

function timingText(timing: Timing, quantized: boolean, repeats: number): string {
  if (timing === 'timestamp-query') return `GPU timestamp queries, median of ${repeats}`;
  const why = quantized
    ? 'this browser quantizes timestamps (start Chrome with --enable-webgpu-developer-features)'
    : forceWallClock
      ? 'timing=wall-clock in the URL'
      : 'no timestamp queries on this adapter';
  return `wall clock over ${repeats} dispatches (${why})`;
}

/** 3 significant digits, at most 2 decimals. */
function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const KIB = 1024;
const MIB = KIB * KIB;

function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${bytes} B`;
  return bytes < MIB ? `${fmt(bytes / KIB)} KiB` : `${fmt(bytes / MIB)} MiB`;
}

function cell(row: HTMLTableRowElement, text: string, tag: 'td' | 'th' = 'td'): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  row.append(el);
  return el;
}

function render(results: Results, repeats: number): void {
  shown = results;
  const { kernels, copy, hostIndex, timing, quantized } = results;
  const largest = Math.max(...kernels.map((k) => k.batch));
  const bySize = [...copy].sort((a, b) => a.bytes - b.bytes);
  const ceiling = bySize[bySize.length - 1];
  $('#summary').textContent =
    `Batch ${largest}. Copy kernel: ${fmt(ceiling.gbps)} GB/s moving ${formatBytes(ceiling.bytes)} (beside ${ceiling.beside}). ` +
    `Timing: ${timingText(timing, quantized, repeats)}. 100% = the copy's bandwidth at the same byte count.`;
  $('#chart-section').hidden = false;
  drawChart();

  const table = $('#table') as HTMLTableElement;
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of ['Kernel', 'Size', 'Time (µs)', 'GB/s', 'GFLOP/s', '% of copy']) cell(head, h, 'th');
  head.cells[1].className = 'size';
  head.cells[4].className = 'flops';
  const body = table.createTBody();
  /** Kernel name and entry point (the entry goes on its own line on a phone), then the other columns. */
  const addRow = (kernel: string, entry: string, size: string, numbers: string[]) => {
    const row = body.insertRow();
    const name = cell(row, `${kernel} `);
    const span = document.createElement('span');
    span.className = 'entry';
    span.textContent = entry;
    name.append(span);
    cell(row, size).className = 'size';
    for (const text of numbers) cell(row, text);
    row.cells[4].className = 'flops';
    return row;
  };
  for (const { batch, tokens, uniqueIds, timeUs } of hostIndex) {
    const group = body.insertRow();
    group.className = 'group';
    const title = cell(group, `Batch ${batch}: ${tokens.toLocaleString('en-US')} tokens, ${uniqueIds.toLocaleString('en-US')} distinct ids`, 'th');
    (title as HTMLTableCellElement).colSpan = 6;
    for (const k of kernels.filter((r) => r.batch === batch)) {
      addRow(k.kernel, k.entry, k.shape, [fmt(k.timeUs), fmt(k.gbps), fmt(k.gflops), fmt(k.percentOfCopy)]);
    }
    addRow('embedding', 'index (host CPU)', `${tokens.toLocaleString('en-US')} ids`, [fmt(timeUs), '—', '—', '—']).className = 'host';
  }

  const copyTable = $('#copy-table') as HTMLTableElement;
  copyTable.replaceChildren();
  const copyHead = copyTable.createTHead().insertRow();
  for (const h of ['Bytes moved', 'Time (µs)', 'GB/s', 'Timed beside']) cell(copyHead, h, 'th');
  copyHead.cells[3].className = 'beside';
  const copyBody = copyTable.createTBody();
  for (const c of bySize) {
    const row = copyBody.insertRow();
    for (const text of [formatBytes(c.bytes), fmt(c.timeUs), fmt(c.gbps), `${c.beside}, batch ${c.batch}`]) cell(row, text);
    row.cells[3].className = 'beside';
  }
  $('#table-section').hidden = false;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Horizontal bars of % of copy at the largest batch, drawn at the container's own width
 * (so text stays at its CSS size on a phone); labels go above the bars when narrow.
 */
function drawChart(): void {
  if (!shown) return;
  const container = $('#chart');
  const largest = Math.max(...shown.kernels.map((k) => k.batch));
  const rows = shown.kernels.filter((k) => k.batch === largest).map((k) => ({ label: `${k.kernel} ${k.entry}`, percent: k.percentOfCopy }));
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const narrow = width < NARROW_CHART;
  const labelWidth = narrow ? 0 : 190;
  const valueWidth = 56;
  const barHeight = 14;
  const rowHeight = narrow ? 36 : 22;
  const top = 20;
  const max = Math.ceil(Math.max(100, ...rows.map((r) => r.percent)) / MIN_TICK) * MIN_TICK;
  const plot = width - labelWidth - valueWidth;
  const x = (p: number) => labelWidth + (Math.max(0, p) / max) * plot;
  // Ticks that divide 100 (so the copy's 100% always has one), spaced widely enough for their labels.
  const tick = TICKS.find((t) => (t / max) * plot >= MIN_TICK_SPACING) ?? TICKS[TICKS.length - 1];
  const height = top + rows.length * rowHeight + 4;
  const parts: string[] = [];
  for (let p = 0; p <= max; p += tick) {
    const copy = p === 100;
    parts.push(`<line x1="${x(p)}" x2="${x(p)}" y1="${top - 4}" y2="${height}" stroke="${copy ? '#5b6476' : '#d9dee8'}"${copy ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text class="axis" x="${x(p)}" y="${top - 8}" text-anchor="${p === 0 ? 'start' : 'middle'}">${copy ? '100% = copy' : `${p}%`}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowHeight + (narrow ? 16 : 4);
    const label = escapeXml(r.label);
    parts.push(narrow ? `<text x="0" y="${y - 4}">${label}</text>` : `<text x="${labelWidth - 8}" y="${y + barHeight - 3}" text-anchor="end">${label}</text>`);
    parts.push(`<rect x="${x(0)}" y="${y}" width="${Math.max(1, x(r.percent) - x(0))}" height="${barHeight}" rx="2" fill="#1f4e99"/>`);
    parts.push(`<text x="${x(r.percent) + 4}" y="${y + barHeight - 3}">${fmt(r.percent)}%</text>`);
  });
  container.innerHTML = `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Percent of the copy kernel's bandwidth per kernel, batch ${largest}">${parts.join('')}</svg>`;
}

/** The URL's settings, checked, into the inputs (see fillFromUrl). */
function applyUrlSettings(): void {
  const timing = params.get('timing');
  if (timing !== null && timing !== 'wall-clock') throw new SettingError(`URL setting timing must be wall-clock, got '${timing}'`);
  forceWallClock = timing === 'wall-clock';
  const batches = params.get('batches');
  fillFromUrl([
    [$('#batches'), () => (batches === null ? DEFAULT_BATCHES : wholeNumbers('URL setting batches', batches, 1)).join(',')],
    [$('#repeats'), () => String(intParam('repeats', DEFAULT_REPEATS, 1))],
  ]);
}

start(async () => {
  const adapter = await describeAdapter();
  const button = $('#run') as HTMLButtonElement;
  button.disabled = false;
  button.addEventListener('click', () => run(adapter).catch(fail));
  window.addEventListener('resize', drawChart);
  // After the Run button is wired: with a bad setting the page says so and stays usable.
  applyUrlSettings();
  setStatus('Ready: press Run.');
  if (params.get('auto') === '1') await run(adapter);
});
