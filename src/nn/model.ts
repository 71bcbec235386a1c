/**
 * keras.Sequential for text models: `add`, `build`, `summary`, `compile`, `fit`, `evaluate`,
 * `predict`, and weights in and out. After `build` every weight lives in the parameter store
 * (parameter-store.ts); `fit`, `evaluate` and `predict` share one epoch loop, one metric
 * accumulator and one NaN guard, whichever executor runs the steps (execution.ts: eager, captured
 * or the hand-fused kernels of fused-training.ts).
 */
import { quoteValue } from '../data/errors.js';
import type { PaddedSequences } from '../data/sequences.js';
import { RandomState, shuffledIndices } from '../data/random-state.js';
import { GpuError, type Gpu, type Tensor } from '../gpu/gpu.js';
import { History, type Callback, type CallbackModel, type Logs } from './callbacks.js';
import { CapturedExecutor, EagerExecutor, StepGpuError, type Examples, type ExecutionContext, type Executor, type MetricSums } from './execution.js';
import { FusedExecutor } from './fused-training.js';
import type { TextVectorization } from '../data/text-vectorization.js';
import { Embedding, formatShape, layerFromConfig, type Layer, type Shape } from './layers.js';
import { decodeModel, describeVectorizer, encodeModel, ModelFileError, vectorizerFrom, type ModelDescription } from './model-file.js';
import { getOptimizer, type Optimizer, type OptimizerName } from './optimizers/index.js';
import { ParameterStore, type OptimizerState } from './parameter-store.js';
import { defaultOutput, Progbar, type Output } from './progress.js';
import { decodeWeights, encodeWeights, WeightsFileError, type NamedWeights } from './weights-file.js';

/** Token ids, row-major `[samples, steps]` (what padSequences returns). */
export type TokenMatrix = Pick<PaddedSequences, 'data' | 'shape'>;
/** 0/1 labels, one per sample. */
export type LabelArray = ArrayLike<number>;

/** Training cannot go on: bad values (NaN), or the GPU went away. Names where it happened. */
export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

export interface CompileOptions {
  /** Keras' optimizer argument: a name ('adam', 'adamw', 'sgd', 'rmsprop', 'adagrad') or an instance. */
  optimizer?: OptimizerName | Optimizer;
  loss?: 'binary_crossentropy';
  metrics?: 'accuracy'[];
  /**
   * Keras' `jit_compile`: compile the training step. 'auto' (the default) and true record each
   * step once and replay it (data prepared per epoch, nothing created per step, one read per
   * epoch); false runs it eagerly, op by op with a read-back per step (live progress, the exact
   * step of a NaN).
   */
  jitCompile?: boolean | 'auto';
  /**
   * Let the engine run a model of the tutorial's shape on its hand-fused kernels (embedding-bag +
   * classifier head, fused-training.ts) when it compiles the step: 'auto' (the default) does
   * where the model fits, false never does (per-op captured steps), true refuses a model that does
   * not fit. `executionReason` says what was chosen and why.
   */
  fuse?: boolean | 'auto';
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  validationData?: [TokenMatrix, LabelArray];
  shuffle?: boolean;
  /** Keras' verbose: 0 silent, 1 progress bar (one line per epoch when not a terminal), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  callbacks?: Callback[];
  /** Seed of the per-epoch shuffle (Keras draws it from TensorFlow's global seed). */
  seed?: number;
  /**
   * Keras' `initial_epoch`: the epoch to start at. The shuffles of the epochs before it are
   * drawn and dropped, so a resumed run sees the same orders as an uninterrupted one.
   */
  initialEpoch?: number;
  /** Where progress goes (default stdout). */
  output?: Output;
}

export interface EvaluateOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
  output?: Output;
}

export type ExecutionKind = Executor['kind'];

export class Sequential implements CallbackModel {
  readonly layers: Layer[] = [];
  stopTraining = false;
  /** Where the current fit starts; a callback may move it in onTrainBegin (BackupAndRestore). */
  initialEpoch = 0;
  private gpu: Gpu | null = null;
  private inputShape: Shape | null = null;
  private store: ParameterStore | null = null;
  private optimizer: Optimizer | null = null;
  private jitCompile: boolean | 'auto' = 'auto';
  private fuse: boolean | 'auto' = 'auto';
  /** i32 [1]: the optimizer's iterations at the current step (Dropout's mask source). */
  private stepTensor: Tensor | null = null;
  /** How the last fit, evaluate or predict ran its steps. */
  execution: ExecutionKind | null = null;
  /** Why it did not run on the fused kernels (null: it did). */
  fusedReason: string | null = null;

