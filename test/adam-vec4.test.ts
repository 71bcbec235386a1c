/**
 * Adam's vec4 update as the engine runs it (shaders/optimizer-adam.wgsl through
 * src/kernels/optimizer-update.ts `prepareOptimizerUpdate`, one uniform per step) against Keras'
 * formula in float64, and a hand-computed step that tells Keras' epsilon placement from the
 * paper's (issue #16).
 *
 * Keras 3 (keras/src/optimizers/adam.py `update_step`) folds both bias corrections into
 *   alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t),  w -= m alpha / (sqrt(v) + epsilon),
 * so epsilon meets the UNcorrected sqrt(v). Algorithm 1 of Kingma & Ba adds it to sqrt(v_hat):
 *   w -= lr m_hat / (sqrt(v_hat) + epsilon) = m alpha / (sqrt(v) + epsilon sqrt(1 - beta2^t)).
 * With the default epsilon 1e-7 and gradients of order 1 the two differ below float32's resolution;
 * with epsilon = 0.1, a gradient of 1e-3 and t = 1 (sqrt(1 - beta2) = 0.0316) they differ 31-fold.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/gpu/gpu.js';
import { prepareOptimizerUpdate } from '../src/kernels/optimizer-update.js';
import { Adam, type AdamOptions } from '../src/nn/optimizers/index.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

type Options = { learningRate?: number } & Pick<AdamOptions, 'beta1' | 'beta2' | 'epsilon'>;

/** Keras' Adam step in float64 (t = step, 1-based), in place. */
function adamFloat64(param: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, step: number, options: Options): void {
  const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = options;
  const alpha = (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  for (let i = 0; i < param.length; i++) {
    m[i] += (grad[i] - m[i]) * (1 - beta1);
    v[i] += (grad[i] * grad[i] - v[i]) * (1 - beta2);
    param[i] -= (m[i] * alpha) / (Math.sqrt(v[i]) + epsilon);
  }
}

describe('adam vec4 update', () => {
  const gpu = useGpu();

  /** `steps` prepared vec4 Adam updates over four flat buffers, one uniform per step (writes stay ordered). */
  async function vec4Steps(param: Float32Array, grads: Float32Array[], options: Options): Promise<{ param: Float32Array; m: Float32Array; v: Float32Array }> {
    const g = gpu();
    const adam = new Adam(options);
    const n = param.length;
    const [p, m, v] = [g.upload(param), g.zeros([n]), g.zeros([n])];
    const live: Tensor[] = [p, m, v];
    const uniforms: GPUBuffer[] = [];
    for (let iterations = 0; iterations < grads.length; iterations++) {
      const grad = g.upload(grads[iterations]);
      live.push(grad);
      const uniform = g.createUniform(adam.params(iterations));
      uniforms.push(uniform);
      g.record([await prepareOptimizerUpdate(g, adam, { weights: p, grads: grad, slots: [m, v] }, uniform)]);
    }
    const [param1, m1, v1] = (await g.readAll([p, m, v])) as Float32Array[];
    uniforms.forEach((u) => u.destroy());
    live.forEach((t) => t.dispose());
    return { param: param1, m: m1, v: v1 };
  }

  for (const [label, options] of [
    ['defaults', {}],
    ['custom hyperparameters', { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 }],
  ] as [string, Options][]) {
    it(`matches Keras' formula in float64 over 5 steps (${label})`, async () => {
      const n = 1028; // a multiple of 4, not of the workgroup's 256 vec4s
      const initial = randomFloats(n, 31, -1, 1);
      const grads = Array.from({ length: 5 }, (_, s) => randomFloats(n, 40 + s, -1, 1));
      const got = await vec4Steps(initial, grads, options);

      const [param, m, v] = [Float64Array.from(initial), new Float64Array(n), new Float64Array(n)];
      grads.forEach((grad, s) => adamFloat64(param, grad, m, v, s + 1, options));
      // m sums five terms of |g| <= 1 and may cancel to near 0: a few ulps of 1 absolute, not relative.
      expectClose(got.m, m, { atol: 5e-7, rtol: 1e-5 });
      expectClose(got.v, v, { atol: 5e-8, rtol: 1e-5 });
      expectClose(got.param, param, { atol: 3e-7, rtol: 1e-6 });
    });
  }

  it("puts epsilon where Keras does: the hand-computed steps, far from the paper's", async () => {
    // lr 1, beta1 0.9, beta2 0.999, epsilon 0.1, w = 0, g = 1e-3 twice (lane 0):
    //   t = 1: m = 1e-4, v = 1e-9, sqrt(v) = 3.16227766e-5, alpha = sqrt(0.001) / 0.1 = 0.316227766
    //          w = -1e-4 * 0.316227766 / (3.16227766e-5 + 0.1) = -3.16127798e-4
    //          (the paper's: -1e-3 / (sqrt(1e-6) + 0.1) = -9.90099e-3)
    //   t = 2: m = 1.9e-4, v = 1.999e-9, alpha = sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.235316725
    //          w = -3.16127798e-4 - 1.9e-4 * 0.235316725 / (4.47101778e-5 + 0.1) = -7.63029765e-4
    //          (the paper's: -1.98020e-2)
    // Lanes 1-3 take g = -2e-3, 1e-4 and 0 (no move at all).
    const options = { learningRate: 1, beta1: 0.9, beta2: 0.999, epsilon: 0.1 };
    const grad = Float32Array.of(1e-3, -2e-3, 1e-4, 0);
    const keras = [
      [-3.16127798e-4, 6.32055785e-4, -3.16217766e-5, 0],
      [-7.63029765e-4, 1.52546046e-3, -7.63299555e-5, 0],
    ];
    const paper = [-1.98020e-2, 3.92157e-2, -1.99800e-3, 0];
    const got = await vec4Steps(new Float32Array(4), [grad, grad], options);
    expectClose(got.param, keras[1], { atol: 0, rtol: 1e-5 });
    for (let i = 0; i < 3; i++) expect(Math.abs(got.param[i] / paper[i])).toBeLessThan(0.1);
    const first = await vec4Steps(new Float32Array(4), [grad], options);
    expectClose(first.param, keras[0], { atol: 0, rtol: 1e-5 });
    // The float64 reference agrees with the hand computation.
    const param = new Float64Array(4);
    const [m, v] = [new Float64Array(4), new Float64Array(4)];
    adamFloat64(param, grad, m, v, 1, options);
    expectClose(param, keras[0], { atol: 0, rtol: 1e-6 });
  });

  it('refuses flat buffers whose size is not a multiple of 4', async () => {
    const g = gpu();
    const t = g.zeros([6]);
    const adam = new Adam();
    const uniform = g.createUniform(adam.params(0));
    expect(() => prepareOptimizerUpdate(g, adam, { weights: t, grads: t, slots: [t, t] }, uniform)).toThrow(/6 elements is not a multiple of 4/);
    uniform.destroy();
  });
});
