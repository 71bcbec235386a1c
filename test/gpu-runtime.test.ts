import { describe, expect, it, vi } from 'vitest';
import { EpochReads, Gpu, GpuError, linearWorkgroups, sizeClass, splitDispatchesAbove } from '../src/gpu/gpu.js';
import { TEST_SPLIT_ABOVE } from './setup.js';
import { reluForward } from '../src/kernels/relu.js';
import { useGpu } from './gpu-helpers.js';

describe('sizeClass', () => {
  it('rounds up to four classes per power of two, wasting at most a quarter', () => {
    expect(sizeClass(4)).toBe(256);
    expect(sizeClass(256)).toBe(256);
    expect(sizeClass(257)).toBe(320);
    expect(sizeClass(1024)).toBe(1024);
    expect(sizeClass(1025)).toBe(1280);
    for (let bytes = 4; bytes < 1 << 22; bytes = Math.ceil(bytes * 1.37) + 4) {
      const size = sizeClass(bytes);
      expect(size).toBeGreaterThanOrEqual(bytes);
      if (bytes > 256) expect(size / bytes).toBeLessThanOrEqual(1.25);
    }
  });
});

describe('linearWorkgroups', () => {
  it('splits over y past 65535 workgroups, or past what a test sets', () => {
    try {
      splitDispatchesAbove();
      expect(linearWorkgroups(1000, 256)).toEqual([4, 1]);
      expect(linearWorkgroups(65535 * 256, 256)).toEqual([65535, 1]);
      const [x, y] = linearWorkgroups(65536 * 256 + 1, 256);
      expect(y).toBe(2);
      expect(x * y * 256).toBeGreaterThanOrEqual(65536 * 256 + 1);
      expect(() => splitDispatchesAbove(65536)).toThrow('splitDispatchesAbove: a workgroup count in [1, 65535], found 65536');
      expect(() => splitDispatchesAbove(0)).toThrow('found 0');
    } finally {
      splitDispatchesAbove(TEST_SPLIT_ABOVE);
    }
    // As the suite runs: 3 workgroups stay 1-D, 10 go to [3, 4] (12 >= 10).
    expect(linearWorkgroups(3 * 64, 64)).toEqual([3, 1]);
    expect(linearWorkgroups(10 * 64, 64)).toEqual([3, 4]);
  });
});

describe('Gpu', () => {
  const gpu = useGpu();

  it('reuses pooled buffers for tensors whose size changes from step to step', () => {
    const before = gpu().stats.bytesAllocated;
    const classes = new Set<number>();
    for (let round = 0; round < 3; round++) {
      for (let n = 3000; n < 3600; n += 7) {
        gpu().empty([n]).dispose();
        classes.add(sizeClass(n * 4));
      }
    }
    // One buffer per size class touched (three here), however many sizes were asked for.
    expect(classes.size).toBe(3);
    expect(gpu().stats.bytesAllocated - before).toBe([...classes].reduce((a, b) => a + b, 0));
  });

  it('refuses at once, naming both sizes, a tensor whose single row is past the binding limit', () => {
    const capped = new Gpu(gpu().device, undefined, { maxBindingBytes: 64 });
    expect(() => capped.empty([3, 17])).toThrow(GpuError);
    expect(() => capped.zeros([3, 17])).toThrow(/shape \[3, 17\] needs 68 bytes per row .*one binding holds at most 64 bytes \(the maxBindingBytes option\), so it cannot be split into rows/);
    expect(() => capped.empty([2, 4, 5])).toThrow(/needs 80 bytes per row/);
    expect(capped.stats.bytesAllocated).toBe(0);
    // The device's own limit (no GiB allocated: the row is refused before any buffer is made).
    const limit = gpu().maxBindingBytes;
    const before = gpu().stats.bytesAllocated;
    expect(() => gpu().empty([2, limit / 4 + 1])).toThrow(new RegExp(`needs ${limit + 4} bytes per row .*holds at most ${limit} bytes \\(the device's max`));
    expect(gpu().stats.bytesAllocated).toBe(before);
  });

  it('binds a tensor at its own length, keeps order between writes and dispatches, reads scalars together', async () => {
    const x = gpu().upload(Float32Array.from([-1, 2, -3]));
    expect(x.buffer.size).toBeGreaterThan(x.byteLength);
    const y = reluForward(gpu(), x);
    gpu().write(x, Float32Array.from([5, -6, 7])); // after the dispatch that read the old values
    const z = reluForward(gpu(), x);
    expect(Array.from(await y.read())).toEqual([0, 2, 0]);
    expect(Array.from(await z.read())).toEqual([5, 0, 7]);
    expect(await gpu().readScalars([y, z, gpu().upload(Int32Array.from([-42]))])).toEqual([0, 5, -42]);
    x.dispose();
    expect(() => reluForward(gpu(), x)).toThrow(/disposed tensor/);
  });
});