  constructor(
    layers: Layer[] = [],
    readonly name = 'sequential',
  ) {
    layers.forEach((layer) => this.add(layer));
  }

  add(layer: Layer): void {
    if (this.gpu) throw new Error(`${this.name}: add layers before build()`);
    this.layers.push(layer);
  }

  /**
   * Create every weight on `gpu` for inputs of `inputShape` (without the batch), drawing from
   * `seed`, and move them into the parameter store. Shape and configuration errors are raised
   * here, naming the layer and the shapes.
   */
  build(gpu: Gpu, inputShape: number[], options: { seed?: number } = {}): void {
    if (this.layers.length === 0) throw new Error(`${this.name}: no layers to build`);
    if (this.gpu) throw new Error(`${this.name}: already built`);
    const rng = new RandomState(options.seed ?? 0);
    let shape: Shape = [null, ...inputShape];
    for (const layer of this.layers) {
      layer.build(gpu, shape, rng);
      shape = layer.computeOutputShape(shape);
    }
    // An Embedding's table gets its gradient row-sparse (gradient-forms.ts).
    const weights = this.layers.flatMap((l) => l.weights.map((w) => ({ w, rowSparse: l instanceof Embedding })));
    this.store = ParameterStore.adopt(gpu, weights.map((x) => x.w), weights.map((x) => x.rowSparse));
    this.stepTensor = gpu.zeros([1], 'i32');
    this.gpu = gpu;
    this.inputShape = [null, ...inputShape];
  }

  /** Keras 3's `model.summary()` table. */
  summary(print: (line: string) => void = console.log): void {
    const rows: [string, string, string][] = [];
    let shape: Shape = this.inputShape ?? [null, null];
    for (const layer of this.layers) {
      shape = layer.computeOutputShape(shape);
      rows.push([`${layer.name} (${layer.className})`, `(${formatShape(shape)})`, layer.countParams().toLocaleString('en-US')]);
    }
    const widths = [33, 24, 15];
    const line = (l: string, m: string, r: string, fill: string) => l + widths.map((w) => fill.repeat(w)).join(m) + r;
    // Cells too wide for their column wrap at spaces onto more lines, as Keras' rich table does.
    const row = (cells: string[], sep: string) => {
      const wrapped = cells.map((c, i) => wrap(c, widths[i] - 2));
      const height = Math.max(...wrapped.map((lines) => lines.length));
      return Array.from({ length: height }, (_, k) =>
        sep + wrapped.map((lines, i) => ` ${i === 2 ? (lines[k] ?? '').padStart(widths[i] - 2) : (lines[k] ?? '').padEnd(widths[i] - 2)} `).join(sep) + sep,
      ).join('\n');
    };
    const total = this.countParams();
    print(`Model: "${this.name}"`);
    print(line('┏', '┳', '┓', '━'));
    print(row(['Layer (type)', 'Output Shape', 'Param #'], '┃'));
    print(line('┡', '╇', '┩', '━'));
    rows.forEach((r, i) => {
      print(row(r, '│'));
      if (i < rows.length - 1) print(line('├', '┼', '┤', '─'));
    });
    print(line('└', '┴', '┘', '─'));
    print(` Total params: ${total.toLocaleString('en-US')} (${formatBytes(total * 4)})`);
    print(` Trainable params: ${total.toLocaleString('en-US')} (${formatBytes(total * 4)})`);
    print(` Non-trainable params: 0 (${formatBytes(0)})`);
  }

  countParams(): number {
    return this.layers.reduce((n, layer) => n + layer.countParams(), 0);
  }

  compile(options: CompileOptions = {}): void {
    const { optimizer = 'adam', loss = 'binary_crossentropy', metrics = ['accuracy'], jitCompile = 'auto', fuse = 'auto' } = options;
    if (loss !== 'binary_crossentropy') throw new RangeError(`compile: unsupported loss '${loss}'`);
    if (metrics.some((m) => m !== 'accuracy')) throw new RangeError(`compile: unsupported metrics ${metrics.join(', ')}`);
    if (![true, false, 'auto'].includes(jitCompile)) throw new RangeError(`compile: jitCompile must be true, false or 'auto', got ${String(jitCompile)}`);
    if (![true, false, 'auto'].includes(fuse)) throw new RangeError(`compile: fuse must be true, false or 'auto', got ${String(fuse)}`);
    this.optimizer = getOptimizer(optimizer);
    this.store?.setOptimizer(this.optimizer);
    this.jitCompile = jitCompile;
    this.fuse = fuse;
  }

