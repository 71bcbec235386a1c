/**
 * SGD, keras/src/optimizers/sgd.py:
 *   momentum 0:  w -= g lr                               (no slot: Keras creates none)
 *   momentum:    m = m momentum - g lr;  w += m          (slot "momentum")
 *   nesterov:    m = m momentum - g lr;  w += m momentum - g lr
 * shaders/optimizer-sgd.wgsl, entry points `sgd`, `sgdMomentum`, `sgdNesterov`.
 */
import source from '../../../shaders/optimizer-sgd.wgsl';
import { Optimizer, optimizerShader, type OptimizerOptions } from './optimizer.js';
import { checkBoolean, checkNumber } from './validation.js';

export interface SGDOptions extends OptimizerOptions {
  /** In [0, 1]; 0 is plain gradient descent. */
  momentum?: number;
  /** Nesterov momentum (only meaningful with momentum > 0, as in Keras). */
  nesterov?: boolean;
}

/** Keras' defaults. */
export const SGD_DEFAULTS = { learningRate: 0.01, momentum: 0, nesterov: false, weightDecay: null } as const;
const SHADER = optimizerShader(source);
const f32 = Math.fround;

export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly slotNames: readonly string[];
  readonly shader = SHADER;
  readonly entryPoint: string;
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: SGDOptions = {}) {
    super('SGD', options, ['momentum', 'nesterov'], SGD_DEFAULTS);
    const { momentum = SGD_DEFAULTS.momentum, nesterov = SGD_DEFAULTS.nesterov } = options;
    // Keras: "`momentum` must be a float between [0, 1]."
    this.momentum = checkNumber('SGD', 'momentum', momentum, { min: 0, max: 1 });
    this.nesterov = checkBoolean('SGD', 'nesterov', nesterov);
    // Keras builds the momentum slot only when momentum != 0, and then reads nesterov.
    this.slotNames = this.momentum === 0 ? [] : ['momentum'];
    this.entryPoint = this.momentum === 0 ? 'sgd' : this.nesterov ? 'sgdNesterov' : 'sgdMomentum';
  }

  /** [momentum]. */
  protected updateConstants(): number[] {
    return [f32(this.momentum)];
  }

  protected referenceElement(w: number, g: number, slots: Float32Array[], i: number, lr: number, [momentum]: number[]): number {
    const step = f32(g * lr);
    if (this.momentum === 0) return f32(w - step);
    const m = f32(f32(slots[0][i] * momentum) - step);
    slots[0][i] = m;
    return f32(w + (this.nesterov ? f32(f32(m * momentum) - step) : m));
  }

  protected ownConfig(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
