/**
 * How a model's steps reach the GPU. The training loop (model.ts) drives every executor through
 * the same three calls (`prepare`, `epoch`, `predict`); they differ only in how a step runs:
 *
 *   eager     step by step on the tape (ops.ts), one read-back per step: the definition of a step,
 *             live progress, and the exact step of a NaN (compile({ jitCompile: false }))
 *   captured  the same step functions recorded once per batch size (Gpu.capture) and replayed:
 *             the data is uploaded once and each step takes its batch from there in the epoch's
 *             order; an epoch uploads its order, each step its embedding-gradient index (built
 *             on the host while the GPU runs the step before), nothing is created per step and
 *             the epoch is read back once (the default)
 *   fused     the hand-fused embedding-bag and classifier-head kernels (fused-training.ts), which
 *             the engine selects when the model has their shape
 *
 * The steps themselves (`trainStep`, `evaluationStep`, `predictionStep`) are written once, here.
 */
import { EpochReads, GpuError, type CapturedWork, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';
import { binaryAccuracyCount } from '../kernels/accuracy.js';
import { takeRows } from '../kernels/copy.js';
import { embeddingGradientIndex, type EmbeddingGradientCsr, type EmbeddingGradientIndex } from '../kernels/embedding.js';
import { optimizerRowUpdate } from '../kernels/optimizer-update.js';
import { scatterRows } from '../kernels/rows.js';
import { callLayers, Embedding, type Layer } from './layers.js';
import { binaryCrossentropy } from './ops.js';
import type { Optimizer } from './optimizers/index.js';
import { OPTIMIZER_PARAMS_BYTES, type ParameterStore } from './parameter-store.js';
import { disposeRowGradient, rowGradientOf, type RowGradient } from './gradient-forms.js';
import { Tape } from './tape.js';

/** Token ids [samples, sequence length], row-major, and 0/1 labels. */
export interface Examples {
  ids: Int32Array;
  /** Sequence length. */
  length: number;
  labels: Float32Array;
}

/** Per batch: its loss summed over its rows (mean x rows) and its correct predictions. */
export interface MetricSums {
  loss: Float64Array;
  correct: Float64Array;
}

/** A data set made ready for an executor once per fit or evaluate. */
export interface PreparedSet {
  readonly rows: number;
  dispose(): void;
}

/** Told each step's loss sum, correct count and rows, in order, as soon as the executor knows them. */
export type StepObserver = (step: number, lossSum: number, correct: number, rows: number) => void;

export interface EpochResult {
  train: MetricSums | null;
  evaluations: MetricSums[];
}

export interface Executor {
  readonly kind: 'eager' | 'captured' | 'fused';
  prepare(data: Examples): Promise<PreparedSet>;
  /**
   * Train over `train` in `order` (batches of `batchSize` rows, the optimizer's `iterations`
   * counting on), then evaluate each of `evaluations`; `observe` sees every training step.
   */
  epoch(train: { set: PreparedSet; order: Int32Array } | null, evaluations: readonly PreparedSet[], observe?: StepObserver): Promise<EpochResult>;
  /** The model's output for every row of `set`, in order. */
  predict(set: PreparedSet): Promise<Float32Array>;
  dispose(): void;
}

/** What every executor works with: the model's parts, made once per fit, evaluate or predict. */
export interface ExecutionContext {
  gpu: Gpu;
  layers: readonly Layer[];
  store: ParameterStore;
  /** null: evaluation and prediction only. */
  optimizer: Optimizer | null;
  batchSize: number;
  /** i32 [1]: the optimizer's iterations at the current step (Dropout draws its mask from it). */
  step: Tensor;
}

/** A batch on the GPU, as the step functions take it. */
interface BatchTensors {
  ids: Tensor;
  labels: Tensor;
  /** The token ids on the host (eager: the embedding op builds its gradient index from them). */
  hostIds?: Int32Array;
  /** Or the index itself, prepared outside the step (captured). */
  gradientIndex?: EmbeddingGradientIndex;
}

/** A GPU failure at a step the executor knows (the eager one reads every step back). */
export class StepGpuError extends GpuError {
  constructor(
    readonly step: number,
    cause: GpuError,
  ) {
    super(cause.message);
  }
}

/** Steps recorded per submit: bounds a command buffer on long epochs. */
const STEPS_PER_SUBMIT = 64;

// ---------------------------------------------------------------------------------------------
// The steps, written once.

/**
 * One training step: forward, loss, backward into the store's gradients, the optimizer's update
 * (its uniform is filled before the step runs), and [loss, correct] into `metrics`.
 */
function trainStep(ctx: ExecutionContext, batch: BatchTensors, update: readonly PreparedDispatch[], metrics: Tensor): void {
  const { gpu, store } = ctx;
  const tape = new Tape();
  const { output, loss } = tape.watch(() => {
    const output = callLayers(ctx.layers, { ids: batch.ids, hostIds: batch.hostIds, gradientIndex: batch.gradientIndex }, { training: true, step: ctx.step });
    return { output, loss: binaryCrossentropy(output, batch.labels) };
  });
  const correct = binaryAccuracyCount(gpu, output, batch.labels);
  const weights = store.weights.map((w) => w.tensor);
  const grads = tape.gradients(loss, weights, { rowGradients: true });
  if (grads.size < weights.length) store.clearGradients();
  const lazy: [number, Tensor, RowGradient][] = [];
  weights.forEach((w, i) => {
    const g = grads.get(w);
    const rows = g && rowGradientOf(g);
    if (!g) return;
    if (!rows) {
      gpu.copy(g, store.gradients[i]);
    } else if (ctx.optimizer!.rowSparse) {
      lazy.push([i, g, rows]);
    } else {
      // Keras' dense update: every other row's gradient is zero.
      gpu.recordClear(store.gradients[i]);
      scatterRows(gpu, rows.index, g, store.gradients[i], rows.factor);
    }
  });
  // Row updates first: a factored row gradient reads a Dense kernel that the update below moves.
  for (const [i, g, rows] of lazy) lazyRowUpdate(ctx, i, g, rows);
  gpu.record(update);
  gpu.copyElements(loss, 0, metrics, 0, 1);
  gpu.copyElements(correct, 0, metrics, 1, 1);
  for (const g of grads.values()) disposeRowGradient(g);
  tape.dispose();
  correct.dispose();
}

/**
 * A row-sparse optimizer's update of weight `i` (an embedding table) from its row gradient, in place
 * (src/kernels/optimizer-update.ts): rows the batch did not touch are not read or written, so the work
 * grows with the batch's distinct ids, not with the table.
 */
function lazyRowUpdate(ctx: ExecutionContext, i: number, gradient: Tensor, rows: RowGradient): void {
  const { gpu, store } = ctx;
  optimizerRowUpdate(gpu, ctx.optimizer!, store.weights[i].tensor, store.slotsOf(i), gradient, rows.index, store.uniform, rows.factor);
}

/** Forward only (Dropout off): [loss, correct] into `metrics`. */
function evaluationStep(ctx: ExecutionContext, batch: BatchTensors, metrics: Tensor): void {
  const { gpu } = ctx;
  const tape = new Tape(false);
  const { output, loss } = tape.watch(() => {
    const output = callLayers(ctx.layers, { ids: batch.ids }, { training: false, step: ctx.step });
    return { output, loss: binaryCrossentropy(output, batch.labels) };
  });
  const correct = binaryAccuracyCount(gpu, output, batch.labels);
  gpu.copyElements(loss, 0, metrics, 0, 1);
  gpu.copyElements(correct, 0, metrics, 1, 1);
  tape.dispose();
  correct.dispose();
}

/** Forward only: the outputs into `predictions` [rows]. */
function predictionStep(ctx: ExecutionContext, ids: Tensor, predictions: Tensor): void {
  const tape = new Tape(false);
  const output = tape.watch(() => callLayers(ctx.layers, { ids }, { training: false, step: ctx.step }));
  if (output.size !== predictions.size) throw new RangeError(`predict: the model gives ${output.size / ids.shape[0]} outputs per sample; predict returns one`);
  ctx.gpu.copy(output, predictions);
  tape.dispose();
}

// ---------------------------------------------------------------------------------------------
// Helpers both executors use.

/** Rows [start, end) of row-major ids of `length` columns. */
function idRows(ids: Int32Array, length: number, rows: ArrayLike<number>): Int32Array {
  const out = new Int32Array(rows.length * length);
  for (let i = 0; i < rows.length; i++) out.set(ids.subarray(rows[i] * length, (rows[i] + 1) * length), i * length);
  return out;
}

function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}