  /** The compiled optimizer (Keras' `model.optimizer`). */
  get compiledOptimizer(): Optimizer | null {
    return this.optimizer;
  }

  get optimizerName(): string {
    return this.optimizer?.name ?? '';
  }

  /** Train; returns Keras' History (`loss`, `accuracy`, `val_loss`, `val_accuracy` per epoch). */
  async fit(x: TokenMatrix, y: LabelArray, options: FitOptions = {}): Promise<History> {
    this.requireBuilt('fit');
    if (!this.optimizer) throw new Error(`${this.name}: call compile() before fit()`);
    const { epochs = 1, batchSize = 32, shuffle = true, verbose = 1, validationData, output = defaultOutput() } = options;
    positiveInteger('fit: epochs', epochs);
    positiveInteger('fit: batchSize', batchSize);
    checkVerbose('fit', verbose);
    const train = this.examples(x, y, 'training data');
    const val = validationData ? this.examples(validationData[0], validationData[1], 'validationData') : null;

    const history = new History();
    const callbacks: Callback[] = [history, ...(options.callbacks ?? [])];
    this.stopTraining = false;
    const rng = new RandomState(options.seed ?? 0);
    const samples = x.shape[0];
    const steps = Math.ceil(samples / batchSize);
    this.initialEpoch = options.initialEpoch ?? 0;
    nonNegative('fit: initialEpoch', this.initialEpoch);
    const executor = await this.executor(batchSize, this.optimizer);
    const [trainSet, valSet] = await this.guard(0, null, () => Promise.all([executor.prepare(train), val && executor.prepare(val)]));
    try {
      const params = { epochs, batchSize, samples, steps, shuffle, seed: options.seed ?? 0 };
      for (const c of callbacks) await c.onTrainBegin?.(this, params);
      const orderOf = () => (shuffle ? shuffledIndices(rng, samples) : Int32Array.from({ length: samples }, (_, i) => i));
      for (let epoch = 0; epoch < Math.min(this.initialEpoch, epochs); epoch++) orderOf();
      for (let epoch = this.initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        if (verbose) output.write(`Epoch ${epoch + 1}/${epochs}\n`);
        const order = orderOf();
        const bar = verbose ? new Progbar(steps, output, verbose) : null;
        const totals = new MetricTotals();
        const stepRange: [number, number] | null = executor.kind === 'eager' ? null : [1, steps];
        const result = await this.guard(epoch, stepRange, () =>
          executor.epoch({ set: trainSet, order }, valSet ? [valSet] : [], (step, lossSum, correct, rows) => {
            // The one NaN guard: the eager executor stops at the step; the others read an epoch at once.
            if (!Number.isFinite(lossSum)) {
              const after =
                executor.kind === 'eager'
                  ? 'weights from before this step are no longer intact on the GPU'
                  : `the ${executor.kind} steps ran the rest of the epoch before reading it back, so the weights are not intact`;
              throw new TrainingError(`loss is ${lossSum / rows} at epoch ${epoch + 1}, step ${step + 1}: training stopped (${after}; saved files are untouched)`);
            }
            totals.add(lossSum, correct, rows);
            if (executor.kind === 'eager') bar?.update(step + 1, totals.metrics(), false);
          }),
        );
        const logs = totals.logs();
        if (result.evaluations[0] && valSet) Object.assign(logs, prefixed('val_', MetricTotals.of(result.evaluations[0], valSet.rows).logs()));
        bar?.update(steps, Object.entries(logs), true);
        for (const c of callbacks) await c.onEpochEnd?.(epoch, logs);
      }
      for (const c of callbacks) await c.onTrainEnd?.();
    } finally {
      trainSet.dispose();
      valSet?.dispose();
      executor.dispose();
    }
    return history;
  }

