/**
 * Adam, keras/src/optimizers/adam.py (amsgrad off), with t = iterations + 1 (Keras' `local_step`):
 *   alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  w -= m alpha / (sqrt(v) + epsilon)
 * Slots: Keras' "momentum" (m) and "velocity" (v). shaders/optimizer-adam.wgsl, entry point `adam`.
 * AdamW (./adamw.ts) is the same rule with weight decay on.
 */
import source from '../../../shaders/optimizer-adam.wgsl';
import { ROW_GRADIENTS_WGSL, withShared } from '../../kernels/shader-library.js';
import { Optimizer, optimizerShader, type OptimizerOptions } from './optimizer.js';
import { checkEpsilon, checkNumber } from './validation.js';

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Only false: AMSGrad is not implemented. */
  amsgrad?: false;
}

/** Keras' defaults. */
export const ADAM_DEFAULTS = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: null } as const;
const ADAM_OPTIONS = ['beta1', 'beta2', 'epsilon', 'amsgrad'] as const;
// LazyAdam's row update (adamRows) reads row gradients as row-gradients.wgsl does.
const SHADER = optimizerShader(withShared(source, ROW_GRADIENTS_WGSL));
const f32 = Math.fround;

/** Adam's rule, shared by Adam and AdamW (which differ in name and default weight decay). */
export abstract class AdamRule extends Optimizer {
  readonly slotNames = ['momentum', 'velocity'] as const;
  readonly shader = SHADER;
  readonly entryPoint = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  protected constructor(className: string, options: AdamOptions, defaultWeightDecay: number | null) {
    super(className, options, ADAM_OPTIONS, { learningRate: ADAM_DEFAULTS.learningRate, weightDecay: defaultWeightDecay });
    const { beta1 = ADAM_DEFAULTS.beta1, beta2 = ADAM_DEFAULTS.beta2, epsilon = ADAM_DEFAULTS.epsilon, amsgrad = false } = options;
    if (amsgrad !== false) throw new RangeError(`${className}: amsgrad is not supported (only amsgrad: false), found ${String(amsgrad)}`);
    // A beta of 1 would make 1 - beta^t zero (alpha infinite); Keras does not check.
    this.beta1 = checkNumber(className, 'beta1', beta1, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = checkNumber(className, 'beta2', beta2, { min: 0, max: 1, maxExclusive: true });
    this.epsilon = checkEpsilon(className, epsilon);
  }

  /**
   * [alpha, 1 - beta1, 1 - beta2, epsilon]. alpha rounds every stage to float32 as Keras' float32 ops do,
   * pow evaluated in double and rounded (as the engine's Adam before the redesign did: test/fixtures/adam holds its results, reproduced bit for bit).
   * Keras multiplies by the Python float `1 - self.beta_1` (double), which becomes float32 when applied.
   */
  protected updateConstants(iterations: number, learningRate: number): number[] {
    const t = f32(iterations + 1);
    const beta1Power = f32(Math.pow(f32(this.beta1), t));
    const beta2Power = f32(Math.pow(f32(this.beta2), t));
    const alpha = f32(f32(learningRate * f32(Math.sqrt(f32(1 - beta2Power)))) / f32(1 - beta1Power));
    return [alpha, f32(1 - this.beta1), f32(1 - this.beta2), f32(this.epsilon)];
  }

  protected referenceElement(w: number, g: number, [momentum, velocity]: Float32Array[], i: number, _lr: number, [alpha, oneMinusBeta1, oneMinusBeta2, epsilon]: number[]): number {
    const m = f32(momentum[i] + f32(f32(g - momentum[i]) * oneMinusBeta1));
    const v = f32(velocity[i] + f32(f32(f32(g * g) - velocity[i]) * oneMinusBeta2));
    momentum[i] = m;
    velocity[i] = v;
    return f32(w - f32(f32(m * alpha) / f32(f32(Math.sqrt(v)) + epsilon)));
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon, amsgrad: false };
  }
}

export class Adam extends AdamRule {
  readonly name = 'adam';

  constructor(options: AdamOptions = {}) {
    super('Adam', options, ADAM_DEFAULTS.weightDecay);
  }
}
