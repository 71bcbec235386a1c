/**
 * The fast path: a model of the tutorial's shape (Embedding -> GlobalAveragePooling1D ->
 * Dense(H, relu or linear) -> Dense(1, sigmoid), binary cross-entropy, Adam) compiled into a
 * training step of five prepared dispatches that never waits for the host:
 *
 *   embedding-bag forward   gather + mean from each review's resident token counts; marks the bitmap
 *   head trainSample        dense, relu, dense, sigmoid, loss, accuracy and the backward chain, per row
 *   head gradients          the dense layers' weight gradients and the step's loss/accuracy sums
 *   embedding-bag backward  the embedding gradient, deterministically, from the bitmap
 *   adam                    every weight at once: weights, gradients and moments are flat buffers
 *
 * Past one storage binding (`gpu.maxBindingBytes`), the flat buffers are split into shards of
 * embedding rows, each with its own bitmap (the head lives in the last shard), and the resident
 * data into chunks of reviews: the embedding-bag passes and Adam then dispatch per shard and chunk
 * (shaders/embedding-bag.wgsl). Unsplit, each is the one dispatch above.
 *
 * The data is uploaded once (`TrainingSet`, `EvaluationSet`); an epoch is one small upload (the
 * shuffle, the labels in its order and Adam's per-step factors), every step recorded with
 * nothing created (it copies its slice of the order and the labels into batch-sized buffers, so
 * that only the token bags grow with the data), and one read of the per-step metrics together
 * with the validation metrics. The autograd path in model.ts
 * stays the general one and the reference: tests train both and compare (test/fused-training.test.ts).
 */
import { ADAM_PARAMS_BYTES, adamParams, prepareAdam } from '../kernels/adam.js';
import { classifierHeadParams, headRecordSize, prepareHeadEvaluation, prepareHeadTraining, type HeadLayout } from '../kernels/classifier-head.js';
import {
  batchWords,
  prepareEmbeddingBag,
  MAX_BAG_BATCH,
  presenceShape,
  tokenBags,
  uploadTokenBags,
  type EmbeddingBagPasses,
  type ResidentBags,
  type TableShard,
} from '../kernels/embedding-bag.js';
import type { Gpu, PreparedDispatch, Tensor } from '../gpu/gpu.js';
import { Dense, Embedding, GlobalAveragePooling1D, type Layer } from './layers.js';
import type { Adam } from './optimizers.js';

/** Token ids [samples, steps], row-major. */
interface Tokens {
  data: Int32Array;
  shape: readonly number[];
}

/** Steps recorded per submit: bounds a command buffer's size on long epochs (small batches). */
const STEPS_PER_SUBMIT = 64;
/** Rows one evaluation pass covers at most (rounded up to whole batches): bounds its scratch buffers. */
const EVALUATION_ROWS = 16384;
/** Words of one step's batch descriptor and bytes of one step's Adam uniform in the per-epoch tables. */
const BATCH_WORDS = 4;
const ADAM_BLOCK_BYTES = 32;

export interface FusedLayout {
  vocab: number;
  dim: number;
  head: HeadLayout;
  /** Every weight, flat, in the model's order. */
  paramCount: number;
  /** paramCount rounded up to a multiple of 4: the flat buffers' size. */
  paddedCount: number;
}

/** The fused layout of `layers`, or why they cannot be fused (the general path then trains them). */
export function fusedLayout(layers: readonly Layer[]): FusedLayout | string {
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
  if (hidden.activation === 'sigmoid') return `the first Dense layer's activation is sigmoid; the fused head has relu or linear`;
  if (output.units !== 1 || output.activation !== 'sigmoid') return `the last layer is not Dense(1, sigmoid)`;
  if (embedding.outputDim % 4 !== 0) return `the embedding dimension ${embedding.outputDim} is not a multiple of 4`;
  const vocab = embedding.inputDim;
  const dim = embedding.outputDim;
  const kernel1 = vocab * dim;
  const bias1 = kernel1 + dim * hidden.units;
  const kernel2 = bias1 + hidden.units;
  const bias2 = kernel2 + hidden.units;
  return {
    vocab,
    dim,
    head: { dim, hidden: hidden.units, relu: hidden.activation === 'relu', kernel1, bias1, kernel2, bias2 },
    paramCount: bias2 + 1,
    paddedCount: Math.ceil((bias2 + 1) / 4) * 4,
  };
}

