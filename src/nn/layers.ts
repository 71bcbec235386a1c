/**
 * Keras' layers for text models, with Keras' names, shapes, initialisers, configs and masking:
 * Embedding (mask_zero), Dropout, Dense (any rank), Conv1D, GlobalAveragePooling1D (masked
 * mean when given a mask), GlobalMaxPooling1D. `callLayers` runs a stack of them as Keras'
 * Sequential does, passing each layer's mask to the next.
 *
 * Masks follow Keras 3 (keras/src/layers/layer.py `__call__`): a mask is an f32 [batch, steps]
 * tensor of 0/1 made on the GPU; a layer with `supportsMasking` receives it and passes on what
 * its `computeMask` returns (by default the mask it got); a layer without it drops the mask,
 * with Keras' warning, and the layers after it see none.
 */
import { quoteValue } from '../data/errors.js';
import type { Gpu, Tensor } from '../gpu/gpu.js';
import type { RandomState } from '../data/random-state.js';
import type { Conv1DPadding } from '../kernels/conv1d.js';
import type { EmbeddingGradientIndex } from '../kernels/embedding.js';
import { conv1d, dense, dropout, embedding, maskedMeanPool, maxPool, meanPool, paddingMask, relu, sigmoid } from './ops.js';

/** A shape with `null` for the batch (and any unknown) dimension, as Keras prints it. */
export type Shape = (number | null)[];

/**
 * What the first layer of a text model reads: token ids on the GPU, and what the embedding's
 * gradient needs to group them by id: the ids on the host (eager steps build the index from them)
 * or the index itself, prepared outside the step (captured steps, src/nn/execution.ts). Neither is
 * needed where no gradient is taken.
 */
export interface TokenBatch {
  ids: Tensor;
  hostIds?: Int32Array;
  gradientIndex?: EmbeddingGradientIndex;
}

export type LayerInput = Tensor | TokenBatch;

/** What a step tells its layers. */
export interface CallContext {
  /** Keras' `training`: Dropout is active only when true. */
  training: boolean;
  /** i32 [1]: the optimizer's iteration count at this step, written by the engine before each training step (Dropout's mask source). */
  step: Tensor;
}

export interface Weight {
  /** Keras' path, e.g. `dense/kernel`. */
  name: string;
  tensor: Tensor;
}

/** A layer's Keras config: snake_case keys, as Keras serialises them (`layer.get_config()`). */
export type LayerConfig = { name: string } & Record<string, unknown>;

/** A shape or configuration that a layer cannot take: raised when the model is built, naming the layer and the shapes. */
export class LayerConfigError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'LayerConfigError';
  }
}

/** Keras names layers `dense`, `dense_1`, ... with one counter per kind in the process. */
const nameCounts = new Map<string, number>();
function autoName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

export abstract class Layer {
  readonly name: string;
  weights: Weight[] = [];
  /** Keras' `supports_masking`: the layer takes its input's mask and passes on `computeMask`'s. */
  supportsMasking = false;

  constructor(
    readonly className: string,
    baseName: string,
    name?: string,
  ) {
    this.name = name ?? autoName(baseName);
  }

  /**
   * Check `inputShape` (a LayerConfigError naming the layer and the shape) and create the
   * weights, drawing initial values from `rng`.
   */
  build(_gpu: Gpu, inputShape: Shape, _rng: RandomState): void {
    this.computeOutputShape(inputShape);
  }

  /** The output shape for `inputShape`; a LayerConfigError if the layer cannot take it. */
  abstract computeOutputShape(inputShape: Shape): Shape;

  /** The layer's output; `mask` is its input's mask, given only to layers that support masking. */
  abstract call(input: LayerInput, ctx: CallContext, mask: Tensor | null): Tensor;

  /** Keras' `compute_mask(inputs, previous_mask)`: the mask of the output. */
  computeMask(_input: LayerInput, mask: Tensor | null): Tensor | null {
    return mask;
  }

