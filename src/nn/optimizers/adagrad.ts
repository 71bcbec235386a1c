/**
 * Adagrad, keras/src/optimizers/adagrad.py:
 *   a += g^2;  w -= lr g / sqrt(a + epsilon)      (epsilon inside the square root)
 * Slot "accumulator", starting at initialAccumulatorValue. shaders/optimizer-adagrad.wgsl, entry point `adagrad`.
 */
import source from '../../../shaders/optimizer-adagrad.wgsl';
import { Optimizer, optimizerShader, type OptimizerOptions } from './optimizer.js';
import { checkEpsilon, checkNumber } from './validation.js';

export interface AdagradOptions extends OptimizerOptions {
  /** The accumulator's starting value; non-negative (Keras' docstring). */
  initialAccumulatorValue?: number;
  epsilon?: number;
}

/** Keras' defaults. */
export const ADAGRAD_DEFAULTS = { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7, weightDecay: null } as const;
const SHADER = optimizerShader(source);
const f32 = Math.fround;

export class Adagrad extends Optimizer {
  readonly name = 'adagrad';
  readonly slotNames = ['accumulator'] as const;
  readonly shader = SHADER;
  readonly entryPoint = 'adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;

  constructor(options: AdagradOptions = {}) {
    super('Adagrad', options, ['initialAccumulatorValue', 'epsilon'], ADAGRAD_DEFAULTS);
    const { initialAccumulatorValue = ADAGRAD_DEFAULTS.initialAccumulatorValue, epsilon = ADAGRAD_DEFAULTS.epsilon } = options;
    this.initialAccumulatorValue = checkNumber('Adagrad', 'initialAccumulatorValue', initialAccumulatorValue, { min: 0 });
    this.epsilon = checkEpsilon('Adagrad', epsilon);
  }

  /** The accumulator starts at initialAccumulatorValue (Keras' `initializers.Constant`). */
  override slotInitialValue(slot: number): number {
    this.checkSlot(slot);
    return this.initialAccumulatorValue;
  }

  /** [epsilon]. */
  protected updateConstants(): number[] {
    return [f32(this.epsilon)];
  }

  protected referenceElement(w: number, g: number, [accumulator]: Float32Array[], i: number, lr: number, [epsilon]: number[]): number {
    const a = f32(accumulator[i] + f32(g * g));
    accumulator[i] = a;
    return f32(w - f32(f32(lr * g) / f32(Math.sqrt(f32(a + epsilon)))));
  }

  protected ownConfig(): Record<string, unknown> {
    return { initial_accumulator_value: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}
