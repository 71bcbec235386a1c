/**
 * Past 65,535 workgroups a dispatch goes 2-D (`linearWorkgroups`), and every shader finds its
 * element as gid.x + gid.y * nwg.x * WORKGROUP_SIZE: only a tensor of more than 65,535 · 256
 * elements reaches the gid.y term, so smaller tests cannot tell a wrong index there (the WGSL
 * mutation script found `+` -> `-` and `*` -> `/` surviving in it). ~16.8 M elements, elementwise
 * kernels only: a few hundred MB and a few seconds on SwiftShader. The other kernels' 2-D tests are
 * in their own test files (add, copy, dropout, binary cross-entropy, max pool), so that a mutant of
 * one shader runs only that shader's.
 */
import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import { broadcastMasked, maskedMeanPoolBackward, maskedMeanPoolBackwardExpanded, maskedMeanPoolForward, maskedMeanPoolGatheredForward } from '../src/kernels/masked-mean-pool.js';
import { paddingMaskForward } from '../src/kernels/padding-mask.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../src/kernels/sigmoid.js';
import { firstMismatch, TWO_D_INVOCATIONS, useGpu } from './gpu-helpers.js';

const WORKGROUP_SIZE = 256;
const N = TWO_D_INVOCATIONS;

describe('elementwise kernels past 65,535 workgroups (a 2-D dispatch)', () => {
  const gpu = useGpu();
  // Values repeat with a period prime to the workgroup size, so a misplaced element shows.
  const x = Float32Array.from({ length: N }, (_, i) => ((i % 251) - 125) / 25);
  const dy = Float32Array.from({ length: N }, (_, i) => ((i % 241) + 1) / 64);

  it('the dispatch is 2-D at this size', () => {
    expect(linearWorkgroups(N, WORKGROUP_SIZE)[1]).toBeGreaterThan(1);
  });

  it('relu forward and backward reach every element', async () => {
    const [gx, gdy] = [gpu().upload(x), gpu().upload(dy)];
    const y = (await reluForward(gpu(), gx).read()) as Float32Array;
    expect(firstMismatch(y, (i) => Math.max(x[i], 0))).toBe(-1);
    const dx = (await reluBackward(gpu(), gx, gdy).read()) as Float32Array;
    expect(firstMismatch(dx, (i) => (x[i] > 0 ? dy[i] : 0))).toBe(-1);
  });

  it('sigmoid forward and backward reach every element', async () => {
    const [gx, gdy] = [gpu().upload(x), gpu().upload(dy)];
    const y = sigmoidForward(gpu(), gx);
    const values = (await y.read()) as Float32Array;
    // Each element against its own period's first occurrence: one formula, one result.
    expect(firstMismatch(values, (i) => values[i % 251])).toBe(-1);
    expect(Math.abs(values[N - 1] - 1 / (1 + Math.exp(-x[N - 1])))).toBeLessThan(1e-6);
    const dx = (await sigmoidBackward(gpu(), y, gdy).read()) as Float32Array;
    expect(firstMismatch(dx, (i) => Math.fround(Math.fround(dy[i] * values[i]) * Math.fround(1 - values[i])))).toBe(-1);
  });

  it('the padding mask reaches every id', async () => {
    // Every 7th id is padding (0), the rest nonzero, negative ones included.
    const ids = Int32Array.from({ length: N }, (_, i) => (i % 7 === 0 ? 0 : (i % 13) - 6 || 9));
    const mask = (await paddingMaskForward(gpu(), gpu().upload(ids, [1, N])).read()) as Float32Array;
    expect(firstMismatch(mask, (i) => (ids[i] !== 0 ? 1 : 0))).toBe(-1);
  });

  // The masked mean pool's five entry points over N samples of 2 steps and 1 column (one invocation
  // per sample, or per sample and column quad): sample b's first step is masked when b % 3 == 0.
  it('the masked mean pool reaches every sample, forward, backward and through the ids', async () => {
    const steps = 2;
    const ids = Int32Array.from({ length: N * steps }, (_, k) => (k % 2 === 0 && (k >> 1) % 3 === 0 ? 0 : 1 + (k % 5)));
    const table = Float32Array.of(0.5, 1, 2, 4, 8, 16);
    const x = Float32Array.from(ids, (id) => table[id]);
    const mask = Float32Array.from(ids, (id) => (id !== 0 ? 1 : 0));
    const kept = (b: number) => mask[2 * b] + mask[2 * b + 1];
    const mean = (b: number) => Math.fround((mask[2 * b] ? x[2 * b] : 0) + x[2 * b + 1]) / kept(b);
    const gMask = gpu().upload(mask, [N, steps]);
    const viaRows = (await maskedMeanPoolForward(gpu(), gpu().upload(x, [N, steps, 1]), gMask).read()) as Float32Array;
    expect(firstMismatch(viaRows, (b) => Math.fround(mean(b)))).toBe(-1);
    const viaIds = (await maskedMeanPoolGatheredForward(gpu(), gpu().upload(table, [6, 1]), gpu().upload(ids, [N, steps])).read()) as Float32Array;
    expect(firstMismatch(viaIds, (b) => viaRows[b])).toBe(-1);
    const dOut = gpu().upload(dy.subarray(0, N), [N, 1]);
    const dx = (await maskedMeanPoolBackward(gpu(), dOut, gMask, 1).read()) as Float32Array;
    expect(firstMismatch(dx, (k) => (mask[k] ? Math.fround(dy[k >> 1] / kept(k >> 1)) : 0))).toBe(-1);
    const shares = maskedMeanPoolBackwardExpanded(gpu(), dOut, gMask);
    expect(firstMismatch((await shares.read()) as Float32Array, (b) => Math.fround(dy[b] / kept(b)))).toBe(-1);
    expect(firstMismatch((await broadcastMasked(gpu(), shares, gMask).read()) as Float32Array, (k) => dx[k])).toBe(-1);
  });
});
