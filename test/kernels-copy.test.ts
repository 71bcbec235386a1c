import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import * as copyModule from '../src/kernels/copy.js';
import { copyKernel, copyReference } from '../src/kernels/copy.js';
import { filled, firstMismatch, randomFloats, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

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

  // Each condition alone: an f32 order, an f32 start, a start of two elements.
  it('refuses an order or start that is not i32, and a start of more than one element', () => {
    const { takeRows } = copyModule;
    const x = gpu().upload(new Int32Array(12), [3, 4]);
    const out = gpu().empty([2, 4], 'i32');
    const [order, start] = [gpu().upload(Int32Array.of(0, 1, 2)), gpu().upload(Int32Array.of(0))];
    const message = 'takeRows: order and start must be i32, start [1]';
    expect(() => takeRows(gpu(), x, gpu().upload(Float32Array.of(0, 1, 2)), start, out)).toThrow(new TypeError(message));
    expect(() => takeRows(gpu(), x, order, gpu().upload(Float32Array.of(0)), out)).toThrow(new TypeError(message));
    expect(() => takeRows(gpu(), x, order, gpu().upload(Int32Array.of(0, 1)), out)).toThrow(new TypeError(message));
  });

  // Whole rows' worth of elements is not enough: out's rows must be x's width (so the size check
  // alone would let [2, 8] and [8] through for rows of 4).
  it('refuses an out whose size is whole rows but whose rows are of another width', () => {
    const { takeRows } = copyModule;
    const x = gpu().upload(new Int32Array(12), [3, 4]);
    const [order, start] = [gpu().upload(Int32Array.of(0, 1, 2)), gpu().upload(Int32Array.of(0))];
    expect(() => takeRows(gpu(), x, order, start, gpu().empty([2, 8], 'i32'))).toThrow('takeRows: out i32 [2, 8] does not take rows of x i32 [3, 4]');
    expect(() => takeRows(gpu(), x, order, start, gpu().empty([8], 'i32'))).toThrow('takeRows: out i32 [8] does not take rows of x i32 [3, 4]');
  });

  // The timer and profiles name a dispatch `module:entry point`.
  it('labels its dispatches copy:copyVec4, copy:copyScalar, copy:takeRows4 and copy:takeRows', () => {
    const { takeRows } = copyModule;
    const [order, start] = [gpu().upload(Int32Array.of(0, 1)), gpu().upload(Int32Array.of(0))];
    const { work } = gpu().capture(() => {
      copyKernel(gpu(), gpu().zeros([4]));
      copyKernel(gpu(), gpu().zeros([3]));
      takeRows(gpu(), gpu().zeros([2, 4]), order, start, gpu().empty([2, 4]));
      takeRows(gpu(), gpu().zeros([2, 3]), order, start, gpu().empty([2, 3]));
    });
    expect(work.commands.flatMap((c) => ('dispatch' in c ? [c.dispatch.label] : []))).toEqual(['copy:copyVec4', 'copy:copyScalar', 'copy:takeRows4', 'copy:takeRows']);
    work.dispose();
  });
});

// Past 65,535 workgroups linearWorkgroups makes the dispatch 2-D, and only then does the shader's index
// gid.x + gid.y * nwg.x * WORKGROUP_SIZE use gid.y: TWO_D_INVOCATIONS (~16.8 M) invocations, the fewest
// that get there (test/large-dispatch.test.ts has the elementwise kernels'), every element checked.
// copyScalar and takeRows run one invocation per element, copyVec4 and takeRows4 one per vec4 (so
// 4 · TWO_D_INVOCATIONS elements, 268 MB: freed as each test ends).
describe('copy kernels past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();
  const n = TWO_D_INVOCATIONS;
  const start = 7;

  it('copyScalar reaches every element', async () => {
    expect(linearWorkgroups(n + 1, 256)[1]).toBeGreaterThan(1);
    const xs = filled(new Float32Array(n + 1), (i) => ((i % 239) + 1) / 8); // not a multiple of 4: the scalar path
    const x = gpu().upload(xs);
    const copied = copyKernel(gpu(), x);
    const want = copyReference(xs);
    expect(firstMismatch((await copied.read()) as Float32Array, (i) => want[i])).toBe(-1);
    [x, copied].forEach((t) => t.dispose());
  });

  it('copyVec4 reaches every vec4', async () => {
    expect(linearWorkgroups(n, 256)[1]).toBeGreaterThan(1);
    const bits = filled(new Int32Array(4 * n), (i) => (i * 2654435761) | 1);
    const x = gpu().upload(bits);
    const copied = copyKernel(gpu(), x);
    const want = copyReference(bits);
    expect(firstMismatch((await copied.read()) as Int32Array, (i) => want[i])).toBe(-1);
    [x, copied].forEach((t) => t.dispose());
  });

  it('takeRows reaches every element (rows of 3 from a table of 1,009, from a nonzero start)', async () => {
    const rows = Math.ceil(n / 3);
    expect(linearWorkgroups(rows * 3, 256)[1]).toBeGreaterThan(1);
    const table = filled(new Float32Array(1009 * 3), (i) => i + 1);
    const order = filled(new Int32Array(start + rows), (k) => (k * 17 + 5) % 1009);
    const [x, o, s] = [gpu().upload(table, [1009, 3]), gpu().upload(order), gpu().upload(Int32Array.of(start))];
    const out = gpu().empty([rows, 3]);
    copyModule.takeRows(gpu(), x, o, s, out);
    const want = copyModule.takeRowsReference(table, 3, order, start, rows);
    expect(firstMismatch((await out.read()) as Float32Array, (i) => want[i])).toBe(-1);
    [x, o, s, out].forEach((t) => t.dispose());
  });

  it('takeRows4 reaches every vec4 (4,096 rows of 4,096 vec4s from a table of 7)', async () => {
    const width = 4 * 4096;
    expect(linearWorkgroups(4096 * 4096, 256)[1]).toBeGreaterThan(1);
    const table = filled(new Int32Array(7 * width), (i) => (i * 40503) | 1);
    const order = filled(new Int32Array(start + 4096), (k) => (k * 3 + 1) % 7);
    const [x, o, s] = [gpu().upload(table, [7, width]), gpu().upload(order), gpu().upload(Int32Array.of(start))];
    const out = gpu().empty([4096, width], 'i32');
    copyModule.takeRows(gpu(), x, o, s, out);
    const want = copyModule.takeRowsReference(table, width, order, start, 4096);
    expect(firstMismatch((await out.read()) as Int32Array, (i) => want[i])).toBe(-1);
    [x, o, s, out].forEach((t) => t.dispose());
  });
});