  /** Keras' `get_config()` (the keys this engine knows; see `layerFromConfig`). */
  getConfig(): LayerConfig {
    return { name: this.name, trainable: true, dtype: 'float32' };
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.tensor.size, 0);
  }

  /** A LayerConfigError naming the layer, its input shape and the problem. */
  protected shapeError(inputShape: Shape, problem: string): LayerConfigError {
    return new LayerConfigError(`${this.name}: ${problem}, found input shape (${formatShape(inputShape)})`);
  }
}

/** Layers told once that they dropped a mask, as Keras warns once per call site. */
const warnedMaskDrop = new WeakSet<Layer>();

/**
 * Run `layers` in order on `input`, as Keras' Sequential does: each layer gets the previous
 * one's output and, when it supports masking, its mask. The one function the model calls.
 */
export function callLayers(layers: readonly Layer[], input: TokenBatch, ctx: CallContext): Tensor {
  if (layers.length === 0) throw new LayerConfigError('callLayers: no layers');
  let x: LayerInput = input;
  let mask: Tensor | null = null;
  for (const layer of layers) {
    if (mask && !layer.supportsMasking && !warnedMaskDrop.has(layer)) {
      warnedMaskDrop.add(layer);
      console.warn(
        `Layer '${layer.name}' (of type ${layer.className}) was passed an input with a mask attached to it. However, this layer does not support masking and will therefore destroy the mask information. Downstream layers will not see the mask.`,
      );
    }
    const given: Tensor | null = layer.supportsMasking ? mask : null;
    const out = layer.call(x, ctx, given);
    mask = layer.supportsMasking ? layer.computeMask(x, given) : null;
    x = out;
  }
  return asTensor(layers[layers.length - 1], x);
}

/** One i32 [1] step of 0 per device, for calls with `training: false` (Dropout does not read it then). */
const inferenceSteps = new WeakMap<Gpu, Tensor>();

/** The context of evaluate and predict: not training. */
export function inferenceContext(gpu: Gpu): CallContext {
  let step = inferenceSteps.get(gpu);
  if (!step || step.isDisposed) {
    step = gpu.upload(new Int32Array([0]), [1]);
    inferenceSteps.set(gpu, step);
  }
  return { training: false, step };
}

/** keras.initializers.RandomUniform(minval, maxval). */
function randomUniform(n: number, min: number, max: number, rng: RandomState): Float32Array {
  // A plain loop: Float32Array.from with a map function took 3.6 s for fastText's 60M weights, this 1 s.
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = min + (max - min) * rng.randomSample();
  return out;
}

/** keras.initializers.GlorotUniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)). */
function glorotUniform(gpu: Gpu, shape: number[], fanIn: number, fanOut: number, rng: RandomState): Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return gpu.upload(randomUniform(shape.reduce((a, b) => a * b, 1), -limit, limit, rng), shape);
}

export class Embedding extends Layer {
  readonly maskZero: boolean;

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    options: { maskZero?: boolean; name?: string } = {},
  ) {
    super('Embedding', 'embedding', options.name);
    positiveInteger('Embedding inputDim', inputDim);
    positiveInteger('Embedding outputDim', outputDim);
    this.maskZero = options.maskZero ?? false;
    // keras/src/layers/core/embedding.py: `self.supports_masking = mask_zero`.
    this.supportsMasking = this.maskZero;
  }

  override build(gpu: Gpu, inputShape: Shape, rng: RandomState): void {
    super.build(gpu, inputShape, rng);
    // Keras' default embeddings_initializer is "uniform": RandomUniform(-0.05, 0.05).
    const table = randomUniform(this.inputDim * this.outputDim, -0.05, 0.05, rng);
    this.weights = [{ name: `${this.name}/embeddings`, tensor: gpu.upload(table, [this.inputDim, this.outputDim]) }];
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.outputDim];
  }

  call(input: LayerInput): Tensor {
    if (!isTokenBatch(input)) throw new TypeError(`${this.name}: Embedding takes token ids (a TokenBatch)`);
    return embedding(this.weights[0].tensor, input.ids, input.gradientIndex ?? input.hostIds);
  }

  /** keras/src/layers/core/embedding.py `compute_mask`: `ops.not_equal(inputs, 0)` when mask_zero. */
  override computeMask(input: LayerInput): Tensor | null {
    return this.maskZero && isTokenBatch(input) ? paddingMask(input.ids) : null;
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), input_dim: this.inputDim, output_dim: this.outputDim, mask_zero: this.maskZero };
  }
}

