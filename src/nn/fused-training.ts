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
 * The data is uploaded once (`TrainingSet`, `EvaluationSet`); an epoch is one small upload (the
 * shuffle and Adam's per-step factors), every step recorded with nothing created, and one read
 * of the per-step metrics together with the validation metrics. The autograd path in model.ts
 * stays the general one and the reference: tests train both and compare (test/fused-training.test.ts).
 */
import { ADAM_PARAMS_BYTES, adamParams, prepareAdam } from '../kernels/adam.js';
import { classifierHeadParams, headRecordSize, prepareHeadEvaluation, prepareHeadTraining, type HeadLayout } from '../kernels/classifier-head.js';
import {
  batchWords,
  embeddingBagParams,
  prepareEmbeddingBag,
  MAX_BAG_BATCH,
  presenceShape,
  tokenBags,
  uploadTokenBags,
  type ResidentBags,
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
/** Bytes of one step's batch descriptor and of one step's Adam uniform in the per-epoch tables. */
const BATCH_BYTES = 16;
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

export class FusedTrainer {
  private readonly params: Tensor;
  private readonly grads: Tensor;
  private readonly m: Tensor;
  private readonly v: Tensor;
  private readonly batch: Tensor;
  private readonly presence: Tensor;
  private readonly pooled: Tensor;
  private readonly dPooled: Tensor;
  private readonly samples: Tensor;
  private readonly headParams: GPUBuffer;
  private readonly adamUniform: GPUBuffer;
  private adam: PreparedDispatch | null = null;

  private constructor(
    readonly gpu: Gpu,
    readonly layout: FusedLayout,
    private readonly weights: readonly Tensor[],
    /** null: evaluation only. */
    private readonly optimizer: Adam | null,
    readonly batchSize: number,
  ) {
    // Padded to whole vec4s for Adam; the padding's gradient is zero, so it stays zero.
    const size = [layout.paddedCount];
    [this.params, this.grads, this.m, this.v] = [0, 1, 2, 3].map(() => gpu.zeros(size));
    this.batch = gpu.zeros([4], 'i32');
    this.presence = gpu.zeros(presenceShape(layout.vocab, batchSize), 'i32');
    this.pooled = gpu.empty([batchSize, layout.dim]);
    this.dPooled = gpu.empty([batchSize, layout.dim]);
    this.samples = gpu.empty([batchSize, headRecordSize(layout.head.hidden)]);
    this.headParams = gpu.createUniform(classifierHeadParams(layout.head));
    this.adamUniform = gpu.createUniform(new Uint8Array(ADAM_BLOCK_BYTES));
  }

  /** A trainer for `layers` (built) and `optimizer` (null to evaluate only) at `batchSize`, or why there is none. */
  static async create(gpu: Gpu, layers: readonly Layer[], optimizer: Adam | null, batchSize: number): Promise<FusedTrainer | string> {
    const layout = fusedLayout(layers);
    if (typeof layout === 'string') return layout;
    if (batchSize > MAX_BAG_BATCH) return `batches of ${batchSize} exceed the fused path's ${MAX_BAG_BATCH}`;
    const trainer = new FusedTrainer(gpu, layout, layers.flatMap((l) => l.weights.map((w) => w.tensor)), optimizer, batchSize);
    trainer.adam = await prepareAdam(gpu, trainer.params, trainer.grads, trainer.m, trainer.v, trainer.adamUniform);
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
    for (const t of [this.params, this.grads, this.m, this.v, this.batch, this.presence, this.pooled, this.dPooled, this.samples]) t.dispose();
    for (const u of [this.headParams, this.adamUniform]) u.destroy();
  }

  /**
   * Copy the model's weights (and Adam's moments) into the flat buffers: done at every epoch's
   * start, so that weights a callback set between epochs are the ones trained.
   */
  private pull(moments: boolean): void {
    this.eachWeight((w, offset) => {
      const bytes = w.size * 4;
      this.gpu.recordCopy(w.buffer, 0, this.params.buffer, offset, bytes);
      if (!moments) return;
      const slot = this.optimizer!.slot(w);
      this.gpu.recordCopy(slot.m.buffer, 0, this.m.buffer, offset, bytes);
      this.gpu.recordCopy(slot.v.buffer, 0, this.v.buffer, offset, bytes);
    });
  }

  /** Copy the flat buffers back into the model's weights and Adam's moments. */
  private push(): void {
    this.eachWeight((w, offset) => {
      const bytes = w.size * 4;
      const slot = this.optimizer!.slot(w);
      this.gpu.recordCopy(this.params.buffer, offset, w.buffer, 0, bytes);
      this.gpu.recordCopy(this.m.buffer, offset, slot.m.buffer, 0, bytes);
      this.gpu.recordCopy(this.v.buffer, offset, slot.v.buffer, 0, bytes);
    });
  }

  private eachWeight(fn: (w: Tensor, byteOffset: number) => void): void {
    let offset = 0;
    for (const w of this.weights) {
      fn(w, offset * 4);
      offset += w.size;
    }
  }

  /** @internal the buffers the data sets bind. */
  get buffers() {
    return {
      params: this.params,
      grads: this.grads,
      batch: this.batch,
      presence: this.presence,
      pooled: this.pooled,
      dPooled: this.dPooled,
      samples: this.samples,
      headParams: this.headParams,
      adamUniform: this.adamUniform,
      adam: this.adam!,
    };
  }
}

/** A training set resident on the GPU, with its step prepared. */
export class TrainingSet {
  private constructor(
    private readonly trainer: FusedTrainer,
    readonly rows: number,
    readonly steps: number,
    private readonly bags: ResidentBags,
    private readonly labels: Tensor,
    private readonly order: Tensor,
    /** [steps, 4] batch descriptors: constant, as every epoch cuts its order the same way. */
    private readonly stepTable: Tensor,
    /** [steps, ADAM_BLOCK_BYTES / 4] Adam's uniform per step, rewritten each epoch. */
    private readonly adamTable: Tensor,
    readonly metrics: Tensor,
    private readonly bagParams: GPUBuffer,
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(trainer: FusedTrainer, x: Tokens, labels: Float32Array): Promise<TrainingSet> {
    const { gpu, layout, batchSize } = trainer;
    const b = trainer.buffers;
    const [rows, length] = x.shape;
    const steps = Math.ceil(rows / batchSize);
    const bags = uploadTokenBags(gpu, tokenBags(x.data, rows, length, layout.vocab));
    const labelTensor = gpu.upload(labels);
    const order = gpu.zeros([rows], 'i32');
    const table = new Int32Array(steps * 4);
    for (let s = 0; s < steps; s++) table.set(batchWords(s * batchSize, Math.min(batchSize, rows - s * batchSize), s, true), s * 4);
    const stepTable = gpu.upload(table, [steps, 4]);
    const adamTable = gpu.zeros([steps, ADAM_BLOCK_BYTES / 4], 'i32');
    const metrics = gpu.zeros([steps, 2]);
    const bagParams = gpu.createUniform(embeddingBagParams(bags));
    const bag = await prepareEmbeddingBag(
      gpu,
      { bags, dim: layout.dim, capacity: batchSize, markRows: batchSize, batch: b.batch, order, presence: b.presence, table: b.params, pooled: b.pooled, dPooled: b.dPooled, dTable: b.grads },
      bagParams,
    );
    const head = await prepareHeadTraining(
      gpu,
      { layout: layout.head, capacity: batchSize, batch: b.batch, order, labels: labelTensor, pooled: b.pooled, weights: b.params, samples: b.samples, metrics, dPooled: b.dPooled, grads: b.grads },
      b.headParams,
    );
    return new TrainingSet(trainer, rows, steps, bags, labelTensor, order, stepTable, adamTable, metrics, bagParams, [
      bag.forward,
      head.sample,
      head.gradients,
      bag.backward,
      b.adam,
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
    gpu.write(this.adamTable, new Int32Array(adam.buffer));
    for (let s = 0; s < this.steps; s++) {
      gpu.recordCopy(this.stepTable.buffer, s * BATCH_BYTES, b.batch.buffer, 0, BATCH_BYTES);
      gpu.recordCopy(this.adamTable.buffer, s * ADAM_BLOCK_BYTES, b.adamUniform, 0, ADAM_PARAMS_BYTES);
      gpu.recordClear(b.presence);
      gpu.record(this.dispatches);
      if ((s + 1) % STEPS_PER_SUBMIT === 0) gpu.flush();
    }
  }

  dispose(): void {
    this.bags.dispose();
    for (const t of [this.labels, this.order, this.stepTable, this.adamTable, this.metrics]) t.dispose();
    this.bagParams.destroy();
  }
}

/** An evaluation set resident on the GPU: passes of whole batches, metric sums per batch. */
export class EvaluationSet {
  private constructor(
    private readonly trainer: FusedTrainer,
    readonly rows: number,
    private readonly passes: number,
    private readonly tensors: Tensor[],
    private readonly bags: ResidentBags,
    private readonly passTable: Tensor,
    readonly metrics: Tensor,
    private readonly uniforms: GPUBuffer[],
    private readonly dispatches: PreparedDispatch[],
  ) {}

  static async create(trainer: FusedTrainer, x: Tokens, labels: Float32Array): Promise<EvaluationSet> {
    const { gpu, layout, batchSize } = trainer;
    const b = trainer.buffers;
    const [rows, length] = x.shape;
    const chunks = Math.ceil(rows / batchSize);
    const chunksPerPass = Math.min(chunks, Math.max(1, Math.floor(EVALUATION_ROWS / batchSize)));
    const capacity = chunksPerPass * batchSize;
    const passes = Math.ceil(chunks / chunksPerPass);
    const bags = uploadTokenBags(gpu, tokenBags(x.data, rows, length, layout.vocab));
    const labelTensor = gpu.upload(labels);
    const order = gpu.upload(Int32Array.from({ length: rows }, (_, i) => i));
    const table = new Int32Array(passes * 4);
    for (let p = 0; p < passes; p++) table.set(batchWords(p * capacity, Math.min(capacity, rows - p * capacity), p * chunksPerPass, false), p * 4);
    const passTable = gpu.upload(table, [passes, 4]);
    const metrics = gpu.zeros([chunks, 2]);
    const pooled = gpu.empty([capacity, layout.dim]);
    const samples = gpu.empty([capacity, headRecordSize(layout.head.hidden)]);
    // These passes do not mark (mark = 0): the bitmap and the gradient buffers are bound, never touched.
    const bagParams = gpu.createUniform(embeddingBagParams(bags));
    const headParams = gpu.createUniform(classifierHeadParams(layout.head, batchSize));
    const bag = await prepareEmbeddingBag(
      gpu,
      { bags, dim: layout.dim, capacity, markRows: batchSize, batch: b.batch, order, presence: b.presence, table: b.params, pooled, dPooled: b.dPooled, dTable: b.grads },
      bagParams,
    );
    const head = await prepareHeadEvaluation(gpu, { layout: layout.head, capacity, batch: b.batch, order, labels: labelTensor, pooled, weights: b.params, samples, metrics }, headParams, batchSize);
    return new EvaluationSet(trainer, rows, passes, [labelTensor, order, pooled, samples], bags, passTable, metrics, [bagParams, headParams], [
      bag.forward,
      head.sample,
      head.sums,
    ]);
  }

  /** Record every pass. */
  record(): void {
    const { gpu } = this.trainer;
    const b = this.trainer.buffers;
    for (let p = 0; p < this.passes; p++) {
      gpu.recordCopy(this.passTable.buffer, p * BATCH_BYTES, b.batch.buffer, 0, BATCH_BYTES);
      gpu.record(this.dispatches);
    }
  }

  dispose(): void {
    this.bags.dispose();
    for (const t of [...this.tensors, this.passTable, this.metrics]) t.dispose();
    for (const u of this.uniforms) u.destroy();
  }
}

function pairs(values: Float32Array | Int32Array): MetricSums {
  const n = values.length / 2;
  return { loss: Float64Array.from({ length: n }, (_, i) => values[2 * i]), correct: Float64Array.from({ length: n }, (_, i) => values[2 * i + 1]) };
}