/** Loss sums and correct counts, one pair per step (training) or per batch-sized chunk (evaluation). */
export interface MetricSums {
  loss: Float64Array;
  correct: Float64Array;
}

/** Embedding rows [firstToken, firstToken + rows) and their part of the flat buffers; the last shard also holds the head. */
interface Shard extends TableShard {
  /** Where the shard starts in the flat weights. */
  flatStart: number;
  m: Tensor;
  v: Tensor;
}

/**
 * Embedding rows per shard: all of them, unless the flat buffers or the bitmap would pass one
 * binding. Each shard holds `rows` table rows and, at most, the head; its bitmap holds `bitmapRows` words per row.
 */
function shardRows(layout: FusedLayout, bitmapRows: number, maxBindingBytes: number): number {
  const maxFloats = Math.floor(maxBindingBytes / 4);
  const headFloats = layout.paddedCount - layout.vocab * layout.dim;
  return Math.min(layout.vocab, Math.floor(maxFloats / bitmapRows), Math.floor((maxFloats - headFloats) / layout.dim));
}

export class FusedTrainer {
  private readonly shards: Shard[] = [];
  /** The head's offsets in the last shard's buffers. */
  private readonly headLayout: HeadLayout;
  private readonly batch: Tensor;
  /** The step's reviews and labels, copied in from the epoch's order. */
  private readonly batchOrder: Tensor;
  private readonly batchLabels: Tensor;
  private readonly pooled: Tensor;
  private readonly dPooled: Tensor;
  private readonly samples: Tensor;
  private readonly headParams: GPUBuffer;
  private readonly adamUniform: GPUBuffer;
  /** Adam over each shard's flat buffers, all reading `adamUniform`. */
  private adam: PreparedDispatch[] = [];

  private constructor(
    readonly gpu: Gpu,
    readonly layout: FusedLayout,
    private readonly weights: readonly Tensor[],
    /** null: evaluation only. */
    private readonly optimizer: Adam | null,
    readonly batchSize: number,
    rowsPerShard: number,
  ) {
    const { vocab, dim, paddedCount } = layout;
    for (let first = 0; first < vocab; first += rowsPerShard) {
      const rows = Math.min(rowsPerShard, vocab - first);
      // Padded to whole vec4s for Adam; the padding's gradient is zero, so it stays zero.
      const size = [first + rows < vocab ? rows * dim : paddedCount - first * dim];
      const [table, dTable, m, v] = [0, 1, 2, 3].map(() => gpu.zeros(size));
      const presence = gpu.zeros(presenceShape(rows, batchSize), 'i32');
      this.shards.push({ firstToken: first, rows, flatStart: first * dim, table, dTable, m, v, presence });
    }
    const headStart = this.shards[this.shards.length - 1].flatStart;
    const { kernel1, bias1, kernel2, bias2 } = layout.head;
    this.headLayout = { ...layout.head, kernel1: kernel1 - headStart, bias1: bias1 - headStart, kernel2: kernel2 - headStart, bias2: bias2 - headStart };
    this.batch = gpu.zeros([4], 'i32');
    this.batchOrder = gpu.zeros([batchSize], 'i32');
    this.batchLabels = gpu.zeros([batchSize]);
    this.pooled = gpu.empty([batchSize, layout.dim]);
    this.dPooled = gpu.empty([batchSize, layout.dim]);
    this.samples = gpu.empty([batchSize, headRecordSize(layout.head.hidden)]);
    this.headParams = gpu.createUniform(classifierHeadParams(this.headLayout));
    this.adamUniform = gpu.createUniform(new Uint8Array(ADAM_BLOCK_BYTES));
  }

  /** A trainer for `layers` (built) and `optimizer` (null to evaluate only) at `batchSize`, or why there is none. */
  static async create(gpu: Gpu, layers: readonly Layer[], optimizer: Adam | null, batchSize: number): Promise<FusedTrainer | string> {
    const layout = fusedLayout(layers);
    if (typeof layout === 'string') return layout;
    if (batchSize > MAX_BAG_BATCH) return `batches of ${batchSize} exceed the fused path's ${MAX_BAG_BATCH}`;
    const limit = gpu.maxBindingBytes;
    if (batchSize * rowFloats(layout) * 4 > limit) return `a batch's scratch buffers (${batchSize} rows) do not fit one binding of ${limit} bytes`;
    const rows = shardRows(layout, presenceShape(1, batchSize)[0], limit);
    if (rows < 1) return `the head's weights and one embedding row do not fit one binding of ${limit} bytes`;
    const trainer = new FusedTrainer(gpu, layout, layers.flatMap((l) => l.weights.map((w) => w.tensor)), optimizer, batchSize, rows);
    trainer.adam = await Promise.all(trainer.shards.map((sh) => prepareAdam(gpu, sh.table, sh.dTable, sh.m, sh.v, trainer.adamUniform)));
    return trainer;
  }

