/**
 * The optimizer contract: an update rule over the parameter store's flat buffers. Each optimizer is one
 * WGSL entry point (vec4 over a shard: binding 0 its uniform, 1 the weights, 2 the gradients, 3.. its
 * slot variables in `slotNames` order), a float32 reference of the same arithmetic on the host (the
 * shader's test oracle), and Keras' config. Keras 3: keras/src/optimizers/base_optimizer.py.
 */
import commonShader from '../../../shaders/optimizer-common.wgsl';
import { LearningRateSchedule, serializeSchedule } from './schedules.js';
import { checkNumber, checkOptions } from './validation.js';

/** A constant learning rate or a schedule evaluated at `iterations`. */
export type LearningRate = number | LearningRateSchedule;

/** Options every optimizer takes (Keras' base optimizer arguments that shadergrad implements). */
export interface OptimizerOptions {
  learningRate?: LearningRate;
  /** Decoupled weight decay, `w -= w * weightDecay * lr` before each update; null (off) except in AdamW. */
  weightDecay?: number | null;
}
const BASE_OPTIONS = ['learningRate', 'weightDecay'] as const;

/** Bytes of the uniform's fields every optimizer shares: learningRate, weightDecay, decayWeights. */
const COMMON_PARAMS_BYTES = 12;
/** The most a uniform may hold (the store keeps one 64-byte block per optimizer). */
export const MAX_PARAMS_BYTES = 64;

const f32 = Math.fround;

export abstract class Optimizer {
  /** Keras' default name ('adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'), also the registry key. */
  abstract readonly name: string;
  /** Keras' slot variables for these options, in the order Keras creates them. */
  abstract readonly slotNames: readonly string[];
  /** The WGSL module (shaders/optimizer-common.wgsl + the optimizer's file) and its entry point for these options. */
  abstract readonly shader: string;
  abstract readonly entryPoint: string;
  /** Steps taken (Keras' optimizer.iterations). The engine increments it. */
  iterations = 0;
  /**
   * Row-sparse ("lazy") updates of embedding tables: only the rows a batch touched move, their slots
   * included (TensorFlow Addons' LazyAdam, PyTorch's SparseAdam). Null for Keras' optimizers, which
   * update every row every step (a row's moments decay even when its gradient is zero); else the
   * entry point, in `shader`, that updates a table chunk's touched rows in place
   * (src/kernels/optimizer-update.ts `optimizerRowUpdate` says how it is bound).
   */
  readonly rowsEntryPoint: string | null = null;

  get rowSparse(): boolean {
    return this.rowsEntryPoint !== null;
  }

  readonly learningRate: LearningRate;
  readonly weightDecay: number | null;

  /**
   * `className` is Keras' class name ('Adam', ...), as `keras.optimizers.serialize` writes it and errors name
   * it; `knownOptions` the option names the class takes (others are refused, as Keras refuses them).
   */
  protected constructor(
    readonly className: string,
    options: OptimizerOptions,
    knownOptions: readonly string[],
    defaults: { learningRate: number; weightDecay?: number | null },
  ) {
    checkOptions(className, options, [...BASE_OPTIONS, ...knownOptions]);
    const { learningRate = defaults.learningRate, weightDecay = defaults.weightDecay ?? null } = options;
    this.learningRate = learningRate instanceof LearningRateSchedule ? learningRate : checkNumber(className, 'learningRate', learningRate, { min: 0 });
    this.weightDecay = weightDecay === null ? null : checkNumber(className, 'weightDecay', weightDecay, { min: 0 });
  }

  /** Each slot's initial value (Adagrad: initialAccumulatorValue; others 0). */
  slotInitialValue(slot: number): number {
    this.checkSlot(slot);
    return 0;
  }

