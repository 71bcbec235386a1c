/**
 * The hand-fused path, which the engine selects for a model of the tutorial's shape
 * (Embedding -> GlobalAveragePooling1D -> Dense(H, relu or linear) -> Dense(1, sigmoid), binary
 * cross-entropy, any optimizer): a training step of prepared dispatches that never waits for the host:
 *
 *   embedding-bag forward   gather + mean from each review's resident token counts; marks the bitmap
 *   head trainSample        dense, relu, dense, sigmoid, loss, accuracy and the backward chain, per row
 *   head gradients          the dense layers' weight gradients and the step's loss/accuracy sums
 *   embedding-bag backward  the embedding gradient, deterministically, from the bitmap
 *   optimizer               the parameter store's update: one vec4 dispatch per shard
 *
 * Weights, gradients and the optimizer's slots are the parameter store's (parameter-store.ts):
 * the head binds the store shard that holds it, the embedding-bag passes bind the table's rows
 * shard by shard (a shard of the store, split further where its bitmap would pass a binding),
 * and nothing is copied in or out between epochs. The resident data is split into chunks of
 * reviews past one binding (shaders/embedding-bag.wgsl).
 *
 * The data is uploaded once (`FusedData`); an epoch is one small upload (the shuffle, the labels
 * in its order and the optimizer's uniform per step), every step recorded with nothing created,
 * and one read of the per-step metrics together with the validation metrics. The per-op steps in
 * execution.ts are the definition: tests train both and compare (test/fused-training.test.ts).
 */
import { classifierHeadParams, headOutputs, headPieces, headRecordSize, prepareHeadEvaluation, prepareHeadTraining, type HeadLayout } from '../kernels/classifier-head.js';
import {
  batchWords,
  prepareEmbeddingBag,
  MAX_BAG_BATCH,
  MAX_BAG_DIM,
  presenceShape,
  tokenBags,
  uploadTokenBags,
  type EmbeddingBagPasses,
  type ResidentBags,
  type TableShard,
} from '../kernels/embedding-bag.js';
import { EpochReads, type Gpu, type PreparedDispatch, type Tensor } from '../gpu/gpu.js';
import { CapturedExecutor, type EpochResult, type Examples, type ExecutionContext, type Executor, type MetricSums, type PreparedSet, type StepObserver } from './execution.js';
import { Dense, Embedding, GlobalAveragePooling1D, type Layer } from './layers.js';
import { OPTIMIZER_PARAMS_BYTES, type ParameterStore } from './parameter-store.js';

/** Steps recorded per submit: bounds a command buffer's size on long epochs (small batches). */
const STEPS_PER_SUBMIT = 64;
/** Rows one evaluation pass covers at most (rounded up to whole batches): bounds its scratch buffers. */
const EVALUATION_ROWS = 16384;
/** Words of one step's batch descriptor. */
const BATCH_WORDS = 4;

export interface FusedLayout {
  vocab: number;
  dim: number;
  /** The head's offsets in the store shard `headShard`. */
  head: HeadLayout;
  headShard: number;
}

/** The fused layout of `layers` in `store`, or why they cannot be fused (the per-op steps then train them). */
export function fusedLayout(layers: readonly Layer[], store: ParameterStore): FusedLayout | string {
  const [embedding, pool, hidden, output, ...rest] = layers;
  const shape = 'Embedding -> GlobalAveragePooling1D -> Dense(relu or linear) -> Dense(1, sigmoid)';
  if (
    !(embedding instanceof Embedding) ||
    !(pool instanceof GlobalAveragePooling1D) ||
    !(hidden instanceof Dense) ||
    !(output instanceof Dense) ||
    rest.length > 0
  ) {
    return `the model is not ${shape}`;
  }
  if (embedding.maskZero) return `the embedding masks id 0; the fused embedding-bag averages every step`;
  if (hidden.activation === 'sigmoid') return `the first Dense layer's activation is sigmoid; the fused head has relu or linear`;
  if (output.units !== 1 || output.activation !== 'sigmoid') return `the last layer is not Dense(1, sigmoid)`;
  if (embedding.outputDim % 4 !== 0) return `the embedding dimension ${embedding.outputDim} is not a multiple of 4`;
  if (embedding.outputDim > MAX_BAG_DIM) return `the embedding dimension ${embedding.outputDim} exceeds the fused embedding-bag's ${MAX_BAG_DIM}`;
  // The head's four weights follow the table in the store: they must share one shard, unsplit.
  const located = [1, 2, 3, 4].map((i) => ({ ...store.locate(i), runs: store.rowRuns(i).length }));
  if (located.some((l) => l.runs > 1 || l.shard !== located[0].shard)) return `the head's weights are split over several store shards`;
  const [kernel1, bias1, kernel2, bias2] = located.map((l) => l.offset);
  return {
    vocab: embedding.inputDim,
    dim: embedding.outputDim,
    head: { dim: embedding.outputDim, hidden: hidden.units, relu: hidden.activation === 'relu', kernel1, bias1, kernel2, bias2 },
    headShard: located[0].shard,
  };
}

