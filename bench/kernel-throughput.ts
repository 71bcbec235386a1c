/**
 * Kernel throughput: every kernel of the tutorial model, forward and backward, timed at the
 * training shapes for a few batch sizes, with its bandwidth next to a copy kernel that moves
 * the same number of bytes in the same run (the practical ceiling). No DOM here: the kernel page
 * (bench/pages/kernels.ts) and the Node command (bench/kernels.ts) both run `measureKernels`.
 */
import { GpuTimer, copyKernel, type Gpu, type PreparedDispatch, type Tensor } from '../src/index.js';
import { binaryAccuracyCount } from '../src/kernels/accuracy.js';
import { optimizerUpdate, prepareOptimizerUpdate } from '../src/kernels/optimizer-update.js';
import { Adam } from '../src/nn/optimizers/index.js';
import { classifierHeadParams, headOutputs, headPieces, headRecordSize, prepareHeadTraining } from '../src/kernels/classifier-head.js';
import { batchWords, prepareEmbeddingBag, presenceShape, presenceWords, tokenBags, uploadTokenBags, wholeTable } from '../src/kernels/embedding-bag.js';
import { add } from '../src/kernels/add.js';
import { bceFromLogitsBackward, bceFromLogitsLosses } from '../src/kernels/binary-crossentropy.js';
import { denseBiasGradient, denseForward, denseInputGradient, denseKernelGradient } from '../src/kernels/dense.js';
import { embeddingBackwardRows, embeddingForward, embeddingGradientIndex, uploadEmbeddingGradientIndex, type EmbeddingGradientIndex } from '../src/kernels/embedding.js';
import { meanPoolBackward, meanPoolForward } from '../src/kernels/mean-pool.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../src/kernels/sigmoid.js';
import { median } from './stats.js';

// The tutorial's shapes.
const STEPS = 256;
const DIM = 16;
const VOCAB = 10_000;
const HIDDEN = 16;
export const DEFAULT_BATCHES = [64, 256, 512];
export const DEFAULT_REPEATS = 20;
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

export type Timing = 'timestamp-query' | 'wall-clock';