function metricSums(values: ArrayLike<number>, rows: readonly number[]): MetricSums {
  return {
    loss: Float64Array.from(rows, (n, i) => values[2 * i] * n),
    correct: Float64Array.from(rows, (_, i) => values[2 * i + 1]),
  };
}

/** Rows of each batch of `batchSize` over `samples`. */
function batchRows(samples: number, batchSize: number): number[] {
  return Array.from({ length: Math.ceil(samples / batchSize) }, (_, s) => Math.min(batchSize, samples - s * batchSize));
}

function requireOptimizer(ctx: ExecutionContext): Optimizer {
  if (!ctx.optimizer) throw new Error('executor: created without an optimizer, it can only evaluate and predict');
  return ctx.optimizer;
}

class HostSet implements PreparedSet {
  constructor(readonly data: Examples) {}
  get rows(): number {
    return this.data.labels.length;
  }
  dispose(): void {}
}

// ---------------------------------------------------------------------------------------------

/** Step by step: uploads each batch, runs the step, reads it back. */
export class EagerExecutor implements Executor {
  readonly kind = 'eager';
  private update: readonly PreparedDispatch[] = [];
  private uniform: GPUBuffer | null = null;

  private constructor(private readonly ctx: ExecutionContext) {}

  static async create(ctx: ExecutionContext): Promise<EagerExecutor> {
    const executor = new EagerExecutor(ctx);
    if (ctx.optimizer) ({ dispatches: executor.update, uniform: executor.uniform } = await ctx.store.prepareUpdate());
    return executor;
  }