  /** `[loss, accuracy]` over the data, batch by batch. */
  async evaluate(x: TokenMatrix, y: LabelArray, options: EvaluateOptions = {}): Promise<[number, number]> {
    this.requireBuilt('evaluate');
    const { batchSize = 32, verbose = 1, output = defaultOutput() } = options;
    positiveInteger('evaluate: batchSize', batchSize);
    checkVerbose('evaluate', verbose);
    const data = this.examples(x, y, 'evaluate data');
    const steps = Math.ceil(x.shape[0] / batchSize);
    const bar = verbose ? new Progbar(steps, output, verbose) : null;
    const executor = await this.executor(batchSize, null);
    try {
      const sums = await this.guard(0, null, async () => {
        const set = await executor.prepare(data);
        try {
          return (await executor.epoch(null, [set])).evaluations[0];
        } finally {
          set.dispose();
        }
      });
      const logs = MetricTotals.of(sums, data.labels.length).logs();
      bar?.update(steps, Object.entries(logs), true);
      return [logs.loss, logs.accuracy];
    } finally {
      executor.dispose();
    }
  }

  /** The model's outputs (probabilities for a sigmoid output), one per sample. */
  async predict(x: TokenMatrix, options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.requireBuilt('predict');
    const batchSize = options.batchSize ?? 32;
    positiveInteger('predict: batchSize', batchSize);
    this.checkIds(x, 'predict data');
    const data: Examples = { ids: x.data, length: x.shape[1], labels: new Float32Array(x.shape[0]) };
    const executor = await this.executor(batchSize, null);
    try {
      return await this.guard(0, null, async () => {
        const set = await executor.prepare(data);
        try {
          return await executor.predict(set);
        } finally {
          set.dispose();
        }
      });
    } finally {
      executor.dispose();
    }
  }

  /** Every weight, in layer order: views into the parameter store after build. */
  get weights(): { name: string; tensor: Tensor }[] {
    return this.layers.flatMap((layer) => layer.weights);
  }

  get weightNames(): string[] {
    return this.weights.map((w) => w.name);
  }

  get weightShapes(): number[][] {
    return this.weights.map((w) => [...w.tensor.shape]);
  }

  /** Give every weight and the optimizer's variables back to the GPU pool; the model is unusable afterwards. */
  dispose(): void {
    this.store?.dispose();
    this.store = null;
    this.stepTensor?.dispose();
    this.stepTensor = null;
    for (const layer of this.layers) layer.weights = [];
    this.gpu = null;
  }

  /** The optimizer's variables: its step count and every slot it declares (compile first). */
  async getOptimizerState(): Promise<OptimizerState> {
    if (!this.optimizer || !this.store) throw new Error(`${this.name}: call build() and compile() before getOptimizerState()`);
    return this.store.getOptimizerState();
  }

  setOptimizerState(state: OptimizerState): void {
    if (!this.optimizer || !this.store) throw new Error(`${this.name}: call build() and compile() before setOptimizerState()`);
    this.store.setOptimizerState(state);
  }

  async getWeights(): Promise<Float32Array[]> {
    const weights = this.weights;
    if (!weights.length) return [];
    return (await this.gpu!.readAll(weights.map((w) => w.tensor))) as Float32Array[];
  }

  setWeights(values: Float32Array[]): void {
    const weights = this.weights;
    if (values.length !== weights.length) throw new RangeError(`setWeights: ${values.length} arrays for ${weights.length} weights`);
    weights.forEach((w, i) => {
      if (values[i].length !== w.tensor.size) throw new RangeError(`setWeights: ${w.name} needs ${w.tensor.size} values, got ${values[i].length}`);
    });
    weights.forEach((w, i) => w.tensor.gpu.write(w.tensor, values[i]));
  }

  /** The weights as a `.sgw` file (see weights-file.ts). */
  async saveWeightsBytes(): Promise<Uint8Array> {
    const values = await this.getWeights();
    return encodeWeights(this.weights.map((w, i): NamedWeights => ({ name: w.name, shape: [...w.tensor.shape], values: values[i] })));
  }

  /**
   * The model as the model file and the TF.js export describe it: each layer's Keras class name and
   * config (the first with Keras' `batch_input_shape`), the weights, and `vectorizer` when the model
   * reads raw text.
   */
  async describe(vectorizer?: TextVectorization): Promise<ModelDescription> {
    this.requireBuilt('describe');
    const values = await this.getWeights();
    return {
      architecture: this.layers.map((layer, i) => ({
        className: layer.className,
        config: i === 0 ? { ...layer.getConfig(), batch_input_shape: this.inputShape } : layer.getConfig(),
      })),
      ...(vectorizer ? { vectorizer: describeVectorizer(vectorizer) } : {}),
      weights: this.weights.map((w, i): NamedWeights => ({ name: w.name, shape: [...w.tensor.shape], values: values[i] })),
    };
  }

