import { describe, expect, it } from 'vitest';
import { maxPoolBackward, maxPoolBackwardReference, maxPoolForward, maxPoolReference } from '../src/kernels/max-pool.js';
import { centralDifferences, expectClose, randomFloats, useGpu } from './gpu-helpers.js';

describe('max-pool kernel (GlobalMaxPooling1D)', () => {
  const gpu = useGpu();

  for (const [batch, steps, dim] of [[1, 1, 1], [3, 5, 7], [37, 200, 3], [2, 17, 16]]) {
    it(`forward and backward equal the reference (B = ${batch}, T = ${steps}, D = ${dim})`, async () => {
      const xs = randomFloats(batch * steps * dim, batch + steps + dim);
      const dys = randomFloats(batch * dim, 99);
      const x = gpu().upload(xs, [batch, steps, dim]);
      const dy = gpu().upload(dys, [batch, dim]);
      const y = maxPoolForward(gpu(), x);
      const dx = maxPoolBackward(gpu(), x, y, dy);
      expect([y.shape, dx.shape]).toEqual([[batch, dim], [batch, steps, dim]]);
      expect(Array.from(await y.read())).toEqual(Array.from(maxPoolReference(xs, batch, steps, dim)));
      expect(Array.from(await dx.read())).toEqual(Array.from(maxPoolBackwardReference(xs, dys, batch, steps, dim)));
    });
  }

  it("ties share the gradient equally, as TensorFlow's reduce_max gradient (_MinOrMaxGrad) does", async () => {
    // Column 0: max 3 at steps 0 and 2 (a tie); column 1: max 5 at step 1 only; column 2: all equal.
    const xs = new Float32Array([3, 1, 2, 0, 5, 2, 3, 4, 2]);
    const x = gpu().upload(xs, [1, 3, 3]);
    const y = maxPoolForward(gpu(), x);
    expect(Array.from(await y.read())).toEqual([3, 5, 2]);
    const dx = maxPoolBackward(gpu(), x, y, gpu().upload(new Float32Array([1, 2, 3]), [1, 3]));
    expect(Array.from(await dx.read())).toEqual([0.5, 0, 1, 0, 2, 1, 0.5, 0, 1]);
  });

  it('the gradient agrees with central differences away from ties', async () => {
    const [batch, steps, dim] = [2, 6, 3];
    const xs = Float64Array.from(randomFloats(batch * steps * dim, 5));
    const weights = randomFloats(batch * dim, 6);
    // float64 max over steps, weighted: the gradient of the output is `weights`.
    const loss = () => {
      let sum = 0;
      for (let b = 0; b < batch; b++) {
        for (let d = 0; d < dim; d++) sum += weights[b * dim + d] * Math.max(...Array.from({ length: steps }, (_, t) => xs[(b * steps + t) * dim + d]));
      }
      return sum;
    };
    // h far below the gaps between the inputs, so no max changes place.
    const fd = centralDifferences(xs, loss, 1e-6);
    const x = gpu().upload(Float32Array.from(xs), [batch, steps, dim]);
    const dx = maxPoolBackward(gpu(), x, maxPoolForward(gpu(), x), gpu().upload(weights, [batch, dim]));
    expectClose(await dx.read(), fd, { atol: 1e-5, rtol: 1e-4 });
  });

  it('refuses the wrong rank, no steps, and a pooled output of another shape', () => {
    expect(() => maxPoolForward(gpu(), gpu().zeros([2, 3]))).toThrow(/maxPoolForward: x must be f32 \[batch, steps, dim\] with at least one step, found f32 \[2, 3\]/);
    expect(() => maxPoolForward(gpu(), gpu().zeros([2, 0, 3]))).toThrow(/at least one step/);
    const x = gpu().zeros([2, 3, 4]);
    expect(() => maxPoolBackward(gpu(), x, gpu().zeros([2, 3]), gpu().zeros([2, 3]))).toThrow(/expected pooled of shape \[2, 4\], found \[2, 3\]/);
  });
});
