import { describe, expect, it } from 'vitest';
import * as copyModule from '../src/kernels/copy.js';
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

describe('takeRows kernel', () => {
  const gpu = useGpu();

  // Rows of 12 (vec4 path) and of 3 and 1 (scalar path), i32 and f32, starting inside the order.
  for (const [width, dtype] of [[12, 'i32'], [3, 'f32'], [1, 'f32']] as const) {
    it(`takes rows in an order from a start on the GPU, bit for bit (rows of ${width}, ${dtype})`, async () => {
      const rows = 37;
      const data = dtype === 'i32' ? Int32Array.from({ length: rows * width }, (_, i) => (i * 2654435761) | 0) : randomFloats(rows * width, width);
      const order = Int32Array.from({ length: rows }, (_, i) => (i * 17 + 5) % rows);
      const shape = width > 1 ? [rows, width] : [rows];
      const x = gpu().upload(data, shape);
      const out = gpu().empty(width > 1 ? [9, width] : [9], dtype);
      const { takeRows, takeRowsReference } = copyModule;
      takeRows(gpu(), x, gpu().upload(order), gpu().upload(Int32Array.of(20)), out);
      const got = await out.read();
      expect(new Int32Array(got.buffer)).toEqual(new Int32Array(takeRowsReference(data, width, order, 20, 9).buffer));
    });
  }

  it('refuses rows of another width or dtype', () => {
    const { takeRows } = copyModule;
    const x = gpu().upload(new Int32Array(12), [3, 4]);
    const order = gpu().upload(Int32Array.of(0, 1, 2));
    const start = gpu().upload(Int32Array.of(0));
    expect(() => takeRows(gpu(), x, order, start, gpu().empty([2, 3], 'i32'))).toThrow(/takeRows: out i32 \[2, 3\] does not take rows of x i32 \[3, 4\]/);
    expect(() => takeRows(gpu(), x, order, start, gpu().empty([2, 4], 'f32'))).toThrow(/does not take rows/);
  });
});