/** Keras' global pooling layers over the steps axis: [batch, steps, features] -> [batch, features]. */
abstract class GlobalPooling1D extends Layer {
  computeOutputShape(inputShape: Shape): Shape {
    if (inputShape.length !== 3) throw this.shapeError(inputShape, `${this.className} expects (batch, steps, features)`);
    if (inputShape[1] === 0) throw this.shapeError(inputShape, 'no steps to pool');
    return [inputShape[0], inputShape[2]];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), data_format: 'channels_last', keepdims: false };
  }
}

export class GlobalAveragePooling1D extends GlobalPooling1D {
  constructor(options: { name?: string } = {}) {
    super('GlobalAveragePooling1D', 'global_average_pooling1d', options.name);
    this.supportsMasking = true;
  }

  /** Without a mask the mean of every step; with one, of the unmasked steps (an all-masked row gives NaN, as in Keras). */
  call(input: LayerInput, _ctx: CallContext, mask: Tensor | null): Tensor {
    const x = asTensor(this, input);
    return mask ? maskedMeanPool(x, mask) : meanPool(x);
  }

  /** The mask is consumed here (keras/src/layers/pooling/global_average_pooling1d.py `compute_mask`). */
  override computeMask(): Tensor | null {
    return null;
  }
}

/** Keras 3's GlobalMaxPooling1D does not support masking: a mask reaching it is dropped (with Keras' warning). */
export class GlobalMaxPooling1D extends GlobalPooling1D {
  constructor(options: { name?: string } = {}) {
    super('GlobalMaxPooling1D', 'global_max_pooling1d', options.name);
  }

  call(input: LayerInput): Tensor {
    return maxPool(asTensor(this, input));
  }
}

export type Activation = 'linear' | 'relu' | 'sigmoid';
const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'sigmoid'];

function checkActivation(layer: string, activation: string): Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(activation)) throw new LayerConfigError(`${layer}: unknown activation '${activation}' (expected ${ACTIVATIONS.join(', ')})`);
  return activation as Activation;
}

function activate(z: Tensor, activation: Activation): Tensor {
  if (activation === 'linear') return z;
  return activation === 'relu' ? relu(z) : sigmoid(z);
}

/** keras.layers.Dense: the kernel applies to the last axis of inputs of any rank >= 2 (leading axes are rows). */
export class Dense extends Layer {
  readonly activation: Activation;

  constructor(
    readonly units: number,
    options: { activation?: Activation; name?: string } = {},
  ) {
    super('Dense', 'dense', options.name);
    positiveInteger('Dense units', units);
    this.activation = checkActivation('Dense', options.activation ?? 'linear');
    // keras/src/layers/core/dense.py: `self.supports_masking = True` (the mask passes through).
    this.supportsMasking = true;
  }

  override build(gpu: Gpu, inputShape: Shape, rng: RandomState): void {
    super.build(gpu, inputShape, rng);
    const inputDim = inputShape[inputShape.length - 1]!;
    // Keras' defaults: GlorotUniform kernel; zero bias.
    this.weights = [
      { name: `${this.name}/kernel`, tensor: glorotUniform(gpu, [inputDim, this.units], inputDim, this.units, rng) },
      { name: `${this.name}/bias`, tensor: gpu.zeros([this.units]) },
    ];
  }

