/**
 * The tutorial model's head as one op (shaders/classifier-head.wgsl): Dense(H, relu) ->
 * Dense(1, sigmoid) -> binary cross-entropy from the logit, with binary accuracy, forward and
 * backward, over weights and gradients held in flat buffers; with a float64 reference.
 */
import shader from '../../shaders/classifier-head.wgsl';
import { BINARY_CLASSIFICATION_WGSL, BATCH_WGSL, withShared } from './shader-library.js';
import { linearWorkgroups, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';

const source = withShared(shader, BINARY_CLASSIFICATION_WGSL, BATCH_WGSL);

const WORKGROUP_SIZE = 64;

/** Where the head's weights sit in the flat weight (and gradient) buffer, and its sizes. */
export interface HeadLayout {
  /** D: inputs of the first dense layer. */
  dim: number;
  /** H: its units. */
  hidden: number;
  /** Its activation: relu (the tutorial) or linear. */
  relu: boolean;
  /** Element offsets of W1 [D, H], b1 [H], W2 [H, 1], b2 [1]. */
  kernel1: number;
  bias1: number;
  kernel2: number;
  bias2: number;
}

/** Floats per batch row in the `samples` scratch buffer: h [H], dz1 [H], dz, loss, correct. */
export function headRecordSize(hidden: number): number {
  return 2 * hidden + 3;
}

/** The gradients pass's outputs: W1, b1, W2, b2, then the step's loss sum and correct count. */
export function headOutputs(layout: Pick<HeadLayout, 'dim' | 'hidden'>): number {
  return layout.dim * layout.hidden + 2 * layout.hidden + 3;
}

/** Batch rows per piece of the gradients' sums on a hardware adapter. */
const ROWS_PER_PIECE = 32;

/**
 * Pieces the gradients pass cuts a batch's rows into, each summed by its own invocations, then
 * added up in order by a second pass. A GPU wants the threads (one piece leaves a few hundred
 * invocations each summing the whole batch); SwiftShader runs invocations on CPU threads, so one
 * piece and one pass, whose sums keep the serial order.
 */
export function headPieces(gpu: Gpu, capacity: number): number {
  return gpu.report?.isSoftware ? 1 : Math.max(1, Math.ceil(capacity / ROWS_PER_PIECE));
}

/** The constant uniform: the weights' offsets, the activation, the rows per chunk of `metricSums` (D and H are compiled in). */
export function classifierHeadParams(layout: HeadLayout, chunk = 1): Uint32Array {
  const { relu, kernel1, bias1, kernel2, bias2 } = layout;
  return Uint32Array.of(relu ? 1 : 0, kernel1, bias1, kernel2, bias2, chunk);
}

interface HeadInputs {
  layout: HeadLayout;
  /** Most rows a batch may have. */
  capacity: number;
  /** [4] i32: first, rows, slot, mark (see embedding-bag.ts `batchWords`). */
  batch: Tensor;
  /** f32 labels in the rows' order: row b's is labels[first + b]. */
  labels: Tensor;
  /** [capacity, D]. */
  pooled: Tensor;
  /** Every weight, flat. */
  weights: Tensor;
  /** [capacity, headRecordSize(H)] scratch. */
  samples: Tensor;
  /** Pairs (loss sum, correct count): one per step, or one per chunk when evaluating. */
  metrics: Tensor;
}

export interface HeadTrainingBindings extends HeadInputs {
  /** [capacity, D] written: the gradient of the head's input. */
  dPooled: Tensor;
  /** Flat like `weights`: the head's part is written. */
  grads: Tensor;
  /** [pieces, headOutputs] scratch: its first dimension is the number of pieces (`headPieces`). */
  partials: Tensor;
}

/**
 * Forward and backward per row, then the weight gradients and the step's metrics (pair `batch.slot`):
 * one dispatch, or two when the rows are summed in pieces.
 */
export async function prepareHeadTraining(gpu: Gpu, b: HeadTrainingBindings, params: GPUBuffer): Promise<{ sample: PreparedDispatch; gradients: PreparedDispatch[] }> {
  const { dim, hidden } = b.layout;
  const outputs = headOutputs(b.layout);
  const [pieces, width] = b.partials.shape;
  if (b.partials.shape.length !== 2 || width !== outputs || !(pieces >= 1)) {
    throw new RangeError(`classifierHead: partials must be [pieces, ${outputs}], found [${b.partials.shape.join(', ')}]`);
  }
  const constants = { DIM: dim, HIDDEN: hidden, PIECES: pieces };
  const gradientBindings = { 1: b.batch, 4: b.pooled, 6: b.samples, 8: b.grads, 9: b.metrics, 2: b.partials };
  const [sample, ...gradients] = await Promise.all([
    gpu.prepare('classifier-head', source, 'trainSample', { 1: b.batch, 3: b.labels, 4: b.pooled, 5: b.weights, 6: b.samples, 7: b.dPooled }, linearWorkgroups(b.capacity, WORKGROUP_SIZE), params, constants),
    gpu.prepare('classifier-head', source, 'gradients', gradientBindings, linearWorkgroups(outputs * pieces, WORKGROUP_SIZE), params, constants),
    ...(pieces > 1 ? [gpu.prepare('classifier-head', source, 'sumPieces', { 1: b.batch, 8: b.grads, 9: b.metrics, 2: b.partials }, linearWorkgroups(outputs, WORKGROUP_SIZE), params, constants)] : []),
  ]);
  return { sample, gradients };
}

/** Forward per row, then loss and correct sums per chunk of `chunk` rows (the params' last field). */
export async function prepareHeadEvaluation(gpu: Gpu, b: HeadInputs, params: GPUBuffer, chunk: number): Promise<{ sample: PreparedDispatch; sums: PreparedDispatch }> {
  const constants = { DIM: b.layout.dim, HIDDEN: b.layout.hidden };
  const [sample, sums] = await Promise.all([
    gpu.prepare('classifier-head', source, 'evaluateSample', { 1: b.batch, 3: b.labels, 4: b.pooled, 5: b.weights, 6: b.samples }, linearWorkgroups(b.capacity, WORKGROUP_SIZE), params, constants),
    gpu.prepare('classifier-head', source, 'metricSums', { 1: b.batch, 6: b.samples, 9: b.metrics }, linearWorkgroups(Math.ceil(b.capacity / chunk), WORKGROUP_SIZE), params, constants),
  ]);
  return { sample, sums };
}

/** The head's weights, as Keras stores them: W1 [D, H], b1 [H], W2 [H, 1], b2 [1]. */
export interface HeadWeights {
  kernel1: ArrayLike<number>;
  bias1: ArrayLike<number>;
  kernel2: ArrayLike<number>;
  bias2: ArrayLike<number>;
}

export interface HeadReference {
  /** Per-row loss and correct (0/1). */
  losses: Float64Array;
  correct: Float64Array;
  /** Gradients of the batch's mean loss. */
  dx: Float64Array;
  grads: { kernel1: Float64Array; bias1: Float64Array; kernel2: Float64Array; bias2: Float64Array };
}

/** The head in float64 for `rows` rows of x [rows, D] with labels y. */
export function classifierHeadReference(x: ArrayLike<number>, y: ArrayLike<number>, w: HeadWeights, dim: number, hidden: number, relu = true): HeadReference {
  const rows = y.length;
  const losses = new Float64Array(rows);
  const correct = new Float64Array(rows);
  const dx = new Float64Array(rows * dim);
  const grads = { kernel1: new Float64Array(dim * hidden), bias1: new Float64Array(hidden), kernel2: new Float64Array(hidden), bias2: new Float64Array(1) };
  for (let b = 0; b < rows; b++) {
    const z1 = Array.from({ length: hidden }, (_, j) => {
      let acc = w.bias1[j];
      for (let i = 0; i < dim; i++) acc += x[b * dim + i] * w.kernel1[i * hidden + j];
      return acc;
    });
    const h = z1.map((v) => (relu ? Math.max(v, 0) : v));
    const z = h.reduce((acc, v, j) => acc + v * w.kernel2[j], w.bias2[0]);
    const p = 1 / (1 + Math.exp(-z));
    losses[b] = Math.max(z, 0) - z * y[b] + Math.log1p(Math.exp(-Math.abs(z)));
    correct[b] = Number(p > 0.5) === y[b] ? 1 : 0;
    const dz = (p - y[b]) / rows;
    grads.bias2[0] += dz;
    for (let j = 0; j < hidden; j++) {
      grads.kernel2[j] += h[j] * dz;
      const dz1 = !relu || z1[j] > 0 ? w.kernel2[j] * dz : 0;
      grads.bias1[j] += dz1;
      for (let i = 0; i < dim; i++) {
        grads.kernel1[i * hidden + j] += x[b * dim + i] * dz1;
        dx[b * dim + i] += w.kernel1[i * hidden + j] * dz1;
      }
    }
  }
  return { losses, correct, dx, grads };
}
