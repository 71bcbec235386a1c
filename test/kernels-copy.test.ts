import { describe, expect, it } from 'vitest';
import { copyKernel, copyReference } from '../src/kernels/copy.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

describe('copy kernel', () => {
  const gpu = useGpu();

  // Lengths that take the vec4 path (multiples of 4) and the scalar path (the others).
  for (const n of [1, 3, 4, 1000, 1001, 70_002, 262_144]) {
    it(`copies ${n} floats bit for bit`, async () => {
      const xs = randomFloats(n, n);
      const x = gpu().upload(xs);
      const y = copyKernel(gpu(), x);
      expect(y.shape).toEqual(x.shape);
      expect(y.buffer).not.toBe(x.buffer);
      expect(await y.read()).toEqual(copyReference(xs));
    });
  }

  it('keeps shape and dtype, and the bits of i32 data and of NaN payloads', async () => {
    const bits = Int32Array.from([0x7fc00001, 0x7f800001, -1, 0, 0x00000001, 0x80000000, 0xffc12345, 42]);
    const ints = gpu().upload(bits, [2, 4]);
    const copied = copyKernel(gpu(), ints);
    expect(copied.dtype).toBe('i32');
    expect(copied.shape).toEqual([2, 4]);
    expect(await copied.read()).toEqual(copyReference(bits));
    // The same patterns as f32 (signalling and quiet NaNs, a denormal): compared as bits.
    const floats = new Float32Array(bits.buffer.slice(0, 7 * 4));
    const out = (await copyKernel(gpu(), gpu().upload(floats)).read()) as Float32Array;
    expect(new Int32Array(out.buffer)).toEqual(new Int32Array(floats.buffer));
  });
});
