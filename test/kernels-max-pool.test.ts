import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import { maxPoolBackward, maxPoolBackwardReference, maxPoolForward, maxPoolReference } from '../src/kernels/max-pool.js';
import { centralDifferences, expectClose, filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

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

// Past 65,535 workgroups linearWorkgroups makes the dispatch 2-D, and only then does the shader's index
// gid.x + gid.y * nwg.x * WORKGROUP_SIZE use gid.y: TWO_D_INVOCATIONS (~16.8 M) invocations, the fewest
// that get there (test/large-dispatch.test.ts has the elementwise kernels'), every element checked.
describe('max-pool kernel past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();

  // B = TWO_D_INVOCATIONS samples of 2 steps and 1 feature: one invocation per sample; every 5th sample's steps tie.
  it('reaches every sample, forward and backward', async () => {
    const batch = TWO_D_INVOCATIONS;
    expect(linearWorkgroups(batch, 256)[1]).toBeGreaterThan(1);
    const xs = filled(new Float32Array(2 * batch), (k) => {
      const b = k >> 1;
      return k % 2 === 0 || b % 5 === 0 ? ((b % 251) - 125) / 25 : ((b % 241) - 120) / 24;
    });
    const dys = filled(new Float32Array(batch), (b) => ((b % 239) + 1) / 64);
    const x = gpu().upload(xs, [batch, 2, 1]);
    const pooled = maxPoolForward(gpu(), x);
    const wantPooled = maxPoolReference(xs, batch, 2, 1);
    expect(firstMismatch((await pooled.read()) as Float32Array, (i) => wantPooled[i])).toBe(-1);
    const dx = (await maxPoolBackward(gpu(), x, pooled, gpu().upload(dys, [batch, 1])).read()) as Float32Array;
    const wantDx = maxPoolBackwardReference(xs, dys, batch, 2, 1);
    expect(firstMismatch(dx, (i) => wantDx[i])).toBe(-1);
  });
});