/**
 * The table's rows as the embedding-bag passes bind them: the store's runs of rows, each split
 * further where its bitmap (`presenceShape`) would pass one binding, at rows the store can view.
 */
function tableShards(gpu: Gpu, store: ParameterStore, batchSize: number, dim: number): TableShard[] | string {
  const [bitmapRows] = presenceShape(1, batchSize);
  const step = store.alignedRows(0);
  const limit = Math.floor(Math.floor(gpu.maxBindingBytes / (4 * bitmapRows)) / step) * step;
  if (limit < 1) return `a bitmap of ${step} table rows does not fit one binding of ${gpu.maxBindingBytes} bytes`;
  const shards: TableShard[] = [];
  for (const run of store.rowRuns(0)) {
    for (let first = run.firstRow; first < run.firstRow + run.rows; first += limit) {
      const rows = Math.min(limit, run.firstRow + run.rows - first);
      shards.push({
        firstToken: first,
        rows,
        table: store.sliceRows(0, first, rows, 'values'),
        dTable: store.sliceRows(0, first, rows, 'grads'),
        presence: gpu.zeros(presenceShape(rows, batchSize), 'i32'),
      });
    }
  }
  void dim;
  return shards;
}

export class FusedExecutor implements Executor {
  readonly kind = 'fused';
  private readonly epochReads = new EpochReads();
  /** The step's reviews and labels, copied in from the epoch's order. */
  private readonly batch: Tensor;
  private readonly batchOrder: Tensor;
  private readonly batchLabels: Tensor;
  private readonly pooled: Tensor;
  private readonly dPooled: Tensor;
  private readonly samples: Tensor;
  /** The head's gradients summed in pieces of the batch (one piece on SwiftShader). */
  private readonly headPartials: Tensor;
  private readonly headParams: GPUBuffer;
  private update: { uniform: GPUBuffer; dispatches: readonly PreparedDispatch[] } | null = null;
  /** Predictions run the per-op forward: the fused head does not keep its outputs. */
  private predictor: CapturedExecutor | null = null;

  private constructor(
    readonly ctx: ExecutionContext,
    readonly layout: FusedLayout,
    readonly shards: readonly TableShard[],
  ) {
    const { gpu, batchSize } = ctx;
    this.batch = gpu.zeros([4], 'i32');
    this.batchOrder = gpu.zeros([batchSize], 'i32');
    this.batchLabels = gpu.zeros([batchSize]);
    this.pooled = gpu.empty([batchSize, layout.dim]);
    this.dPooled = gpu.empty([batchSize, layout.dim]);
    this.samples = gpu.empty([batchSize, headRecordSize(layout.head.hidden)]);
    this.headPartials = gpu.empty([headPieces(gpu, batchSize), headOutputs(layout.head)]);
    this.headParams = gpu.createUniform(classifierHeadParams(layout.head));
  }

  /** The fused executor for the context's model, or why there is none. */
  static async create(ctx: ExecutionContext): Promise<FusedExecutor | string> {
    const { gpu, batchSize, store } = ctx;
    const layout = fusedLayout(ctx.layers, store);
    if (typeof layout === 'string') return layout;
    if (ctx.optimizer?.rowSparse) return `${ctx.optimizer.className} updates embedding rows lazily; the fused embedding-bag writes dense gradients`;
    if (batchSize > MAX_BAG_BATCH) return `batches of ${batchSize} exceed the fused path's ${MAX_BAG_BATCH}`;
    const limit = gpu.maxBindingBytes;
    if (batchSize * rowFloats(layout) * 4 > limit) return `a batch's scratch buffers (${batchSize} rows) do not fit one binding of ${limit} bytes`;
    const shards = tableShards(gpu, store, batchSize, layout.dim);
    if (typeof shards === 'string') return shards;
    const executor = new FusedExecutor(ctx, layout, shards);
    if (ctx.optimizer) executor.update = await store.prepareUpdate();
    return executor;
  }

