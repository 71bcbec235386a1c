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
import { centralDifferences, expectClose, randomFloats, useGpu } from './gpu-helpers.js';

// float32 sums of up to 513 products against float64 references.
const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };
const SIZES = [1, 3, 16, 17];

describe('dense kernels', () => {
  const gpu = useGpu();

  // Batches of 1, odd, the model's 512 and one past it; every pair of input and unit counts.
  for (const batch of [1, 3, 37, 512, 513]) {
    for (const inputs of SIZES) {
      for (const units of SIZES) {
        it(`forward and gradients match the references (B = ${batch}, I = ${inputs}, O = ${units})`, async () => {
          const seed = batch * 1000 + inputs * 31 + units;
          const xs = randomFloats(batch * inputs, seed);
          const ws = randomFloats(inputs * units, seed + 1);
          const bs = randomFloats(units, seed + 2);
          const dys = randomFloats(batch * units, seed + 3);
          const x = gpu().upload(xs, [batch, inputs]);
          const w = gpu().upload(ws, [inputs, units]);
          const dy = gpu().upload(dys, [batch, units]);

          const y = denseForward(gpu(), x, w, gpu().upload(bs, [units]));
          const dx = denseInputGradient(gpu(), dy, w);
          const dw = denseKernelGradient(gpu(), x, dy);
          const db = denseBiasGradient(gpu(), dy);
          expect([y.shape, dx.shape, dw.shape, db.shape]).toEqual([[batch, units], [batch, inputs], [inputs, units], [units]]);
          expectClose(await y.read(), denseReference(xs, ws, bs, batch, inputs, units), TOLERANCE);
          expectClose(await dx.read(), denseInputGradientReference(dys, ws, batch, inputs, units), TOLERANCE);
          expectClose(await dw.read(), denseKernelGradientReference(xs, dys, batch, inputs, units), TOLERANCE);
          expectClose(await db.read(), denseBiasGradientReference(dys, batch, units), TOLERANCE);
        });
      }
    }
  }

  // 260 units: the bias gradient's one invocation per unit takes 5 workgroups of 64, a 2-D dispatch
  // in tests (test/setup.ts), so its index's gid.y term is used (the other entry points get there
  // with B·O, B·I or I·O past 192 above).
  it('the bias gradient over 260 units (a 2-D dispatch) matches the reference', async () => {
    const [batch, units] = [3, 260];
    const dys = randomFloats(batch * units, 7);
    expectClose(await denseBiasGradient(gpu(), gpu().upload(dys, [batch, units])).read(), denseBiasGradientReference(dys, batch, units), TOLERANCE);
  });

  it('gradients agree with central differences of the float64 forward', async () => {
    const [batch, inputs, units] = [5, 17, 3];
    const xs = Float64Array.from(randomFloats(batch * inputs, 1));
    const ws = Float64Array.from(randomFloats(inputs * units, 2));
    const bs = Float64Array.from(randomFloats(units, 3));
    // loss = Σ weights ⊙ dense(x), so the gradient of the output is `weights`.
    const weights = randomFloats(batch * units, 4);
    const loss = (): number =>
      denseReference(xs, ws, bs, batch, inputs, units, new Float64Array(batch * units)).reduce((s, v, i) => s + v * weights[i], 0);
    const H = 1e-3;

    const dy = gpu().upload(weights, [batch, units]);
    const x = gpu().upload(Float32Array.from(xs), [batch, inputs]);
    const w = gpu().upload(Float32Array.from(ws), [inputs, units]);
    expectClose(await denseInputGradient(gpu(), dy, w).read(), centralDifferences(xs, loss, H), TOLERANCE);
    expectClose(await denseKernelGradient(gpu(), x, dy).read(), centralDifferences(ws, loss, H), TOLERANCE);
    expectClose(await denseBiasGradient(gpu(), dy).read(), centralDifferences(bs, loss, H), TOLERANCE);
  });

  it('refuses mismatched shapes with the op and both shapes in the message', () => {
    const x = gpu().zeros([4, 16]);
    const w = gpu().zeros([16, 3]);
    const b = gpu().zeros([3]);
    const dy = gpu().zeros([4, 3]);
    expect(() => denseForward(gpu(), x, gpu().zeros([17, 3]), b)).toThrow('denseForward: expected kernel of shape [16, *], found [17, 3]');
    expect(() => denseForward(gpu(), x, w, gpu().zeros([4]))).toThrow('denseForward: expected bias of shape [3], found [4]');
    expect(() => denseForward(gpu(), gpu().zeros([64]), w, b)).toThrow('denseForward: expected x of rank 2 or more ([..., features]), found [64]');
    expect(() => denseInputGradient(gpu(), dy, gpu().zeros([16, 4]))).toThrow('denseInputGradient: expected kernel of shape [*, 3], found [16, 4]');
    expect(() => denseKernelGradient(gpu(), x, gpu().zeros([5, 3]))).toThrow('denseKernelGradient: expected dy of shape [4, *], found [5, 3]');
    expect(() => denseBiasGradient(gpu(), b)).toThrow(RangeError);
  });

  // Each op names itself and its row input; a kernel of the wrong rank is refused even when the
  // sizes it has match (so W [16] is not taken for W [16, *]).
  it('names the op and the tensor of every rank error, and refuses a kernel of rank 1', () => {
    const v = gpu().zeros([3]);
    expect(() => denseInputGradient(gpu(), v, gpu().zeros([16, 3]))).toThrow('denseInputGradient: expected dy of rank 2 or more ([..., features]), found [3]');
    expect(() => denseKernelGradient(gpu(), v, gpu().zeros([4, 3]))).toThrow('denseKernelGradient: expected x of rank 2 or more ([..., features]), found [3]');
    expect(() => denseBiasGradient(gpu(), v)).toThrow('denseBiasGradient: expected dy of rank 2 or more ([..., features]), found [3]');
    expect(() => denseForward(gpu(), gpu().zeros([4, 16]), gpu().zeros([16]), v)).toThrow('denseForward: expected kernel of shape [16, *], found [16]');
    expect(() => denseInputGradient(gpu(), gpu().zeros([4, 3]), v)).toThrow('denseInputGradient: expected kernel of shape [*, 3], found [3]');
  });

  // The timer and profiles name a dispatch `module:entry point`.
  it('labels its dispatches dense:forward, dense:inputGradient, dense:kernelGradient and dense:biasGradient', () => {
    const [x, w, dy] = [gpu().zeros([2, 3]), gpu().zeros([3, 4]), gpu().zeros([2, 4])];
    const { work } = gpu().capture(() => {
      denseForward(gpu(), x, w, gpu().zeros([4]));
      denseInputGradient(gpu(), dy, w);
      denseKernelGradient(gpu(), x, dy);
      denseBiasGradient(gpu(), dy);
    });
    const labels = work.commands.flatMap((c) => ('dispatch' in c ? [c.dispatch.label] : []));
    expect(labels).toEqual(['dense:forward', 'dense:inputGradient', 'dense:kernelGradient', 'dense:biasGradient']);
    work.dispose();
  });
});