  computeOutputShape(inputShape: Shape): Shape {
    if (inputShape.length < 2) throw this.shapeError(inputShape, 'Dense expects inputs of rank 2 or more (batch, ..., features)');
    const inputDim = inputShape[inputShape.length - 1];
    if (inputDim === null || inputDim < 1) throw this.shapeError(inputShape, 'the last input dimension must be known and positive');
    return [...inputShape.slice(0, -1), this.units];
  }

  call(input: LayerInput): Tensor {
    const [kernel, bias] = this.weights.map((w) => w.tensor);
    return activate(dense(asTensor(this, input), kernel, bias), this.activation);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), units: this.units, activation: this.activation, use_bias: true };
  }
}

export interface DropoutOptions {
  /** The mask's seed; when omitted, drawn from the model's build RandomState (so `build(..., { seed })` reproduces it). */
  seed?: number;
  /** Keras' noise_shape: one entry per input axis, 1 to share the mask along it, null (or the input's size) for its own. */
  noiseShape?: (number | null)[];
  name?: string;
}

/**
 * keras.layers.Dropout (keras/src/layers/regularization/dropout.py): inverted dropout while
 * training, the identity otherwise. The mask is a hash of (seed, training step, element)
 * computed on the GPU (src/kernels/dropout.ts), not TensorFlow's random stream.
 */
export class Dropout extends Layer {
  readonly noiseShape: (number | null)[] | null;
  /** The seed in use: the option's, or the one drawn at build. */
  seed: number | null;

  constructor(
    readonly rate: number,
    options: DropoutOptions = {},
  ) {
    super('Dropout', 'dropout', options.name);
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new LayerConfigError(`Dropout: rate must be a number in [0, 1), got ${rate}`);
    if (options.seed !== undefined && !(Number.isInteger(options.seed) && options.seed >= 0 && options.seed < 2 ** 32)) {
      throw new LayerConfigError(`Dropout: seed must be an integer in [0, 2**32), got ${options.seed}`);
    }
    this.seed = options.seed ?? null;
    this.noiseShape = options.noiseShape ? [...options.noiseShape] : null;
    this.supportsMasking = true;
  }

  override build(gpu: Gpu, inputShape: Shape, rng: RandomState): void {
    super.build(gpu, inputShape, rng);
    this.seed ??= rng.randomInterval(0xffffffff);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const noise = this.noiseShape;
    if (noise) {
      if (noise.length !== inputShape.length) throw this.shapeError(inputShape, `noise_shape (${formatShape(noise)}) has ${noise.length} axes for an input of ${inputShape.length}`);
      const bad = noise.findIndex((d, i) => d !== null && d !== 1 && d !== inputShape[i]);
      if (bad >= 0) {
        const allowed = inputShape[bad] === null ? '1 or None (its size is known only in fit, and the last batch is smaller)' : `1, None or ${inputShape[bad]}`;
        throw this.shapeError(inputShape, `noise_shape (${formatShape(noise)}) does not broadcast to the input: axis ${bad} must be ${allowed}`);
      }
      if (inputShape.length > 4 && noise.some((d, i) => d === 1 && inputShape[i] !== 1)) throw this.shapeError(inputShape, 'a broadcast noise_shape is supported on inputs of rank 4 at most');
    }
    return inputShape;
  }

  call(input: LayerInput, ctx: CallContext): Tensor {
    const x = asTensor(this, input);
    if (!ctx.training || this.rate === 0) return x;
    if (this.seed === null) throw new Error(`${this.name}: call build() before training`);
    const noiseShape = this.noiseShape?.map((d, i) => d ?? x.shape[i]);
    return dropout(x, ctx.step, { rate: this.rate, seed: this.seed, noiseShape });
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, noise_shape: this.noiseShape };
  }
}

export interface Conv1DOptions {
  padding?: Conv1DPadding;
  activation?: Activation;
  useBias?: boolean;
  /** Only 1 is supported. */
  strides?: number;
  name?: string;
}

/**
 * keras.layers.Conv1D, channels last, strides 1: kernel [kernelSize, inChannels, filters]
 * (GlorotUniform with fan_in = kernelSize·in, fan_out = kernelSize·filters), zero bias.
 * Keras 3's convolutions do not support masking: a mask reaching one is dropped (with Keras' warning).
 */