  async prepare(data: Examples): Promise<PreparedSet> {
    return new FusedData(this, data);
  }

  async epoch(train: { set: PreparedSet; order: Int32Array } | null, evaluations: readonly PreparedSet[], observe?: StepObserver): Promise<EpochResult> {
    const { gpu, optimizer } = this.ctx;
    const reads: Tensor[] = [];
    let steps = 0;
    if (train) {
      if (!optimizer) throw new Error('FusedExecutor: created without an optimizer, it can only evaluate');
      const set = await (train.set as FusedData).training();
      set.recordSteps(train.order);
      steps = set.steps;
      reads.push(set.metrics);
    }
    for (const e of evaluations) {
      const set = await (e as FusedData).evaluation();
      set.record();
      reads.push(set.metrics);
    }
    const sums = await this.epochReads.readAll(gpu, reads);
    if (optimizer && train) optimizer.iterations += steps;
    const trainSums = train ? pairs(sums[0]) : null;
    if (trainSums && train) {
      const batchSize = this.ctx.batchSize;
      for (let s = 0; s < steps; s++) observe?.(s, trainSums.loss[s], trainSums.correct[s], Math.min(batchSize, train.order.length - s * batchSize));
    }
    return { train: trainSums, evaluations: sums.slice(train ? 1 : 0).map(pairs) };
  }

  async predict(set: PreparedSet): Promise<Float32Array> {
    this.predictor ??= await CapturedExecutor.create({ ...this.ctx, optimizer: null });
    const data = await this.predictor.prepare((set as FusedData).host);
    try {
      return await this.predictor.predict(data);
    } finally {
      data.dispose();
    }
  }

  dispose(): void {
    this.predictor?.dispose();
    for (const s of this.shards) s.presence.dispose();
    for (const t of [this.batch, this.batchOrder, this.batchLabels, this.pooled, this.dPooled, this.samples, this.headPartials]) t.dispose();
    this.headParams.destroy();
  }

  /** @internal the buffers the data sets bind. */
  get buffers() {
    const head = this.ctx.store.shards[this.layout.headShard];
    return {
      shards: this.shards,
      headLayout: this.layout.head,
      weights: head.values,
      grads: head.grads,
      batch: this.batch,
      batchOrder: this.batchOrder,
      batchLabels: this.batchLabels,
      pooled: this.pooled,
      dPooled: this.dPooled,
      samples: this.samples,
      headPartials: this.headPartials,
      headParams: this.headParams,
      update: this.update,
    };
  }
}

/** A data set's token bags, uploaded once, with its training step and evaluation passes prepared when first used. */
class FusedData implements PreparedSet {
  private bags: ResidentBags | null = null;
  private trainingSet: Promise<TrainingSet> | null = null;
  private evaluationSet: Promise<EvaluationSet> | null = null;

  constructor(
    private readonly executor: FusedExecutor,
    readonly host: Examples,
  ) {}

  get rows(): number {
    return this.host.labels.length;
  }

  training(): Promise<TrainingSet> {
    return (this.trainingSet ??= TrainingSet.create(this.executor, this.residentBags(), this.host.labels));
  }

  evaluation(): Promise<EvaluationSet> {
    return (this.evaluationSet ??= EvaluationSet.create(this.executor, this.residentBags(), this.host.labels));
  }

  dispose(): void {
    void this.trainingSet?.then((s) => s.dispose());
    void this.evaluationSet?.then((s) => s.dispose());
    this.bags?.dispose();
  }

  private residentBags(): ResidentBags {
    const { ids, length, labels } = this.host;
    return (this.bags ??= uploadTokenBags(this.executor.ctx.gpu, tokenBags(ids, labels.length, length, this.executor.layout.vocab)));
  }
}

/** Floats per batch row in the largest batch-sized scratch buffer. */
function rowFloats(layout: FusedLayout): number {
  return Math.max(layout.dim, headRecordSize(layout.head.hidden));
}