  /** Keras' `model.save`: the model file (`.sgm`, model-file.ts) as bytes; the caller writes them. */
  async save(options: { vectorizer?: TextVectorization } = {}): Promise<Uint8Array> {
    return encodeModel(await this.describe(options.vectorizer));
  }

  /**
   * Keras' `load_model`: a model file's (or a model description's, e.g. from TF.js) model, built on
   * `gpu` with its weights, and its text vectorizer when it has one.
   */
  static load(gpu: Gpu, file: Uint8Array | ModelDescription, name = 'model'): { model: Sequential; vectorizer: TextVectorization | null } {
    const description = file instanceof Uint8Array ? decodeModel(file, name) : file;
    const [first] = description.architecture;
    if (!first) throw new ModelFileError(`${name}: the model has no layers`);
    const model = new Sequential(description.architecture.map((spec) => layerFromConfig(spec.className, spec.config)));
    const shape = first.config.batch_input_shape;
    const vectorizer = description.vectorizer ? vectorizerFrom(description.vectorizer) : null;
    const length = Array.isArray(shape) && shape.length === 2 ? shape[1] : (vectorizer?.outputSequenceLength ?? null);
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) {
      throw new ModelFileError(`${name}: the first layer's batch_input_shape (${quoteValue(shape)}) does not give the input length`);
    }
    model.build(gpu, [length]);
    const mine = model.weights.map((w) => `${w.tensor.shape.join('x')}`).join(', ');
    const saved = description.weights.map((w) => w.shape.join('x')).join(', ');
    if (mine !== saved) {
      model.dispose(); // built for the comparison: its weights go back to the GPU pool
      throw new ModelFileError(`${name}: weights of shapes (${saved.slice(0, 300)}) do not fit its architecture's (${mine.slice(0, 300)})`);
    }
    model.setWeights(description.weights.map((w) => w.values));
    return { model, vectorizer };
  }

  /** Load a `.sgw` file; names and shapes must match this model's weights. */
  loadWeightsBytes(bytes: Uint8Array, file = 'weights'): void {
    const saved = decodeWeights(bytes, file);
    const weights = this.weights;
    const describe = (list: { name: string; shape: readonly number[] }[]) => list.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
    const mine = weights.map((w) => ({ name: w.name, shape: w.tensor.shape }));
    if (describe(saved) !== describe(mine)) {
      throw new WeightsFileError(`${file}: weights do not fit the model: the file has ${describe(saved)}; the model has ${describe(mine)}`);
    }
    this.setWeights(saved.map((w) => w.values));
  }

  /**
   * The executor for this compile's settings (see execution.ts); records which one and why in
   * `execution` and `fusedReason`. `optimizer` null: evaluation and prediction only.
   */
  private async executor(batchSize: number, optimizer: Optimizer | null): Promise<Executor> {
    const ctx: ExecutionContext = { gpu: this.gpu!, layers: this.layers, store: this.store!, optimizer, batchSize, step: this.stepTensor! };
    let executor: Executor;
    if (this.jitCompile === false) {
      if (this.fuse === true) throw new Error(`${this.name}: fuse: true needs a compiled step; jitCompile is false`);
      this.fusedReason = 'compiled with jitCompile: false';
      executor = await EagerExecutor.create(ctx);
    } else if (this.fuse === false) {
      this.fusedReason = 'compiled with fuse: false';
      executor = await CapturedExecutor.create(ctx);
    } else {
      const fused = await FusedExecutor.create(ctx);
      if (typeof fused === 'string') {
        if (this.fuse === true) throw new Error(`${this.name}: fuse is true but the model cannot be fused: ${fused}`);
        this.fusedReason = fused;
        executor = await CapturedExecutor.create(ctx);
      } else {
        this.fusedReason = null;
        executor = fused;
      }
    }
    this.execution = executor.kind;
    return executor;
  }

  /**
   * Turn a device loss or a failed GPU call into a TrainingError that says where: a step (0-based),
   * the 1-based range of steps an epoch submits together (a compiled epoch learns of a failure at
   * its one read, so the step within cannot be told), or null before the first step. Other errors
   * (a TrainingError, a bug) pass through as they are.
   */
  private async guard<T>(epoch: number, step: [number, number] | null, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof GpuError)) throw error;
      const where = error instanceof StepGpuError ? `epoch ${epoch + 1}, step ${error.step + 1}` : step ? `epoch ${epoch + 1}, steps ${step[0]}-${step[1]} (submitted together; compiled steps read back once per epoch)` : `epoch ${epoch + 1}`;
      throw new TrainingError(`GPU failure at ${where}: ${error.message}`);
    }
  }

  private requireBuilt(what: string): Gpu {
    if (!this.gpu || !this.inputShape) throw new Error(`${this.name}: call build() before ${what}()`);
    this.checkOutputShape(what);
    return this.gpu;
  }

  /** The loss, the metric and predict take one probability per sample: say so before any step runs. */
  private checkOutputShape(what: string): void {
    const shape = this.layers.reduce((s, layer) => layer.computeOutputShape(s), this.inputShape!);
    if (!(shape.length === 2 && shape[1] === 1) && shape.length !== 1) {
      throw new RangeError(
        `${this.name}.${what}: the model's output (${formatShape(shape)}) is not one probability per sample; ` +
          `binary_crossentropy with one 0/1 label per sample needs (None, 1) (pool the steps axis first, e.g. GlobalAveragePooling1D)`,
      );
    }
  }

  /** Shapes, sizes, token ids and labels, checked once on the host before any GPU work. */
  private examples(x: TokenMatrix, y: LabelArray, what: string): Examples {
    this.checkIds(x, what);
    if (!y || y.length !== x.shape[0]) throw new RangeError(`${what}: ${y?.length ?? 0} labels for ${x.shape[0]} samples`);
    const labels = Float32Array.from(y);
    const bad = labels.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new RangeError(`${what}: label ${bad} is ${y[bad]}; binary_crossentropy needs 0 or 1`);
    return { ids: x.data, length: x.shape[1], labels };
  }

  private checkIds(x: TokenMatrix, what: string): void {
    const steps = this.inputShape![1];
    if (!(x?.data instanceof Int32Array) || x.shape?.length !== 2) throw new TypeError(`${what}: expected int32 token ids of shape [samples, steps]`);
    const [samples, length] = x.shape;
    if (samples === 0) throw new RangeError(`${what}: no samples`);
    if (steps !== null && length !== steps) throw new RangeError(`${what}: sequences of length ${length}; the model was built for ${steps}`);
    if (x.data.length !== samples * length) throw new RangeError(`${what}: ${x.data.length} ids do not fill shape [${samples}, ${length}]`);
    const first = this.layers[0];
    if (first instanceof Embedding) {
      for (let i = 0; i < x.data.length; i++) {
        const id = x.data[i];
        if (id < 0 || id >= first.inputDim) {
          throw new RangeError(
            `${what}: token id ${id} at sample ${Math.floor(i / length)}, position ${i % length} is outside the embedding's [0, ${first.inputDim})`,
          );
        }
      }
    }
  }
}

