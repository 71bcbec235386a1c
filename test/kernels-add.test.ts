import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import { add, addReference } from '../src/kernels/add.js';
import { expectClose, filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

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

// Past 65,535 workgroups linearWorkgroups makes the dispatch 2-D, and only then does the shader's index
// gid.x + gid.y * nwg.x * WORKGROUP_SIZE use gid.y: TWO_D_INVOCATIONS (~16.8 M) invocations, the fewest
// that get there (test/large-dispatch.test.ts has the elementwise kernels'), every element checked.
describe('add kernel past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();

  it('reaches every element', async () => {
    const n = TWO_D_INVOCATIONS;
    expect(linearWorkgroups(n, 256)[1]).toBeGreaterThan(1);
    // Periods prime to the workgroup size, so a misplaced element shows.
    const as = filled(new Float32Array(n), (i) => ((i % 251) - 125) / 25);
    const bs = filled(new Float32Array(n), (i) => ((i % 241) + 1) / 64);
    const sum = (await add(gpu(), gpu().upload(as), gpu().upload(bs)).read()) as Float32Array;
    const want = addReference(as, bs);
    expect(firstMismatch(sum, (i) => want[i])).toBe(-1);
  });
});