export class Conv1D extends Layer {
  readonly padding: Conv1DPadding;
  readonly activation: Activation;
  readonly useBias: boolean;

  constructor(
    readonly filters: number,
    readonly kernelSize: number,
    options: Conv1DOptions = {},
  ) {
    super('Conv1D', 'conv1d', options.name);
    positiveInteger('Conv1D filters', filters);
    positiveInteger('Conv1D kernelSize', kernelSize);
    this.padding = options.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new LayerConfigError(`Conv1D: padding must be 'valid' or 'same', got '${this.padding}'`);
    if ((options.strides ?? 1) !== 1) throw new LayerConfigError(`Conv1D: only strides 1 is supported, got ${options.strides}`);
    this.activation = checkActivation('Conv1D', options.activation ?? 'linear');
    this.useBias = options.useBias ?? true;
  }

  override build(gpu: Gpu, inputShape: Shape, rng: RandomState): void {
    super.build(gpu, inputShape, rng);
    const channels = inputShape[2]!;
    const k = this.kernelSize;
    this.weights = [{ name: `${this.name}/kernel`, tensor: glorotUniform(gpu, [k, channels, this.filters], k * channels, k * this.filters, rng) }];
    if (this.useBias) this.weights.push({ name: `${this.name}/bias`, tensor: gpu.zeros([this.filters]) });
  }

  computeOutputShape(inputShape: Shape): Shape {
    if (inputShape.length !== 3) throw this.shapeError(inputShape, 'Conv1D expects (batch, steps, channels)');
    const [batch, steps, channels] = inputShape;
    if (channels === null || channels < 1) throw this.shapeError(inputShape, 'the channels (last) dimension must be known and positive');
    if (this.padding === 'same' || steps === null) return [batch, steps, this.filters];
    if (this.kernelSize > steps) {
      throw new LayerConfigError(`${this.name}: kernel_size ${this.kernelSize} is longer than the ${steps} steps of its input (${formatShape(inputShape)}) with padding 'valid'`);
    }
    return [batch, steps - this.kernelSize + 1, this.filters];
  }

  call(input: LayerInput): Tensor {
    const [kernel, bias] = this.weights.map((w) => w.tensor);
    return activate(conv1d(asTensor(this, input), kernel, bias ?? null, this.padding), this.activation);
  }

  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernel_size: [this.kernelSize],
      strides: [1],
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: [1],
      groups: 1,
      activation: this.activation,
      use_bias: this.useBias,
    };
  }
}

/** How each class is made from its Keras config; unsupported values are refused, keys this engine does not model are ignored. */
const LAYER_FACTORIES: Record<string, (c: ConfigReader) => Layer> = {
  Embedding: (c) => new Embedding(c.int('input_dim'), c.int('output_dim'), { maskZero: c.bool('mask_zero', false), name: c.name }),
  Dense: (c) => {
    c.expect('use_bias', true);
    return new Dense(c.int('units'), { activation: c.activation(), name: c.name });
  },
  Dropout: (c) => new Dropout(c.number('rate'), { seed: c.optionalInt('seed'), noiseShape: c.optionalShape('noise_shape'), name: c.name }),
  Conv1D: (c) => {
    for (const [key, value] of [['strides', 1], ['dilation_rate', 1], ['groups', 1], ['data_format', 'channels_last']] as const) c.expect(key, value);
    const padding = c.string('padding', 'valid');
    if (padding !== 'valid' && padding !== 'same') throw c.error(`padding '${padding}' is not supported (valid, same)`);
    return new Conv1D(c.int('filters'), c.int('kernel_size'), { padding, activation: c.activation(), useBias: c.bool('use_bias', true), name: c.name });
  },
  GlobalAveragePooling1D: (c) => {
    c.expect('data_format', 'channels_last');
    c.expect('keepdims', false);
    return new GlobalAveragePooling1D({ name: c.name });
  },
  GlobalMaxPooling1D: (c) => {
    c.expect('data_format', 'channels_last');
    c.expect('keepdims', false);
    return new GlobalMaxPooling1D({ name: c.name });
  },
};

