// Edges of the small kernel wrappers and of the references the suite checks the GPU against, which
// their kernels' own test files do not reach.
import { describe, expect, it } from 'vitest';
import { bceFromLogitsLosses, bceLosses } from '../src/kernels/binary-crossentropy.js';
import { dropoutForward, dropoutReference } from '../src/kernels/dropout.js';
import { reluBackwardReference } from '../src/kernels/relu.js';
import { withShared } from '../src/kernels/shader-library.js';
import { sigmoidBackward, sigmoidBackwardReference, sigmoidForward } from '../src/kernels/sigmoid.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

describe('kernel edges', () => {
  const gpu = useGpu();

  it("relu's reference gradient at x = ±0 is 0, as the kernel's (TF's dy·(x > 0))", () => {
    expect(Array.from(reluBackwardReference(Float32Array.of(0, -0, 1e-30, -1e-30), Float32Array.of(1, 1, 1, 1)))).toEqual([0, 0, 1, 0]);
  });

  it('sigmoid backward writes its own element count into its uniform, whatever the recycled uniform held', async () => {
    // The forward of one element leaves a uniform holding count 1 for the backward to reuse.
    await sigmoidForward(gpu(), gpu().upload(Float32Array.of(0.5))).read();
    const ys = randomFloats(100, 4, 0, 1);
    const dys = randomFloats(100, 5);
    expectClose(await sigmoidBackward(gpu(), gpu().upload(ys), gpu().upload(dys)).read(), sigmoidBackwardReference(ys, dys), { atol: 1e-6, rtol: 1e-5 });
  });

  it('binary cross-entropy: the mean loss is a [1] tensor, from logits and from probabilities', () => {
    const p = gpu().zeros([3]);
    expect([bceFromLogitsLosses(gpu(), p, p).mean.shape, bceLosses(gpu(), p, p).mean.shape]).toEqual([[1], [1]]);
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
