import { describe, expect, it } from 'vitest';
import { Gpu, type Tensor } from '../src/gpu/gpu.js';
import { adamAlpha, adamReference, adamStep, type AdamOptions } from '../src/kernels/adam.js';
import { expectClose, randomFloats, useGpu } from './gpu-helpers.js';

describe('adam kernel', () => {
  const gpu = useGpu();

  it('takes the hand-computed first step', async () => {
    // g = 0.5, m = v = 0, p = 1, t = 1, defaults (lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7):
    //   m = 0 + (0.5 - 0) * 0.1 = 0.05;  v = 0 + (0.25 - 0) * 0.001 = 0.00025
    //   alpha = 0.001 * sqrt(1 - 0.999) / (1 - 0.9) = 0.001 * 0.0316227766 / 0.1 = 3.16227766e-4
    //   p = 1 - 0.05 * alpha / (sqrt(0.00025) + 1e-7) = 1 - 1.58113883e-5 / 0.0158114883
    //     = 1 - 0.001 * (1 - 6.3245e-6) = 1 - 9.99993675e-4 = 0.999000006325
    const p = gpu().upload(new Float32Array([1]));
    const m = gpu().zeros([1]);
    const v = gpu().zeros([1]);
    adamStep(gpu(), p, gpu().upload(new Float32Array([0.5])), m, v, { step: 1 });
    expectClose(await m.read(), [0.05], { atol: 0, rtol: 1e-7 });
    expectClose(await v.read(), [0.00025], { atol: 0, rtol: 1e-7 });
    expectClose(await p.read(), [0.999000006325], { atol: 6e-8, rtol: 0 });
    expect(adamAlpha({ step: 1 })).toBeCloseTo(3.16227766e-4, 8);
  });

  const configs: [string, Omit<AdamOptions, 'step'>][] = [
    ['defaults', {}],
    ['custom hyperparameters', { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 }],
  ];
  for (const [label, options] of configs) {
    it(`matches the float64 reference over 5 steps (${label})`, async () => {
      const n = 1029; // not a multiple of the workgroup size
      const initial = randomFloats(n, 5, -1, 1);
      const param = new Float64Array(initial);
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const gpuParam = gpu().upload(initial);
      const gpuM = gpu().zeros([n]);
      const gpuV = gpu().zeros([n]);
      for (let step = 1; step <= 5; step++) {
        const grad = randomFloats(n, 100 + step, -1, 1);
        adamReference(param, grad, m, v, { step, ...options });
        adamStep(gpu(), gpuParam, gpu().upload(grad), gpuM, gpuV, { step, ...options });
      }
      expectClose(await gpuM.read(), m, { atol: 1e-8, rtol: 1e-5 });
      expectClose(await gpuV.read(), v, { atol: 1e-9, rtol: 1e-5 });
      expectClose(await gpuParam.read(), param, { atol: 3e-7, rtol: 1e-6 });
    });
  }

  // A weight past the binding limit is split by rows with its gradient and moments (one shape,
  // so their chunks line up): one dispatch per chunk, each element updated exactly as unsplit.
  for (const [cap, rowsPerChunk] of [
    [128, 1],
    [464, 4],
    [2048, 17],
  ]) {
    it(`a weight split into chunks of ${rowsPerChunk} rows steps as an unsplit one, bit for bit`, async () => {
      const [rows, cols] = [37, 29]; // 116 bytes per row
      const split = new Gpu(gpu().device, undefined, { maxBindingBytes: cap });
      const options = { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5 };
      const initial = randomFloats(rows * cols, 7, -1, 1);
      const param = new Float64Array(initial);
      const m = new Float64Array(rows * cols);
      const v = new Float64Array(rows * cols);
      const state = (g: Gpu) => ({ param: g.upload(initial, [rows, cols]), m: g.zeros([rows, cols]), v: g.zeros([rows, cols]) });
      const [whole, chunked] = [state(gpu()), state(split)];
      expect(chunked.param.chunks.map((c) => c.rows)).toEqual(Array.from({ length: Math.ceil(rows / rowsPerChunk) }, (_, i) => Math.min(rowsPerChunk, rows - i * rowsPerChunk)));
      for (let step = 1; step <= 5; step++) {
        const grad = randomFloats(rows * cols, 200 + step, -1, 1);
        adamReference(param, grad, m, v, { step, ...options });
        for (const [g, s] of [[gpu(), whole], [split, chunked]] as const) adamStep(g, s.param, g.upload(grad, [rows, cols]), s.m, s.v, { step, ...options });
      }
      const bytes = async (t: Tensor) => Buffer.from(((await t.read()) as Float32Array).buffer);
      for (const key of ['param', 'm', 'v'] as const) expect((await bytes(chunked[key])).equals(await bytes(whole[key])), key).toBe(true);
      expectClose(await chunked.m.read(), m, { atol: 1e-8, rtol: 1e-5 });
      expectClose(await chunked.v.read(), v, { atol: 1e-9, rtol: 1e-5 });
      expectClose(await chunked.param.read(), param, { atol: 3e-7, rtol: 1e-6 });
    });
  }

  it('rejects mismatched shapes and bad steps with a RangeError naming the op', () => {
    const p = gpu().zeros([4]);
    const short = gpu().zeros([3]);
    expect(() => adamStep(gpu(), p, short, p, p, { step: 1 })).toThrow(/adamStep: expected grad of shape \[4\] \(as param\), found \[3\]/);
    expect(() => adamStep(gpu(), p, p, p, gpu().zeros([2, 2]), { step: 1 })).toThrow(RangeError);
    expect(() => adamStep(gpu(), p, p, p, p, { step: 0 })).toThrow(/adamStep: step/);
  });
});
