import { describe, it } from 'vitest';
import { reluBackward, reluBackwardReference, reluForward, reluReference } from '../src/kernels/relu.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

describe('relu kernel', () => {
  const gpu = useGpu();

  // 1 element, a non-multiple of the workgroup, and more than 65535 workgroups' worth is not needed here.
  for (const n of [1, 1000, 70_001]) {
    it(`forward and backward match the reference (n = ${n})`, async () => {
      const xs = randomFloats(n, n);
      const dys = randomFloats(n, n + 7);
      const x = gpu().upload(xs);
      const dy = gpu().upload(dys);
      expectClose(await reluForward(gpu(), x).read(), reluReference(xs), { atol: 0, rtol: 0 });
      expectClose(await reluBackward(gpu(), x, dy).read(), reluBackwardReference(xs, dys), { atol: 0, rtol: 0 });
    });
  }
});
