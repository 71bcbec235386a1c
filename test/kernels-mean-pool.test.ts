import { describe, expect, it } from 'vitest';
import { meanPoolBackward, meanPoolBackwardReference, meanPoolForward, meanPoolGatheredForward, meanPoolReference } from '../src/kernels/mean-pool.js';
import { expectClose, randomFloats, randomIds, useGpu } from './gpu-helpers.js';

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

  // More than 3 workgroups of 256 invocations go 2-D in tests (test/setup.ts), so each forward entry
  // point's index uses its gid.y term: B·D = 771 (forward, D = 3), B·D/4 = 800 (forward4, D = 64);
  // through the ids, B·ceil(D/4) = 770 (forwardGathered, D = 5: one column in its last quad) and B·D/4 = 800
  // (forwardGathered4, D = 16), over 7 steps (a quad of steps, then 3: a second quad would take the
  // next sample's first id).
  for (const [batch, dim] of [[257, 3], [50, 64]] as const) {
    it(`forward over more than 3 workgroups (a 2-D dispatch) matches the reference (B = ${batch}, D = ${dim})`, async () => {
      const steps = 2;
      const xs = randomFloats(batch * steps * dim, batch + dim);
      expectClose(await meanPoolForward(gpu(), gpu().upload(xs, [batch, steps, dim])).read(), meanPoolReference(xs, batch, steps, dim), DIVISION_TOLERANCE);
    });
  }
  for (const [batch, dim] of [[385, 5], [200, 16]] as const) {
    it(`forward through the ids over more than 3 workgroups (a 2-D dispatch) matches the reference (B = ${batch}, D = ${dim})`, async () => {
      const [vocab, steps] = [9, 7]; // 7: a whole quad of steps, then 3 alone
      const table = randomFloats(vocab * dim, dim, -2, 2);
      const ids = randomIds(batch * steps, batch, vocab);
      const rows = new Float32Array(batch * steps * dim);
      ids.forEach((id, n) => rows.set(table.subarray(id * dim, (id + 1) * dim), n * dim));
      const y = meanPoolGatheredForward(gpu(), gpu().upload(table, [vocab, dim]), gpu().upload(ids, [batch, steps]));
      expectClose(await y.read(), meanPoolReference(rows, batch, steps, dim), DIVISION_TOLERANCE);
    });
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