/** The Keras class names `layerFromConfig` knows. */
export const LAYER_CLASSES = Object.keys(LAYER_FACTORIES);

/** A layer from its Keras class name and config (`get_config()`'s keys, snake_case); a LayerConfigError for what this engine cannot make. */
export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const factory = Object.hasOwn(LAYER_FACTORIES, className) ? LAYER_FACTORIES[className] : undefined;
  if (!factory) throw new LayerConfigError(`layerFromConfig: unknown layer class '${className}' (known: ${LAYER_CLASSES.join(', ')})`);
  return factory(new ConfigReader(className, config));
}

/** Typed access to a Keras config, with errors that name the class and the key. */
class ConfigReader {
  readonly name: string | undefined;

  constructor(
    private readonly className: string,
    private readonly config: Record<string, unknown>,
  ) {
    const name = config.name;
    if (name !== undefined && typeof name !== 'string') throw this.error(`name must be a string, got ${quoteValue(name)}`);
    this.name = name;
  }

  error(problem: string): LayerConfigError {
    return new LayerConfigError(`layerFromConfig: ${this.className}: ${problem}`);
  }

  /** An integer; a one-element list (Keras' tuples, e.g. kernel_size [5]) counts as its element. */
  int(key: string): number {
    const value = this.unwrap(this.config[key]);
    if (!Number.isInteger(value)) throw this.error(`${key} must be an integer, got ${quoteValue(this.config[key])}`);
    return value as number;
  }

  optionalInt(key: string): number | undefined {
    return this.config[key] === undefined || this.config[key] === null ? undefined : this.int(key);
  }

  number(key: string): number {
    const value = this.config[key];
    if (typeof value !== 'number') throw this.error(`${key} must be a number, got ${quoteValue(value)}`);
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'boolean') throw this.error(`${key} must be true or false, got ${quoteValue(value)}`);
    return value;
  }

  string(key: string, fallback: string): string {
    const value = this.config[key] ?? fallback;
    if (typeof value !== 'string') throw this.error(`${key} must be a string, got ${quoteValue(value)}`);
    return value;
  }

  activation(): Activation {
    const value = this.string('activation', 'linear');
    if (!(ACTIVATIONS as readonly string[]).includes(value)) throw this.error(`activation '${value}' is not supported (${ACTIVATIONS.join(', ')})`);
    return value as Activation;
  }

  optionalShape(key: string): (number | null)[] | undefined {
    const value = this.config[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((d) => d !== null && !Number.isInteger(d))) throw this.error(`${key} must be a list of integers or null, got ${quoteValue(value)}`);
    return value as (number | null)[];
  }

  /** Refuse a key whose value this engine does not implement (absent means Keras' default, which it does). */
  expect(key: string, supported: unknown): void {
    const value = this.config[key];
    if (value === undefined || value === null) return;
    if (this.unwrap(value) !== supported) throw this.error(`${key} ${quoteValue(value)} is not supported (only ${quoteValue(supported)})`);
  }

  private unwrap(value: unknown): unknown {
    return Array.isArray(value) && value.length === 1 ? value[0] : value;
  }
}

function isTokenBatch(input: LayerInput): input is TokenBatch {
  return 'ids' in input;
}

function asTensor(layer: Layer, input: LayerInput): Tensor {
  if (isTokenBatch(input)) throw new TypeError(`${layer.name}: ${layer.className} takes a float tensor, not token ids`);
  return input;
}

function positiveInteger(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new LayerConfigError(`${what} must be a positive integer, got ${n}`);
}

export function formatShape(shape: Shape): string {
  return shape.length === 1 ? `${shape[0] ?? 'None'},` : shape.map((d) => d ?? 'None').join(', ');
}
