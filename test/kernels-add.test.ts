import { describe, expect, it } from 'vitest';
import { add, addReference } from '../src/kernels/add.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

describe('add kernel', () => {
  const gpu = useGpu();

  // 1 element, sizes that are not multiples of the workgroup, and the model's [512, 16].
  for (const shape of [[1], [1000], [70_001], [512, 16], [3, 17]]) {
    it(`matches the reference exactly (shape [${shape}])`, async () => {
      const n = shape.reduce((p, d) => p * d, 1);
      const as = randomFloats(n, n);
      const bs = randomFloats(n, n + 11);
      const out = add(gpu(), gpu().upload(as, shape), gpu().upload(bs, shape));
      expect(out.shape).toEqual(shape);
      // One f32 addition on each side: correctly rounded on both, so equal.
      expectClose(await out.read(), addReference(as, bs), { atol: 0, rtol: 0 });
    });
  }

  it('refuses operands of different shapes', () => {
    const a = gpu().zeros([2, 3]);
    const b = gpu().zeros([3, 2]);
    expect(() => add(gpu(), a, b)).toThrow(RangeError);
    expect(() => add(gpu(), a, b)).toThrow('add: expected b of shape [2, 3] (as a), found [3, 2]');
    expect(() => add(gpu(), a, gpu().zeros([6]))).toThrow(RangeError);
  });
});
