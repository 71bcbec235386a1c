import { describe, expect, it } from 'vitest';
import {
  maskedMeanPoolBackward,
  maskedMeanPoolBackwardReference,
  maskedMeanPoolForward,
  maskedMeanPoolGatheredForward,
  maskedMeanPoolReference,
} from '../src/kernels/masked-mean-pool.js';
import { meanPoolForward } from '../src/kernels/mean-pool.js';
import { paddingMaskForward, paddingMaskReference } from '../src/kernels/padding-mask.js';
import { centralDifferences, expectClose, randomFloats, randomIds, useGpu } from './gpu-helpers.js';

// The references sum in float32 in the GPU's order; only the division may differ (WGSL allows 2.5 ULP).
const DIVISION_TOLERANCE = { atol: 1e-7, rtol: 1e-6 };

describe('padding mask and masked mean-pool kernels (Embedding mask_zero -> GlobalAveragePooling1D)', () => {
  const gpu = useGpu();

  it('the mask is 1 for every id but 0', async () => {
    const ids = Int32Array.from([0, 1, 0, 7, 3, 0, 0, 2, 9999, -1]);
    const mask = paddingMaskForward(gpu(), gpu().upload(ids, [2, 5]));
    expect(mask.shape).toEqual([2, 5]);
    expect(Array.from(await mask.read())).toEqual(Array.from(paddingMaskReference(ids)));
    expect(Array.from(paddingMaskReference(ids))).toEqual([0, 1, 0, 1, 1, 0, 0, 1, 1, 1]);
  });

  for (const [batch, steps, dim] of [[1, 1, 1], [3, 5, 7], [37, 64, 16]]) {
    it(`forward and backward match the references (B = ${batch}, T = ${steps}, D = ${dim})`, async () => {
      const ids = randomIds(batch * steps, batch + steps, 3); // about a third padding
      ids[0] = 1; // row 0 keeps a step (all-masked rows have their own test)
      const maskValues = paddingMaskReference(ids);
      const xs = randomFloats(batch * steps * dim, 7);
      const dys = randomFloats(batch * dim, 8);
      const mask = paddingMaskForward(gpu(), gpu().upload(ids, [batch, steps]));
      const y = maskedMeanPoolForward(gpu(), gpu().upload(xs, [batch, steps, dim]), mask);
      const dx = maskedMeanPoolBackward(gpu(), gpu().upload(dys, [batch, dim]), mask, dim);
      expectClose(await y.read(), maskedMeanPoolReference(xs, maskValues, batch, steps, dim), DIVISION_TOLERANCE);
      expectClose(await dx.read(), maskedMeanPoolBackwardReference(dys, maskValues, batch, steps, dim), DIVISION_TOLERANCE);
    });
  }

  it('averages only the unmasked steps ([1, 3, pad, pad] -> 2); with no step masked it is the plain mean', async () => {
    const x = gpu().upload(new Float32Array([1, 3, 100, 100]), [1, 4, 1]);
    expect(Array.from(await maskedMeanPoolForward(gpu(), x, gpu().upload(new Float32Array([1, 1, 0, 0]), [1, 4])).read())).toEqual([2]);
    const full = gpu().upload(new Float32Array([1, 1, 1, 1]), [1, 4]);
    expect(Array.from(await maskedMeanPoolForward(gpu(), x, full).read())).toEqual(Array.from(await meanPoolForward(gpu(), x).read()));
  });

  it('a row with every step masked gives NaN (Keras: 0 / 0) and a zero gradient; masked steps may hold NaN', async () => {
    const x = gpu().upload(new Float32Array([NaN, 2, 5, 6]), [2, 2, 1]);
    const mask = gpu().upload(new Float32Array([0, 1, 0, 0]), [2, 2]);
    const y = Array.from(await maskedMeanPoolForward(gpu(), x, mask).read());
    expect(y[0]).toBe(2);
    expect(y[1]).toBeNaN();
    const dx = await maskedMeanPoolBackward(gpu(), gpu().upload(new Float32Array([4, 1]), [2, 1]), mask, 1).read();
    expect(Array.from(dx)).toEqual([0, 4, 0, 0]);
  });

  it('the gradient agrees with central differences', async () => {
    const [batch, steps, dim] = [3, 5, 2];
    const maskValues = Float32Array.from({ length: batch * steps }, (_, i) => (i % 3 === 2 ? 0 : 1));
    const xs = Float64Array.from(randomFloats(batch * steps * dim, 3));
    const weights = randomFloats(batch * dim, 4);
    const loss = () => maskedMeanPoolReference(xs, maskValues, batch, steps, dim).reduce((s, v, i) => s + v * weights[i], 0);
    const fd = centralDifferences(xs, loss, 1e-4);
    const dx = maskedMeanPoolBackward(gpu(), gpu().upload(weights, [batch, dim]), gpu().upload(maskValues, [batch, steps]), dim);
    expectClose(await dx.read(), fd, { atol: 1e-5, rtol: 1e-4 });
  });

  // An idle invocation let through forwardGathered's guard (i = count) finds every index clamped: it
  // averages the last sample's last row T times and writes it over the last output. Here each
  // sample's steps are different rows, so that is another value; B = 3 (count 6: that invocation
  // shares a group of 4 with the last real one) and B = 4 (count 8: it starts a group of its own).
  it('the gathered forward gives every sample its own mean, the last one included', async () => {
    const [steps, dim] = [2, 5];
    const table = Float32Array.from({ length: 6 * dim }, (_, i) => i);
    for (const batch of [3, 4]) {
      const ids = Int32Array.from({ length: batch * steps }, (_, k) => 1 + (k % 5));
      const rows = Float32Array.from({ length: batch * steps * dim }, (_, k) => table[ids[Math.floor(k / dim)] * dim + (k % dim)]);
      const y = await maskedMeanPoolGatheredForward(gpu(), gpu().upload(table, [6, dim]), gpu().upload(ids, [batch, steps])).read();
      expect(Array.from(y)).toEqual(Array.from(maskedMeanPoolReference(rows, new Float32Array(batch * steps).fill(1), batch, steps, dim)));
    }
  });

  it('refuses a mask of another shape or dtype, and ids that are not i32', () => {
    const x = gpu().zeros([2, 3, 4]);
    expect(() => maskedMeanPoolForward(gpu(), x, gpu().zeros([2, 4]))).toThrow(/maskedMeanPoolForward: expected an f32 mask of shape \[2, 3\], found f32 \[2, 4\]/);
    expect(() => maskedMeanPoolForward(gpu(), x, gpu().upload(new Int32Array(6), [2, 3]))).toThrow(/found i32 \[2, 3\]/);
    expect(() => paddingMaskForward(gpu(), gpu().zeros([2, 3]))).toThrow(/paddingMaskForward: ids must be i32, found f32 \[2, 3\]/);
  });
});
