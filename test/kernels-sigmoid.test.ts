import { describe, expect, it } from 'vitest';
import { sigmoidBackward, sigmoidBackwardReference, sigmoidForward, sigmoidReference } from '../src/kernels/sigmoid.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

// The GPU's exp is a float32 approximation; the references round a float64 result once.
const TOLERANCE = { atol: 1e-6, rtol: 1e-5 };

describe('sigmoid kernel', () => {
  const gpu = useGpu();

  for (const n of [1, 1000, 70_001]) {
    it(`forward and backward match the reference (n = ${n})`, async () => {
      const xs = randomFloats(n, n, -20, 20);
      const dys = randomFloats(n, n + 7);
      const y = sigmoidForward(gpu(), gpu().upload(xs));
      const ys = (await y.read()) as Float32Array;
      expectClose(ys, sigmoidReference(xs), TOLERANCE);
      // The backward takes the forward output; compare on the very values the GPU produced.
      expectClose(await sigmoidBackward(gpu(), y, gpu().upload(dys)).read(), sigmoidBackwardReference(ys, dys), TOLERANCE);
    });
  }

  it('is finite and saturates exactly at extreme inputs', async () => {
    const xs = new Float32Array([-1e4, -100, -88, -30, 0, 30, 88, 100, 1e4, -3e38, 3e38]);
    const ys = await sigmoidForward(gpu(), gpu().upload(xs)).read();
    expect(ys.every(Number.isFinite)).toBe(true);
    expect(ys[0]).toBe(0);
    expect(ys[8]).toBe(1);
    expect(ys[4]).toBe(0.5);
    expect(ys[7]).toBe(1);
    expect(ys[9]).toBe(0);
    expect(ys[10]).toBe(1);
    expectClose(ys, sigmoidReference(xs), TOLERANCE);
    // Saturated outputs have zero gradient, not NaN.
    const dx = await sigmoidBackward(gpu(), gpu().upload(ys as Float32Array), gpu().upload(new Float32Array(xs.length).fill(1))).read();
    expect(dx.every(Number.isFinite)).toBe(true);
    expect(dx[0]).toBe(0);
    expect(dx[8]).toBe(0);
  });

  it('keeps the shape and refuses a dy of another shape', () => {
    const y = sigmoidForward(gpu(), gpu().zeros([4, 3]));
    expect(y.shape).toEqual([4, 3]);
    expect(() => sigmoidBackward(gpu(), y, gpu().zeros([3, 4]))).toThrow('sigmoidBackward: expected dy of shape [4, 3] (as y), found [3, 4]');
  });
});
