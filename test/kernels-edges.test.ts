// Edges of the small kernel wrappers and of the references the suite checks the GPU against, which
// their kernels' own test files do not reach.
import { describe, expect, it } from 'vitest';
import { dropoutForward, dropoutReference } from '../src/kernels/dropout.js';
import { maxPoolBackward, maxPoolBackwardReference, maxPoolForward, maxPoolReference } from '../src/kernels/max-pool.js';
import { reluBackwardReference } from '../src/kernels/relu.js';
import { withShared } from '../src/kernels/shader-library.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

describe('kernel edges', () => {
  const gpu = useGpu();

  it("relu's reference gradient at x = ±0 is 0, as the kernel's (TF's dy·(x > 0))", () => {
    expect(Array.from(reluBackwardReference(Float32Array.of(0, -0, 1e-30, -1e-30), Float32Array.of(1, 1, 1, 1)))).toEqual([0, 0, 1, 0]);
  });

  it("max pool's references keep to their sample: the next sample's first step equal to this one's max is no tie", async () => {
    // B = 2, T = 2, D = 1: sample 0 is [5, 1] (max 5 at step 0), sample 1 is [5, 7] (max 7 at step 1).
    const xs = Float32Array.of(5, 1, 5, 7);
    const dOut = Float32Array.of(2, 3);
    expect(Array.from(maxPoolReference(xs, 2, 2, 1))).toEqual([5, 7]);
    expect(Array.from(maxPoolBackwardReference(xs, dOut, 2, 2, 1))).toEqual([2, 0, 0, 3]);
    const x = gpu().upload(xs, [2, 2, 1]);
    const dx = maxPoolBackward(gpu(), x, maxPoolForward(gpu(), x), gpu().upload(dOut, [2, 1]));
    expect(Array.from(await dx.read())).toEqual([2, 0, 0, 3]);
  });

  it('dropout takes an input of rank 5 without a noise shape (one axis, as any unbroadcast mask)', async () => {
    const shape = [2, 1, 3, 2, 5];
    const xs = randomFloats(60, 8);
    const settings = { rate: 0.5, seed: 6 };
    const y = dropoutForward(gpu(), gpu().upload(xs, shape), gpu().upload(Int32Array.of(2), [1]), settings);
    const values = Array.from(await y.read());
    expect(values).toEqual(Array.from(dropoutReference(xs, shape, 2, settings)));
    expect([values.some((v) => v === 0), values.some((v) => v !== 0)]).toEqual([true, true]);
  });

  it('dropout at rate 0 keeps every element as it is', async () => {
    const xs = randomFloats(50, 9);
    const y = dropoutForward(gpu(), gpu().upload(xs, [5, 10]), gpu().upload(Int32Array.of(1), [1]), { rate: 0, seed: 3 });
    expect(Array.from(await y.read())).toEqual(Array.from(xs));
  });

  it('withShared puts the shared parts in front, in order, a line each', () => {
    expect(withShared('main', 'a', 'b')).toBe('a\nb\nmain');
    expect(withShared('main')).toBe('main');
  });
});
