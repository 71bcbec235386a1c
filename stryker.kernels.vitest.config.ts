// Vitest for the StrykerJS run over the small kernel wrappers (stryker.kernels.config.mjs): only
// the test files that import those kernels directly, and the GPU suites written to check them
// (f64 gradients, 2-D dispatches, extreme logits, the compact gradient forms). With the whole suite
// and `related: true`, the wrappers' importers (src/nn/ops.ts, layers, tape) pull in nearly every
// GPU test file, whose dry run alone would take much of an hour on 2 shared cores. Fewer tests can
// only understate a score (a mutant some left-out test would kill counts as survived), never
// overstate it.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export const KERNEL_TESTS = [
  'test/kernels-accuracy.test.ts',
  'test/kernels-add.test.ts',
  'test/kernels-binary-crossentropy.test.ts',
  'test/kernels-conv1d.test.ts',
  'test/kernels-dispatches.test.ts',
  'test/kernels-dropout.test.ts',
  'test/kernels-edges.test.ts',
  'test/kernels-embedding.test.ts',
  'test/kernels-masked-mean-pool.test.ts',
  'test/kernels-max-pool.test.ts',
  'test/kernels-mean-pool.test.ts',
  'test/kernels-refusals.test.ts',
  'test/kernels-relu.test.ts',
  'test/kernels-sigmoid.test.ts',
  'test/extreme-logits.test.ts',
  'test/gradient-forms.test.ts',
  'test/gradients-f64.test.ts',
  'test/large-dispatch.test.ts',
  'test/nn-gradients.test.ts',
];

export default mergeConfig(
  base,
  defineConfig({
    // The 2-D dispatch tests at 8,000 invocations, not ~16.8 M (test/stryker/gpu-helpers.ts says why).
    resolve: { alias: [{ find: /^\.\/gpu-helpers\.js$/, replacement: fileURLToPath(new URL('./test/stryker/gpu-helpers.ts', import.meta.url)) }] },
    test: { include: KERNEL_TESTS },
  }),
);
