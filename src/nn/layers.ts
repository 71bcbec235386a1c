/**
 * Keras' layers for the tutorial model, with Keras' names, shapes and
 * initialisers: Embedding, GlobalAveragePooling1D, Dense.
 */
import type { Gpu, Tensor } from '../gpu/gpu.js';
import type { RandomState } from '../data/random-state.js';
import { dense, embedding, meanPool, relu, sigmoid } from './ops.js';

/** A shape with `null` for the batch (and any unknown) dimension, as Keras prints it. */
export type Shape = (number | null)[];

/** What the first layer of a text model reads: token ids on the GPU and on the host. */
export interface TokenBatch {
  ids: Tensor;
  hostIds: Int32Array;
}

export interface Weight {
  /** Keras' path, e.g. `dense/kernel`. */
  name: string;
  tensor: Tensor;
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

  constructor(
    readonly className: string,
    baseName: string,
    name?: string,
  ) {
    this.name = name ?? autoName(baseName);
  }

  /** Create the weights for inputs of `inputShape`, drawing initial values from `rng`. */
  build(_gpu: Gpu, _inputShape: Shape, _rng: RandomState): void {}

  abstract computeOutputShape(inputShape: Shape): Shape;

  abstract call(input: Tensor | TokenBatch): Tensor;

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.tensor.size, 0);
  }
}

/** keras.initializers.RandomUniform(minval, maxval). */
function randomUniform(n: number, min: number, max: number, rng: RandomState): Float32Array {
  return Float32Array.from({ length: n }, () => min + (max - min) * rng.randomSample());
}

export class Embedding extends Layer {
  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    options: { name?: string } = {},
  ) {
    super('Embedding', 'embedding', options.name);
    positiveInteger('Embedding inputDim', inputDim);
    positiveInteger('Embedding outputDim', outputDim);
  }

  override build(gpu: Gpu, _inputShape: Shape, rng: RandomState): void {
    // Keras' default embeddings_initializer is "uniform": RandomUniform(-0.05, 0.05).
    const table = randomUniform(this.inputDim * this.outputDim, -0.05, 0.05, rng);
    this.weights = [{ name: `${this.name}/embeddings`, tensor: gpu.upload(table, [this.inputDim, this.outputDim]) }];
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.outputDim];
  }

  call(input: Tensor | TokenBatch): Tensor {
    if (!('hostIds' in input)) throw new TypeError(`${this.name}: Embedding takes token ids (a TokenBatch)`);
    return embedding(this.weights[0].tensor, input.ids, input.hostIds);
  }
}

export class GlobalAveragePooling1D extends Layer {
  constructor(options: { name?: string } = {}) {
    super('GlobalAveragePooling1D', 'global_average_pooling1d', options.name);
  }

  computeOutputShape(inputShape: Shape): Shape {
    if (inputShape.length !== 3) throw new RangeError(`${this.name}: expects [batch, steps, features], got (${formatShape(inputShape)})`);
    return [inputShape[0], inputShape[2]];
  }

  call(input: Tensor | TokenBatch): Tensor {
    return meanPool(asTensor(this, input));
  }
}

export type Activation = 'linear' | 'relu' | 'sigmoid';

export class Dense extends Layer {
  readonly activation: Activation;

  constructor(
    readonly units: number,
    options: { activation?: Activation; name?: string } = {},
  ) {
    super('Dense', 'dense', options.name);
    positiveInteger('Dense units', units);
    this.activation = options.activation ?? 'linear';
    if (!['linear', 'relu', 'sigmoid'].includes(this.activation)) throw new RangeError(`Dense: unknown activation '${this.activation}'`);
  }

  override build(gpu: Gpu, inputShape: Shape, rng: RandomState): void {
    const inputDim = inputShape[inputShape.length - 1];
    if (inputDim === null) throw new RangeError(`${this.name}: the last input dimension must be known`);
    // Keras' defaults: GlorotUniform kernel, limit sqrt(6 / (fan_in + fan_out)); zero bias.
    const limit = Math.sqrt(6 / (inputDim + this.units));
    this.weights = [
      { name: `${this.name}/kernel`, tensor: gpu.upload(randomUniform(inputDim * this.units, -limit, limit, rng), [inputDim, this.units]) },
      { name: `${this.name}/bias`, tensor: gpu.zeros([this.units]) },
    ];
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape.slice(0, -1), this.units];
  }

  call(input: Tensor | TokenBatch): Tensor {
    const [kernel, bias] = this.weights.map((w) => w.tensor);
    const z = dense(asTensor(this, input), kernel, bias);
    if (this.activation === 'linear') return z;
    return this.activation === 'relu' ? relu(z) : sigmoid(z);
  }
}

function asTensor(layer: Layer, input: Tensor | TokenBatch): Tensor {
  if ('hostIds' in input) throw new TypeError(`${layer.name}: ${layer.className} takes a float tensor, not token ids`);
  return input;
}

function positiveInteger(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
}

export function formatShape(shape: Shape): string {
  return shape.length === 1 ? `${shape[0] ?? 'None'},` : shape.map((d) => d ?? 'None').join(', ');
}
