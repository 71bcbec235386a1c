/**
 * Past 65,535 workgroups a dispatch goes 2-D (`linearWorkgroups`), and every shader finds its
 * element as gid.x + gid.y * nwg.x * WORKGROUP_SIZE: only a tensor of more than 65,535 · 256
 * elements reaches the gid.y term, so smaller tests cannot tell a wrong index there (the WGSL
 * mutation script found `+` -> `-` and `*` -> `/` surviving in it). ~16.8 M elements, elementwise
 * kernels only: a few hundred MB and a few seconds on SwiftShader.
 */
import { describe, expect, it } from 'vitest';
import { linearWorkgroups } from '../src/gpu/gpu.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { sigmoidBackward, sigmoidForward } from '../src/kernels/sigmoid.js';
import { useGpu } from './gpu-helpers.js';

const WORKGROUP_SIZE = 256;
const N = 65_535 * WORKGROUP_SIZE + 1_000;

/** The first index where `got` differs from `want(i)`, or -1. */
function firstMismatch(got: Float32Array, want: (i: number) => number): number {
  for (let i = 0; i < got.length; i++) if (got[i] !== want(i)) return i;
  return -1;
}

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
});
