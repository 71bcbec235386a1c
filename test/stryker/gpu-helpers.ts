/**
 * test/gpu-helpers.ts for the StrykerJS run over the small kernel wrappers only
 * (stryker.kernels.vitest.config.ts puts it in place of './gpu-helpers.js'): the same helpers, with
 * TWO_D_INVOCATIONS at 8,000 instead of ~16.8 M. Under Stryker's coverage instrumentation, on 2
 * shared cores, max-pool's 2-D test alone passed its 120 s limit in the dry run, and every mutant
 * it covers would run it again. At 8,000 invocations (32 workgroups) these tests still dispatch in
 * 2-D, as test/setup.ts splits anything past 3 workgroups; what they no longer reach is the real
 * 65,535-workgroup boundary, which is linearWorkgroups' (src/gpu, not mutated in that run) and
 * the shaders' (WGSL, not mutated by StrykerJS).
 */
export * from '../gpu-helpers.js';

export const TWO_D_INVOCATIONS = 8_000;
