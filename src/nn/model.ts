/**
 * keras.Sequential for text models: `add`, `build`, `summary`, `compile`, `fit`,
 * `evaluate`, `predict`, and weights in and out. Models of the tutorial's shape train on
 * the fused path (fused-training.ts); any other on the general autograd path: every op a
 * kernel, recorded on a tape, one read-back per step.
 */
import type { PaddedSequences } from '../data/sequences.js';
import { RandomState, shuffledIndices } from '../data/random-state.js';
import type { Gpu, Tensor } from '../gpu/gpu.js';
import { binaryAccuracyCount } from '../kernels/accuracy.js';
import { History, type Callback, type CallbackModel, type Logs } from './callbacks.js';
import { FusedTrainer, type MetricSums } from './fused-training.js';
import { callLayers, Embedding, formatShape, inferenceContext, type Layer, type Shape } from './layers.js';
import { binaryCrossentropy } from './ops.js';
import { Adam, type AdamState } from './optimizers.js';
import { defaultOutput, Progbar, type Output } from './progress.js';
import { Tape } from './tape.js';
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
  optimizer?: 'adam' | Adam;
  loss?: 'binary_crossentropy';
  metrics?: 'accuracy'[];
  /**
   * Keras' `jit_compile`: compile the training step. 'auto' (the default) and true train models
   * of the tutorial's shape on the fused path (src/nn/fused-training.ts: data resident on the GPU,
   * five prepared dispatches per step, one read per epoch) and others on the general autograd
   * path; false always takes the general path. `fusedReason` says why a model was not fused.
   */
  jitCompile?: boolean | 'auto';
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  validationData?: [TokenMatrix, LabelArray];
  shuffle?: boolean;
  /** 0 silent, 1 progress bar (one line per epoch when not a terminal). */
  verbose?: 0 | 1;
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
  verbose?: 0 | 1;
  output?: Output;
}

interface Totals {
  loss: number;
  correct: number;
  samples: number;
}

export class Sequential implements CallbackModel {
  readonly layers: Layer[] = [];
  stopTraining = false;
  /** Where the current fit starts; a callback may move it in onTrainBegin (BackupAndRestore). */
  initialEpoch = 0;
  private gpu: Gpu | null = null;
  private inputShape: Shape | null = null;
  private optimizer: Adam | null = null;
  private jitCompile: boolean | 'auto' = 'auto';
  /** Why the last fit or evaluate took the general path (null: it was fused). */
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

  /** Create every weight on `gpu` for inputs of `inputShape` (without the batch), drawing from `seed`. */
  build(gpu: Gpu, inputShape: number[], options: { seed?: number } = {}): void {
    if (this.layers.length === 0) throw new Error(`${this.name}: no layers to build`);
    const rng = new RandomState(options.seed ?? 0);
    let shape: Shape = [null, ...inputShape];
    for (const layer of this.layers) {
      layer.build(gpu, shape, rng);
      shape = layer.computeOutputShape(shape);
    }
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
    const { optimizer = 'adam', loss = 'binary_crossentropy', metrics = ['accuracy'], jitCompile = 'auto' } = options;
    if (loss !== 'binary_crossentropy') throw new RangeError(`compile: unsupported loss '${loss}'`);
    if (metrics.some((m) => m !== 'accuracy')) throw new RangeError(`compile: unsupported metrics ${metrics.join(', ')}`);
    const next = optimizer === 'adam' ? new Adam() : optimizer;
    if (this.optimizer !== next) this.optimizer?.dispose();
    this.optimizer = next;
    this.jitCompile = jitCompile;
  }