/** Keras' epoch metrics: loss a mean weighted by batch size, accuracy a mean over samples (summed in float64). */
class MetricTotals {
  private loss = 0;
  private correct = 0;
  private samples = 0;

  static of(sums: MetricSums, samples: number): MetricTotals {
    const totals = new MetricTotals();
    totals.loss = sums.loss.reduce((a, b) => a + b, 0);
    totals.correct = sums.correct.reduce((a, b) => a + b, 0);
    totals.samples = samples;
    return totals;
  }

  add(lossSum: number, correct: number, rows: number): void {
    this.loss += lossSum;
    this.correct += correct;
    this.samples += rows;
  }

  metrics(): [string, number][] {
    return Object.entries(this.logs());
  }

  logs(): Logs {
    return { accuracy: this.correct / this.samples, loss: this.loss / this.samples };
  }
}

function checkVerbose(op: string, verbose: number): void {
  if (![0, 1, 2].includes(verbose)) throw new RangeError(`${op}: verbose must be 0, 1 or 2, got ${verbose}`);
}



function prefixed(prefix: string, logs: Logs): Logs {
  return Object.fromEntries(Object.entries(logs).map(([k, v]) => [prefix + k, v]));
}




function nonNegative(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

function positiveInteger(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * Keras' `readable_memory_size` (keras/src/utils/summary_utils.py): the size in the first unit in
 * which it is under 1024, up to petabytes (past them Keras prints the size over 1024 PB as PB).
 */
function formatBytes(bytes: number): string {
  for (const unit of ['B', 'KB', 'MB', 'GB', 'TB', 'PB']) {
    if (bytes / 1024 < 1) return `${bytes.toFixed(2)} ${unit}`;
    bytes /= 1024;
  }
  return `${bytes.toFixed(2)} PB`;
}
