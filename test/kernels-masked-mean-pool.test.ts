import { describe, expect, it } from 'vitest';
import {
  broadcastMasked,
  maskedMeanPoolBackward,
  maskedMeanPoolBackwardExpanded,
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

  // 1 + 2⁻²⁴ rounds back to 1 in float32 (a tie, to even): summed in float32 step by step the three
  // small steps vanish, as on the GPU (1 / 4, exact); summed in float64 and rounded once at the end
  // they would not (0.25 + 1.5 ulp).
  it('the float32 reference rounds every add as the GPU does; the float64 one rounds none', async () => {
    const xs = Float32Array.of(1, 2 ** -24, 2 ** -24, 2 ** -24);
    const want = maskedMeanPoolReference(xs, [1, 1, 1, 1], 1, 4, 1);
    expect(want).toBeInstanceOf(Float32Array);
    expect(Array.from(want)).toEqual([0.25]);
    const y = maskedMeanPoolForward(gpu(), gpu().upload(xs, [1, 4, 1]), gpu().upload(Float32Array.of(1, 1, 1, 1), [1, 4]));
    expect(Array.from(await y.read())).toEqual(Array.from(want));
    const wide = maskedMeanPoolReference(Float64Array.of(0.1, 0.2), [1, 1], 1, 2, 1);
    expect(wide).toBeInstanceOf(Float64Array);
    expect(Array.from(wide)).toEqual([(0.1 + 0.2) / 2]);
  });

  // expectClose takes any value where the expected one is infinite (its tolerance is too): a reference
  // that divided by 0 would pass the comparisons above, so its values are checked here.
  it('the backward reference shares dOut among the unmasked steps', () => {
    expect(Array.from(maskedMeanPoolBackwardReference([6, 3, 4, 8], [1, 0, 1, 0, 0, 1], 2, 3, 2))).toEqual([3, 1.5, 0, 0, 3, 1.5, 0, 0, 0, 0, 4, 8]);
  });

  // The Gpu names the kernel whose binding is wrong: the pipeline's name.
  it('a disposed input fails naming the kernel and the binding', () => {
    const x = gpu().zeros([2, 3, 4]);
    x.dispose();
    expect(() => maskedMeanPoolForward(gpu(), x, gpu().zeros([2, 3]))).toThrow('masked-mean-pool: binding 1 is a disposed tensor');
    const table = gpu().zeros([5, 4]);
    table.dispose();
    expect(() => maskedMeanPoolGatheredForward(gpu(), table, gpu().zeros([2, 3], 'i32'))).toThrow('masked-mean-pool: binding 1 is a disposed tensor');
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

  // Each refused input breaks one condition of its check alone (the others hold), and the message
  // names the op, what it expected and what it found.
  it('refuses x without steps or width, and a mask of another rank or batch', () => {
    const mask = gpu().zeros([2, 3]);
    const xMessage = (op: string, found: string) => `${op}: x must be [batch, steps, dim] with steps and dim >= 1, found [${found}]`;
    expect(() => maskedMeanPoolForward(gpu(), gpu().zeros([2, 0, 4]), gpu().zeros([2, 0]))).toThrow(xMessage('maskedMeanPoolForward', '2, 0, 4'));
    expect(() => maskedMeanPoolForward(gpu(), gpu().zeros([2, 3, 0]), mask)).toThrow(xMessage('maskedMeanPoolForward', '2, 3, 0'));
    expect(() => maskedMeanPoolForward(gpu(), gpu().zeros([2, 12]), mask)).toThrow(xMessage('maskedMeanPoolForward', '2, 12'));
    // One step and one feature are enough.
    expect(maskedMeanPoolForward(gpu(), gpu().zeros([2, 1, 1]), gpu().zeros([2, 1])).shape).toEqual([2, 1]);
    const x = gpu().zeros([2, 3, 4]);
    expect(() => maskedMeanPoolForward(gpu(), x, gpu().zeros([3, 3]))).toThrow('maskedMeanPoolForward: expected an f32 mask of shape [2, 3], found f32 [3, 3]');
    expect(() => maskedMeanPoolForward(gpu(), x, gpu().zeros([2, 3, 1]))).toThrow('maskedMeanPoolForward: expected an f32 mask of shape [2, 3], found f32 [2, 3, 1]');
  });

  it('refuses a dOut or shares that do not fit the mask, naming both shapes', () => {
    const mask = gpu().zeros([2, 3]);
    expect(() => maskedMeanPoolBackward(gpu(), gpu().zeros([2, 4, 1]), mask, 4)).toThrow('maskedMeanPoolBackward: expected dOut of shape [2, 4], found [2, 4, 1]');
    expect(() => maskedMeanPoolBackward(gpu(), gpu().zeros([3, 4]), mask, 4)).toThrow('maskedMeanPoolBackward: expected dOut of shape [2, 4], found [3, 4]');
    expect(() => maskedMeanPoolBackward(gpu(), gpu().zeros([2, 5]), mask, 4)).toThrow('maskedMeanPoolBackward: expected dOut of shape [2, 4], found [2, 5]');
    expect(() => maskedMeanPoolBackward(gpu(), gpu().zeros([2, 0]), mask, 0)).toThrow('maskedMeanPoolBackward: x must be [batch, steps, dim] with steps and dim >= 1, found [2, 3, 0]');
    // The expanded gradient takes its width from dOut.
    expect(() => maskedMeanPoolBackwardExpanded(gpu(), gpu().zeros([2, 1, 4]), mask)).toThrow('maskedMeanPoolBackwardExpanded: expected dOut of shape [2, dim], found [2, 1, 4]');
    expect(() => maskedMeanPoolBackwardExpanded(gpu(), gpu().zeros([3, 4]), mask)).toThrow('maskedMeanPoolBackwardExpanded: expected dOut of shape [2, dim], found [3, 4]');
    expect(() => maskedMeanPoolBackwardExpanded(gpu(), gpu().zeros([2, 4]), gpu().zeros([2, 3], 'i32'))).toThrow('maskedMeanPoolBackwardExpanded: expected an f32 mask of shape [2, 3], found i32 [2, 3]');
    expect(() => broadcastMasked(gpu(), gpu().zeros([2, 1]), mask)).toThrow('broadcastMasked: expected shares of shape [2, 1, dim], found [2, 1]');
    expect(() => broadcastMasked(gpu(), gpu().zeros([3, 1, 4]), mask)).toThrow('broadcastMasked: expected shares of shape [2, 1, dim], found [3, 1, 4]');
    expect(() => broadcastMasked(gpu(), gpu().zeros([2, 3, 4]), mask)).toThrow('broadcastMasked: expected shares of shape [2, 1, dim], found [2, 3, 4]');
    expect(() => broadcastMasked(gpu(), gpu().zeros([2, 1, 4]), gpu().zeros([2, 3], 'i32'))).toThrow('broadcastMasked: expected an f32 mask of shape [2, 3], found i32 [2, 3]');
  });

  it('the gathered mean refuses a table that is not f32 [vocab, dim] and ids that are not i32 [batch, steps]', () => {
    const [table, ids] = [gpu().zeros([5, 4]), gpu().zeros([2, 3], 'i32')];
    const op = 'maskedMeanPoolGatheredForward';
    expect(() => maskedMeanPoolGatheredForward(gpu(), gpu().zeros([5, 4], 'i32'), ids)).toThrow(`${op}: table must be f32 [vocab, dim], found i32 [5, 4]`);
    expect(() => maskedMeanPoolGatheredForward(gpu(), gpu().zeros([20]), ids)).toThrow(`${op}: table must be f32 [vocab, dim], found f32 [20]`);
    expect(() => maskedMeanPoolGatheredForward(gpu(), table, gpu().zeros([2, 3]))).toThrow(`${op}: ids must be i32 [batch, steps], found f32 [2, 3]`);
    expect(() => maskedMeanPoolGatheredForward(gpu(), table, gpu().zeros([6], 'i32'))).toThrow(`${op}: ids must be i32 [batch, steps], found i32 [6]`);
  });
});
