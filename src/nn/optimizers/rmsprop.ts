/**
 * RMSprop, keras/src/optimizers/rmsprop.py:
 *   v = rho v + (1 - rho) g^2
 *   centered:  a = rho a + (1 - rho) g;  denominator = v - a^2 + epsilon   (else v + epsilon)
 *   increment = lr g / sqrt(denominator)      (epsilon inside the square root, unlike Adam)
 *   momentum > 0:  s = momentum s + increment;  w -= s                     (else w -= increment)
 * Slots as Keras builds them: "velocity", then "momentum" when momentum > 0, then "average_gradient"
 * when centered. shaders/optimizer-rmsprop.wgsl, one entry point per combination.
 */
import source from '../../../shaders/optimizer-rmsprop.wgsl';
import { Optimizer, optimizerShader, type OptimizerOptions } from './optimizer.js';
import { checkBoolean, checkEpsilon, checkNumber } from './validation.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Discount of the old squared gradients, in [0, 1]. */
  rho?: number;
  /** In [0, 1]; 0 keeps no momentum slot. */
  momentum?: number;
  epsilon?: number;
  /** Normalise by the gradient's estimated variance (adds the average_gradient slot). */
  centered?: boolean;
}

/** Keras' defaults. */
export const RMSPROP_DEFAULTS = { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, weightDecay: null } as const;
const SHADER = optimizerShader(source);
const f32 = Math.fround;

export class RMSprop extends Optimizer {
  readonly name = 'rmsprop';
  readonly slotNames: readonly string[];
  readonly shader = SHADER;
  readonly entryPoint: string;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(options: RMSpropOptions = {}) {
    super('RMSprop', options, ['rho', 'momentum', 'epsilon', 'centered'], RMSPROP_DEFAULTS);
    const { rho = RMSPROP_DEFAULTS.rho, momentum = RMSPROP_DEFAULTS.momentum, epsilon = RMSPROP_DEFAULTS.epsilon, centered = RMSPROP_DEFAULTS.centered } = options;
    this.rho = checkNumber('RMSprop', 'rho', rho, { min: 0, max: 1 });
    this.momentum = checkNumber('RMSprop', 'momentum', momentum, { min: 0, max: 1 });
    this.epsilon = checkEpsilon('RMSprop', epsilon);
    this.centered = checkBoolean('RMSprop', 'centered', centered);
    const hasMomentum = this.momentum > 0;
    this.slotNames = ['velocity', ...(hasMomentum ? ['momentum'] : []), ...(this.centered ? ['average_gradient'] : [])];
    this.entryPoint = `rmsprop${this.centered ? 'Centered' : ''}${hasMomentum ? 'Momentum' : ''}`;
  }

  /** [rho, 1 - rho, momentum, epsilon]; 1 - rho rounded from double, as Keras' Python float is. */
  protected updateConstants(): number[] {
    return [f32(this.rho), f32(1 - this.rho), f32(this.momentum), f32(this.epsilon)];
  }

  protected referenceElement(w: number, g: number, slots: Float32Array[], i: number, lr: number, [rho, oneMinusRho, momentum, epsilon]: number[]): number {
    const [velocity] = slots;
    const v = f32(f32(rho * velocity[i]) + f32(oneMinusRho * f32(g * g)));
    velocity[i] = v;
    let denominator = f32(v + epsilon);
    if (this.centered) {
      const average = slots[slots.length - 1];
      const a = f32(f32(rho * average[i]) + f32(oneMinusRho * g));
      average[i] = a;
      denominator = f32(f32(v - f32(a * a)) + epsilon);
    }
    const increment = f32(f32(lr * g) / f32(Math.sqrt(denominator)));
    if (this.momentum === 0) return f32(w - increment);
    const s = f32(f32(momentum * slots[1][i]) + increment);
    slots[1][i] = s;
    return f32(w - s);
  }

  protected ownConfig(): Record<string, unknown> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