describe('Gpu read-backs', () => {
  const gpu = useGpu();

  // Staging buffers are kept for the next read-back (creating one is allocating and zeroing it): a
  // second read of the same size creates none, and each read returns its own tensors' values.
  it('reuse their staging buffers, and each returns its own values', async () => {
    const g = new Gpu(gpu().device);
    const created: number[] = [];
    const create = g.device.createBuffer.bind(g.device);
    g.device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      if (descriptor.usage & GPUBufferUsage.MAP_READ) created.push(descriptor.size);
      return create(descriptor);
    };
    const a = g.upload(Float32Array.from({ length: 1000 }, (_, i) => i));
    const b = g.upload(Float32Array.from({ length: 1000 }, (_, i) => -i));
    expect(Array.from((await g.readAll([a]))[0]).slice(0, 3)).toEqual([0, 1, 2]);
    expect(Array.from((await g.readAll([b]))[0]).slice(0, 3)).toEqual([-0, -1, -2]);
    expect(Array.from((await g.readAll([a]))[0]).slice(997)).toEqual([997, 998, 999]);
    expect(await g.readScalars([b])).toEqual([-0]); // a smaller read takes the pooled buffer too
    expect(created).toEqual([4000]);
    const c = g.upload(new Float32Array(2000));
    await g.readAll([c]);
    expect(created).toEqual([4000, 8000]); // none large enough: a new one
    g.device.createBuffer = create;
    g.close();
  });
});

