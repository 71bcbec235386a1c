import { describe, expect, it } from 'vitest';
import type { Gpu } from '../src/gpu/gpu.js';
import { GpuTimer } from '../src/gpu/timer.js';
import { copyKernel } from '../src/kernels/copy.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { randomFloats, useGpu } from './gpu-helpers.js';

/** Enough elements that each pass takes a measurable time on SwiftShader. */
const N = 1 << 18;

describe('GpuTimer', () => {
  const gpu = useGpu();

  /** copyVec4, relu forward, copyScalar, relu backward: four different labels, in this order. */
  function recordFour(): void {
    const x = gpu().upload(randomFloats(N, 1));
    const odd = gpu().upload(randomFloats(N - 1, 2));
    copyKernel(gpu(), x).dispose();
    const y = reluForward(gpu(), x);
    copyKernel(gpu(), odd).dispose();
    reluBackward(gpu(), x, y).dispose();
    for (const t of [x, odd, y]) t.dispose();
  }
  const FOUR = ['copy:copyVec4', 'relu:forward', 'copy:copyScalar', 'relu:backward'];

  it('times each pass, labelled in recording order, with positive finite durations', async (ctx) => {
    const timer = new GpuTimer(gpu());
    if (timer.method !== 'timestamp-query') {
      console.warn(`SKIPPED ${ctx.task.name}: this adapter has no timestamp queries (the timer falls back to the wall clock)`);
      ctx.skip();
    }
    gpu().timer = timer;
    recordFour();
    recordFour();
    const times = await timer.read();
    timer.destroy();
    expect(gpu().timer).toBeNull();
    expect(times.map((t) => t.label)).toEqual([...FOUR, ...FOUR]);
    // 16 timestamps: enough to tell whether they look quantized. Chrome quantizes them; Dawn in
    // Node does too (to 65,536 ns) unless told not to, and src/gpu/device.ts tells it not to.
    expect(timer.quantumNs).not.toBeNull();
    expect(timer.quantized).toBe(false);
    for (const { ns } of times) {
      expect(Number.isFinite(ns)).toBe(true);
      if (timer.quantized) expect(ns % timer.quantumNs!).toBe(0);
      expect(ns).toBeGreaterThan(timer.quantized ? -1 : 0);
    }
    // On SwiftShader every one of these passes takes milliseconds: longer than any quantum.
    if (gpu().report?.isSoftware) expect(times.every((t) => t.ns > 0)).toBe(true);
  });

  it('reads out and reuses a full query set, keeping order and results', async (ctx) => {
    const capacity = 3;
    const timer = new GpuTimer(gpu(), capacity);
    if (timer.method !== 'timestamp-query') {
      console.warn(`SKIPPED ${ctx.task.name}: this adapter has no timestamp queries (the timer falls back to the wall clock)`);
      ctx.skip();
    }
    gpu().timer = timer;
    const xs = randomFloats(1000, 3);
    const x = gpu().upload(xs);
    // 10 passes through a set of 3: two overflows inside one encoder, the rest at read().
    const outputs = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? copyKernel(gpu(), x) : reluForward(gpu(), x)));
    const times = await timer.read();
    expect(times.map((t) => t.label)).toEqual(outputs.map((_, i) => (i % 2 === 0 ? 'copy:copyVec4' : 'relu:forward')));
    expect(times.every((t) => Number.isFinite(t.ns) && t.ns >= 0)).toBe(true);
    expect(await outputs[8].read()).toEqual(xs);
    expect(await outputs[9].read()).toEqual(xs.map((v) => Math.max(v, 0)));
    // Nothing left over, and the timer keeps working after a read.
    expect(await timer.read()).toEqual([]);
    copyKernel(gpu(), x).dispose();
    expect((await timer.read()).map((t) => t.label)).toEqual(['copy:copyVec4']);
    timer.destroy();
  });

  it('changes nothing when detached: same results, nothing recorded', async () => {
    const xs = randomFloats(N, 4);
    const x = gpu().upload(xs);
    const timer = new GpuTimer(gpu());
    const dispatches = gpu().stats.dispatches;
    const plain = await reluForward(gpu(), x).read();
    gpu().timer = timer;
    const timed = await reluForward(gpu(), x).read();
    gpu().timer = null;
    const after = await reluForward(gpu(), x).read();
    expect(timed).toEqual(plain);
    expect(after).toEqual(plain);
    expect(gpu().stats.dispatches - dispatches).toBe(3);
    // Only the one pass recorded while attached.
    expect((await timer.read()).length).toBe(timer.method === 'timestamp-query' ? 1 : 0);
    timer.destroy();
  });

  it("says 'wall-clock' and records nothing on a device without timestamp queries", async () => {
    const noQueries = { device: { features: new Set<string>() } } as unknown as Gpu;
    const timer = new GpuTimer(noQueries);
    expect(timer.method).toBe('wall-clock');
    expect(timer.nextPass('relu:forward', {} as GPUCommandEncoder)).toBeUndefined();
    expect(await timer.read()).toEqual([]);
    expect(timer.quantized).toBe(false);
    timer.destroy();
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new GpuTimer(gpu(), 0)).toThrow(RangeError);
  });
});