export interface KernelResult {
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
export interface CopyResult {
  batch: number;
  /** The kernel it was timed beside: `kernel entry`. */
  beside: string;
  elements: number;
  bytes: number;
  timeUs: number;
  gbps: number;
}

export interface HostIndexResult {
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
  const partials = keep(gpu.zeros([headPieces(gpu, batch), headOutputs(HEAD_LAYOUT)]));
  const head = await prepareHeadTraining(gpu, { layout: HEAD_LAYOUT, capacity: batch, batch: headBatch, labels, pooled, weights, samples, metrics, dPooled, grads, partials }, headParams);
  const adam = await prepareOptimizerUpdate(gpu, ADAM, { weights, grads, slots: [f(FLAT_PARAMS, -0.01, 0.01), f(FLAT_PARAMS, 0, 0.01)] }, adamUniform);
  // Mark once so the backward walks a real bitmap.
  gpu.record(marking.forward);
  return {
    entries: counted.entries.length,
    fused: { bagForward: plain.forward, bagForwardMark: marking.forward, bagBackward: marking.backward, headSample: [head.sample], headGradients: head.gradients, adam: [adam] },
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
    // A recorder may dispatch more than once (the embedding gradient's two passes): count its passes
    // on one call, then time each call as the sum of its passes' GPU times.
    const passesPerCall: number[] = [];
    for (const record of recorders) {
      once(record);
      passesPerCall.push((await timer.read()).length);
    }
    for (let i = 0; i < repeats; i++) recorders.forEach(once);
    gpu.timer = null;
    const passes = await timer.read();
    const perRound = passesPerCall.reduce((a, b) => a + b, 0);
    if (passes.length !== repeats * perRound) {
      throw new Error(`expected ${repeats * perRound} timed passes, found ${passes.length} (${passes.map((p) => p.label).join(', ')})`);
    }
    return recorders.map((_, r) => {
      const offset = passesPerCall.slice(0, r).reduce((a, b) => a + b, 0);
      const calls = Array.from({ length: repeats }, (_, i) => passes.slice(i * perRound + offset, i * perRound + offset + passesPerCall[r]).reduce((ns, p) => ns + p.ns, 0));
      return median(calls) / 1000;
    });
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
async function chooseTiming(gpu: Gpu, timer: GpuTimer, forceWallClock: boolean): Promise<{ timing: Timing; quantized: boolean }> {
  if (timer.method !== 'timestamp-query' || forceWallClock) return { timing: 'wall-clock', quantized: false };
  const x = gpu.empty([PROBE_ELEMENTS]);
  await timeDispatches(gpu, timer, 'timestamp-query', PROBE_PASSES, [() => [copyKernel(gpu, x)]]);
  x.dispose();
  return { timing: timer.quantized ? 'wall-clock' : 'timestamp-query', quantized: timer.quantized };
}

/** bytes / ns = GB/s. */
const gbps = (bytes: number, us: number) => bytes / (us * 1000);

// ---- the run ----

export interface MeasureOptions {
  batches: number[];
  repeats: number;
  /** Skip timestamp queries even where the adapter has them. */
  forceWallClock: boolean;
}

/** The run's settings, as published beside the results. */
export interface KernelSettings {
  batches: number[];
  repeats: number;
  warmup: number;
  timing: 'wall-clock' | 'auto';
  steps: number;
  dim: number;
  vocab: number;
  hidden: number;
  adamParams: number;
  ids: string;
}

/** What the kernel page publishes and the Node command writes, with the settings. */
export interface KernelThroughput {
  settings: KernelSettings;
  timing: Timing;
  /** Whether the timestamps looked quantized (then the wall clock was used). */
  quantized: boolean;
  timestampQuantumNs: number | null;
  copy: CopyResult[];
  kernels: KernelResult[];
  hostIndex: HostIndexResult[];
}

/**
 * Time every kernel at each batch size on `gpu`, each beside a copy kernel moving as many bytes.
 * `onStatus` hears what is being timed (the page shows it). The device stays the caller's.
 */
export async function measureKernels(gpu: Gpu, { batches, repeats, forceWallClock }: MeasureOptions, onStatus: (text: string) => void = () => {}): Promise<KernelThroughput> {
  const timer = new GpuTimer(gpu);
  try {
    const { timing, quantized } = await chooseTiming(gpu, timer, forceWallClock);
    const copies: CopyResult[] = [];
    const kernels: KernelResult[] = [];
    const hostIndex: HostIndexResult[] = [];
    const random = lcg(SEED);
    const total = batches.length * (ALL_KERNELS.length + 1);

    for (const batch of batches) {
      const hostIds = reviewIds(batch, random);
      // The gradient's CSR index is built on the host every step: timed here on the CPU.
      onStatus(`Batch ${batch}: building the embedding gradient's index on the host…`);
      const indexStart = performance.now();
      let csr = embeddingGradientIndex(hostIds, VOCAB);
      for (let i = 1; i < repeats; i++) csr = embeddingGradientIndex(hostIds, VOCAB);
      // Read the clock before the fused path's set-up (pipelines, uploads), which is not the index's.
      const indexUs = ((performance.now() - indexStart) * 1000) / repeats;
      const { entries, ...fused } = await makeFused(gpu, batch, hostIds, random);
      const shapes: Shapes = { batch, tokens: batch * STEPS, uniqueIds: csr.rowIds.length, adamParams: VOCAB * DIM, entries };
      hostIndex.push({ batch, tokens: shapes.tokens, uniqueIds: shapes.uniqueIds, timeUs: indexUs });

      const inputs: Inputs = { ...makeInputs(gpu, batch, hostIds, random), ...fused };
      for (const spec of ALL_KERNELS) {
        onStatus(`Timing ${kernels.length + hostIndex.length + 1}/${total}: ${spec.kernel} ${spec.entry}, batch ${batch}…`);
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

    const settings: KernelSettings = {
      batches,
      repeats,
      warmup: WARMUP,
      timing: forceWallClock ? 'wall-clock' : 'auto',
      steps: STEPS,
      dim: DIM,
      vocab: VOCAB,
      hidden: HIDDEN,
      adamParams: VOCAB * DIM,
      ids: 'zipf-like ranks, post-padded with 0',
    };
    return { settings, timing, quantized, timestampQuantumNs: timer.quantumNs, copy: copies, kernels, hostIndex };
  } finally {
    timer.destroy();
  }
}

// ---- words and numbers, for the page and the command line ----

/** How the run was timed, and why the wall clock when it was. */
export function timingText({ settings, timing, quantized, timestampQuantumNs }: Pick<KernelThroughput, 'settings' | 'timing' | 'quantized' | 'timestampQuantumNs'>): string {
  if (timing === 'timestamp-query') return `GPU timestamp queries, median of ${settings.repeats}`;
  const why = quantized
    ? `timestamps quantized to ${timestampQuantumNs?.toLocaleString('en-US')} ns; unquantized in Chrome with --enable-webgpu-developer-features, in Dawn with disable-dawn-features=timestamp_quantization`
    : settings.timing === 'wall-clock'
      ? 'wall-clock timing asked for'
      : 'no timestamp queries on this adapter';
  return `wall clock over ${settings.repeats} dispatches (${why})`;
}

/** 3 significant digits, at most 2 decimals; a dash for none. */
export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const KIB = 1024;
const MIB = KIB * KIB;

export function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${bytes} B`;
  return bytes < MIB ? `${fmt(bytes / KIB)} KiB` : `${fmt(bytes / MIB)} MiB`;
}

/** The copy kernel's runs, fewest bytes first (the last is the ceiling). */
export const copiesBySize = (copy: readonly CopyResult[]) => [...copy].sort((a, b) => a.bytes - b.bytes);