describe('Gpu with tensors split into chunks', () => {
  const gpu = useGpu();
  /** Binds at most 256 bytes: [50, 3] (12 bytes a row) splits into 21 + 21 + 8 rows, [30, 5] (20 bytes) into 12 + 12 + 6. */
  const capped = () => new Gpu(gpu().device, undefined, { maxBindingBytes: 256 });
  const floats = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => seed * 1000 + i);

  it('refuses maxBindingBytes below 16, and rounds it down to a multiple of 16', () => {
    for (const maxBindingBytes of [15, 0, -16, NaN]) {
      expect(() => new Gpu(gpu().device, undefined, { maxBindingBytes })).toThrow(/maxBindingBytes must be at least 16/);
    }
    expect(new Gpu(gpu().device, undefined, { maxBindingBytes: 16 }).maxBindingBytes).toBe(16);
    expect(new Gpu(gpu().device, undefined, { maxBindingBytes: 100 }).maxBindingBytes).toBe(96);
    expect(gpu().maxBindingBytes).toBe(Math.min(gpu().device.limits.maxStorageBufferBindingSize, gpu().device.limits.maxBufferSize));
  });

  it('splits by rows of the first dimension, floor(limit / row bytes) rows a chunk; a tensor that fits keeps one', () => {
    const g = capped();
    const layout = (shape: number[]) => g.empty(shape).chunks.map(({ firstRow, rows, byteOffset, byteLength }) => [firstRow, rows, byteOffset, byteLength]);
    expect(layout([50, 3])).toEqual([
      [0, 21, 0, 252],
      [21, 21, 252, 252],
      [42, 8, 504, 96],
    ]);
    expect(layout([100])).toEqual([
      [0, 64, 0, 256],
      [64, 36, 256, 144],
    ]);
    expect(layout([5, 2, 8])).toEqual([
      [0, 4, 0, 256],
      [4, 1, 256, 64],
    ]);
    expect(layout([64])).toEqual([[0, 64, 0, 256]]);
    expect(layout([21, 3])).toEqual([[0, 21, 0, 252]]);
    expect(g.empty([50, 3]).chunks.every((c) => c.buffer.size <= 256)).toBe(true);
  });

  it('uploads, writes and reads back across chunks, f32 and i32', async () => {
    const g = capped();
    const data = floats(150, 1);
    const t = g.upload(data, [50, 3]);
    expect(t.chunks).toHaveLength(3);
    expect(await t.read()).toEqual(data);
    const ints = Int32Array.from({ length: 100 }, (_, i) => -i * 7);
    const i = g.upload(ints);
    expect(i.chunks).toHaveLength(2);
    expect(await i.read()).toEqual(ints);
    const other = floats(150, 2);
    g.write(t, other);
    expect(await t.read()).toEqual(other);
    expect(() => g.write(t, floats(149, 3))).toThrow(RangeError);
  });

  it('zeros every chunk, even on reused buffers', async () => {
    const g = capped();
    g.upload(new Float32Array(150).fill(NaN), [50, 3]).dispose();
    const before = g.stats.bytesAllocated;
    const z = g.zeros([50, 3]);
    expect(g.stats.bytesAllocated).toBe(before); // the NaN-filled buffers, reused
    expect(await z.read()).toEqual(new Float32Array(150));
  });

  it('copies whole tensors and element ranges across the chunk boundaries of both sides', async () => {
    const g = capped();
    const srcData = floats(150, 1);
    const dstData = floats(150, 2);
    const src = g.upload(srcData, [50, 3]); // chunks start at elements 0, 63, 126
    const dst = g.upload(dstData, [30, 5]); // at 0, 60, 120
    const copied = g.zeros([30, 5]);
    g.copy(src, copied);
    expect(await copied.read()).toEqual(srcData);
    const expected = dstData.slice();
    for (const [srcStart, dstStart, count] of [
      [0, 0, 150], // everything, chunkings differ
      [10, 55, 80], // over both sides' boundaries
      [63, 60, 60], // from boundary to boundary on each side
      [62, 119, 2], // two elements straddling a boundary on each side
      [149, 0, 1],
      [5, 5, 0],
    ]) {
      g.copyElements(src, srcStart, dst, dstStart, count);
      expected.set(srcData.subarray(srcStart, srcStart + count), dstStart);
    }
    expect(await dst.read()).toEqual(expected);
    // Into and out of a tensor that fits one buffer.
    const small = g.upload(floats(20, 3));
    g.copyElements(src, 55, small, 2, 15);
    g.copyElements(small, 0, dst, 115, 20);
    const smallExpected = floats(20, 3);
    smallExpected.set(srcData.subarray(55, 70), 2);
    expected.set(smallExpected, 115);
    expect(await small.read()).toEqual(smallExpected);
    expect(await dst.read()).toEqual(expected);
    expect(() => g.copyElements(src, 100, dst, 0, 51)).toThrow(RangeError);
    expect(() => g.copy(src, small)).toThrow(RangeError);
  });

  it('reads split and whole tensors together, and the first element of each', async () => {
    const g = capped();
    const a = floats(150, 1);
    const b = floats(7, 2);
    const c = Int32Array.from({ length: 100 }, (_, i) => i - 50);
    const tensors = [g.upload(a, [50, 3]), g.upload(b), g.upload(c)];
    const [ra, rb, rc] = await g.readAll(tensors);
    expect([ra, rb, rc]).toEqual([a, b, c]);
    expect(rc).toBeInstanceOf(Int32Array);
    expect(await g.readScalars(tensors)).toEqual([a[0], b[0], c[0]]);
  });

  it('gives every chunk back to the pool on dispose', () => {
    const g = capped();
    const before = g.stats.bytesInUse;
    const t = g.zeros([50, 3]);
    expect(g.stats.bytesInUse - before).toBe(3 * 256);
    t.dispose();
    expect(g.stats.bytesInUse).toBe(before);
    const allocated = g.stats.bytesAllocated;
    g.empty([50, 3]).dispose();
    expect(g.stats.bytesAllocated).toBe(allocated);
  });

  it("refuses a split tensor's single buffer, and binding it whole to a kernel, naming the shape and the buffers", () => {
    const g = capped();
    const t = g.upload(floats(150, 1), [50, 3]);
    expect(() => t.buffer).toThrow(GpuError);
    expect(() => t.buffer).toThrow(/shape \[50, 3\] is split into 3 buffers/);
    expect(() => reluForward(g, t)).toThrow(GpuError);
    expect(() => reluForward(g, t)).toThrow(/relu: binding 1 is a tensor of shape \[50, 3\] split into 3 buffers .*256 bytes/);
  });
});

describe('Gpu errors', () => {
  it('a shader that does not compile fails the next read-back with WebGPU\'s message', async () => {
    const own = await Gpu.create();
    try {
      const t = own.upload(Float32Array.from([1, 2]));
      own.dispatch('broken', '@compute @workgroup_size(1) fn main() { let x: f32 = "no"; }', 'main', [], [1]);
      await expect(t.read()).rejects.toThrow(GpuError);
      await expect(t.read()).rejects.toThrow(/WebGPU error: /);
    } finally {
      own.device.destroy();
    }
  });

  it('a lost device fails every later read-back with the reason', async () => {
    const own = await Gpu.create();
    const t = own.upload(Float32Array.from([1, 2]));
    own.device.destroy();
    await expect(t.read()).rejects.toThrow(/GPU device was lost \(destroyed\)|reading back from the GPU failed/);
  });
});

