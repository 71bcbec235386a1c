import { describe, expect, it } from 'vitest';
import { binaryAccuracyCount, binaryAccuracyReference } from '../src/kernels/accuracy.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

describe('binary accuracy kernel', () => {
  const gpu = useGpu();

  it('counts p exactly 0.5 as predicting 0', async () => {
    const above = 0.5 + 2 ** -24; // the next float32 above 0.5
    const ps = new Float32Array([0.5, 0.5, above, above, 0, 1, 0.49999997, 0.9]);
    const ys = new Float32Array([0, 1, 1, 0, 0, 1, 1, 0]);
    // correct:                  y  n  y  n  y  y  n  n
    expect(binaryAccuracyReference(ps, ys)).toBe(4);
    const count = binaryAccuracyCount(gpu(), gpu().upload(ps), gpu().upload(ys));
    expect(count.shape).toEqual([1]);
    expect([...(await count.read())]).toEqual([4]);
  });

  for (const b of [1, 3, 37, 512, 513]) {
    it(`matches the reference on random data (B = ${b})`, async () => {
      const ps = randomFloats(b, b, 0, 1);
      for (let i = 0; i < b; i += 7) ps[i] = 0.5;
      const ys = randomFloats(b, b + 3, 0, 1).map((u) => (u < 0.5 ? 0 : 1));
      const count = await binaryAccuracyCount(gpu(), gpu().upload(ps, [b, 1]), gpu().upload(ys)).read();
      expect(count[0]).toBe(binaryAccuracyReference(ps, ys));
    });
  }

  it('rejects mismatched shapes with a RangeError naming the op', () => {
    const p = gpu().upload(new Float32Array(4));
    expect(() => binaryAccuracyCount(gpu(), p, gpu().upload(new Float32Array(5)))).toThrow(RangeError);
    expect(() => binaryAccuracyCount(gpu(), p, gpu().upload(new Float32Array(5)))).toThrow(/binaryAccuracyCount: labels .*\[4\].*found \[5\]/);
  });
});