  async prepare(data: Examples): Promise<PreparedSet> {
    return new HostSet(data);
  }

  async epoch(train: { set: PreparedSet; order: Int32Array } | null, evaluations: readonly PreparedSet[], observe?: StepObserver): Promise<EpochResult> {
    const { gpu, batchSize, store } = this.ctx;
    let result: MetricSums | null = null;
    if (train) {
      const optimizer = requireOptimizer(this.ctx);
      const { data } = train.set as HostSet;
      const sizes = batchRows(train.order.length, batchSize);
      result = { loss: new Float64Array(sizes.length), correct: new Float64Array(sizes.length) };
      for (let s = 0; s < sizes.length; s++) {
        const rows = train.order.subarray(s * batchSize, s * batchSize + sizes[s]);
        const hostIds = idRows(data.ids, data.length, rows);
        const batch = { ids: gpu.upload(hostIds, [rows.length, data.length]), labels: gpu.upload(Float32Array.from(rows, (r) => data.labels[r])), hostIds };
        const metrics = gpu.empty([2]);
        gpu.write(this.ctx.step, Int32Array.of(optimizer.iterations));
        const params = store.updateParams(optimizer.iterations);
        gpu.device.queue.writeBuffer(this.uniform!, 0, params.buffer, params.byteOffset, params.byteLength);
        trainStep(this.ctx, batch, this.update, metrics);
        optimizer.iterations++;
        const [values] = await gpu.readAll([metrics]).catch((error: unknown) => {
          throw error instanceof GpuError ? new StepGpuError(s, error) : error;
        });
        for (const t of [batch.ids, batch.labels, metrics]) t.dispose();
        result.loss[s] = values[0] * rows.length;
        result.correct[s] = values[1];
        observe?.(s, result.loss[s], result.correct[s], rows.length);
      }
    }
    const sums: MetricSums[] = [];
    for (const set of evaluations) sums.push(await this.evaluate((set as HostSet).data));
    return { train: result, evaluations: sums };
  }

