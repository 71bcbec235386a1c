/** Dense's kernels on inputs of rank 3 and 4: the leading axes are rows (Keras' Dense on the last axis). */
import { describe, expect, it } from 'vitest';
import {
  denseBiasGradient,
  denseBiasGradientReference,
  denseForward,
  denseInputGradient,
  denseInputGradientReference,
  denseKernelGradient,
  denseKernelGradientReference,
  denseReference,
} from '../src/kernels/dense.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };

describe('dense kernels on inputs of any rank', () => {
  const gpu = useGpu();

  for (const [leading, inputs, units] of [[[3, 5], 4, 2], [[1, 1], 1, 1], [[2, 3, 7], 5, 3], [[37, 11], 16, 17]] as [number[], number, number][]) {
    it(`x [${[...leading, inputs].join(', ')}] · W [${inputs}, ${units}]: forward, gradients and shapes`, async () => {
      const rows = leading.reduce((a, b) => a * b, 1);
      const xs = randomFloats(rows * inputs, rows + inputs);
      const ws = randomFloats(inputs * units, units);
      const bs = randomFloats(units, 3);
      const dys = randomFloats(rows * units, 4);
      const x = gpu().upload(xs, [...leading, inputs]);
      const w = gpu().upload(ws, [inputs, units]);
      const dy = gpu().upload(dys, [...leading, units]);
      const y = denseForward(gpu(), x, w, gpu().upload(bs));
      const dx = denseInputGradient(gpu(), dy, w);
      const dw = denseKernelGradient(gpu(), x, dy);
      const db = denseBiasGradient(gpu(), dy);
      // x's gradient comes back in x's shape.
      expect([y.shape, dx.shape, dw.shape, db.shape]).toEqual([[...leading, units], [...leading, inputs], [inputs, units], [units]]);
      expectClose(await y.read(), denseReference(xs, ws, bs, rows, inputs, units), TOLERANCE);
      expectClose(await dx.read(), denseInputGradientReference(dys, ws, rows, inputs, units), TOLERANCE);
      expectClose(await dw.read(), denseKernelGradientReference(xs, dys, rows, inputs, units), TOLERANCE);
      expectClose(await db.read(), denseBiasGradientReference(dys, rows, units), TOLERANCE);
    });
  }

  it('refuses rank 1 and a dy whose leading axes differ from x', () => {
    const w = gpu().zeros([4, 2]);
    expect(() => denseForward(gpu(), gpu().zeros([4]), w, gpu().zeros([2]))).toThrow(/denseForward: expected x of rank 2 or more \(\[\.\.\., features\]\), found \[4\]/);
    expect(() => denseKernelGradient(gpu(), gpu().zeros([2, 3, 4]), gpu().zeros([3, 2, 2]))).toThrow(/denseKernelGradient: expected dy of shape \[2, 3, \*\], found \[3, 2, 2\]/);
  });
});
