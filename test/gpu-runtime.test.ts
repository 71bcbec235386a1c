import { describe, expect, it } from 'vitest';
import { Gpu, GpuError, linearWorkgroups, sizeClass } from '../src/gpu/gpu.js';
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
  it('splits over y past 65535 workgroups', () => {
    expect(linearWorkgroups(1000, 256)).toEqual([4, 1]);
    const [x, y] = linearWorkgroups(65536 * 256 + 1, 256);
    expect(y).toBe(2);
    expect(x * y * 256).toBeGreaterThanOrEqual(65536 * 256 + 1);
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

  it("refuses a tensor past the device's binding limit at once, naming both sizes", () => {
    const limit = Math.min(gpu().device.limits.maxStorageBufferBindingSize, gpu().device.limits.maxBufferSize);
    const before = gpu().stats.bytesAllocated;
    expect(() => gpu().empty([limit / 4 + 1])).toThrow(new RegExp(`needs ${limit + 4} bytes; this device binds at most ${limit}`));
    expect(() => gpu().zeros([2 ** 20, 2 ** 20])).toThrow(GpuError);
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
