// Vitest for the StrykerJS runs over src/nn/callbacks.ts and src/nn/progress.ts, and over the optimizer
// modules in src/nn/optimizers/ (stryker.nn.config.mjs): stryker.kernels.vitest.config.ts with the test
// files limited to the ones that use these modules directly. Through src/nn/model.ts nearly the whole
// GPU suite imports them, and with `related: true` its dry run alone would not fit a short session on
// 2 cores. For the optimizers: test/optimizers.test.ts (CPU, under a second), test/schedules-edges.test.ts
// and test/optimizers-edges.test.ts (CPU), and the three GPU files that test the optimizer classes
// cheaply (timed on 2 cores, SwiftShader): test/kernels-optimizers.test.ts (the shaders against the
// references, ~6 s), test/adam-vec4.test.ts (~2 s), test/row-sparse.test.ts (LazyAdam's row updates,
// ~3 s). The engine and training suites that also construct optimizers (test/engine.test.ts,
// test/fused-training.test.ts, ...) are left out: a mutant only they would kill counts as survived,
// so the scores understate, never overstate.
//
// `include` is set outright on the merged config: Vite's mergeConfig appends arrays, so passing the
// list through mergeConfig would add it to the base `include` and every test file would still run.
import kernels from './stryker.kernels.vitest.config.js';

export const NN_TESTS = [
  'test/nn-model.test.ts',
  'test/progress-plot.test.ts',
  'test/callbacks-edges.test.ts',
  'test/progress-edges.test.ts',
  'test/optimizers.test.ts',
  'test/schedules-edges.test.ts',
  'test/kernels-optimizers.test.ts',
  'test/adam-vec4.test.ts',
  'test/row-sparse.test.ts',
  'test/optimizers-edges.test.ts',
];

export default { ...kernels, test: { ...kernels.test, include: NN_TESTS } };
