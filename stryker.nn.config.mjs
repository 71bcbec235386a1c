// StrykerJS over src/nn/callbacks.ts and src/nn/progress.ts:
// `npm run test:mutation -- stryker.nn.config.mjs --mutate src/nn/callbacks.ts,src/nn/progress.ts`,
// and over src/nn/optimizers/schedules.ts and src/nn/optimizers/validation.ts the same way.
// As stryker.kernels.config.mjs, with only the test files that use these modules directly
// (stryker.nn.vitest.config.ts lists them and says why).
import kernels from './stryker.kernels.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...kernels,
  vitest: { ...kernels.vitest, configFile: 'stryker.nn.vitest.config.ts' },
};