  private async evaluate(data: Examples): Promise<MetricSums> {
    const { gpu, batchSize } = this.ctx;
    const sizes = batchRows(data.labels.length, batchSize);
    const values: number[] = [];
    for (let s = 0; s < sizes.length; s++) {
      const rows = range(s * batchSize, s * batchSize + sizes[s]);
      const batch = { ids: gpu.upload(idRows(data.ids, data.length, rows), [rows.length, data.length]), labels: gpu.upload(data.labels.slice(rows[0], rows[0] + rows.length)) };
      const metrics = gpu.empty([2]);
      evaluationStep(this.ctx, batch, metrics);
      const [read] = await gpu.readAll([metrics]);
      values.push(read[0], read[1]);
      for (const t of [batch.ids, batch.labels, metrics]) t.dispose();
    }
    return metricSums(values, sizes);
  }

  async predict(set: PreparedSet): Promise<Float32Array> {
    const { gpu, batchSize } = this.ctx;
    const { data } = set as HostSet;
    const out = new Float32Array(set.rows);
    for (let start = 0; start < set.rows; start += batchSize) {
      const rows = range(start, Math.min(set.rows, start + batchSize));
      const ids = gpu.upload(idRows(data.ids, data.length, rows), [rows.length, data.length]);
      const predictions = gpu.empty([rows.length]);
      predictionStep(this.ctx, ids, predictions);
      out.set((await predictions.read()) as Float32Array, start);
      ids.dispose();
      predictions.dispose();
    }
    return out;
  }

  dispose(): void {}
}

// ---------------------------------------------------------------------------------------------

/** A captured step and the fixed tensors it reads and writes: refilled by copies before each replay. */
interface Program {
  work: CapturedWork;
  ids: Tensor;
  labels: Tensor;
  /** Training programs: the set whose rows they take, and i32 [1], where the step's batch starts in the epoch's order. */
  set: ResidentSet | null;
  start: Tensor | null;
  /** Training programs of a model that starts with an Embedding: its gradient index, at capacity. */
  index: EmbeddingGradientIndex | null;
  /** [2] loss and correct (training, evaluation) or [rows] outputs (prediction). */
  out: Tensor;
  inputs: Tensor[];
}

/**
 * A data set for the captured executor: uploaded once, when first used, and read from there: in order
 * to evaluate or predict, in each epoch's order to train (the order is the one upload per epoch). Kept
 * on the host too, where each step's embedding-gradient index is built.
 */
class ResidentSet implements PreparedSet {
  private resident: { ids: Tensor; labels: Tensor } | null = null;
  private epochOrder: Tensor | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly host: Examples,
  ) {}

  get rows(): number {
    return this.host.labels.length;
  }

  get ids(): Tensor {
    return this.upload().ids;
  }

  get labels(): Tensor {
    return this.upload().labels;
  }

  /** i32 [rows]: the training order of the current epoch, rewritten each epoch (`setOrder`). */
  get order(): Tensor {
    return (this.epochOrder ??= this.gpu.zeros([this.rows], 'i32'));
  }

  setOrder(order: Int32Array): void {
    this.gpu.write(this.order, order);
  }

  dispose(): void {
    this.resident?.ids.dispose();
    this.resident?.labels.dispose();
    this.epochOrder?.dispose();
    this.resident = null;
    this.epochOrder = null;
  }

  private upload(): { ids: Tensor; labels: Tensor } {
    return (this.resident ??= { ids: this.gpu.upload(this.host.ids, [this.rows, this.host.length]), labels: this.gpu.upload(this.host.labels) });
  }
}

/** Records each kind of step once per batch size and replays it: see the file's comment. */
export class CapturedExecutor implements Executor {
  readonly kind = 'captured';
  private readonly programs = new Map<string, Program>();
  private readonly epochReads = new EpochReads();
  private update: { uniform: GPUBuffer; dispatches: readonly PreparedDispatch[] } | null = null;
  /** The first layer when it is an Embedding: training steps need its gradient index. */
  private readonly embedding: Embedding | null;

  private constructor(private readonly ctx: ExecutionContext) {
    this.embedding = ctx.layers[0] instanceof Embedding ? ctx.layers[0] : null;
  }

  static async create(ctx: ExecutionContext): Promise<CapturedExecutor> {
    const executor = new CapturedExecutor(ctx);
    if (ctx.optimizer) executor.update = await ctx.store.prepareUpdate();
    return executor;
  }

  async prepare(data: Examples): Promise<PreparedSet> {
    return new ResidentSet(this.ctx.gpu, data);
  }