  /** Upload a training set (counted once on the host) with its prepared step. */
  async trainingSet(x: Tokens, labels: Float32Array): Promise<TrainingSet> {
    return TrainingSet.create(this, x, labels);
  }

  /** Upload an evaluation set (counted once on the host) with its prepared passes. */
  async evaluationSet(x: Tokens, labels: Float32Array): Promise<EvaluationSet> {
    return EvaluationSet.create(this, x, labels);
  }

  /**
   * One epoch: the steps over `order` (review indices, batch by batch), then each evaluation set,
   * with ONE read at the end. Weights and Adam's moments come from the model and go back to it.
   */
  async epoch(train: TrainingSet, order: Int32Array, evaluations: readonly EvaluationSet[] = []): Promise<{ train: MetricSums; evaluations: MetricSums[] }> {
    const { gpu, optimizer } = this;
    if (!optimizer) throw new Error('FusedTrainer: created without an optimizer, it can only evaluate');
    this.pull(true);
    train.recordSteps(order, optimizer);
    for (const e of evaluations) e.record();
    // Back into the model before the read, so that the read's wait covers the copies too.
    this.push();
    const sums = await gpu.readAll([train.metrics, ...evaluations.map((e) => e.metrics)]);
    optimizer.iterations += train.steps;
    return { train: pairs(sums[0]), evaluations: sums.slice(1).map(pairs) };
  }

  /** Loss sums and correct counts per batch-sized chunk of `set`, with the model's current weights. */
  async evaluate(set: EvaluationSet): Promise<MetricSums> {
    this.pull(false);
    set.record();
    const [sums] = await this.gpu.readAll([set.metrics]);
    return pairs(sums);
  }

  dispose(): void {
    for (const s of this.shards) for (const t of [s.table, s.dTable, s.m, s.v, s.presence]) t.dispose();
    for (const t of [this.batch, this.batchOrder, this.batchLabels, this.pooled, this.dPooled, this.samples]) t.dispose();
    for (const u of [this.headParams, this.adamUniform]) u.destroy();
  }

  /**
   * Copy the model's weights (and Adam's moments) into the flat buffers: done at every epoch's
   * start, so that weights a callback set between epochs are the ones trained.
   */
  private pull(moments: boolean): void {
    this.eachSegment((w, from, shard, to, count) => {
      this.gpu.copyElements(w, from, shard.table, to, count);
      if (!moments) return;
      const slot = this.optimizer!.slot(w);
      this.gpu.copyElements(slot.m, from, shard.m, to, count);
      this.gpu.copyElements(slot.v, from, shard.v, to, count);
    });
  }

  /** Copy the flat buffers back into the model's weights and Adam's moments. */
  private push(): void {
    this.eachSegment((w, from, shard, to, count) => {
      const slot = this.optimizer!.slot(w);
      this.gpu.copyElements(shard.table, to, w, from, count);
      this.gpu.copyElements(shard.m, to, slot.m, from, count);
      this.gpu.copyElements(shard.v, to, slot.v, from, count);
    });
  }

  /** Each weight's elements [from, from + count) and where they sit in a shard's flat buffers. */
  private eachSegment(fn: (w: Tensor, from: number, shard: Shard, to: number, count: number) => void): void {
    let flat = 0;
    for (const w of this.weights) {
      for (let from = 0; from < w.size; ) {
        let s = this.shards[0];
        for (const sh of this.shards) if (sh.flatStart <= flat + from) s = sh;
        const count = Math.min(w.size - from, s.table.size - (flat + from - s.flatStart));
        fn(w, from, s, flat + from - s.flatStart, count);
        from += count;
      }
      flat += w.size;
    }
  }

