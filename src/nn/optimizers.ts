/**
 * Keras' Adam (keras/src/optimizers/adam.py), dense over every weight, the
 * embedding table included: each step moves every element, as Keras does with
 * TensorFlow's dense gradients here (no lazy or sparse update).
 */
import { adamStep } from '../kernels/adam.js';
import type { Tensor } from '../gpu/gpu.js';

/** Adam's variables: Keras' `iterations` and the `m` and `v` slots, one per weight, in the model's order. */
export interface AdamState {
  iterations: number;
  m: Float32Array[];
  v: Float32Array[];
}

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Steps taken so far (Keras' `optimizer.iterations`). */
  iterations = 0;
  private readonly slots = new Map<Tensor, { m: Tensor; v: Tensor }>();

  constructor(options: AdamOptions = {}) {
    this.learningRate = options.learningRate ?? 0.001;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  /** One update of every weight from its gradient. */
  apply(pairs: readonly [weight: Tensor, gradient: Tensor][]): void {
    this.iterations++;
    for (const [weight, gradient] of pairs) {
      const slot = this.slot(weight);
      adamStep(weight.gpu, weight, gradient, slot.m, slot.v, {
        step: this.iterations,
        learningRate: this.learningRate,
        beta1: this.beta1,
        beta2: this.beta2,
        epsilon: this.epsilon,
      });
    }
  }

  /** The moments of `weight` (zeros until its first update), as Keras' `m` and `v` slot variables. */
  slot(weight: Tensor): { m: Tensor; v: Tensor } {
    let slot = this.slots.get(weight);
    if (!slot) {
      slot = { m: weight.gpu.zeros(weight.shape), v: weight.gpu.zeros(weight.shape) };
      this.slots.set(weight, slot);
    }
    return slot;
  }

  /** Keras' optimizer variables for `weights`: the step count and each weight's moments, read back. */
  async getState(weights: readonly Tensor[]): Promise<AdamState> {
    const slots = weights.map((w) => this.slot(w));
    const values = weights.length ? await weights[0].gpu.readAll(slots.flatMap((s) => [s.m, s.v])) : [];
    return {
      iterations: this.iterations,
      m: slots.map((_, i) => values[2 * i] as Float32Array),
      v: slots.map((_, i) => values[2 * i + 1] as Float32Array),
    };
  }

  /** Restore what `getState` returned (sizes checked). */
  setState(weights: readonly Tensor[], state: AdamState): void {
    if (state.m.length !== weights.length || state.v.length !== weights.length) {
      throw new RangeError(`Adam.setState: moments for ${state.m.length} weights, the model has ${weights.length}`);
    }
    weights.forEach((w, i) => {
      const slot = this.slot(w);
      w.gpu.write(slot.m, state.m[i]);
      w.gpu.write(slot.v, state.v[i]);
    });
    this.iterations = state.iterations;
  }

  /** Free the moment buffers. */
  dispose(): void {
    for (const { m, v } of this.slots.values()) {
      m.dispose();
      v.dispose();
    }
    this.slots.clear();
  }
}