  async epoch(train: { set: PreparedSet; order: Int32Array } | null, evaluations: readonly PreparedSet[], observe?: StepObserver): Promise<EpochResult> {
    const { gpu } = this.ctx;
    const reads: Tensor[] = [];
    const owned: Tensor[] = [];
    let trainSizes: number[] = [];
    if (train) {
      const epoch = this.uploadEpoch(train.set as ResidentSet, train.order);
      owned.push(...epoch.tensors, epoch.metrics);
      reads.push(epoch.metrics);
      trainSizes = epoch.sizes;
    }
    const evalSizes = evaluations.map((set) => {
      const { metrics, sizes } = this.recordEvaluation(set as ResidentSet);
      owned.push(metrics);
      reads.push(metrics);
      return sizes;
    });
    try {
      const values = await this.epochReads.readAll(gpu, reads);
      const trainSums = train ? metricSums(values[0], trainSizes) : null;
      if (trainSums) trainSizes.forEach((n, s) => observe?.(s, trainSums.loss[s], trainSums.correct[s], n));
      return { train: trainSums, evaluations: evalSizes.map((sizes, i) => metricSums(values[i + (train ? 1 : 0)], sizes)) };
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async predict(set: PreparedSet): Promise<Float32Array> {
    const { gpu, batchSize } = this.ctx;
    const data = set as ResidentSet;
    const length = data.host.length;
    const out = gpu.empty([set.rows]);
    for (const [s, n] of batchRows(set.rows, batchSize).entries()) {
      const program = this.program('predict', n, length);
      gpu.copyElements(data.ids, s * batchSize * length, program.ids, 0, n * length);
      gpu.replay(program.work);
      gpu.copyElements(program.out, 0, out, s * batchSize, n);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
    try {
      return (await out.read()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    for (const p of this.programs.values()) disposeProgram(p);
    this.programs.clear();
  }

  /**
   * Upload an epoch's order and what its steps need beside the resident data (the optimizer's uniform
   * and the step count per step), then record every step, each after writing its embedding-gradient
   * index (built on the host). A write submits what was recorded before it, so the GPU runs step s
   * while the host indexes step s + 1.
   */
  private uploadEpoch(set: ResidentSet, order: Int32Array): { tensors: Tensor[]; metrics: Tensor; sizes: number[] } {
    const { gpu, batchSize, store } = this.ctx;
    const optimizer = requireOptimizer(this.ctx);
    const { length } = set.host;
    const sizes = batchRows(order.length, batchSize);
    set.setOrder(order);
    const params = new Uint8Array(sizes.length * OPTIMIZER_PARAMS_BYTES);
    const steps = Int32Array.from(sizes, (_, s) => optimizer.iterations + s);
    sizes.forEach((_, s) => params.set(store.updateParams(optimizer.iterations + s), s * OPTIMIZER_PARAMS_BYTES));
    const tensors = [gpu.upload(Int32Array.from(sizes, (_, s) => s * batchSize)), gpu.upload(new Int32Array(params.buffer)), gpu.upload(steps)];
    const [startsT, paramsT, stepsT] = tensors;
    // Lent to every batch's counting sort, left zeroed by it: the host's work grows with the batch.
    const scratch = this.embedding && new Int32Array(this.embedding.inputDim);
    const metrics = gpu.zeros([sizes.length, 2]);
    const { uniform } = this.update!;
    for (const [s, n] of sizes.entries()) {
      const program = this.trainProgram(set, n);
      if (program.index && scratch) {
        const ids = idRows(set.host.ids, length, order.subarray(s * batchSize, s * batchSize + n));
        writeCapturedIndex(gpu, program.index, embeddingGradientIndex(ids, scratch.length, scratch));
      }
      gpu.copyElements(startsT, s, program.start!, 0, 1);
      gpu.recordCopy(paramsT.buffer, s * OPTIMIZER_PARAMS_BYTES, uniform, 0, OPTIMIZER_PARAMS_BYTES);
      gpu.copyElements(stepsT, s, this.ctx.step, 0, 1);
      gpu.replay(program.work);
      gpu.copyElements(program.out, 0, metrics, 2 * s, 2);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
    optimizer.iterations += sizes.length;
    return { tensors, metrics, sizes };
  }

  private recordEvaluation(set: ResidentSet): { metrics: Tensor; sizes: number[] } {
    const { gpu, batchSize } = this.ctx;
    const length = set.host.length;
    const sizes = batchRows(set.rows, batchSize);
    const metrics = gpu.zeros([sizes.length, 2]);
    for (const [s, n] of sizes.entries()) {
      const program = this.program('evaluate', n, length);
      gpu.copyElements(set.ids, s * batchSize * length, program.ids, 0, n * length);
      gpu.copyElements(set.labels, s * batchSize, program.labels, 0, n);
      gpu.replay(program.work);
      gpu.copyElements(program.out, 0, metrics, 2 * s, 2);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
    return { metrics, sizes };
  }

  /**
   * The captured training step for batches of `rows` rows of `set`, recorded the first time it is asked
   * for: it takes its batch from the set's resident rows in the epoch's order (`start` says where).
   */
  private trainProgram(set: ResidentSet, rows: number): Program {
    return this.program('train', rows, set.host.length, set);
  }

  /** The captured step of `kind` for batches of `rows` rows, recorded the first time it is asked for. */
  private program(kind: 'train' | 'evaluate' | 'predict', rows: number, length: number, set: ResidentSet | null = null): Program {
    const key = `${kind}:${rows}`;
    const known = this.programs.get(key);
    if (known && known.set === set) return known;
    if (known) disposeProgram(known);
    const { gpu } = this.ctx;
    const ids = gpu.zeros([rows, length], 'i32');
    const labels = gpu.zeros([rows]);
    const out = gpu.zeros(kind === 'predict' ? [rows] : [2]);
    const start = set && gpu.zeros([1], 'i32');
    // The set's tensors are made before the capture: whatever is made inside belongs to the step.
    const source = set && { ids: set.ids, labels: set.labels, order: set.order };
    const index = kind === 'train' && this.embedding ? capturedIndex(gpu, rows * length, this.embedding.inputDim) : null;
    const inputs = [ids, labels, out, ...(start ? [start] : []), ...(index ? [index.rowIds, index.rowStarts, index.positions, index.uniqueCountTensor] : [])];
    const { work } = gpu.capture(() => {
      if (source && start) {
        takeRows(gpu, source.ids, source.order, start, ids);
        takeRows(gpu, source.labels, source.order, start, labels);
      }
      if (kind === 'train') trainStep(this.ctx, { ids, labels, gradientIndex: index ?? undefined }, this.update!.dispatches, out);
      else if (kind === 'evaluate') evaluationStep(this.ctx, { ids, labels }, out);
      else predictionStep(this.ctx, ids, out);
    });
    const program = { work, ids, labels, set, start, index, out, inputs };
    this.programs.set(key, program);
    return program;
  }
}

function disposeProgram(p: Program): void {
  p.work.dispose();
  for (const t of p.inputs) t.dispose();
}

/**
 * A gradient index with room for `tokens` positions, filled on the GPU before each replay. A batch
 * holds at most min(tokens, vocab) distinct ids: the backward dispatch covers that many.
 */
function capturedIndex(gpu: Gpu, tokens: number, vocab: number): EmbeddingGradientIndex {
  const ids = Math.min(tokens, vocab);
  const t = {
    rowIds: gpu.zeros([ids], 'i32'),
    rowStarts: gpu.zeros([ids + 1], 'i32'),
    positions: gpu.zeros([tokens], 'i32'),
    uniqueCountTensor: gpu.zeros([1], 'i32'),
  };
  return { ...t, uniqueCount: ids, tokenCount: tokens, maxId: -1, dispose: () => Object.values(t).forEach((x) => x.dispose()) };
}

/** A batch's index into a captured step's, which has room for more: rows past U are left as they are (nothing reads them). */
function writeCapturedIndex(gpu: Gpu, index: EmbeddingGradientIndex, csr: EmbeddingGradientCsr): void {
  gpu.write(index.positions, csr.positions);
  gpu.writeHead(index.rowIds, csr.rowIds);
  gpu.writeHead(index.rowStarts, csr.rowStarts);
  gpu.write(index.uniqueCountTensor, Int32Array.of(csr.rowIds.length));
}