  /** Train; returns Keras' History (`loss`, `accuracy`, `val_loss`, `val_accuracy` per epoch). */
  async fit(x: TokenMatrix, y: LabelArray, options: FitOptions = {}): Promise<History> {
    const gpu = this.requireBuilt('fit');
    if (!this.optimizer) throw new Error(`${this.name}: call compile() before fit()`);
    const { epochs = 1, batchSize = 32, shuffle = true, verbose = 1, validationData, output = defaultOutput() } = options;
    positiveInteger('fit: epochs', epochs);
    positiveInteger('fit: batchSize', batchSize);
    const labels = this.checkData(x, y, 'training data');
    if (validationData) this.checkData(validationData[0], validationData[1], 'validationData');

    const history = new History();
    const callbacks: Callback[] = [history, ...(options.callbacks ?? [])];
    this.stopTraining = false;
    const rng = new RandomState(options.seed ?? 0);
    const samples = x.shape[0];
    const steps = Math.ceil(samples / batchSize);
    this.initialEpoch = options.initialEpoch ?? 0;
    nonNegative('fit: initialEpoch', this.initialEpoch);
    const fused = await this.fusedTrainer(gpu, this.optimizer, batchSize);
    const sets = fused && (await this.guard(0, null, async () => ({
      train: await fused.trainingSet(x, labels),
      val: validationData ? await fused.evaluationSet(validationData[0], Float32Array.from(validationData[1])) : null,
    })));
    try {
      const params = { epochs, batchSize, samples, steps, shuffle, seed: options.seed ?? 0 };
      for (const c of callbacks) await c.onTrainBegin?.(this, params);
      const orderOf = () => (shuffle ? shuffledIndices(rng, samples) : Int32Array.from({ length: samples }, (_, i) => i));
      for (let epoch = 0; epoch < Math.min(this.initialEpoch, epochs); epoch++) orderOf();
      for (let epoch = this.initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        if (verbose) output.write(`Epoch ${epoch + 1}/${epochs}\n`);
        const order = orderOf();
        const bar = verbose ? new Progbar(steps, output) : null;
        let logs: Logs;
        if (fused && sets) {
          // One read per epoch: the steps' metrics and the validation's together.
          const sums = await this.guard(epoch, [1, steps], () => fused.epoch(sets.train, order, sets.val ? [sets.val] : []));
          const bad = sums.train.loss.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0) {
            throw new TrainingError(
              `loss is ${sums.train.loss[bad]} at epoch ${epoch + 1}, step ${bad + 1}: training stopped (the fused path ran the rest of the epoch before reading it back, so the weights are not intact; saved files are untouched)`,
            );
          }
          logs = epochLogs(sums.train, samples);
          if (sets.val) Object.assign(logs, prefixed('val_', epochLogs(sums.evaluations[0], sets.val.rows)));
        } else {
          const totals: Totals = { loss: 0, correct: 0, samples: 0 };
          for (let step = 0; step < steps; step++) {
            const rows = order.subarray(step * batchSize, Math.min(samples, (step + 1) * batchSize));
            const [loss, correct] = await this.guard(epoch, step, () => this.trainStep(gpu, x, labels, rows));
            if (!Number.isFinite(loss)) {
              throw new TrainingError(`loss is ${loss} at epoch ${epoch + 1}, step ${step + 1}: training stopped (weights from before this step are no longer intact on the GPU; saved files are untouched)`);
            }
            addBatch(totals, loss, correct, rows.length);
            bar?.update(step + 1, metricsOf(totals), false);
          }
          logs = { accuracy: totals.correct / totals.samples, loss: totals.loss / totals.samples };
          if (validationData) {
            const val = await this.guard(epoch, steps, () => this.totals(gpu, validationData[0], validationData[1], batchSize));
            logs.val_accuracy = val.correct / val.samples;
            logs.val_loss = val.loss / val.samples;
          }
        }
        bar?.update(steps, Object.entries(logs), true);
        for (const c of callbacks) await c.onEpochEnd?.(epoch, logs);
      }
      for (const c of callbacks) await c.onTrainEnd?.();
    } finally {
      sets?.train.dispose();
      sets?.val?.dispose();
      fused?.dispose();
    }
    return history;
  }

  /** `[loss, accuracy]` over the data, batch by batch. */
  async evaluate(x: TokenMatrix, y: LabelArray, options: EvaluateOptions = {}): Promise<[number, number]> {
    const gpu = this.requireBuilt('evaluate');
    const { batchSize = 32, verbose = 1, output = defaultOutput() } = options;
    positiveInteger('evaluate: batchSize', batchSize);
    const labels = this.checkData(x, y, 'evaluate data');
    const steps = Math.ceil(x.shape[0] / batchSize);
    const bar = verbose ? new Progbar(steps, output) : null;
    const fused = await this.fusedTrainer(gpu, null, batchSize);
    if (fused) {
      try {
        const logs = await this.guard(0, null, async () => {
          const set = await fused.evaluationSet(x, labels);
          try {
            return epochLogs(await fused.evaluate(set), set.rows);
          } finally {
            set.dispose();
          }
        });
        bar?.update(steps, Object.entries(logs), true);
        return [logs.loss, logs.accuracy];
      } finally {
        fused.dispose();
      }
    }
    const totals = await this.guard(0, 0, () => this.totals(gpu, x, y, batchSize, bar));
    return [totals.loss / totals.samples, totals.correct / totals.samples];
  }

  /** The model's outputs (probabilities for the tutorial model), one per sample. */
  async predict(x: TokenMatrix, options: { batchSize?: number } = {}): Promise<Float32Array> {
    const gpu = this.requireBuilt('predict');
    const batchSize = options.batchSize ?? 32;
    positiveInteger('predict: batchSize', batchSize);
    this.checkIds(x, 'predict data');
    const [samples] = x.shape;
    const out = new Float32Array(samples);
    for (let start = 0; start < samples; start += batchSize) {
      const rows = range(start, Math.min(samples, start + batchSize));
      const tape = new Tape(false);
      const { ids, hostIds } = this.uploadRows(gpu, x, rows);
      const output = tape.watch(() => this.call(ids, hostIds));
      out.set((await output.read()).subarray(0, rows.length), start);
      tape.dispose();
      ids.dispose();
    }
    return out;
  }

  /** Every weight, in layer order. */
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
    this.optimizer?.dispose();
    this.optimizer = null;
    for (const w of this.weights) w.tensor.dispose();
    for (const layer of this.layers) layer.weights = [];
    this.gpu = null;
  }

  /** The optimizer's variables (compile first). */
  async getOptimizerState(): Promise<AdamState> {
    if (!this.optimizer) throw new Error(`${this.name}: call compile() before getOptimizerState()`);
    return this.optimizer.getState(this.weights.map((w) => w.tensor));
  }

  setOptimizerState(state: AdamState): void {
    if (!this.optimizer) throw new Error(`${this.name}: call compile() before setOptimizerState()`);
    this.optimizer.setState(this.weights.map((w) => w.tensor), state);
  }

  async getWeights(): Promise<Float32Array[]> {
    return Promise.all(this.weights.map(async (w) => (await w.tensor.read()) as Float32Array));
  }

  setWeights(values: Float32Array[]): void {
    const weights = this.weights;
    if (values.length !== weights.length) throw new RangeError(`setWeights: ${values.length} arrays for ${weights.length} weights`);
    weights.forEach((w, i) => {
      if (values[i].length !== w.tensor.size) throw new RangeError(`setWeights: ${w.name} needs ${w.tensor.size} values, got ${values[i].length}`);
      w.tensor.gpu.write(w.tensor, values[i]);
    });
  }

  /** The weights as a `.sgw` file (see weights-file.ts). */
  async saveWeightsBytes(): Promise<Uint8Array> {
    const values = await this.getWeights();
    return encodeWeights(this.weights.map((w, i): NamedWeights => ({ name: w.name, shape: [...w.tensor.shape], values: values[i] })));
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

  private call(ids: Tensor, hostIds: Int32Array): Tensor {
    return callLayers(this.layers, { ids, hostIds }, inferenceContext(ids.gpu));
  }

  /** One step: forward, loss, backward, Adam; returns [mean loss, correct predictions]. */
  private async trainStep(gpu: Gpu, x: TokenMatrix, labels: Float32Array, rows: Int32Array): Promise<[number, number]> {
    const { ids, hostIds } = this.uploadRows(gpu, x, rows);
    const y = gpu.upload(gather(labels, rows));
    const tape = new Tape();
    const { output, loss } = tape.watch(() => {
      const output = this.call(ids, hostIds);
      return { output, loss: binaryCrossentropy(output, y) };
    });
    const correct = binaryAccuracyCount(gpu, output, y);
    const weights = this.weights.map((w) => w.tensor);
    const grads = tape.gradients(loss, weights);
    this.optimizer!.apply(weights.map((w) => [w, grads.get(w)!]));
    const read = gpu.readScalars([loss, correct]);
    for (const g of grads.values()) g.dispose();
    tape.dispose();
    for (const t of [ids, y, correct]) t.dispose();
    const [lossValue, correctValue] = await read;
    return [lossValue, correctValue];
  }

  /** Summed loss (weighted by batch size) and correct predictions over a dataset. */
  private async totals(gpu: Gpu, x: TokenMatrix, y: LabelArray, batchSize: number, bar: Progbar | null = null): Promise<Totals> {
    const labels = Float32Array.from(y);
    const [samples] = x.shape;
    const totals: Totals = { loss: 0, correct: 0, samples: 0 };
    const steps = Math.ceil(samples / batchSize);
    for (let step = 0; step < steps; step++) {
      const rows = range(step * batchSize, Math.min(samples, (step + 1) * batchSize));
      const { ids, hostIds } = this.uploadRows(gpu, x, rows);
      const yBatch = gpu.upload(gather(labels, rows));
      const tape = new Tape(false);
      const { output, loss } = tape.watch(() => {
        const output = this.call(ids, hostIds);
        return { output, loss: binaryCrossentropy(output, yBatch) };
      });
      const correct = binaryAccuracyCount(gpu, output, yBatch);
      const read = gpu.readScalars([loss, correct]);
      tape.dispose();
      for (const t of [ids, yBatch, correct]) t.dispose();
      const [lossValue, correctValue] = await read;
      addBatch(totals, lossValue, correctValue, rows.length);
      bar?.update(step + 1, metricsOf(totals), step === steps - 1);
    }
    return totals;
  }

  private uploadRows(gpu: Gpu, x: TokenMatrix, rows: Int32Array): { ids: Tensor; hostIds: Int32Array } {
    const steps = x.shape[1];
    const hostIds = new Int32Array(rows.length * steps);
    rows.forEach((row, i) => hostIds.set(x.data.subarray(row * steps, (row + 1) * steps), i * steps));
    return { ids: gpu.upload(hostIds, [rows.length, steps]), hostIds };
  }

  /** The fused trainer when compile's jitCompile allows it and the model fits; else null, with `fusedReason` set. */
  private async fusedTrainer(gpu: Gpu, optimizer: Adam | null, batchSize: number): Promise<FusedTrainer | null> {
    if (this.jitCompile === false) {
      this.fusedReason = 'compiled with jitCompile: false';
      return null;
    }
    const trainer = await FusedTrainer.create(gpu, this.layers, optimizer, batchSize);
    if (typeof trainer === 'string') {
      if (this.jitCompile === true) throw new Error(`${this.name}: jitCompile is true but the model cannot be fused: ${trainer}`);
      this.fusedReason = trainer;
      return null;
    }
    this.fusedReason = null;
    return trainer;
  }

  /**
   * Turn a device loss or a failed GPU call into a TrainingError that says where: a step (0-based),
   * the 1-based range of steps a fused epoch submits together (it learns of a failure at its one
   * read, so the step within cannot be told), or null before the first step.
   */
  private async guard<T>(epoch: number, step: number | [number, number] | null, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof TrainingError) throw error;
      const steps = Array.isArray(step) ? `, steps ${step[0]}-${step[1]} (submitted together; the fused path reads back once per epoch)` : '';
      const where = step === null || Array.isArray(step) ? `epoch ${epoch + 1}${steps}` : `epoch ${epoch + 1}, step ${step + 1}`;
      throw new TrainingError(`GPU failure at ${where}: ${(error as Error).message}`);
    }
  }

  private requireBuilt(what: string): Gpu {
    if (!this.gpu || !this.inputShape) throw new Error(`${this.name}: call build() before ${what}()`);
    return this.gpu;
  }

  /** Shapes, sizes, token ids and labels, checked once on the host before any GPU work. */
  private checkData(x: TokenMatrix, y: LabelArray, what: string): Float32Array {
    this.checkIds(x, what);
    if (!y || y.length !== x.shape[0]) throw new RangeError(`${what}: ${y?.length ?? 0} labels for ${x.shape[0]} samples`);
    const labels = Float32Array.from(y);
    const bad = labels.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new RangeError(`${what}: label ${bad} is ${y[bad]}; binary_crossentropy needs 0 or 1`);
    return labels;
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

function addBatch(totals: Totals, loss: number, correct: number, size: number): void {
  // Keras' loss tracker is a mean weighted by batch size; accuracy a mean over samples.
  totals.loss += loss * size;
  totals.correct += correct;
  totals.samples += size;
}

/** Keras' epoch logs from per-batch loss sums and correct counts over `samples` samples (summed in float64). */
function epochLogs(sums: MetricSums, samples: number): Logs {
  const total = (values: Float64Array) => values.reduce((a, b) => a + b, 0);
  return { accuracy: total(sums.correct) / samples, loss: total(sums.loss) / samples };
}

function prefixed(prefix: string, logs: Logs): Logs {
  return Object.fromEntries(Object.entries(logs).map(([k, v]) => [prefix + k, v]));
}

function metricsOf(t: Totals): [string, number][] {
  return [
    ['accuracy', t.correct / t.samples],
    ['loss', t.loss / t.samples],
  ];
}

function gather(values: Float32Array, rows: Int32Array): Float32Array {
  return Float32Array.from(rows, (r) => values[r]);
}

function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
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

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes.toFixed(2)} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(2)} MB`;
}
