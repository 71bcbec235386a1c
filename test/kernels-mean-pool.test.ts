import { describe, expect, it } from 'vitest';
import { meanPoolBackward, meanPoolBackwardReference, meanPoolForward, meanPoolReference } from '../src/kernels/mean-pool.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

// The references sum in float32 in the GPU's order, so only the final division may differ
// (WGSL allows 2.5 ULP for f32 division).
const DIVISION_TOLERANCE = { atol: 1e-7, rtol: 1e-6 };

describe('mean-pool kernel', () => {
  const gpu = useGpu();

  // Batch sizes and element counts that are not multiples of the workgroup; D not a multiple of 4.
  for (const batch of [1, 3, 37]) {
    for (const steps of [1, 5, 256]) {
      for (const dim of [16, 3]) {
        it(`forward and backward match the reference (B = ${batch}, T = ${steps}, D = ${dim})`, async () => {
          const seed = batch * 1000 + steps * 10 + dim;
          const xs = randomFloats(batch * steps * dim, seed);
          const dys = randomFloats(batch * dim, seed + 1);
          const x = gpu().upload(xs, [batch, steps, dim]);
          const dy = gpu().upload(dys, [batch, dim]);
          const y = meanPoolForward(gpu(), x);
          const dx = meanPoolBackward(gpu(), dy, steps);
          expect(y.shape).toEqual([batch, dim]);
          expect(dx.shape).toEqual([batch, steps, dim]);
          expectClose(await y.read(), meanPoolReference(xs, batch, steps, dim), DIVISION_TOLERANCE);
          expectClose(await dx.read(), meanPoolBackwardReference(dys, batch, steps, dim), DIVISION_TOLERANCE);
          for (const t of [x, dy, y, dx]) t.dispose();
        });
      }
    }
  }

  it('counts padding positions (no mask): the mean of [1, 0, 0, 0] is 0.25', async () => {
    const x = gpu().upload(new Float32Array([1, 0, 0, 0]), [1, 4, 1]);
    expect(Array.from(await meanPoolForward(gpu(), x).read())).toEqual([0.25]);
  });

  it('refuses tensors of the wrong rank or dtype, and a non-positive step count', () => {
    const flat = gpu().upload(new Float32Array(6), [2, 3]);
    const ints = gpu().upload(new Int32Array(6), [1, 2, 3]);
    expect(() => meanPoolForward(gpu(), flat)).toThrow(RangeError);
    expect(() => meanPoolForward(gpu(), flat)).toThrow(/meanPoolForward: x must be f32 \[batch, steps, dim\], found f32 \[2, 3\]/);
    expect(() => meanPoolForward(gpu(), ints)).toThrow(TypeError);
    expect(() => meanPoolBackward(gpu(), ints, 2)).toThrow(TypeError);
    expect(() => meanPoolBackward(gpu(), flat, 0)).toThrow(/meanPoolBackward: steps must be a positive integer, found 0/);
  });
});