/** A training set resident on the GPU, with its step prepared. */
class TrainingSet {
  private constructor(
    private readonly executor: FusedExecutor,
    readonly rows: number,
    readonly steps: number,
    /** The labels by review, on the host: each epoch uploads them in its order. */
    private readonly hostLabels: Float32Array,
    /** [rows] the epoch's order and the labels in it, rewritten each epoch. */
    private readonly order: Tensor,
    private readonly labels: Tensor,
    /** [steps, 4] batch descriptors: constant, as every epoch cuts its order the same way. */
    private readonly stepTable: Tensor,
    /** [steps, OPTIMIZER_PARAMS_BYTES / 4] the optimizer's uniform per step, rewritten each epoch. */
    private readonly paramsTable: Tensor,
    readonly metrics: Tensor,
    private readonly bag: EmbeddingBagPasses,
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(executor: FusedExecutor, bags: ResidentBags, labels: Float32Array): Promise<TrainingSet> {
    const { gpu, batchSize } = executor.ctx;
    const b = executor.buffers;
    const rows = bags.reviews;
    const steps = Math.ceil(rows / batchSize);
    const order = gpu.zeros([rows], 'i32');
    const labelTensor = gpu.zeros([rows]);
    // Each step's rows are copied to the start of the batch buffers: `first` is 0.
    const table = new Int32Array(steps * 4);
    for (let s = 0; s < steps; s++) table.set(batchWords(0, Math.min(batchSize, rows - s * batchSize), s, true), s * 4);
    const stepTable = gpu.upload(table, [steps, 4]);
    const paramsTable = gpu.zeros([steps, OPTIMIZER_PARAMS_BYTES / 4], 'i32');
    const metrics = gpu.zeros([steps, 2]);
    const bag = await prepareEmbeddingBag(gpu, {
      bags,
      dim: executor.layout.dim,
      capacity: batchSize,
      markRows: batchSize,
      batch: b.batch,
      order: b.batchOrder,
      shards: b.shards,
      pooled: b.pooled,
      dPooled: b.dPooled,
    });
    const head = await prepareHeadTraining(
      gpu,
      { layout: b.headLayout, capacity: batchSize, batch: b.batch, labels: b.batchLabels, pooled: b.pooled, weights: b.weights, samples: b.samples, metrics, dPooled: b.dPooled, grads: b.grads, partials: b.headPartials },
      b.headParams,
    );
    return new TrainingSet(executor, rows, steps, labels.slice(), order, labelTensor, stepTable, paramsTable, metrics, bag, [
      ...bag.forward,
      head.sample,
      ...head.gradients,
      ...bag.backward,
      ...b.update!.dispatches,
    ]);
  }

  /** Record an epoch's steps over `order`; the optimizer's step count continues from its `iterations`. */
  recordSteps(order: Int32Array): void {
    const { gpu, store, optimizer, batchSize } = this.executor.ctx;
    const b = this.executor.buffers;
    if (order.length !== this.rows) throw new RangeError(`epoch: an order of ${order.length} reviews for a training set of ${this.rows}`);
    const params = new Uint8Array(this.steps * OPTIMIZER_PARAMS_BYTES);
    for (let s = 0; s < this.steps; s++) params.set(store.updateParams(optimizer!.iterations + s), s * OPTIMIZER_PARAMS_BYTES);
    gpu.write(this.order, order);
    gpu.write(this.labels, Float32Array.from(order, (review) => this.hostLabels[review]));
    gpu.write(this.paramsTable, new Int32Array(params.buffer));
    for (let s = 0; s < this.steps; s++) {
      const rows = Math.min(batchSize, this.rows - s * batchSize);
      gpu.copyElements(this.order, s * batchSize, b.batchOrder, 0, rows);
      gpu.copyElements(this.labels, s * batchSize, b.batchLabels, 0, rows);
      gpu.copyElements(this.stepTable, s * BATCH_WORDS, b.batch, 0, BATCH_WORDS);
      gpu.recordCopy(this.paramsTable.buffer, s * OPTIMIZER_PARAMS_BYTES, b.update!.uniform, 0, OPTIMIZER_PARAMS_BYTES);
      for (const shard of b.shards) gpu.recordClear(shard.presence);
      gpu.record(this.dispatches);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
  }

  dispose(): void {
    for (const t of [this.order, this.labels, this.stepTable, this.paramsTable, this.metrics]) t.dispose();
    this.bag.dispose();
  }
}

/** An evaluation set resident on the GPU: passes of whole batches, metric sums per batch. */
class EvaluationSet {
  private constructor(
    private readonly executor: FusedExecutor,
    readonly rows: number,
    private readonly passes: number,
    /** Rows per pass. */
    private readonly capacity: number,
    /** [rows] the reviews in order and their labels; a pass copies its slice into passRows. */
    private readonly data: { order: Tensor; labels: Tensor },
    private readonly passRows: { order: Tensor; labels: Tensor },
    private readonly tensors: Tensor[],
    private readonly passTable: Tensor,
    readonly metrics: Tensor,
    private readonly bag: EmbeddingBagPasses,
    private readonly headParams: GPUBuffer,
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(executor: FusedExecutor, bags: ResidentBags, labels: Float32Array): Promise<EvaluationSet> {
    const { gpu, batchSize } = executor.ctx;
    const { layout } = executor;
    const b = executor.buffers;
    const rows = bags.reviews;
    const batches = Math.ceil(rows / batchSize);
    // Whole batches per pass, as many as EVALUATION_ROWS and one binding for the scratch buffers allow.
    const rowsPerPass = Math.min(EVALUATION_ROWS, Math.floor(gpu.maxBindingBytes / (4 * rowFloats(layout))));
    const batchesPerPass = Math.min(batches, Math.max(1, Math.floor(rowsPerPass / batchSize)));
    const capacity = batchesPerPass * batchSize;
    const passes = Math.ceil(batches / batchesPerPass);
    const data = { order: gpu.upload(Int32Array.from({ length: rows }, (_, i) => i)), labels: gpu.upload(labels) };
    const passRows = { order: gpu.zeros([capacity], 'i32'), labels: gpu.zeros([capacity]) };
    const table = new Int32Array(passes * 4);
    for (let p = 0; p < passes; p++) table.set(batchWords(0, Math.min(capacity, rows - p * capacity), p * batchesPerPass, false), p * 4);
    const passTable = gpu.upload(table, [passes, 4]);
    const metrics = gpu.zeros([batches, 2]);
    const pooled = gpu.empty([capacity, layout.dim]);
    const samples = gpu.empty([capacity, headRecordSize(layout.head.hidden)]);
    // These passes do not mark (mark = 0): the bitmap and the gradient buffers are bound, never touched.
    const headParams = gpu.createUniform(classifierHeadParams(b.headLayout, batchSize));
    const bag = await prepareEmbeddingBag(gpu, {
      bags,
      dim: layout.dim,
      capacity,
      markRows: batchSize,
      batch: b.batch,
      order: passRows.order,
      shards: b.shards,
      pooled,
      dPooled: b.dPooled,
    });
    const head = await prepareHeadEvaluation(
      gpu,
      { layout: b.headLayout, capacity, batch: b.batch, labels: passRows.labels, pooled, weights: b.weights, samples, metrics },
      headParams,
      batchSize,
    );
    return new EvaluationSet(executor, rows, passes, capacity, data, passRows, [pooled, samples], passTable, metrics, bag, headParams, [
      ...bag.forward,
      head.sample,
      head.sums,
    ]);
  }

  /** Record every pass. */
  record(): void {
    const { gpu } = this.executor.ctx;
    const b = this.executor.buffers;
    for (let p = 0; p < this.passes; p++) {
      const rows = Math.min(this.capacity, this.rows - p * this.capacity);
      gpu.copyElements(this.data.order, p * this.capacity, this.passRows.order, 0, rows);
      gpu.copyElements(this.data.labels, p * this.capacity, this.passRows.labels, 0, rows);
      gpu.copyElements(this.passTable, p * BATCH_WORDS, b.batch, 0, BATCH_WORDS);
      gpu.record(this.dispatches);
    }
  }

  dispose(): void {
    for (const t of [...Object.values(this.data), ...Object.values(this.passRows), ...this.tensors, this.passTable, this.metrics]) t.dispose();
    this.bag.dispose();
    this.headParams.destroy();
  }
}

function pairs(values: Float32Array | Int32Array): MetricSums {
  const n = values.length / 2;
  return { loss: Float64Array.from({ length: n }, (_, i) => values[2 * i]), correct: Float64Array.from({ length: n }, (_, i) => values[2 * i + 1]) };
}
