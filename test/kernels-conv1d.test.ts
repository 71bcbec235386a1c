import { describe, expect, it } from 'vitest';
import {
  conv1dForward,
  conv1dGeometry,
  conv1dInputGradient,
  conv1dInputGradientReference,
  conv1dKernelGradient,
  conv1dKernelGradientReference,
  conv1dReference,
  type Conv1DPadding,
  type Conv1DShape,
} from '../src/kernels/conv1d.js';
import { denseBiasGradient, denseBiasGradientReference } from '../src/kernels/dense.js';
import { centralDifferences, expectClose, randomFloats, useGpu } from './gpu-helpers.js';

// float32 sums of up to a few hundred products against float64 references.
const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };

describe('conv1d kernels', () => {
  const gpu = useGpu();

  // Odd sizes; kernels of 1, even and odd lengths, one as long as the input ('valid' gives 1 step), one longer ('same' only).
  const cases: [number, number, number, number, number, Conv1DPadding][] = [
    [1, 1, 1, 1, 1, 'valid'],
    [3, 7, 5, 4, 3, 'valid'],
    [3, 7, 5, 4, 3, 'same'],
    [2, 6, 3, 5, 4, 'same'],
    [5, 4, 2, 3, 4, 'valid'],
    [2, 3, 2, 3, 5, 'same'],
    [37, 20, 16, 8, 5, 'valid'],
  ];
  for (const [batch, steps, channels, filters, kernelSize, padding] of cases) {
    it(`forward and gradients match the references (B ${batch}, T ${steps}, C ${channels}, F ${filters}, K ${kernelSize}, ${padding})`, async () => {
      const s: Conv1DShape = { batch, steps, channels, filters, kernelSize, padding };
      const { outSteps } = conv1dGeometry('test', steps, kernelSize, padding);
      const seed = batch * 131 + steps * 17 + kernelSize;
      const xs = randomFloats(batch * steps * channels, seed);
      const ws = randomFloats(kernelSize * channels * filters, seed + 1);
      const bs = randomFloats(filters, seed + 2);
      const dys = randomFloats(batch * outSteps * filters, seed + 3);
      const x = gpu().upload(xs, [batch, steps, channels]);
      const w = gpu().upload(ws, [kernelSize, channels, filters]);
      const b = gpu().upload(bs, [filters]);
      const dy = gpu().upload(dys, [batch, outSteps, filters]);

      const y = conv1dForward(gpu(), x, w, b, padding);
      const yNoBias = conv1dForward(gpu(), x, w, null, padding);
      const dx = conv1dInputGradient(gpu(), dy, w, steps, padding);
      const dw = conv1dKernelGradient(gpu(), x, dy, kernelSize, padding);
      const db = denseBiasGradient(gpu(), dy);
      expect([y.shape, dx.shape, dw.shape, db.shape]).toEqual([[batch, outSteps, filters], [batch, steps, channels], [kernelSize, channels, filters], [filters]]);
      expectClose(await y.read(), conv1dReference(xs, ws, bs, s), TOLERANCE);
      expectClose(await yNoBias.read(), conv1dReference(xs, ws, null, s), TOLERANCE);
      expectClose(await dx.read(), conv1dInputGradientReference(dys, ws, s), TOLERANCE);
      expectClose(await dw.read(), conv1dKernelGradientReference(xs, dys, s), TOLERANCE);
      expectClose(await db.read(), denseBiasGradientReference(dys, batch * outSteps, filters), TOLERANCE);
      for (const t of [x, w, b, dy, y, yNoBias, dx, dw, db]) t.dispose();
    });
  }

  it("pads 'same' as TensorFlow does at stride 1: floor((K - 1) / 2) zeros on the left, the rest on the right", async () => {
    // x = [1, 2, 3], kernel [1, 10, 100] (K = 3: one zero each side; K = 4: one left, two right).
    const x = gpu().upload(new Float32Array([1, 2, 3]), [1, 3, 1]);
    const k3 = gpu().upload(new Float32Array([1, 10, 100]), [3, 1, 1]);
    expect(Array.from(await conv1dForward(gpu(), x, k3, null, 'same').read())).toEqual([0 + 10 + 200, 1 + 20 + 300, 2 + 30 + 0]);
    const k4 = gpu().upload(new Float32Array([1, 10, 100, 1000]), [4, 1, 1]);
    expect(Array.from(await conv1dForward(gpu(), x, k4, null, 'same').read())).toEqual([0 + 10 + 200 + 3000, 1 + 20 + 300, 2 + 30]);
    expect(conv1dGeometry('t', 10, 4, 'same')).toEqual({ outSteps: 10, padLeft: 1 });
    expect(conv1dGeometry('t', 10, 4, 'valid')).toEqual({ outSteps: 7, padLeft: 0 });
  });

  for (const padding of ['valid', 'same'] as const) {
    it(`gradients agree with central differences of the float64 forward (${padding})`, async () => {
      const s: Conv1DShape = { batch: 2, steps: 6, channels: 3, filters: 2, kernelSize: 4, padding };
      const { outSteps } = conv1dGeometry('test', s.steps, s.kernelSize, padding);
      const xs = Float64Array.from(randomFloats(s.batch * s.steps * s.channels, 1));
      const ws = Float64Array.from(randomFloats(s.kernelSize * s.channels * s.filters, 2));
      const bs = Float64Array.from(randomFloats(s.filters, 3));
      // loss = Σ weights ⊙ conv(x), so the gradient of the output is `weights`.
      const weights = randomFloats(s.batch * outSteps * s.filters, 4);
      const loss = () => conv1dReference(xs, ws, bs, s, new Float64Array(weights.length)).reduce((sum, v, i) => sum + v * weights[i], 0);
      const H = 1e-3;
      const dy = gpu().upload(weights, [s.batch, outSteps, s.filters]);
      const x = gpu().upload(Float32Array.from(xs), [s.batch, s.steps, s.channels]);
      const w = gpu().upload(Float32Array.from(ws), [s.kernelSize, s.channels, s.filters]);
      expectClose(await conv1dInputGradient(gpu(), dy, w, s.steps, padding).read(), centralDifferences(xs, loss, H), TOLERANCE);
      expectClose(await conv1dKernelGradient(gpu(), x, dy, s.kernelSize, padding).read(), centralDifferences(ws, loss, H), TOLERANCE);
      expectClose(await denseBiasGradient(gpu(), dy).read(), centralDifferences(bs, loss, H), TOLERANCE);
    });
  }

  it('refuses mismatched shapes and a kernel longer than a valid input, naming the op and the shapes', () => {
    const x = gpu().zeros([2, 3, 4]);
    expect(() => conv1dForward(gpu(), x, gpu().zeros([2, 5, 1]), null, 'valid')).toThrow(/conv1dForward: expected kernel of shape \[\*, 4, \*\], found \[2, 5, 1\]/);
    expect(() => conv1dForward(gpu(), x, gpu().zeros([5, 4, 1]), null, 'valid')).toThrow(/conv1dForward: kernel_size 5 is longer than the 3 steps of its input with padding 'valid'/);
    expect(() => conv1dForward(gpu(), x, gpu().zeros([2, 4, 3]), gpu().zeros([2]), 'valid')).toThrow(/expected bias of shape \[3\], found \[2\]/);
    expect(() => conv1dForward(gpu(), gpu().zeros([12]), gpu().zeros([2, 4, 3]), null, 'same')).toThrow(/expected x f32 of shape \[batch, steps, channels\], found f32 \[12\]/);
    expect(() => conv1dInputGradient(gpu(), gpu().zeros([2, 3, 3]), gpu().zeros([2, 4, 3]), 3, 'valid')).toThrow(/dy has 3 steps; an input of 3 steps with padding 'valid' gives 2/);
  });
});