describe('Gpu.writeHead', () => {
  const gpu = useGpu();

  it('overwrites the first elements only, across chunks, and refuses more than the tensor holds', async () => {
    const whole = gpu().upload(Int32Array.from({ length: 10 }, (_, i) => 100 + i), [10]);
    gpu().writeHead(whole, Int32Array.of(1, 2, 3));
    expect(Array.from(await whole.read())).toEqual([1, 2, 3, 103, 104, 105, 106, 107, 108, 109]);
    const split = new Gpu(gpu().device, undefined, { maxBindingBytes: 16 });
    const chunked = split.upload(Int32Array.from({ length: 10 }, (_, i) => 100 + i), [10]);
    expect(chunked.chunks.length).toBeGreaterThan(1);
    split.writeHead(chunked, Int32Array.of(1, 2, 3, 4, 5, 6));
    expect(Array.from(await chunked.read())).toEqual([1, 2, 3, 4, 5, 6, 106, 107, 108, 109]);
    expect(() => gpu().writeHead(whole, new Int32Array(11))).toThrow(/writeHead: 11 values for a tensor of 10/);
    expect(() => gpu().write(whole, new Int32Array(3))).toThrow(/write: 3 values for a tensor of 10/);
  });
});

describe('Gpu.capture', () => {
  const gpu = useGpu();

  // A constant uploaded inside a step must not take a buffer that an earlier command of the step
  // uses: its contents are written once, at capture, and each replay would overwrite them.
  it('keeps a constant uploaded inside the step apart from the buffers the step frees', async () => {
    const g = gpu();
    const out = g.zeros([64]);
    const { work } = g.capture(() => {
      const scratch = g.zeros([64]); // cleared on every replay
      scratch.dispose();
      const constant = g.upload(new Float32Array(64).fill(7));
      g.copy(constant, out);
    });
    g.replay(work);
    expect(Array.from(await out.read())).toEqual(new Array(64).fill(7));
    work.dispose();
  });

  it('refuses to write from the host into a buffer the step used before', () => {
    const g = gpu();
    expect(() =>
      g.capture(() => {
        g.zeros([64]).dispose();
        g.write(g.empty([64]), new Float32Array(64));
      }),
    ).toThrow(/inside a capture, a tensor made in the step from a buffer the step used before cannot be written/);
  });
});

// Gpu.submitAndSleep and EpochReads: in Node on SwiftShader the wait for an epoch's read-back
// sleeps in slices instead of polling on every turn (dawn.node's way of waiting).
describe('sleeping through an epoch', () => {
  const gpu = useGpu();

  it('blocks the thread only when asked, and only on a software adapter in Node', () => {
    const wait = vi.spyOn(Atomics, 'wait');
    try {
      expect(gpu().submitAndSleep(0)).toBe(false);
      expect(wait).not.toHaveBeenCalled();
      expect(gpu().submitAndSleep(3)).toBe(gpu().report?.isSoftware === true);
      expect(wait).toHaveBeenCalledTimes(gpu().report?.isSoftware ? 1 : 0);
      if (gpu().report?.isSoftware) expect(wait.mock.calls[0][3]).toBe(3);
      // A Gpu over a caller's device knows nothing of its adapter: it never sleeps.
      new Gpu(gpu().device).submitAndSleep(3);
      expect(wait).toHaveBeenCalledTimes(gpu().report?.isSoftware ? 1 : 0);
    } finally {
      wait.mockRestore();
    }
  });

  // EpochReads: the read is submitted first, then the thread sleeps in slices, one event-loop turn
  // between them, until it resolves (from the first epoch on); where the Gpu does not sleep (not a
  // software adapter in Node), it just awaits.
  for (const sleeps of [true, false]) {
    it(`reads an epoch ${sleeps ? 'sleeping in slices until the read resolves' : 'without sleeping where the adapter is not software'}`, async () => {
      const events: string[] = [];
      let resolve = (_: Float32Array[]) => {};
      const fake = {
        submitAndSleep: (ms: number) => (events.push(`sleep ${ms}`), sleeps),
        readAll: () => (events.push('read'), new Promise<Float32Array[]>((r) => (resolve = r))),
      } as unknown as Gpu;
      setTimeout(() => resolve([Float32Array.of(7)]), 30);
      const values = await new EpochReads().readAll(fake, []);
      expect(Array.from(values[0])).toEqual([7]);
      expect(events[0]).toBe('read');
      const slept = events.filter((e) => e === `sleep ${EpochReads.SLICE_MS}`).length;
      if (sleeps) expect(slept).toBeGreaterThan(1);
      else expect(events).toEqual(['read', `sleep ${EpochReads.SLICE_MS}`]);
    });
  }

});
