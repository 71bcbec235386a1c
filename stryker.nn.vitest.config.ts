// Vitest for the StrykerJS runs over src/nn/callbacks.ts and src/nn/progress.ts, and over
// src/nn/optimizers/schedules.ts and src/nn/optimizers/validation.ts (stryker.nn.config.mjs):
// stryker.kernels.vitest.config.ts with the test files limited to the ones that use these modules
// directly (for the optimizer modules, the CPU-only ones: test/optimizers.test.ts runs in under a
// second, and test/schedules-edges.test.ts). Through src/nn/model.ts nearly the whole GPU suite
// imports them, and with `related: true` its dry run alone would not fit a short session on 2 cores.
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
];

export default { ...kernels, test: { ...kernels.test, include: NN_TESTS } };