  protected checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotNames.length) {
      throw new RangeError(`${this.className}: slot must be an integer in [0, ${this.slotNames.length}), found ${slot}`);
    }
  }

  /** Keras' `_get_current_learning_rate` at `iterations`, as the float32 the update uses (`ops.cast(learning_rate, ...)`). */
  currentLearningRate(iterations: number): number {
    checkIterations(this.className, iterations);
    return f32(typeof this.learningRate === 'number' ? this.learningRate : this.learningRate.learningRateAt(iterations));
  }

  /**
   * The optimizer's own uniform fields after the shared ones, as float32 values in its Params order, for the
   * update that follows `iterations` updates at `learningRate`. `reference` reads the same values.
   */
  protected abstract updateConstants(iterations: number, learningRate: number): number[];

  /**
   * The uniform bytes for the update that follows `iterations` updates: learningRate, weightDecay and
   * decayWeights (u32), then `updateConstants`.
   */
  params(iterations: number): Uint8Array {
    const learningRate = this.currentLearningRate(iterations);
    const constants = this.updateConstants(iterations, learningRate);
    const view = new DataView(new ArrayBuffer(COMMON_PARAMS_BYTES + 4 * constants.length));
    if (view.byteLength > MAX_PARAMS_BYTES) throw new RangeError(`${this.className}: ${view.byteLength} bytes of params exceed ${MAX_PARAMS_BYTES}`);
    view.setFloat32(0, learningRate, true);
    view.setFloat32(4, this.weightDecay ?? 0, true);
    view.setUint32(8, this.weightDecay === null ? 0 : 1, true);
    constants.forEach((value, i) => view.setFloat32(COMMON_PARAMS_BYTES + 4 * i, value, true));
    return new Uint8Array(view.buffer);
  }

  /**
   * The same update on the host in float32 (every stage rounded with Math.fround, in the shader's order),
   * in place: the test oracle for the shader.
   */
  reference(weights: Float32Array, grads: Float32Array, slots: Float32Array[], iterations: number): void {
    if (grads.length !== weights.length) throw new RangeError(`${this.className}.reference: ${grads.length} gradients for ${weights.length} weights`);
    if (slots.length !== this.slotNames.length) throw new RangeError(`${this.className}.reference: ${slots.length} slots, expected ${this.slotNames.length} (${this.slotNames.join(', ')})`);
    slots.forEach((slot, s) => {
      if (slot.length !== weights.length) throw new RangeError(`${this.className}.reference: slot ${this.slotNames[s]} has ${slot.length} values for ${weights.length} weights`);
    });
    const learningRate = this.currentLearningRate(iterations);
    const constants = this.updateConstants(iterations, learningRate);
    const decay = this.weightDecay === null ? null : f32(this.weightDecay);
    for (let i = 0; i < weights.length; i++) {
      // keras/src/optimizers/base_optimizer.py `_apply_weight_decay`: variable - variable * wd * lr.
      const w = decay === null ? weights[i] : f32(weights[i] - f32(f32(weights[i] * decay) * learningRate));
      weights[i] = this.referenceElement(w, grads[i], slots, i, learningRate, constants);
    }
  }

  /** One element's update in float32: updates `slots[s][i]` and returns the new weight. */
  protected abstract referenceElement(weight: number, grad: number, slots: Float32Array[], i: number, learningRate: number, constants: number[]): number;

  /** Keras' get_config() (snake_case keys): the base optimizer's keys, then the optimizer's own. */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      learning_rate: typeof this.learningRate === 'number' ? this.learningRate : serializeSchedule(this.learningRate),
      weight_decay: this.weightDecay,
      // Keras options shadergrad does not implement, at the values that switch them off.
      ...UNSUPPORTED_BASE_CONFIG,
      ...this.ownConfig(),
    };
  }

  protected abstract ownConfig(): Record<string, unknown>;
}

/** Keras base-optimizer config keys with the only values shadergrad accepts (their Keras defaults). */
export const UNSUPPORTED_BASE_CONFIG: Readonly<Record<string, unknown>> = {
  clipnorm: null,
  global_clipnorm: null,
  clipvalue: null,
  use_ema: false,
  ema_momentum: 0.99,
  ema_overwrite_frequency: null,
  loss_scale_factor: null,
  gradient_accumulation_steps: null,
};

/** Keras' `keras.optimizers.serialize` form. */
export interface SerializedOptimizer {
  module?: string;
  class_name: string;
  config: Record<string, unknown>;
  registered_name?: string | null;
}

export function checkIterations(className: string, iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < 0) throw new RangeError(`${className}: iterations must be an integer >= 0, found ${iterations}`);
}

/** The module an optimizer's `shader` is: the shared bindings and helpers, then the optimizer's own file. */
export function optimizerShader(source: string): string {
  return `${commonShader}\n${source}`;
}