  /** @internal the buffers the data sets bind. */
  get buffers() {
    const head = this.shards[this.shards.length - 1];
    return {
      shards: this.shards as readonly TableShard[],
      headLayout: this.headLayout,
      weights: head.table,
      grads: head.dTable,
      batch: this.batch,
      batchOrder: this.batchOrder,
      batchLabels: this.batchLabels,
      pooled: this.pooled,
      dPooled: this.dPooled,
      samples: this.samples,
      headParams: this.headParams,
      adamUniform: this.adamUniform,
      adam: this.adam,
    };
  }
}

/** Floats per batch row in the largest batch-sized scratch buffer. */
function rowFloats(layout: FusedLayout): number {
  return Math.max(layout.dim, headRecordSize(layout.head.hidden));
}

/** A training set resident on the GPU, with its step prepared. */
export class TrainingSet {
  private constructor(
    private readonly trainer: FusedTrainer,
    readonly rows: number,
    readonly steps: number,
    private readonly bags: ResidentBags,
    /** The labels by review, on the host: each epoch uploads them in its order. */
    private readonly hostLabels: Float32Array,
    /** [rows] the epoch's order and the labels in it, rewritten each epoch. */
    private readonly order: Tensor,
    private readonly labels: Tensor,
    /** [steps, 4] batch descriptors: constant, as every epoch cuts its order the same way. */
    private readonly stepTable: Tensor,
    /** [steps, ADAM_BLOCK_BYTES / 4] Adam's uniform per step, rewritten each epoch. */
    private readonly adamTable: Tensor,
    readonly metrics: Tensor,
    private readonly bag: EmbeddingBagPasses,
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(trainer: FusedTrainer, x: Tokens, labels: Float32Array): Promise<TrainingSet> {
    const { gpu, layout, batchSize } = trainer;
    const b = trainer.buffers;
    const [rows, length] = x.shape;
    const steps = Math.ceil(rows / batchSize);
    const bags = uploadTokenBags(gpu, tokenBags(x.data, rows, length, layout.vocab));
    const order = gpu.zeros([rows], 'i32');
    const labelTensor = gpu.zeros([rows]);
    // Each step's rows are copied to the start of the batch buffers: `first` is 0.
    const table = new Int32Array(steps * 4);
    for (let s = 0; s < steps; s++) table.set(batchWords(0, Math.min(batchSize, rows - s * batchSize), s, true), s * 4);
    const stepTable = gpu.upload(table, [steps, 4]);
    const adamTable = gpu.zeros([steps, ADAM_BLOCK_BYTES / 4], 'i32');
    const metrics = gpu.zeros([steps, 2]);
    const bag = await prepareEmbeddingBag(gpu, {
      bags,
      dim: layout.dim,
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
      { layout: b.headLayout, capacity: batchSize, batch: b.batch, labels: b.batchLabels, pooled: b.pooled, weights: b.weights, samples: b.samples, metrics, dPooled: b.dPooled, grads: b.grads },
      b.headParams,
    );
    return new TrainingSet(trainer, rows, steps, bags, labels.slice(), order, labelTensor, stepTable, adamTable, metrics, bag, [
      ...bag.forward,
      head.sample,
      head.gradients,
      ...bag.backward,
      ...b.adam,
    ]);
  }

  /** Record an epoch's steps over `order`; Adam's step count continues from `optimizer.iterations`. */
  recordSteps(order: Int32Array, optimizer: Adam): void {
    const { gpu } = this.trainer;
    const b = this.trainer.buffers;
    if (order.length !== this.rows) throw new RangeError(`epoch: an order of ${order.length} reviews for a training set of ${this.rows}`);
    const adam = new Uint8Array(this.steps * ADAM_BLOCK_BYTES);
    const { learningRate, beta1, beta2, epsilon } = optimizer;
    for (let s = 0; s < this.steps; s++) {
      adam.set(adamParams(this.trainer.layout.paddedCount, { step: optimizer.iterations + s + 1, learningRate, beta1, beta2, epsilon }), s * ADAM_BLOCK_BYTES);
    }
    gpu.write(this.order, order);
    gpu.write(this.labels, Float32Array.from(order, (review) => this.hostLabels[review]));
    gpu.write(this.adamTable, new Int32Array(adam.buffer));
    const { batchSize } = this.trainer;
    for (let s = 0; s < this.steps; s++) {
      const rows = Math.min(batchSize, this.rows - s * batchSize);
      gpu.copyElements(this.order, s * batchSize, b.batchOrder, 0, rows);
      gpu.copyElements(this.labels, s * batchSize, b.batchLabels, 0, rows);
      gpu.copyElements(this.stepTable, s * BATCH_WORDS, b.batch, 0, BATCH_WORDS);
      gpu.recordCopy(this.adamTable.buffer, s * ADAM_BLOCK_BYTES, b.adamUniform, 0, ADAM_PARAMS_BYTES);
      for (const shard of b.shards) gpu.recordClear(shard.presence);
      gpu.record(this.dispatches);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
  }

  dispose(): void {
    this.bags.dispose();
    for (const t of [this.order, this.labels, this.stepTable, this.adamTable, this.metrics]) t.dispose();
    this.bag.dispose();
  }
}

/** An evaluation set resident on the GPU: passes of whole batches, metric sums per batch. */
export class EvaluationSet {
  private constructor(
    private readonly trainer: FusedTrainer,
    readonly rows: number,
    private readonly passes: number,
    /** Rows per pass. */
    private readonly capacity: number,
    /** [rows] the reviews in order and their labels; a pass copies its slice into passRows. */
    private readonly data: { order: Tensor; labels: Tensor },
    private readonly passRows: { order: Tensor; labels: Tensor },
    private readonly tensors: Tensor[],
    private readonly bags: ResidentBags,
    private readonly passTable: Tensor,
    readonly metrics: Tensor,
    private readonly bag: EmbeddingBagPasses,
    private readonly headParams: GPUBuffer,
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(trainer: FusedTrainer, x: Tokens, labels: Float32Array): Promise<EvaluationSet> {
    const { gpu, layout, batchSize } = trainer;
    const b = trainer.buffers;
    const [rows, length] = x.shape;
    const chunks = Math.ceil(rows / batchSize);
    // Whole batches per pass, as many as EVALUATION_ROWS and one binding for the scratch buffers allow.
    const rowsPerPass = Math.min(EVALUATION_ROWS, Math.floor(gpu.maxBindingBytes / (4 * rowFloats(layout))));
    const chunksPerPass = Math.min(chunks, Math.max(1, Math.floor(rowsPerPass / batchSize)));
    const capacity = chunksPerPass * batchSize;
    const passes = Math.ceil(chunks / chunksPerPass);
    const bags = uploadTokenBags(gpu, tokenBags(x.data, rows, length, layout.vocab));
    const data = { order: gpu.upload(Int32Array.from({ length: rows }, (_, i) => i)), labels: gpu.upload(labels) };
    const passRows = { order: gpu.zeros([capacity], 'i32'), labels: gpu.zeros([capacity]) };
    const table = new Int32Array(passes * 4);
    for (let p = 0; p < passes; p++) table.set(batchWords(0, Math.min(capacity, rows - p * capacity), p * chunksPerPass, false), p * 4);
    const passTable = gpu.upload(table, [passes, 4]);
    const metrics = gpu.zeros([chunks, 2]);
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
    return new EvaluationSet(trainer, rows, passes, capacity, data, passRows, [pooled, samples], bags, passTable, metrics, bag, headParams, [
      ...bag.forward,
      head.sample,
      head.sums,
    ]);
  }

  /** Record every pass. */
  record(): void {
    const { gpu } = this.trainer;
    const b = this.trainer.buffers;
    for (let p = 0; p < this.passes; p++) {
      const rows = Math.min(this.capacity, this.rows - p * this.capacity);
      gpu.copyElements(this.data.order, p * this.capacity, this.passRows.order, 0, rows);
      gpu.copyElements(this.data.labels, p * this.capacity, this.passRows.labels, 0, rows);
      gpu.copyElements(this.passTable, p * BATCH_WORDS, b.batch, 0, BATCH_WORDS);
      gpu.record(this.dispatches);
    }
  }

  dispose(): void {
    this.bags.dispose();
    for (const t of [...Object.values(this.data), ...Object.values(this.passRows), ...this.tensors, this.passTable, this.metrics]) t.dispose();
    this.bag.dispose();
    this.headParams.destroy();
  }
}

function pairs(values: Float32Array | Int32Array): MetricSums {
  const n = values.length / 2;
  return { loss: Float64Array.from({ length: n }, (_, i) => values[2 * i]), correct: Float64Array.from({ length: n }, (_, i) => values[2 * i + 1]) };
}
